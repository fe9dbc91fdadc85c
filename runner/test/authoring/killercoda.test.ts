import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importKillercoda, lessonMarkdown, translateBackground } from '../../src/authoring/killercoda.ts';
import { RunnerError } from '../../src/errors.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { runLabsLint } from '../../src/labs/load-labs.ts';

const fixture = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'killercoda-expose');

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'svclab-kc-'));
  await mkdir(path.join(root, 'labs'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const opts = () => ({ scenarioDir: fixture, labsDir: path.join(root, 'labs'), lessons: { kind: 'in-lab' as const }, schemaFile: path.join(root, 'schemas/lab.schema.json') });

interface Imported {
  id: string;
  setup: { manifests: string[] };
  steps: { id: string; title: { en: string; zh: string }; checks: { kind: string; argv: string[] }[]; solution: { commands: string[][] } }[];
}

async function rejected(p: Promise<unknown>): Promise<RunnerError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(RunnerError);
  return e as RunnerError;
}

describe('svclab import killercoda', () => {
  it('makes a lab that lints: verify scripts as command checks, background manifests as setup, the texts as an English lesson', async () => {
    const r = await importKillercoda(opts());
    expect(r.id).toBe('01-expose-a-deployment-with-a-service');
    const lint = await runLabsLint(root);
    expect(lint.lines).toEqual([]);
    expect(lint.labs).toEqual([r.id]);

    const text = await readFile(path.join(r.dir, 'lab.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schemas/lab.schema.json');
    const lab = parse(text) as Imported;
    expect(lab.steps.map((s) => s.title.en)).toEqual(['Create the Service', 'Reach it from the client']);
    const verify1 = await readFile(path.join(fixture, 'step1/verify.sh'), 'utf8');
    expect(lab.steps[0]!.checks[0]).toMatchObject({ kind: 'command', argv: ['bash', '-c', verify1] });
    expect(lab.steps[1]!.checks[0]!.argv.slice(0, 2)).toEqual(['sh', '-c']); // #!/bin/sh

    // The heredoc, the asset `kubectl apply -f /root/client.yaml` names, and step 2's piped heredoc.
    const kinds = [];
    for (const m of lab.setup.manifests) for (const d of parseAllDocuments(await readFile(path.join(r.dir, m), 'utf8'))) kinds.push((d.toJS() as { kind: string }).kind);
    expect(kinds).toEqual(['Deployment', 'Pod', 'ConfigMap']);

    const lesson = await readFile(path.join(r.dir, 'README.md'), 'utf8');
    expect(lesson).toContain('lab: 01-expose-a-deployment-with-a-service');
    expect(lesson).toContain('## Step 1: Create the Service');
    expect(lesson).toContain('## Step 2: Reach it from the client');
    expect(lesson).toContain('## Finish');
    expect(lesson).not.toContain('{{exec}}');
    expect(lesson).not.toContain('{{copy}}');
    expect(await readdir(path.join(r.dir, 'killercoda'))).toEqual(['background.sh', 'step2']);
  });

  it('lists what is left: a solution per step, untranslated script lines, images that cannot be pulled', async () => {
    const r = await importKillercoda(opts());
    expect(r.todo).toContain('step 1 (step-1) has no solution: write steps[0].solution (manifests or commands) so `svclab validate` can prove its check passes.');
    expect(r.todo).toContain('step 2 (step-2) has no solution: write steps[1].solution (manifests or commands) so `svclab validate` can prove its check passes.');
    expect(r.todo).toContain('not translated (svclab\'s setup applies manifests only): background.sh:27: kubectl wait --for=condition=Available deployment/web --timeout=120s');
    expect(r.todo).toContain('not translated (svclab\'s setup applies manifests only): background.sh:28: echo done > /tmp/background-finished');
    expect(r.todo.filter((t) => t.includes('svclab clusters pull nothing')).map((t) => t.split(' runs image ')[1]!.split(';')[0])).toEqual(['nginx:1.27', 'busybox:1.36']);
  });

  it('each step\'s solution fails saying the step has no solution, so validate cannot pass it', async () => {
    const r = await importKillercoda(opts());
    const lab = parse(await readFile(path.join(r.dir, 'lab.yaml'), 'utf8')) as Imported;
    const host = new ExecaRunner();
    for (const [i, step] of lab.steps.entries()) {
      // What LabActions.solve (validate's and the Solve button's path) runs: the commands, in order.
      const results = [];
      for (const argv of step.solution.commands) results.push(await host.run(argv, { timeoutMs: 10_000 }));
      expect(results.some((x) => x.exitCode !== 0)).toBe(true);
      expect(results.map((x) => x.stderr).join('')).toContain(`step ${i + 1} (step-${i + 1}) has no solution yet`);
    }
  });

  it('refuses what is not a scenario, with the reason', async () => {
    expect((await rejected(importKillercoda({ ...opts(), scenarioDir: root }))).message).toContain('has no index.json');
    const bad = path.join(root, 'bad');
    await mkdir(bad);
    await writeFile(path.join(bad, 'index.json'), '{"title": "x", "details": {"steps": []}}');
    expect((await rejected(importKillercoda({ ...opts(), scenarioDir: bad }))).message).toMatch(/index\.json: details\.steps: /);
    await writeFile(path.join(bad, 'index.json'), '{"title": "x", "details": {"steps": [{"title": "a", "verify": "../../etc/passwd"}]}}');
    expect((await rejected(importKillercoda({ ...opts(), scenarioDir: bad }))).message).toContain('points outside the scenario folder');
    await writeFile(path.join(bad, 'index.json'), '{"title": "x", "details": {"steps": [{"title": "a", "verify": "step1/verify.sh"}]}}');
    expect((await rejected(importKillercoda({ ...opts(), scenarioDir: bad }))).message).toContain('names step1/verify.sh, which is not in');
    expect(await readdir(path.join(root, 'labs'))).toEqual([]);
  });

  it('takes the next free number, refuses an existing lab and a bad --id', async () => {
    await mkdir(path.join(root, 'labs', '07-other'));
    expect((await importKillercoda(opts())).id).toBe('08-expose-a-deployment-with-a-service');
    expect((await rejected(importKillercoda({ ...opts(), id: '08-expose-a-deployment-with-a-service' }))).message).toContain('already exists');
    expect((await rejected(importKillercoda({ ...opts(), id: 'Expose' }))).message).toContain('is not a lab name');
  });

  it('a step without verify.sh gets a check that says so', async () => {
    const copy = path.join(root, 'scenario');
    await cp(fixture, copy, { recursive: true });
    const index = JSON.parse(await readFile(path.join(copy, 'index.json'), 'utf8')) as { details: { steps: { verify?: string }[] } };
    delete index.details.steps[1]!.verify;
    await writeFile(path.join(copy, 'index.json'), JSON.stringify(index));
    const r = await importKillercoda({ ...opts(), scenarioDir: copy });
    expect((await runLabsLint(root)).ok).toBe(true);
    expect(r.todo).toContain('step 2 (step-2) has no check: Killercoda\'s step has no verify script. Write one in lab.yaml.');
  });
});

describe('Killercoda texts and scripts', () => {
  it('drops {{exec}} and {{copy}} markers', () => {
    expect(lessonMarkdown('```\nls\n```{{exec}}\nrun `ls`{{copy}} now')).toBe('```\nls\n```\nrun `ls` now');
  });

  it('takes heredoc manifests and keeps every other line as untranslated', async () => {
    const t = await translateBackground('#!/bin/sh\nkubectl create deployment x --image=y\ncat <<-"END" | kubectl apply -f -\nkind: A\nEND\n# note\n', 'b.sh', root);
    expect(t.manifests).toEqual([{ text: 'kind: A\n', from: 'b.sh lines 3–5' }]);
    expect(t.untranslated).toEqual(['b.sh:2: kubectl create deployment x --image=y']);
  });
});
