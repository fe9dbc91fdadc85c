// The lab page's ports for a session, all on LabActions: every command runs in the
// session's workstation as the learner, and without a cluster each says NO_CLUSTER.
import { describe, expect, it } from 'vitest';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { parseManifests } from '../../src/http/yaml-input.ts';
import { loadLab } from '../../src/labs/load-labs.ts';
import { sessionPorts } from '../../src/sessions/lab-cluster.ts';
import { projectRoot } from '../../src/version.ts';

async function setup() {
  const engine = new FakeContainerEngine();
  engine.addImage('svclab/ws:t');
  await engine.runContainer({ name: 'svclab-ws-p', image: 'svclab/ws:t', labels: {}, command: ['sleep', 'infinity'] });
  const calls: { argv: string[]; user?: string; container: string }[] = [];
  engine.execHandler = (c, argv, opts) => {
    calls.push({ container: c.spec.name, argv: [...argv], ...(opts.user ? { user: opts.user } : {}) });
    // The lab's first check (a command check) passes once "answers" exist.
    return { exitCode: 0, stdout: argv.includes('get') ? '{"kind":"List","items":[]}' : '', stderr: '' };
  };
  const r = await loadLab(projectRoot, '02-selectors-and-endpoints');
  if (r.status !== 'ok') throw new Error('lab 02 does not load');
  const ports = sessionPorts(engine, () => r.lab);
  return { engine, calls, lab: r.lab, ports };
}

describe('sessionPorts', () => {
  it('Apply, Diff, Solve, Reset and Check run in the workstation as the learner', async () => {
    const { calls, lab, ports } = await setup();
    const s = { labId: lab.id, workstation: 'svclab-ws-p', cluster: { name: 'svclab-x' } };
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n';
    await ports.apply.apply(s, yaml, parseManifests(yaml));
    await ports.apply.live(s, yaml, parseManifests(yaml));
    await ports.actions.solve(s, lab.steps[0]!.id);
    await ports.actions.reset(s);
    const checked = await ports.checks.run(s, lab.steps[0]!.id, new AbortController().signal, 'zh');
    expect(checked.results.length).toBe(lab.steps[0]!.checks.length);
    expect(calls.length).toBeGreaterThan(6);
    expect(calls.filter((c) => c.user !== 'learner' || c.container !== 'svclab-ws-p')).toEqual([]);
    expect(calls.slice(0, 3).map((c) => c.argv.filter((a) => !a.startsWith('--request-timeout')).slice(0, 3).join(' '))).toEqual(['kubectl apply --server-side', 'kubectl apply --server-side', 'kubectl get -f']);
  });

  it('without a cluster every action is NO_CLUSTER and nothing runs', async () => {
    const { calls, lab, ports } = await setup();
    const s = { labId: lab.id, workstation: 'svclab-ws-p' };
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n';
    await expect(ports.apply.apply(s, yaml, parseManifests(yaml))).rejects.toMatchObject({ code: 'NO_CLUSTER' });
    await expect(ports.apply.live(s, yaml, parseManifests(yaml))).rejects.toMatchObject({ code: 'NO_CLUSTER' });
    await expect(ports.actions.solve(s, lab.steps[0]!.id)).rejects.toMatchObject({ code: 'NO_CLUSTER' });
    await expect(ports.actions.reset(s)).rejects.toMatchObject({ code: 'NO_CLUSTER' });
    expect(calls).toEqual([]);
  });
});
