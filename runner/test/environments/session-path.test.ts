// The session path of `svclab workshop serve --store kube`, over fake Kubernetes objects
// and a fake exec: Start lab claims the learner's Environment (claimCluster), the session's
// workstation is that pod's `workstation` container, prepare writes the learner kubeconfig
// there and applies the lab's setup as admin in the `node` container, and lab 02's step-1
// check runs in the workstation as the learner — failing, then passing after Solve. The
// code under test is the local session path (SessionManager, lab-cluster.ts) unchanged.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ClusterCheckContexts } from '../../src/checks/cluster-check-context.ts';
import { nodeAdminKubectl } from '../../src/cluster/node-shell.ts';
import { claimCluster, EnvironmentClusterDriver, environmentLearnerKubeconfig, EnvironmentWorkstationEngine } from '../../src/environments/environment-cluster.ts';
import { FakeKubeObjects } from '../../src/kube-store/fake-kube-objects.ts';
import { FakePodExecutor, unwrapped } from '../../src/kube-store/fake-pod-executor.ts';
import { KubeWorkshopStore } from '../../src/kube-store/kube-workshop-store.ts';
import { loadLabs } from '../../src/labs/load-labs.ts';
import { FakePtyFactory } from '../../src/pty/fake-pty-factory.ts';
import { prepareSessionCluster, sessionPorts, workstationNetwork, type LabClusterDeps } from '../../src/sessions/lab-cluster.ts';
import { SessionManager } from '../../src/sessions/session-manager.ts';
import { projectRoot } from '../../src/version.ts';

const T0 = Date.parse('2026-12-02T09:00:00.000Z');
const LAB = '02-selectors-and-endpoints';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const kubeconfig = (user: string, server: string) => `apiVersion: v1
clusters:
- cluster: { certificate-authority-data: ${b64('CA')}, server: '${server}' }
  name: svclab
users:
- name: ${user}
  user: { client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')} }
contexts:
- context: { cluster: svclab, user: ${user} }
  name: ${user}@svclab
current-context: ${user}@svclab
`;

describe('kube-mode session path: Start lab plays lab 02 in the claimed environment pod', () => {
  it('claims, prepares (learner kubeconfig in the workstation, setup as admin on the node), checks as the learner: fail, Solve, pass', async () => {
    const objects = new FakeKubeObjects();
    objects.now = () => T0;
    const store = new KubeWorkshopStore({ objects, name: 'ws', replica: 'a', now: () => T0 });
    await store.putWorkshop({ id: 'w', labs: [LAB], capacity: 2, reserve: 1, createdAt: T0, expiresAt: T0 + 3_600_000, code: 'C', instructorSecret: 'i', credentialKey: 'k' });
    await store.addLearner({ id: 'ana', name: 'Ana', joinedAt: T0, nodeShells: false }, 2);
    await store.createEnvironment('ws-e-1');
    await store.setEnvironmentStatus('ws-e-1', { phase: 'Ready' });
    await objects.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ws-e-1' }, spec: {} });
    await objects.setPodStatus('ws-e-1', { phase: 'Running', podIP: '10.244.1.7', containerStatuses: [{ name: 'node', state: { running: {} } }, { name: 'workstation', state: { running: {} } }] });

    // The environment pod: what its two containers answer.
    const node: string[] = [];
    const files = new Map<string, string>();
    const exec = new FakePodExecutor()
      .on('ws-e-1', 'node', (req) => {
        const a = unwrapped(req.argv);
        node.push(a.join(' '));
        if (a[0] === 'cat' && a[1] === '/etc/kubernetes/admin.conf') return { stdout: kubeconfig('kubernetes-admin', 'https://10.244.1.7:6443') };
        if (a[0] === 'cat' && a[1] === '/etc/kubernetes/svclab-learner.conf') return { stdout: kubeconfig('svclab:learner', 'https://10.244.1.7:6443') };
        return { exitCode: a[0] === 'kubectl' ? 0 : 127 };
      })
      .on('ws-e-1', 'workstation', (req) => {
        const a = unwrapped(req.argv);
        const script = a[0] === 'sh' ? a[2] ?? '' : '';
        if (script.includes('cat > "$HOME/.kube/config"')) { files.set('~/.kube/config', req.input ?? ''); return {}; }
        if (script.includes('rm -rf "$HOME/answers"')) { files.delete('~/answers/endpoints'); return {}; }
        if (script.includes('echo 0 > "$HOME/answers/endpoints"')) { files.set('~/answers/endpoints', '0'); return {}; }
        // Lab 02's observe check: exit 5 "missing or empty" until the answer is there.
        if (script.includes('f="$HOME/answers/endpoints"')) return files.has('~/answers/endpoints') ? { stdout: 'Service nginx has 0 ready endpoints, and you noted 0' } : { exitCode: 5, stdout: '/home/learner/answers/endpoints is missing or empty' };
        return { exitCode: a[0] === 'kubectl' ? 0 : 127 };
      });

    const driver = new EnvironmentClusterDriver({ objects, exec, workshop: 'ws' });
    const engine = new EnvironmentWorkstationEngine({ objects, exec });
    const lab = (await loadLabs(projectRoot)).labs.find((l) => l.id === LAB)!;
    const deps: LabClusterDeps = { engine, driver, clusterFor: claimCluster(store), learnerKubeconfig: environmentLearnerKubeconfig(driver), setupKubectl: (n) => nodeAdminKubectl(driver, n) };
    const sessions = new SessionManager({
      engine, ptys: new FakePtyFactory(), logger: pino({ level: 'silent' }), workstationImage: async () => 'svclab/workstation:x', newId: () => 's1',
      workstationNetwork: workstationNetwork(deps), prepare: (s) => prepareSessionCluster(deps, s, lab),
    });

    const s = await sessions.create(LAB, 'ana');
    expect(s.cluster?.name).toBe('ws-e-1');
    expect((await store.listEnvironments())[0]!.claim).toMatchObject({ learnerId: 'ana', lab: LAB });
    expect(engine.podOf(s.workstation)).toBe('ws-e-1');
    // The learner's kubeconfig (svclab:learner, the nested API on the pod's loopback) in the workstation.
    expect(files.get('~/.kube/config')).toContain('server: https://127.0.0.1:6443');
    expect(files.get('~/.kube/config')).toContain('svclab:learner');
    // The lab's setup as admin on the environment's node.
    expect(node.some((c) => c.startsWith('kubectl --kubeconfig=/etc/kubernetes/admin.conf apply --server-side'))).toBe(true);

    const ports = sessionPorts(engine, () => lab, { contexts: new ClusterCheckContexts({ driver, engine }), setupKubectl: (n) => nodeAdminKubectl(driver, n) });
    const before = await ports.checks.run(s, 'observe', new AbortController().signal);
    expect(before.passed).toBe(false);
    expect(before.results[0]).toMatchObject({ status: 'fail' });
    await ports.actions.solve(s, 'observe');
    expect(await ports.checks.run(s, 'observe', new AbortController().signal)).toMatchObject({ passed: true });
    // Every learner command went to the workstation container, none to the node as the learner.
    expect(exec.calls.filter((c) => c.container === 'workstation').length).toBeGreaterThan(5);
    expect(exec.calls.every((c) => c.pod === 'ws-e-1')).toBe(true);

    // This replica is lost; the other one gets Ana's next Start lab (its own engine and claim
    // state, the same API). She gets the environment she held, and her lab is kept as it was:
    // no reset (which would clear ~/answers and re-make the lab's objects).
    const replicaB = (resumes: boolean) => {
      const engineB = new EnvironmentWorkstationEngine({ objects, exec });
      const clusterFor = claimCluster(store);
      const depsB: LabClusterDeps = { ...deps, engine: engineB, clusterFor, ...(resumes ? { resumes: (x) => clusterFor.resumed(x.id) } : {}) };
      return {
        sessions: new SessionManager({
          engine: engineB, ptys: new FakePtyFactory(), logger: pino({ level: 'silent' }), workstationImage: async () => 'svclab/workstation:x', newId: () => 's2',
          workstationNetwork: workstationNetwork(depsB), prepare: (x) => prepareSessionCluster(depsB, x, lab),
        }),
        ports: sessionPorts(engineB, () => lab, { contexts: new ClusterCheckContexts({ driver, engine: engineB }) }),
      };
    };
    const calls = exec.calls.length;
    const b = replicaB(true);
    const s2 = await b.sessions.create(LAB, 'ana');
    expect(s2.cluster?.name).toBe('ws-e-1');
    const since = exec.calls.slice(calls).map((c) => unwrapped(c.argv).join(' '));
    expect(since.some((c) => c.includes('rm -rf') || c.includes(' delete '))).toBe(false);
    expect(files.get('~/answers/endpoints')).toBe('0');
    expect(await b.ports.checks.run(s2, 'observe', new AbortController().signal)).toMatchObject({ passed: true });
    await b.sessions.closeAll();
    // Without it (as before) the takeover reset the lab: Ana's answer was gone.
    await replicaB(false).sessions.create(LAB, 'ana');
    expect(files.has('~/answers/endpoints')).toBe(false);
    await sessions.closeAll();
  });
});
