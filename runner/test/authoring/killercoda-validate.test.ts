// An imported Killercoda lab through `svclab validate`'s code path (validateLabs and
// LabActions on play's fake cluster): it fails, and says the step has no solution.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { hasPlaceholderSolution, importKillercoda, missingSolutions } from '../../src/authoring/killercoda.ts';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { loadLab } from '../../src/labs/load-labs.ts';
import { validateLabs } from '../../src/play/validate-labs.ts';
import { FakeLabCluster } from '../play/fake-lab-cluster.ts';

const fixture = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'killercoda-expose');

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'svclab-kc-validate-'));
  await mkdir(path.join(root, 'labs'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

it('validate reports "step 1 has no solution" as a violation, in its result and its JUnit', async () => {
  const { id } = await importKillercoda({ scenarioDir: fixture, labsDir: path.join(root, 'labs'), lessons: { kind: 'in-lab' }, schemaFile: path.join(root, 'lab.schema.json') });
  const loaded = await loadLab(root, id);
  if (loaded.status !== 'ok') throw new Error(`the imported lab does not load: ${JSON.stringify(loaded)}`);

  const cluster = new FakeLabCluster();
  // The placeholder solution runs for real (it only echoes and exits); everything else is the fake's.
  cluster.command = (argv) => {
    if (argv[0] !== 'sh' || !argv[2]?.includes('has no solution yet')) return undefined;
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
    return { exitCode: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  };
  // The verify scripts find nothing on the fake cluster: they fail, as on a fresh one.
  const engine = new FakeContainerEngine();
  engine.addImage('svclab/workstation:test');
  await engine.runContainer({ name: 'svclab-ws-test', image: 'svclab/workstation:test', labels: {} });
  engine.execHandler = () => ({ exitCode: 1, stdout: 'Error from server (NotFound): services "web" not found\n' });
  const context = cluster.context.bind(cluster);
  cluster.context = () => ({ ...context(), engine });

  const r = await validateLabs({
    labs: [loaded.lab],
    target: { clean: async () => {}, actions: (lab) => cluster.actions(lab, { setupAs: 'admin' }).actions },
    beforeDeadlineSeconds: 1,
    now: cluster.now,
  });
  expect(r.ok).toBe(false);
  expect(r.violations).toBeGreaterThan(0);
  const solve = r.labs[0]!.cases.find((c) => c.name === 'step-1: solution applies')!;
  expect(solve.status).toBe('error');
  expect(solve.message).toContain('step 1 (step-1) has no solution yet');
  expect(r.labs[0]!.cases.find((c) => c.name === 'step-1: verify fails before the solution')?.status).toBe('passed');
  expect(r.junit).toContain('step 1 (step-1) has no solution yet');
});

it('missingSolutions names every step still on the placeholder, and stops naming one once its solution is written', async () => {
  const { id } = await importKillercoda({ scenarioDir: fixture, labsDir: path.join(root, 'labs'), lessons: { kind: 'in-lab' }, schemaFile: path.join(root, 'lab.schema.json') });
  const loaded = await loadLab(root, id);
  if (loaded.status !== 'ok') throw new Error('the imported lab does not load');
  expect(missingSolutions([loaded.lab])).toEqual([
    { lab: id, step: 'step-1', where: `labs/${id}/lab.yaml: steps[0].solution` },
    { lab: id, step: 'step-2', where: `labs/${id}/lab.yaml: steps[1].solution` },
  ]);
  const written = { ...loaded.lab, steps: loaded.lab.steps.map((s, i) => (i === 0 ? { ...s, solution: { commands: [['kubectl', 'expose', 'deployment', 'web', '--port=80']] } } : s)) };
  expect(missingSolutions([written]).map((m) => m.step)).toEqual(['step-2']);
  // A solution that only looks like it (an author's own failing command, or the placeholder plus a manifest) is the author's.
  expect(hasPlaceholderSolution({ solution: { commands: [['sh', '-c', 'echo "no solution yet" >&2; exit 1']] } })).toBe(false);
  expect(hasPlaceholderSolution({ solution: { manifests: ['solution/svc.yaml'], commands: loaded.lab.steps[1]!.solution.commands } })).toBe(false);
});
