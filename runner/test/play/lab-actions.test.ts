// LabActions on a fake cluster: who runs what (the learner's kubectl for Apply,
// Solve and Reset; the setup kubectl for the setup), in which order, what a
// rejection says, and that the check context is built once.
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../src/http/yaml-input.ts';
import { isRunnerError } from '../../src/errors.ts';
import { configMap, configMapCheck, DEPLOYMENT, FakeLabCluster, labSpec, stepSpec, writeLab } from './fake-lab-cluster.ts';

async function lab02() {
  return writeLab(labSpec('02-play', [
    stepSpec('one', [configMapCheck('answer-set', 'answer', '42')], { manifests: ['solution/answer.yaml'] }),
    stepSpec('two', [configMapCheck('noted', 'noted', 'yes')], { commands: [['kubectl', 'create', 'configmap', 'noted', '--from-literal=value=yes']] }),
  ], { manifests: ['manifests/deployment.yaml'], cleanup: [{ kind: 'configmap', name: 'noted' }] }), {
    'manifests/deployment.yaml': DEPLOYMENT,
    'solution/answer.yaml': configMap('answer', '42'),
  });
}

describe('LabActions', () => {
  it('setup goes through the setup kubectl; Solve through the learner\'s kubectl and shell', async () => {
    const cluster = new FakeLabCluster();
    const { actions } = cluster.actions(await lab02(), { setupAs: 'admin' });
    await actions.setup();
    await actions.solve('one');
    await actions.solve('two');
    expect(cluster.log).toEqual([
      'admin: kubectl apply --server-side --force-conflicts -f -',
      'learner: kubectl apply --server-side --force-conflicts -f -',
      'learner: kubectl create configmap noted --from-literal=value=yes',
    ]);
    expect(cluster.has('Deployment', 'web') && cluster.has('ConfigMap', 'answer') && cluster.has('ConfigMap', 'noted')).toBe(true);
  });

  it('Reset clears ~/answers, deletes what setup, solutions and cleanup name, then applies the setup again', async () => {
    const cluster = new FakeLabCluster();
    const { actions } = cluster.actions(await lab02(), { setupAs: 'admin' });
    await actions.setup();
    await actions.solve('one');
    await actions.solve('two');
    cluster.log.length = 0;
    await actions.reset();
    expect(cluster.log).toEqual([
      'learner: sh -c rm -rf "$HOME/answers"',
      'learner: kubectl delete -f - --ignore-not-found --wait=true',
      'learner: kubectl delete configmap noted -n default --ignore-not-found --wait=true',
      'admin: kubectl apply --server-side --force-conflicts -f -',
    ]);
    expect([cluster.has('Deployment', 'web'), cluster.has('ConfigMap', 'answer'), cluster.has('ConfigMap', 'noted')]).toEqual([true, false, false]);
  });

  it('Apply: a server-side dry run first; a rejection applies nothing and names the editor line', async () => {
    const cluster = new FakeLabCluster();
    cluster.learnerForbidden.add('ClusterRole');
    const { actions } = cluster.actions(await lab02());
    const yaml = `${configMap('answer', '42')}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: { name: reader }\n`;
    const err = await actions.apply(yaml, parseManifests(yaml)).catch((e: unknown) => e);
    expect(isRunnerError(err) && err.code).toBe('APPLY_REJECTED');
    expect((err as { details: { line?: number } }).details.line).toBe(6);
    expect(cluster.log).toEqual(['learner: kubectl apply --server-side --dry-run=server -f -']);
    expect(cluster.has('ConfigMap', 'answer')).toBe(false);

    const ok = configMap('answer', '42');
    expect(await actions.apply(ok, parseManifests(ok))).toEqual({ dryRun: 'configmap/answer serverside-applied (server dry run)', applied: 'configmap/answer serverside-applied' });
    expect(cluster.log.slice(1)).toEqual(['learner: kubectl apply --server-side --dry-run=server -f -', 'learner: kubectl apply --server-side -f -']);
  });

  it('live: each editor document with its object as the cluster has it, or null', async () => {
    const cluster = new FakeLabCluster();
    const { actions } = cluster.actions(await lab02());
    await actions.solve('one');
    const yaml = `${configMap('answer', '42')}---\n${configMap('missing', 'x')}`;
    const live = await actions.live(yaml, parseManifests(yaml));
    expect(live.map((l) => [l.name, l.line, l.live === null ? null : l.live.includes('value: "42"')])).toEqual([['answer', 1, true], ['missing', 6, null]]);
  });

  it('a refusal of the learner says why in the learner\'s words (hint, and both languages in details)', async () => {
    const cluster = new FakeLabCluster();
    cluster.learnerForbidden.add('ConfigMap');
    const { actions } = cluster.actions(await lab02());
    const err = await actions.solve('one').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'APPLY_REJECTED', hint: expect.stringMatching(/^this workshop doesn't let you patch configmaps/) });
    expect((err as { details: { refusal: { zh: string } } }).details.refusal.zh).toMatch(/^本工作坊不允许 patch configmaps/);
    const yaml = configMap('answer', '42');
    await expect(actions.apply(yaml, parseManifests(yaml))).rejects.toMatchObject({ hint: expect.stringMatching(/^this workshop doesn't let you/) });
  });

  it('a failing solution command is COMMAND_FAILED with its output; an unknown step is STEP_UNKNOWN', async () => {
    const cluster = new FakeLabCluster();
    cluster.command = () => ({ exitCode: 1, stderr: 'error: configmaps "noted" already exists' });
    const { actions } = cluster.actions(await lab02());
    await expect(actions.solve('two')).rejects.toMatchObject({ code: 'COMMAND_FAILED', message: expect.stringContaining('configmaps "noted" already exists') });
    await expect(actions.solve('three')).rejects.toMatchObject({ code: 'STEP_UNKNOWN' });
  });

  it('builds the check context once, however many checks run; caps deadlines when asked', async () => {
    const cluster = new FakeLabCluster();
    const { actions, contexts } = cluster.actions(await lab02());
    const t0 = cluster.now();
    expect((await actions.check('one')).passed).toBe(false);
    expect(cluster.now() - t0).toBe(16_000); // deadline 20 s, every 4 s
    const t1 = cluster.now();
    expect((await actions.check('one', { capDeadlineSeconds: 6 })).results[0]!.status).toBe('fail');
    expect(cluster.now() - t1).toBe(4_000);
    await actions.solve('one');
    expect((await actions.check('one', { lang: 'zh' })).passed).toBe(true);
    expect(contexts()).toBe(1);
  });
});
