// Runs lab 01's real check scripts with sh and jq against recorded cluster states
// (stub kubectl and curl, as for lab 02). The replace-every-pod cases pin down the
// flake `svclab validate` hit: `rollout restart` right after the Service was made
// put a new pod in the Service's own second, and creationTimestamp (one-second
// resolution) cannot order those two.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import type { CommandCheck } from '../../src/checks/kinds/command.ts';
import { loadLab, type Lab } from '../../src/labs/load-labs.ts';
import { labScripts, unmappedExitCodes } from './lab-script-harness.ts';

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
if (missing.length) console.log(`SKIP lab 01 check scripts: ${missing.join(', ')} not installed on this machine`);

const runner = new ExecaRunner();
const CLUSTER_IP = '10.96.12.34';
const SERVICE_BORN = '2026-11-26T02:05:28Z';
let lab: Lab;
let dir: string;
let home: string;

interface PodState { name: string; created: string; ip?: string; ready?: boolean; deleting?: boolean }

async function state(s: { service?: boolean; pods: PodState[]; apiDown?: boolean }): Promise<void> {
  const files: Record<string, unknown> = {
    'pods.json': {
      items: s.pods.map((p) => ({
        metadata: { name: p.name, labels: { app: 'web' }, creationTimestamp: p.created, ...(p.deleting ? { deletionTimestamp: '2026-11-26T02:06:00Z' } : {}) },
        status: { podIP: p.ip ?? '10.244.1.9', conditions: [{ type: 'Ready', status: p.ready === false ? 'False' : 'True' }] },
      })),
    },
  };
  if (s.service !== false) files['service.json'] = { metadata: { name: 'web', creationTimestamp: SERVICE_BORN }, spec: { clusterIP: CLUSTER_IP, selector: { app: 'web' } } };
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [name, json] of Object.entries(files)) await writeFile(path.join(dir, name), JSON.stringify(json));
  if (s.apiDown) await writeFile(path.join(dir, 'api-down'), '');
}

async function checkExit(stepId: string, env: Record<string, string> = {}): Promise<{ exitCode: number; out: string }> {
  const step = lab.steps.find((s) => s.id === stepId)!;
  const r = await runner.run((step.checks[0] as CommandCheck).argv, {
    timeoutMs: 15_000,
    env: { PATH: `${stubBin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: home, SVCLAB_FIXTURES: dir, ...env },
  });
  return { exitCode: r.exitCode, out: `${r.stdout}${r.stderr}`.trim() };
}

describe.skipIf(missing.length > 0)('lab 01 check scripts', () => {
  beforeAll(async () => {
    await chmod(path.join(stubBin, 'kubectl'), 0o755);
    await chmod(path.join(stubBin, 'curl'), 0o755);
    const r = await loadLab(repoRoot, '01-why-services');
    if (r.status !== 'ok') throw new Error(`lab 01 does not load: ${JSON.stringify(r)}`);
    lab = r.lab;
  });
  beforeEach(async () => {
    const base = await mkdtemp(path.join(tmpdir(), 'svclab-lab01-'));
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
        const used = new Set([...check.argv.at(-1)!.matchAll(/exit (\d+)/g)].map((m) => Number(m[1])));
        const mapped = new Set(check.failures.map((f) => f.exitCode));
        for (const code of used) if (code !== 0 && code < 124) expect(mapped, `${step.id}: exit ${code}`).toContain(code);
      }
    }
  });

  describe('step replace-every-pod', () => {
    const ok = { SVCLAB_HTTP_CODE: '200' };
    const setup = [
      { name: 'web-5d4f-aaaaa', created: '2026-11-26T02:04:51Z' },
      { name: 'web-5d4f-bbbbb', created: '2026-11-26T02:04:51Z' },
      { name: 'web-5d4f-ccccc', created: '2026-11-26T02:05:02Z' },
    ];
    const noteClusterIP = async (ip = CLUSTER_IP) => {
      await mkdir(path.join(home, 'answers'), { recursive: true });
      await writeFile(path.join(home, 'answers/clusterip'), `${ip}\n`);
    };

    it('the pods from setup and step 1 are older than the Service: fails, naming them', async () => {
      await state({ pods: setup });
      await noteClusterIP();
      expect(await checkExit('replace-every-pod', ok)).toEqual({ exitCode: 3, out: `pods older than Service web (created ${SERVICE_BORN}): web-5d4f-aaaaa, web-5d4f-bbbbb, web-5d4f-ccccc` });
    });

    it('one old pod one second before the Service still counts as old', async () => {
      await state({ pods: [{ name: 'web-77c9-xxxxx', created: '2026-11-26T02:05:27Z' }, { name: 'web-77c9-yyyyy', created: '2026-11-26T02:05:40Z' }, { name: 'web-77c9-zzzzz', created: '2026-11-26T02:05:41Z' }] });
      await noteClusterIP();
      expect(await checkExit('replace-every-pod', ok)).toMatchObject({ exitCode: 3, out: expect.stringMatching(/: web-77c9-xxxxx$/) });
    });

    it('a new pod made in the Service\'s own second (restart right after the Service) is not taken for an old one', async () => {
      // What validate saw: the first pod of the restarted rollout shares 02:05:28 with the Service.
      await state({
        pods: [
          ...setup.map((p) => ({ ...p, deleting: true })),
          { name: 'web-59fc-hqr9r', created: SERVICE_BORN, ip: '10.244.2.7' },
          { name: 'web-59fc-k2m4n', created: '2026-11-26T02:05:30Z', ip: '10.244.1.8' },
          { name: 'web-59fc-p7q8r', created: '2026-11-26T02:05:32Z', ip: '10.244.2.9' },
        ],
      });
      await noteClusterIP();
      expect(await checkExit('replace-every-pod', ok)).toEqual({ exitCode: 0, out: `all 3 web pods are newer than Service web, which still answers at ${CLUSTER_IP}` });
    });

    it('names each broken state', async () => {
      const fresh = [
        { name: 'web-59fc-a', created: '2026-11-26T02:05:40Z' },
        { name: 'web-59fc-b', created: '2026-11-26T02:05:41Z' },
        { name: 'web-59fc-c', created: '2026-11-26T02:05:42Z' },
      ];
      await state({ pods: fresh, apiDown: true });
      expect((await checkExit('replace-every-pod', ok)).exitCode).toBe(10);
      await state({ pods: fresh, service: false });
      expect((await checkExit('replace-every-pod', ok)).exitCode).toBe(2);
      await state({ pods: [...fresh.slice(0, 2), { ...fresh[2]!, ready: false }] });
      expect(await checkExit('replace-every-pod', ok)).toEqual({ exitCode: 4, out: '2 of 3 new web pods are ready' });
      await state({ pods: fresh });
      expect(await checkExit('replace-every-pod', { SVCLAB_CURL_EXIT: '7' })).toEqual({ exitCode: 5, out: `http://${CLUSTER_IP}/ answered 000` });
      expect((await checkExit('replace-every-pod', ok)).exitCode).toBe(6);
      await noteClusterIP('10.244.1.8');
      expect((await checkExit('replace-every-pod', ok)).exitCode).toBe(7);
      await noteClusterIP();
      expect((await checkExit('replace-every-pod', ok)).exitCode).toBe(0);
    });
  });
});

describe.skipIf(missing.length > 0)('lab 01 step replace-a-pod: proves a pod was replaced', () => {
  const lab = labScripts('01-why-services');
  const OLD = 'web-5d4f8c7b9-x2x7k';
  const events = (name: string, node = 'svclab-worker') => ({
    items: [
      { reason: 'Scheduled', involvedObject: { kind: 'Pod', name }, message: `Successfully assigned default/${name} to ${node}` },
      { reason: 'Killing', involvedObject: { kind: 'Pod', name }, message: 'Stopping container web' },
    ],
  });
  const webPods = (ips: string[], names = ips.map((_, i) => `web-5d4f8c7b9-new${i}`)) => ({
    items: ips.map((ip, i) => ({ metadata: { name: names[i] }, status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] } })),
  });
  const cluster = (over: Record<string, unknown> = {}) => ({
    'get pods -l app=web -o json': webPods(['10.244.1.9', '10.244.2.4', '10.244.2.5']),
    [`get events --field-selector involvedObject.kind=Pod,involvedObject.name=${OLD} -o json`]: events(OLD),
    'get node svclab-worker -o json': { spec: { podCIDR: '10.244.1.0/24' } },
    ...over,
  });

  it('the old way of passing, an unused pod address alone, now fails and says why', async () => {
    await lab.state(cluster());
    await lab.answer('old-pod', '10.244.1.77\n');
    const r = await lab.check('replace-a-pod');
    expect(r).toMatchObject({ exitCode: 8, out: expect.stringContaining('any unused pod address would look the same') });
  });

  it('a made-up pod name fails: the cluster has no record of it', async () => {
    // kubectl answers an empty list, not NotFound, for a name with no events.
    await lab.state(cluster({ 'get events --field-selector involvedObject.kind=Pod,involvedObject.name=web-5d4f8c7b9-zzzzz -o json': { items: [] } }));
    await lab.answer('old-pod', 'web-5d4f8c7b9-zzzzz 10.244.1.5\n');
    expect(await lab.check('replace-a-pod')).toMatchObject({ exitCode: 9, out: expect.stringContaining('no record of a pod named web-5d4f8c7b9-zzzzz') });
  });

  it('a real deleted pod with an IP from another node\'s range fails', async () => {
    await lab.state(cluster());
    await lab.answer('old-pod', `${OLD} 10.244.2.77\n`);
    expect(await lab.check('replace-a-pod')).toMatchObject({ exitCode: 13, out: expect.stringContaining('10.244.1.0/24') });
  });

  it('a pod that still exists, or whose IP is still in use, fails', async () => {
    await lab.state(cluster({ 'get pods -l app=web -o json': webPods(['10.244.1.5', '10.244.2.4', '10.244.2.5'], [OLD, 'web-a', 'web-b']) }));
    await lab.answer('old-pod', `${OLD} 10.244.1.5\n`);
    expect((await lab.check('replace-a-pod')).exitCode).toBe(11);
    await lab.state(cluster({ 'get pods -l app=web -o json': webPods(['10.244.1.5', '10.244.2.4', '10.244.2.5']) }));
    expect((await lab.check('replace-a-pod')).exitCode).toBe(6);
  });

  it('passes when the noted pod ran on its node with that IP, is gone, and 3 pods are ready', async () => {
    await lab.state(cluster());
    await lab.answer('old-pod', `${OLD} 10.244.1.5\n`);
    expect(await lab.check('replace-a-pod')).toMatchObject({ exitCode: 0, out: expect.stringContaining(`pod ${OLD} (10.244.1.5, on svclab-worker) is gone`) });
  });

  it('names the other states', async () => {
    await lab.state(cluster(), { apiDown: true });
    expect((await lab.check('replace-a-pod')).exitCode).toBe(10);
    await lab.state(cluster());
    expect((await lab.check('replace-a-pod')).exitCode).toBe(3);
    await lab.answer('old-pod', 'nginx-1 10.244.1.5\n');
    expect((await lab.check('replace-a-pod')).exitCode).toBe(12);
    await lab.answer('old-pod', `${OLD} 172.18.0.3\n`);
    expect((await lab.check('replace-a-pod')).exitCode).toBe(5);
    await lab.state(cluster({ 'get pods -l app=web -o json': webPods(['10.244.1.9', '10.244.2.4']) }));
    await lab.answer('old-pod', `${OLD} 10.244.1.5\n`);
    expect((await lab.check('replace-a-pod')).exitCode).toBe(7);
  });

  it('every exit code is mapped', () => {
    expect(unmappedExitCodes(lab.lab)).toEqual([]);
  });
});
