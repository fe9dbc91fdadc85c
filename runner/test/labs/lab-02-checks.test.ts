// Runs lab 02's real check scripts with sh and jq against recorded cluster states:
// a stub kubectl answers from JSON files, a stub curl from environment variables.
// Each failure mode must exit with the code lab.yaml maps to its message and hint.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import type { CommandCheck } from '../../src/checks/kinds/command.ts';
import { loadLab, type Lab } from '../../src/labs/load-labs.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const stubBin = path.join(here, 'fixtures/bin');

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const missing = ['sh', 'jq'].filter((c) => !have(c));
if (missing.length) console.log(`SKIP lab 02 check scripts: ${missing.join(', ')} not installed on this machine`);

const runner = new ExecaRunner();
let lab: Lab;
let dir: string;
let home: string;

type Labels = Record<string, string>;
const pod = (i: number, labels: Labels) => ({ metadata: { name: `nginx-abc-${i}`, labels: { 'pod-template-hash': 'abc', ...labels } } });

/** Writes one cluster state for the stub kubectl. `undefined` leaves the object out (NotFound). */
async function state(s: {
  service?: { selector?: Labels; clusterIP?: string } | undefined;
  ready?: number;
  pods?: Labels[];
  template?: Labels;
  deploymentLabels?: Labels;
  apiDown?: boolean;
}): Promise<void> {
  const files: Record<string, unknown> = {
    'endpointslices.json': {
      items: [{ endpoints: s.ready ? Array.from({ length: s.ready }, (_, i) => ({ addresses: [`10.244.1.${i + 2}`], conditions: { ready: true } })) : null }],
    },
    'pods.json': { items: (s.pods ?? [{ app: 'nginx' }, { app: 'nginx' }, { app: 'nginx' }]).map((l, i) => pod(i, l)) },
    'deployment.json': {
      metadata: { name: 'nginx', ...(s.deploymentLabels ? { labels: s.deploymentLabels } : {}) },
      spec: { template: { metadata: { labels: s.template ?? { app: 'nginx' } } } },
    },
  };
  if (!('service' in s) || s.service) {
    files['service.json'] = { metadata: { name: 'nginx' }, spec: { clusterIP: s.service?.clusterIP ?? '10.97.97.97', selector: s.service?.selector ?? { app: 'nginx', role: 'logstor' } } };
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [name, json] of Object.entries(files)) await writeFile(path.join(dir, name), JSON.stringify(json));
  if (s.apiDown) await writeFile(path.join(dir, 'api-down'), '');
}

async function run(argv: readonly string[], env: Record<string, string> = {}) {
  return runner.run(argv, {
    timeoutMs: 15_000,
    env: { PATH: `${stubBin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: home, SVCLAB_FIXTURES: dir, ...env },
  });
}

async function checkExit(stepId: string, env: Record<string, string> = {}): Promise<{ exitCode: number; out: string }> {
  const step = lab.steps.find((s) => s.id === stepId)!;
  const r = await run((step.checks[0] as CommandCheck).argv, env);
  return { exitCode: r.exitCode, out: `${r.stdout}${r.stderr}`.trim() };
}

describe.skipIf(missing.length > 0)('lab 02 check scripts', () => {
  beforeAll(async () => {
    await chmod(path.join(stubBin, 'kubectl'), 0o755);
    await chmod(path.join(stubBin, 'curl'), 0o755);
    const r = await loadLab(repoRoot, '02-selectors-and-endpoints');
    if (r.status !== 'ok') throw new Error(`lab 02 does not load: ${JSON.stringify(r)}`);
    lab = r.lab;
  });
  beforeEach(async () => {
    const base = await mkdtemp(path.join(tmpdir(), 'svclab-lab02-'));
    dir = path.join(base, 'cluster');
    home = path.join(base, 'home');
    await mkdir(home);
  });
  afterEach(async () => {
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  it('every exit code a script uses is mapped in lab.yaml (or is 0)', () => {
    for (const step of lab.steps) {
      for (const check of step.checks) {
        if (check.kind !== 'command') continue;
        const script = check.argv.at(-1)!;
        const used = new Set([...script.matchAll(/exit (\d+)/g)].map((m) => Number(m[1])));
        const mapped = new Set(check.failures.map((f) => f.exitCode));
        // 0 passes; 124–127 are "could not run" and need no mapping.
        for (const code of used) if (code !== 0 && code < 124) expect(mapped, `${step.id}: exit ${code}`).toContain(code);
      }
    }
  });

  it('a workstation without kubectl gives exit 127 (an error), not "API down"', async () => {
    await state({});
    const step = lab.steps.find((s) => s.id === 'observe')!;
    const [, ...args] = (step.checks[0] as CommandCheck).argv;
    const r = await runner.run(['/bin/sh', ...args], { timeoutMs: 15_000, env: { PATH: '/nonexistent', HOME: home } });
    expect(r.exitCode).toBe(127);
  });

  describe('step observe', () => {
    it('fails until the learner notes the count, then passes', async () => {
      await state({ ready: 0 });
      expect((await checkExit('observe')).exitCode).toBe(5);
      await mkdir(path.join(home, 'answers'));
      await writeFile(path.join(home, 'answers/endpoints'), '3\n');
      expect(await checkExit('observe')).toMatchObject({ exitCode: 6, out: expect.stringContaining('says "3"') });
      await writeFile(path.join(home, 'answers/endpoints'), '<none>\n');
      expect((await checkExit('observe')).exitCode).toBe(0);
    });

    it('the step solution makes it pass', async () => {
      await state({ ready: 0 });
      const step = lab.steps.find((s) => s.id === 'observe')!;
      for (const argv of step.solution.commands ?? []) expect((await run(argv)).exitCode).toBe(0);
      expect((await checkExit('observe')).exitCode).toBe(0);
    });

    it('names the broken states', async () => {
      await state({ apiDown: true });
      expect((await checkExit('observe')).exitCode).toBe(10);
      await state({ service: undefined });
      expect((await checkExit('observe')).exitCode).toBe(2);
      await state({ service: { clusterIP: '10.96.4.4' } });
      expect(await checkExit('observe')).toMatchObject({ exitCode: 3, out: expect.stringContaining('10.96.4.4') });
      await state({ ready: 3 });
      expect((await checkExit('observe')).exitCode).toBe(4);
    });
  });

  describe('step label-the-pods', () => {
    const logstor = { app: 'nginx', role: 'logstor' };

    it('the starting state: no pod has role=logstor', async () => {
      await state({});
      expect(await checkExit('label-the-pods')).toMatchObject({ exitCode: 3, out: 'none of the 3 app=nginx pods has role=logstor' });
    });

    it('the label on the Deployment instead of its pod template', async () => {
      await state({ deploymentLabels: { role: 'logstor' } });
      expect((await checkExit('label-the-pods')).exitCode).toBe(4);
    });

    it('a misspelt value, in the template or on the pods', async () => {
      await state({ template: { app: 'nginx', role: 'logstore' } });
      expect(await checkExit('label-the-pods')).toMatchObject({ exitCode: 5, out: expect.stringContaining('role=logstore') });
      await state({ pods: [{ app: 'nginx', role: 'logstore' }, { app: 'nginx' }, { app: 'nginx' }] });
      expect((await checkExit('label-the-pods')).exitCode).toBe(5);
    });

    it('a misspelt key', async () => {
      await state({ pods: [{ app: 'nginx', roles: 'logstor' }, { app: 'nginx', roles: 'logstor' }, { app: 'nginx', roles: 'logstor' }] });
      expect(await checkExit('label-the-pods')).toMatchObject({ exitCode: 9, out: expect.stringContaining('roles') });
    });

    it('one pod labelled by hand, as in the seed', async () => {
      await state({ pods: [logstor, { app: 'nginx' }, { app: 'nginx' }], ready: 1 });
      expect(await checkExit('label-the-pods')).toMatchObject({ exitCode: 6, out: 'only 1 of 3 app=nginx pods have role=logstor' });
    });

    it('template fixed, rollout under way: keep waiting', async () => {
      await state({ template: logstor, pods: [logstor, { app: 'nginx' }, { app: 'nginx' }], ready: 1 });
      expect((await checkExit('label-the-pods')).exitCode).toBe(8);
    });

    it('the Service changed to match the pods instead', async () => {
      await state({ service: { selector: { app: 'nginx' } }, ready: 3 });
      expect(await checkExit('label-the-pods')).toMatchObject({ exitCode: 7, out: expect.stringContaining('{"app":"nginx"}') });
    });

    it('passes once the pod template carries the label and 3 endpoints are ready', async () => {
      await state({ template: logstor, pods: [logstor, logstor, logstor], ready: 3 });
      expect((await checkExit('label-the-pods')).exitCode).toBe(0);
    });

    it('the old way of passing, every pod relabelled by hand with 3 ready endpoints, now fails and says why it will not last', async () => {
      await state({ pods: [logstor, logstor, logstor], ready: 3 });
      const r = await checkExit('label-the-pods');
      expect(r).toMatchObject({ exitCode: 11, out: expect.stringContaining('pod template still has no role label') });
      const check = lab.steps.find((s) => s.id === 'label-the-pods')!.checks[0] as CommandCheck;
      const failure = check.failures.find((f) => f.exitCode === 11)!;
      expect(failure.retry).toBe(false);
      expect(failure.message.en).toMatch(/won't last: the next rollout, a deleted pod or a\s+drained node brings a pod without the label/);
      expect(failure.message.zh).toMatch(/不会长久/);
    });
  });

  describe('step reach-the-service', () => {
    it('maps curl outcomes, then wants the page saved', async () => {
      const page = '<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body>\n<h1>Welcome to nginx!</h1>\n<p>pod: nginx-abc-1</p>\n</body></html>';
      const ok = { SVCLAB_HTTP_CODE: '200', SVCLAB_HTTP_BODY: page };
      expect((await checkExit('reach-the-service', { SVCLAB_CURL_EXIT: '7' })).exitCode).toBe(3);
      expect((await checkExit('reach-the-service', { SVCLAB_CURL_EXIT: '28' })).exitCode).toBe(4);
      expect((await checkExit('reach-the-service', { SVCLAB_HTTP_CODE: '503', SVCLAB_HTTP_BODY: 'no' })).exitCode).toBe(5);
      expect((await checkExit('reach-the-service', { SVCLAB_HTTP_CODE: '200', SVCLAB_HTTP_BODY: 'some other server' })).exitCode).toBe(5);
      expect((await checkExit('reach-the-service', ok)).exitCode).toBe(6);
      await mkdir(path.join(home, 'answers'));
      await writeFile(path.join(home, 'answers/page.html'), 'curl: (7) Failed to connect\n');
      expect((await checkExit('reach-the-service', ok)).exitCode).toBe(6);
      await writeFile(path.join(home, 'answers/page.html'), page);
      expect(await checkExit('reach-the-service', ok)).toMatchObject({ exitCode: 0, out: '10.97.97.97 served the welcome page and it is saved' });
    });
  });
});

describe('lab 02 manifests say what the lab teaches', () => {
  const read = async (rel: string) => {
    return parse(await readFile(path.join(repoRoot, 'labs/02-selectors-and-endpoints', rel), 'utf8'));
  };

  it('the Deployment labels its pods app=nginx only and uses the locally built image', async () => {
    const d = await read('manifests/deployment.yaml');
    expect(d.metadata.labels).toBeUndefined();
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.metadata.labels).toEqual({ app: 'nginx' });
    expect(d.spec.template.spec.containers[0]).toMatchObject({ image: 'svclab/web:latest', imagePullPolicy: 'Never' });
  });

  it('the Service has the fixed ClusterIP and a selector the pods only half match', async () => {
    const s = await read('manifests/service.yaml');
    expect(s.spec).toMatchObject({ clusterIP: '10.97.97.97', selector: { app: 'nginx', role: 'logstor' }, ports: [{ port: 80 }] });
  });

  it('the step 2 solution changes only the pod template labels', async () => {
    const start = await read('manifests/deployment.yaml');
    const solved = await read('solution/deployment.yaml');
    expect(solved.spec.template.metadata.labels).toEqual({ app: 'nginx', role: 'logstor' });
    solved.spec.template.metadata.labels = { app: 'nginx' };
    expect(solved).toEqual(start);
  });
});
