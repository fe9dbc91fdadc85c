// validate on a fake cluster, through LabActions as the learner: checks must fail
// before Solve and pass after; Reset lab must undo step 1. A Solve that only an
// admin could do, and a Reset that leaves step 1 solved, are violations; so are
// the lab bugs of before (a check that passes too early, one that never passes).
import { describe, expect, it } from 'vitest';
import type { Lab } from '../../src/labs/load-labs.ts';
import { formatValidateEvent, pickLabs, validateLabs, type ValidateEvent, type ValidateTarget } from '../../src/play/validate-labs.ts';
import { configMap, configMapCheck, DEPLOYMENT, FakeLabCluster, labSpec, stepSpec, writeLab, type Identity } from './fake-lab-cluster.ts';

const CREATE_ANSWER = ['kubectl', 'create', 'configmap', 'answer', '--from-literal=value=42'];

function target(cluster: FakeLabCluster, as: Identity = 'learner'): ValidateTarget {
  return {
    async clean(lab) { cluster.log.push(`clean ${lab.id}`); },
    actions: (lab) => cluster.actions(lab, { as, setupAs: 'admin' }).actions,
  };
}

async function goodLab(id = '02-good'): Promise<Lab> {
  return writeLab(labSpec(id, [
    stepSpec('one', [configMapCheck('answer-set', 'answer', '42')], { manifests: ['solution/answer.yaml'] }),
    stepSpec('two', [configMapCheck('noted', 'noted', 'yes')], { commands: [['kubectl', 'create', 'configmap', 'noted', '--from-literal=value=yes']] }),
  ], { manifests: ['manifests/deployment.yaml'], cleanup: [{ kind: 'configmap', name: 'noted' }] }), {
    'manifests/deployment.yaml': DEPLOYMENT,
    'solution/answer.yaml': configMap('answer', '42'),
  });
}

const cases = (r: Awaited<ReturnType<typeof validateLabs>>, lab = 0) => r.labs[lab]!.cases.map((c) => `${c.name} ${c.status}`);

describe('validateLabs through LabActions', () => {
  it('a good lab: each step fails, is solved as the learner, passes; Reset lab undoes step 1', async () => {
    const cluster = new FakeLabCluster();
    const events: ValidateEvent[] = [];
    const r = await validateLabs({ labs: [await goodLab()], target: target(cluster), onStep: (e) => events.push(e), now: cluster.now });
    expect(r.ok).toBe(true);
    expect(cases(r)).toEqual([
      'setup passed',
      'one: answer-set fails before the solution passed',
      'one: solution applies passed',
      'one: answer-set passes after the solution passed',
      'two: noted fails before the solution passed',
      'two: solution applies passed',
      'two: noted passes after the solution passed',
      'reset: Reset lab succeeds passed',
      'reset: one: answer-set fails again after Reset lab passed',
    ]);
    // Solve and Reset as the learner; only the setup as svclab (admin).
    expect(cluster.log.filter((l) => !l.startsWith('learner: sh -c rm'))).toEqual([
      'clean 02-good',
      'learner: kubectl delete -f - --ignore-not-found --wait=true',
      'learner: kubectl delete configmap noted -n default --ignore-not-found --wait=true',
      'admin: kubectl apply --server-side --force-conflicts -f -',
      'learner: kubectl apply --server-side --force-conflicts -f -',
      'learner: kubectl create configmap noted --from-literal=value=yes',
      'learner: kubectl delete -f - --ignore-not-found --wait=true',
      'learner: kubectl delete configmap noted -n default --ignore-not-found --wait=true',
      'admin: kubectl apply --server-side --force-conflicts -f -',
    ]);
    expect(events.map((e) => `${e.step} ${e.state}`)).toEqual([
      '02-good start', '02-good/one start', '02-good/one done', '02-good/two start', '02-good/two done', '02-good/reset start', '02-good/reset done', '02-good done',
    ]);
  });

  it('a lab only an admin could play fails validate: the learner is refused a cluster-scoped delete (Reset) and write (Solve)', async () => {
    const lab = await writeLab(labSpec('03-cluster-reader', [
      stepSpec('grant', [{
        id: 'role-exists', kind: 'resource', description: { en: 'the ClusterRole exists', zh: 'ClusterRole 存在' }, deadlineSeconds: 10, intervalSeconds: 2,
        resource: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'reader' },
      }], { manifests: ['solution/role.yaml'] }),
    ]), {
      'manifests/deployment.yaml': DEPLOYMENT,
      'solution/role.yaml': 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: { name: reader }\nrules: []\n',
    });
    const cluster = new FakeLabCluster();
    cluster.learnerForbidden.add('ClusterRole');
    const r = await validateLabs({ labs: [lab], target: target(cluster), now: cluster.now });
    expect(r.ok).toBe(false);
    // The learner can neither delete (Reset, which a new session runs first) nor create a ClusterRole.
    const refused = r.labs[0]!.cases.filter((c) => c.status === 'error');
    expect(refused.map((c) => c.name)).toEqual(['setup']);
    expect(refused[0]!.message).toMatch(/^setup failed: Reset could not delete the lab's objects: .*User "svclab:learner" cannot delete resource "clusterroles"/);
    expect(refused[0]!.detail).toContain('kubectl --request-timeout=30s delete -f - --ignore-not-found --wait=true');
    expect(r.junit).toContain('<error message="setup failed: Reset could not delete');

    // With Reset allowed, Solve is still refused for the learner.
    const solveOnly = new FakeLabCluster();
    solveOnly.learnerForbidden.add('ClusterRole');
    const t = target(solveOnly);
    const actions = t.actions;
    t.actions = (l) => { const a = actions(l); a.reset = async () => { await solveOnly.kubectl('admin').apply('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n'); }; return a; };
    const r2 = await validateLabs({ labs: [lab], target: t, now: solveOnly.now });
    const solve = r2.labs[0]!.cases.find((c) => c.name === 'grant: solution applies')!;
    expect(solve.status).toBe('error');
    expect(solve.message).toMatch(/^Solve failed for the learner: The step's solution could not be applied: .*User "svclab:learner" cannot patch resource "clusterroles"/);
    expect(solve.detail).toContain('kubectl --request-timeout=30s apply --server-side --force-conflicts -f -');

    // The same lab played with admin kubectl (what validate did before) passes: only the learner path catches it.
    const admin = new FakeLabCluster();
    admin.learnerForbidden.add('ClusterRole');
    expect((await validateLabs({ labs: [lab], target: target(admin, 'admin'), now: admin.now })).ok).toBe(true);
  });

  it('a Reset that leaves step 1 solved is a violation (an object made by a command, missing from setup.cleanup)', async () => {
    const files = { 'manifests/deployment.yaml': DEPLOYMENT };
    const steps = [stepSpec('note', [configMapCheck('answer-set', 'answer', '42')], { commands: [CREATE_ANSWER] })];
    const broken = await writeLab(labSpec('04-reset-regression', steps), files);
    const cluster = new FakeLabCluster();
    const r = await validateLabs({ labs: [broken], target: target(cluster), now: cluster.now });
    expect(r.ok).toBe(false);
    expect(r.violations).toBe(1);
    const bad = r.labs[0]!.cases.find((c) => c.status !== 'passed')!;
    expect(bad).toMatchObject({ name: 'reset: note: answer-set fails again after Reset lab', classname: '04-reset-regression.reset', status: 'failed' });
    expect(bad.message).toMatch(/^Reset regression: check answer-set of step note still passes after Reset lab, so Reset does not bring the lab back to its setup state/);
    // The failure body explains the check to the author.
    expect(bad.detail).toContain('check answer-set (resource): ConfigMap default/answer must exist with data.value "42"');
    expect(r.junit).toContain('<failure message="Reset regression: check answer-set');

    const fixed = await writeLab(labSpec('04-reset-regression', steps, { manifests: ['manifests/deployment.yaml'], cleanup: [{ kind: 'configmap', name: 'answer' }] }), files);
    const again = new FakeLabCluster();
    expect((await validateLabs({ labs: [fixed], target: target(again), now: again.now })).ok).toBe(true);
  });

  it('the must-fail runs cap each deadline (a fail only comes at the deadline)', async () => {
    const cluster = new FakeLabCluster();
    const lab = await writeLab(labSpec('02-one', [stepSpec('one', [configMapCheck('answer-set', 'answer', '42')], { manifests: ['solution/answer.yaml'] })]), {
      'manifests/deployment.yaml': DEPLOYMENT, 'solution/answer.yaml': configMap('answer', '42'),
    });
    const t0 = cluster.now();
    await validateLabs({ labs: [lab], target: target(cluster), beforeDeadlineSeconds: 6, now: cluster.now });
    // Before and after Reset: attempts at 0 and 4 s (the 6 s cap, 4 s interval); after Solve: passes at once.
    expect(cluster.now() - t0).toBe(8_000);
    const t1 = cluster.now();
    await validateLabs({ labs: [lab], target: target(cluster), beforeDeadlineSeconds: 6, afterResetDeadlineSeconds: 9, now: cluster.now });
    expect(cluster.now() - t1).toBe(12_000);
  });

  it('a check that passes before the solution is a lab bug; one still failing after it skips the later steps', async () => {
    const early = await writeLab(labSpec('05-early', [stepSpec('one', [configMapCheck('web-there', 'web', '1')], { manifests: ['solution/web.yaml'] })], { manifests: ['manifests/web.yaml'] }), {
      'manifests/web.yaml': configMap('web', '1'), 'solution/web.yaml': configMap('web', '1'),
    });
    const c1 = new FakeLabCluster();
    const r = await validateLabs({ labs: [early], target: target(c1), now: c1.now });
    expect(r.labs[0]!.cases.find((c) => c.name === 'one: web-there fails before the solution')).toMatchObject({ status: 'failed', message: expect.stringMatching(/^lab bug: check web-there passes before the step's solution/) });

    const never = await writeLab(labSpec('06-never', [
      stepSpec('one', [configMapCheck('answer-set', 'answer', '42')], { manifests: ['solution/answer.yaml'] }),
      stepSpec('two', [configMapCheck('noted', 'noted', 'yes')], { manifests: ['solution/answer.yaml'] }),
    ]), { 'manifests/deployment.yaml': DEPLOYMENT, 'solution/answer.yaml': configMap('answer', '41') });
    const c2 = new FakeLabCluster();
    const r2 = await validateLabs({ labs: [never], target: target(c2), now: c2.now });
    expect(r2.labs[0]!.cases.find((c) => c.name === 'one: answer-set passes after the solution')).toMatchObject({
      status: 'failed', message: 'check answer-set still fails after the solution: ConfigMap answer: data.value is "41"; expected "42".',
    });
    expect(r2.labs[0]!.cases.find((c) => c.name === 'two')).toMatchObject({ status: 'skipped', message: 'an earlier step (one) did not reach its solved state' });
    expect(r2.junit).toContain('<skipped message="an earlier step (one) did not reach its solved state"/>');
  });

  it('a failing solution command is an error with its output; a failing setup skips the lab', async () => {
    const cluster = new FakeLabCluster();
    cluster.command = (argv) => (argv[1] === 'create' ? { exitCode: 1, stderr: 'error: failed to create configmap: the server was unable to return a response' } : undefined);
    const r = await validateLabs({ labs: [await goodLab()], target: target(cluster), now: cluster.now });
    expect(r.labs[0]!.cases.find((c) => c.status === 'error')).toMatchObject({
      name: 'two: solution applies',
      message: 'Solve failed for the learner: A solution command failed: kubectl create configmap noted --from-literal=value=yes: error: failed to create configmap: the server was unable to return a response',
      detail: expect.stringContaining('the server was unable to return a response'),
    });

    const broken = new FakeLabCluster();
    broken.rejectKind = 'Deployment';
    const r2 = await validateLabs({ labs: [await goodLab()], target: target(broken), now: broken.now });
    expect(r2.labs[0]!.cases.map((c) => c.status)).toEqual(['error', 'skipped', 'skipped']);
    expect(r2.labs[0]!.cases[0]!.message).toBe('setup failed: The lab\'s starting objects could not be applied: The Deployment "web" is invalid: spec: Required value');
  });

  it('a check that cannot run is an error, not a pass', async () => {
    const cluster = new FakeLabCluster();
    cluster.kube.unreachable = 'the Kubernetes API did not answer within 10 s';
    const r = await validateLabs({ labs: [await goodLab()], target: target(cluster), now: cluster.now });
    expect(r.labs[0]!.cases[1]).toMatchObject({ status: 'error', message: expect.stringContaining('could not run before the solution') });
  });

  it('a lab for another kube-proxy mode is skipped, saying which; clean notes become progress lines', async () => {
    const cluster = new FakeLabCluster();
    const t = target(cluster);
    t.proxyMode = async () => 'nftables';
    const l = { ...(await goodLab()), proxyMode: 'iptables' as const };
    const events: ValidateEvent[] = [];
    const r = await validateLabs({ labs: [l], target: t, onStep: (e) => events.push(e), now: cluster.now });
    expect(cluster.log).toEqual([]);
    expect(r.labs[0]!.cases).toEqual([{ name: 'proxy mode', classname: '02-good', status: 'skipped', durationMs: 0, message: 'the lab needs kube-proxy in iptables mode; this cluster runs nftables' }]);
    expect(events.at(-1)).toMatchObject({ state: 'skip' });
    t.proxyMode = async () => 'iptables';
    t.clean = async () => ['not as provisioned: ConfigMap/kube-system/kube-proxy was changed'];
    const events2: ValidateEvent[] = [];
    expect((await validateLabs({ labs: [l], target: t, onStep: (e) => events2.push(e), now: cluster.now })).ok).toBe(true);
    expect(events2[1]).toEqual({ step: '02-good', state: 'info', detail: 'not as provisioned: ConfigMap/kube-system/kube-proxy was changed' });
  });

  it('JUnit XML: one testsuite per lab, counts, escaped text', async () => {
    const cluster = new FakeLabCluster();
    cluster.learnerForbidden.add('ConfigMap');
    const r = await validateLabs({ labs: [await goodLab(), await goodLab('03-also')], target: target(cluster), now: cluster.now });
    expect(r.junit.split('\n').slice(0, 3)).toEqual([
      '<?xml version="1.0" encoding="UTF-8"?>',
      expect.stringMatching(/^<testsuites name="svclab validate" tests="\d+" failures="\d+" errors="\d+" skipped="\d+" time="[\d.]+">$/),
      expect.stringMatching(/^  <testsuite name="02-good" tests="\d+" failures="\d+" errors="[1-9]\d*" skipped="\d+" time="[\d.]+">$/),
    ]);
    expect(r.junit).toContain('<testsuite name="03-also"');
    expect(r.junit).toContain('classname="02-good.one" name="one" time="0.000">');
    expect(r.junit).not.toMatch(/<(failure|error)[^>]*message="[^"]*<[^"]*"/); // "<" is escaped inside attributes
    expect(r.junit).toContain('User &quot;svclab:learner&quot; cannot delete');
  });
});

/** Every testcase of a JUnit text: its suite, classname, name, and the failure/error element if any. */
function testcases(junit: string) {
  const out: { suite: string; classname: string; name: string; tag?: string; message?: string; body?: string }[] = [];
  let suite = '';
  const unescape = (t: string) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  for (const m of junit.matchAll(/<testsuite name="([^"]*)"|<testcase classname="([^"]*)" name="([^"]*)"[^>]*?(\/>|>\s*<(failure|error|skipped)(?: type="[^"]*")? message="([^"]*)"(?:\/>|>([^<]*)<\/\5>))/g)) {
    if (m[1] !== undefined) { suite = m[1]; continue; }
    out.push({ suite, classname: unescape(m[2]!), name: unescape(m[3]!), ...(m[5] ? { tag: m[5], message: unescape(m[6]!), body: unescape(m[7] ?? '') } : {}) });
  }
  return out;
}

describe('JUnit for CI', () => {
  it('each testcase is unique by lab, step and check; every failure and error explains itself in the body, not only in the message attribute', async () => {
    const files = { 'manifests/deployment.yaml': DEPLOYMENT, 'solution/answer.yaml': configMap('answer', '41') };
    // Two labs with the same step and check ids, so only the lab tells them apart; 05 is broken three ways.
    const broken = await writeLab(labSpec('05-broken', [
      stepSpec('one', [configMapCheck('answer-set', 'answer', '42'), configMapCheck('web-there', 'web', '1')], { manifests: ['solution/answer.yaml'] }),
      stepSpec('two', [configMapCheck('noted', 'noted', 'yes')], { commands: [['kubectl', 'create', 'configmap', 'noted', '--from-literal=value=yes']] }),
    ], { manifests: ['manifests/deployment.yaml', 'manifests/web.yaml'] }), { ...files, 'manifests/web.yaml': configMap('web', '1') });
    const cluster = new FakeLabCluster();
    const r = await validateLabs({ labs: [await goodLab(), await goodLab('03-good'), broken], target: target(cluster), beforeDeadlineSeconds: 2, now: cluster.now });
    const all = testcases(r.junit);
    expect(all.length).toBe(r.labs.reduce((n, l) => n + l.cases.length, 0));
    const ids = all.map((t) => `${t.suite} | ${t.classname} | ${t.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    // Within a suite the name alone is unique too (some reporters show only the name), and names the step and the check.
    for (const suite of ['02-good', '03-good', '05-broken']) {
      const names = all.filter((t) => t.suite === suite).map((t) => t.name);
      expect(new Set(names).size).toBe(names.length);
    }
    expect(all.filter((t) => t.suite === '03-good').map((t) => t.name)).toContain('two: noted passes after the solution');
    expect(all.every((t) => t.classname === t.suite || t.classname.startsWith(`${t.suite}.`))).toBe(true);

    const bad = all.filter((t) => t.tag === 'failure' || t.tag === 'error');
    expect(bad.map((t) => `${t.classname} › ${t.name}`)).toEqual([
      '05-broken.one › one: web-there fails before the solution',
      '05-broken.one › one: answer-set passes after the solution',
      '05-broken.reset › reset: one: web-there fails again after Reset lab',
    ]);
    for (const t of bad) {
      expect(t.body!.startsWith(`${t.message}\n\n`)).toBe(true);
      expect(t.body).toMatch(/\ncheck [a-z-]+ \(resource\): ConfigMap default\/[a-z]+ must exist with data\.value "\d+"\n/);
    }
    expect(bad[0]!.body).toContain('lab bug: check web-there passes before the step\'s solution');
    expect(bad[1]!.body).toMatch(/check answer-set still fails after the solution: ConfigMap answer: data\.value is "41"; expected "42"\.[\s\S]*expected: /);
    // Skipped cases keep the reason in the attribute.
    expect(all.find((t) => t.name === 'two' && t.suite === '05-broken')).toMatchObject({ tag: 'skipped', message: 'an earlier step (one) did not reach its solved state' });
  });

  it('an error without a command behind it (clean failed) still has a body', async () => {
    const cluster = new FakeLabCluster();
    const t = target(cluster);
    t.clean = async () => { throw new Error('recycle: the cluster does not answer'); };
    const r = await validateLabs({ labs: [await goodLab()], target: t, now: cluster.now });
    expect(testcases(r.junit)[0]).toMatchObject({ name: 'setup', tag: 'error', body: 'setup failed: recycle: the cluster does not answer' });
  });
});

describe('validate CLI helpers', () => {
  it('picks labs by id and names the unknown ones; formats progress lines', async () => {
    const a = await goodLab();
    const b = await goodLab('03-also');
    expect(pickLabs([a, b], [])).toEqual({ labs: [a, b], unknown: [] });
    expect(pickLabs([a, b], ['03-also', '99-nope'])).toEqual({ labs: [b], unknown: ['99-nope'] });
    expect(formatValidateEvent({ step: '02-x/observe', state: 'done', detail: '7 s' })).toBe('  ✓ 02-x/observe (7 s)');
    expect(formatValidateEvent({ step: '02-x', state: 'fail', detail: 'setup failed: boom' })).toBe('✗ 02-x: setup failed: boom');
  });
});

describe('the must-fail runs of a step', () => {
  it("wait out the cap side by side (a step of three checks costs one cap, not three), and keep the checks' order", async () => {
    const lab = await writeLab(labSpec('04-three', [
      stepSpec('one', [configMapCheck('a', 'answer', '42'), configMapCheck('b', 'answer', '42'), configMapCheck('c', 'answer', '42')], { manifests: ['solution/answer.yaml'] }),
    ]), { 'manifests/deployment.yaml': DEPLOYMENT, 'solution/answer.yaml': configMap('answer', '42') });
    const cluster = new FakeLabCluster();
    let inFlight = 0;
    let most = 0;
    const t: ValidateTarget = {
      async clean() {},
      actions: (l) => {
        const a = cluster.actions(l, { as: 'learner', setupAs: 'admin' }).actions;
        return Object.assign(Object.create(a) as typeof a, {
          runChecks: async (...args: Parameters<typeof a.runChecks>) => {
            inFlight++;
            most = Math.max(most, inFlight);
            await new Promise((r) => setTimeout(r, 5));
            try { return await a.runChecks(...args); } finally { inFlight--; }
          },
        });
      },
    };
    const r = await validateLabs({ labs: [lab], target: t, now: cluster.now });
    expect(r.ok).toBe(true);
    expect(most).toBe(3);
    expect(cases(r).slice(1, 4)).toEqual(['one: a fails before the solution passed', 'one: b fails before the solution passed', 'one: c fails before the solution passed']);
  });
});
