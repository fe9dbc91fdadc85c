// The kube-mode session seam: an environment pod as a ClusterDriver and its workstation
// container as a ContainerEngine, over fake Kubernetes objects and a fake exec; a
// session's clusterFor claiming from the reserve; the reserve's prepare step.
import { describe, expect, it } from 'vitest';
import { claimCluster, EnvironmentClusterDriver, EnvironmentWorkstationEngine } from '../../src/environments/environment-cluster.ts';
import { PodShell } from '../../src/environments/pod-shell.ts';
import { HeldEnvironments } from '../../src/environments/held-environments.ts';
import { FakeEnvironmentRuntime } from '../../src/environments/fake-environment-runtime.ts';
import { LeaseElector } from '../../src/environments/lease-elector.ts';
import { ReserveController } from '../../src/environments/reserve-controller.ts';
import { FakeKubeObjects } from '../../src/kube-store/fake-kube-objects.ts';
import { FakePodExecutor, unwrapped } from '../../src/kube-store/fake-pod-executor.ts';
import { KubeWorkshopStore } from '../../src/kube-store/kube-workshop-store.ts';
import { exitCodeOf } from '../../src/kube-store/pod-executor.ts';
import { isRunnerError } from '../../src/errors.ts';
import { ContainerShell } from '../../src/engine/container-shell.ts';
import { nodeAdminKubectl } from '../../src/cluster/node-shell.ts';

const T0 = Date.parse('2026-12-02T09:00:00.000Z');

const ADMIN_CONF = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://10.244.1.7:6443
  name: svclab
users:
- name: kubernetes-admin
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
`;

async function envPod(objects: FakeKubeObjects, name: string, o: { ip?: string; workstation?: 'running' | 'waiting' } = {}) {
  await objects.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { 'svclab.dev/environment': name } }, spec: {} });
  await objects.setPodStatus(name, {
    phase: 'Running', podIP: o.ip ?? '10.244.1.7',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [
      { name: 'node', state: { running: {} } },
      { name: 'workstation', state: o.workstation === 'waiting' ? { waiting: { reason: 'ErrImageNeverPull' } } : { running: {} } },
    ],
  });
}

describe('PodShell: a Shell in a pod container through the API exec', () => {
  it('bounds the command in the container (timeout), passes env and cwd, and reads 124 as a timeout', async () => {
    const exec = new FakePodExecutor().on('p', 'c', (req) => (unwrapped(req.argv)[0] === 'sleep' ? { exitCode: 124 } : { stdout: 'hi\n' }));
    const sh = new PodShell(exec, { pod: 'p', container: 'c', user: 'learner' });
    expect(sh.wrap(['echo', 'hi'], { timeoutMs: 1500 })).toEqual(['timeout', '-k', '2', '2', 'echo', 'hi']);
    expect(sh.wrap(['id'], { timeoutMs: 10_000, env: { A: '1' }, cwd: '/tmp' })).toEqual(['sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh', '/tmp', 'timeout', '-k', '2', '10', 'env', 'A=1', 'id']);
    const ok = await sh.run(['echo', 'hi'], { timeoutMs: 5000, input: 'x' });
    expect(ok).toMatchObject({ argv: ['echo', 'hi'], exitCode: 0, stdout: 'hi\n', timedOut: false });
    expect(exec.calls[0]).toMatchObject({ pod: 'p', container: 'c', input: 'x', timeoutMs: 15_000 });
    expect(await sh.run(['sleep', '99'], { timeoutMs: 1000 })).toMatchObject({ exitCode: 124, timedOut: true });
  });

  it('runs as the container\'s user only: another user is refused, not silently ignored', async () => {
    const sh = new PodShell(new FakePodExecutor().on('p', 'c', () => ({})), { pod: 'p', container: 'c', user: 'learner' });
    await expect(sh.run(['id'], { timeoutMs: 1000, user: 'root' })).rejects.toThrow(/runs as learner; an exec cannot run as root/);
    await expect(sh.run(['id'], { timeoutMs: 1000, user: 'learner' })).resolves.toMatchObject({ exitCode: 0 });
  });

  it('reads the exec stream\'s Status as kubectl does', () => {
    expect(exitCodeOf({ status: 'Success' })).toEqual({ exitCode: 0 });
    expect(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '5' }] } })).toEqual({ exitCode: 5 });
    expect(exitCodeOf({ status: 'Failure', message: 'exec: "jq": executable file not found in $PATH' }).exitCode).toBe(127);
    expect(exitCodeOf(undefined).exitCode).toBe(-1);
  });
});

describe('EnvironmentClusterDriver: an environment pod as a one-node cluster', () => {
  it('gives the admin kubeconfig with the pod IP as server, one node named as kind names it, root commands in `node`', async () => {
    const objects = new FakeKubeObjects();
    await envPod(objects, 'ws-e-1', { ip: '10.244.2.9' });
    const exec = new FakePodExecutor().on('ws-e-1', 'node', (req) => {
      const a = unwrapped(req.argv);
      return a[0] === 'cat' && a[1] === '/etc/kubernetes/admin.conf' ? { stdout: ADMIN_CONF } : { stdout: a.join(' ') };
    });
    const driver = new EnvironmentClusterDriver({ objects, exec, workshop: 'ws' });
    expect(await driver.kubeconfig('ws-e-1')).toContain('server: https://10.244.2.9:6443');
    await driver.kubeconfig('ws-e-1');
    expect(exec.calls).toHaveLength(1); // kept for the pod
    expect(await driver.nodes('ws-e-1')).toEqual([{ name: 'ws-e-1-control-plane', role: 'control-plane', container: 'ws-e-1', internalIP: '10.244.2.9' }]);
    // svclab's admin kubectl on the control plane (lab setup, pod vantage) lands in the node container.
    const r = await nodeAdminKubectl(driver, 'ws-e-1').run(['get', 'nodes'], { timeoutMs: 5000 });
    expect(r.stdout).toBe('kubectl --kubeconfig=/etc/kubernetes/admin.conf get nodes');
    await expect(driver.execOnNode('ws-e-1', 'ws-e-1-worker', ['true'], { timeoutMs: 1000 })).rejects.toThrow(/has one node, ws-e-1-control-plane/);
  });

  it('says which environment has no running pod, and refuses what a Kubernetes install does not do', async () => {
    const driver = new EnvironmentClusterDriver({ objects: new FakeKubeObjects(), exec: new FakePodExecutor(), workshop: 'ws' });
    const e = await driver.kubeconfig('ws-e-gone').catch((x: unknown) => x);
    expect(isRunnerError(e) && e.code === 'NO_CLUSTER' && e.message).toContain('ws-e-gone has no running pod');
    await expect(driver.create()).rejects.toThrow(/not something svclab does in a Kubernetes install/);
  });
});

describe('EnvironmentWorkstationEngine: a session\'s workstation is its environment\'s `workstation` container', () => {
  it('"runs" a workstation on the pod the session network names, and execs there as the learner', async () => {
    const objects = new FakeKubeObjects();
    await envPod(objects, 'ws-e-1');
    const exec = new FakePodExecutor().on('ws-e-1', 'workstation', (req) => ({ stdout: `${unwrapped(req.argv).join(' ')}|${req.input ?? ''}` }));
    const engine = new EnvironmentWorkstationEngine({ objects, exec });
    await engine.runContainer({ name: 'svclab-ws-s1', image: 'svclab/workstation:x', labels: {}, network: 'container:ws-e-1' });
    expect(engine.podOf('svclab-ws-s1')).toBe('ws-e-1');
    // What the session path does: ContainerShell(engine, workstation, { user: learner }).
    const r = await new ContainerShell(engine, 'svclab-ws-s1', { user: 'learner' }).run(['cat'], { timeoutMs: 5000, input: 'kubeconfig' });
    expect(r.stdout).toBe('cat|kubeconfig');
    await engine.removeContainer('svclab-ws-s1');
    await expect(engine.exec('svclab-ws-s1', ['true'], { timeoutMs: 1000 })).rejects.toThrow(/not in any learner environment/);
    expect(() => engine.execArgv()).toThrow(/through the Kubernetes API/);
    expect(() => engine.kindProvider).toThrow(/Running kind/);
  });

  it('refuses a workstation whose container is not running, with the reason', async () => {
    const objects = new FakeKubeObjects();
    await envPod(objects, 'ws-e-2', { workstation: 'waiting' });
    const engine = new EnvironmentWorkstationEngine({ objects, exec: new FakePodExecutor() });
    await expect(engine.runContainer({ name: 'w', image: 'i', labels: {}, network: 'container:ws-e-2' })).rejects.toThrow('The workstation container of learner environment ws-e-2 is not running (ErrImageNeverPull)');
  });

  it('turns an exec that cannot reach its container into WORKSTATION_FAILED (what vantage points report as unavailable)', async () => {
    const objects = new FakeKubeObjects();
    await envPod(objects, 'ws-e-3');
    const engine = new EnvironmentWorkstationEngine({ objects, exec: new FakePodExecutor() });
    await engine.runContainer({ name: 'w', image: 'i', labels: {}, network: 'container:ws-e-3' });
    const e = await engine.exec('w', ['true'], { timeoutMs: 1000 }).catch((x: unknown) => x);
    expect(isRunnerError(e) && e.code).toBe('WORKSTATION_FAILED');
  });
});

async function workshop() {
  const objects = new FakeKubeObjects();
  const c = { t: T0 };
  objects.now = () => c.t;
  const store = new KubeWorkshopStore({ objects, name: 'ws', replica: 'a', now: () => c.t, pick: () => 0 });
  await store.putWorkshop({ id: 'w-1', labs: ['02'], capacity: 4, reserve: 1, createdAt: T0, expiresAt: T0 + 7_200_000, code: 'C', instructorSecret: 'i', credentialKey: 'k' });
  for (const id of ['L1', 'L2']) await store.addLearner({ id, name: id, joinedAt: T0, nodeShells: false }, 4);
  return { objects, store, c };
}


describe('claimCluster: a session\'s cluster is the learner\'s claimed environment', () => {
  it('claims a Ready one; with none, waits in line (position reported) until the reserve has one', async () => {
    const { store } = await workshop();
    await store.createEnvironment('ws-e-1');
    await store.setEnvironmentStatus('ws-e-1', { phase: 'Ready' });
    let sleeps = 0;
    const clusterFor = claimCluster(store, {
      sleep: async () => {
        // The reserve makes a second environment Ready while L2 waits.
        if (++sleeps === 2) { await store.createEnvironment('ws-e-2'); await store.setEnvironmentStatus('ws-e-2', { phase: 'Ready' }); }
      },
    });
    expect(await clusterFor({ id: 's1', learner: 'L1', labId: '02' }, () => undefined)).toBe('ws-e-1');
    // The same learner's second lab shares their environment.
    expect(await clusterFor({ id: 's1b', learner: 'L1', labId: '02' }, () => undefined)).toBe('ws-e-1');
    const waits: number[] = [];
    expect(await clusterFor({ id: 's2', learner: 'L2', labId: '02' }, (w) => waits.push(w.position))).toBe('ws-e-2');
    expect(waits).toEqual([1, 1]);
    expect((await store.listEnvironments()).map((e) => `${e.name}:${e.claim?.learnerId}`).sort()).toEqual(['ws-e-1:L1', 'ws-e-2:L2']);
  });

  it('never hands out an environment whose pod is going: it is released and another claimed (a moved learner got the dying one again)', async () => {
    const { store, objects } = await workshop();
    for (const n of ['ws-e-1', 'ws-e-2']) {
      await store.createEnvironment(n);
      await store.setEnvironmentStatus(n, { phase: 'Ready' });
      await envPod(objects, n);
    }
    expect(await store.claimEnvironment('L1', '02')).toBe('ws-e-1');
    // Its pod is deleted; the Environment still says Ready until the reserve's next pass.
    const pod = (await objects.get('pods', 'ws-e-1'))!;
    await objects.replace('pods', { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(T0).toISOString() } });
    const driver = new EnvironmentClusterDriver({ objects, exec: new FakePodExecutor(), workshop: 'ws' });
    expect(await driver.running('ws-e-1')).toBe(false);
    expect(await claimCluster(store)({ id: 's', learner: 'L1', labId: '02' }, () => undefined)).toBe('ws-e-1'); // without the check: the dying one
    expect(await claimCluster(store, { usable: (n) => driver.running(n) })({ id: 's', learner: 'L1', labId: '02' }, () => undefined)).toBe('ws-e-2');
    expect((await store.listEnvironments()).map((e) => e.name)).toEqual(['ws-e-2']);
  });

  it('gives up with POOL_TIMEOUT and the fix when nothing comes; a learner who never joined gets why', async () => {
    const { store, c } = await workshop();
    const clusterFor = claimCluster(store, { timeoutMs: 10_000, now: () => c.t, sleep: async (ms) => { c.t += ms; } });
    const e = await clusterFor({ id: 's', learner: 'L1', labId: '02' }, () => undefined).catch((x: unknown) => x);
    expect(isRunnerError(e) && e.code).toBe('POOL_TIMEOUT');
    const stranger = await clusterFor({ id: 's', learner: 'nobody', labId: '02' }, () => undefined).catch((x: unknown) => x);
    expect(isRunnerError(stranger) && stranger.code === 'NO_CLUSTER' && stranger.message).toContain('No learner nobody');
  });
});

describe('ReserveController with a prepare step', () => {
  it('keeps a running environment Pending until it is prepared (learner access), then Ready; a failed prepare replaces it', async () => {
    const { objects, store, c } = await workshop();
    const runtime = new FakeEnvironmentRuntime();
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const prepared: string[] = [];
    let n = 0;
    const controller = new ReserveController({
      objects, store, runtime, now: () => c.t, newName: () => `ws-e-${++n}`,
      elector: new LeaseElector({ objects, name: 'ws-reserve', identity: 'a', now: () => c.t }),
      prepare: async (name) => {
        if (name === 'ws-e-2') throw new Error('Learner access: the admission policy is not in force');
        await gate;
        prepared.push(name);
        return 'learner access';
      },
    });
    await controller.reconcileOnce();
    runtime.readyAll();
    await controller.reconcileOnce();
    const view = async () => (await store.listEnvironments()).map((e) => `${e.name}:${e.phase}`);
    expect(await view()).toEqual(['ws-e-1:Pending']);
    expect((await objects.get('environments', 'ws-e-1'))!.status!['message']).toBe('its cluster is up; installing learner access');
    // Not claimable while it is prepared.
    expect(await store.claimEnvironment('L1')).toBeUndefined();
    release();
    await controller.settled();
    c.t += 30_000;
    await controller.reconcileOnce();
    expect(await view()).toEqual(['ws-e-1:Ready']);
    expect(prepared).toEqual(['ws-e-1']);
    expect(await store.claimEnvironment('L1')).toBe('ws-e-1');

    // The next one fails its preparation: removed and replaced, never Ready.
    await controller.reconcileOnce();
    runtime.readyAll();
    await controller.reconcileOnce();
    await controller.settled();
    const r = await controller.reconcileOnce();
    expect(r.removed).toEqual(['ws-e-2']);
    expect(r.removedWhy[0]).toContain('preparing it for a learner failed: Learner access: the admission policy is not in force');
    expect(r.created).toEqual(['ws-e-3']);
  });
});

describe('HeldEnvironments: what the workshop\'s cluster watch sees in a Kubernetes install', () => {
  it('lists claimed environments by learner; discard deletes the learner\'s failed one (a used cluster never returns)', async () => {
    const { store } = await workshop();
    for (const n of ['ws-e-1', 'ws-e-2', 'ws-e-3']) { await store.createEnvironment(n); await store.setEnvironmentStatus(n, { phase: 'Ready' }); }
    expect(await store.claimEnvironment('L1', '02')).toBe('ws-e-1');
    expect(await store.claimEnvironment('L2', '02')).toBe('ws-e-2');
    const lines: string[] = [];
    const held = new HeldEnvironments({ store, log: (l) => lines.push(l) });
    await held.refresh();
    expect(held.claimed()).toEqual([{ name: 'ws-e-1', owner: 'L1' }, { name: 'ws-e-2', owner: 'L2' }]);
    // L1's pod is lost: the reserve marks the claimed environment Failed.
    await store.setEnvironmentStatus('ws-e-1', { phase: 'Failed', message: 'its pod is gone' });
    await held.refresh();
    expect(held.discard('L1')).toBe('ws-e-1');
    expect(held.claimed()).toEqual([{ name: 'ws-e-2', owner: 'L2' }]);
    await new Promise((r) => setTimeout(r, 20));
    expect((await store.listEnvironments()).map((e) => e.name)).toEqual(['ws-e-2', 'ws-e-3']);
    expect(lines).toEqual(['released environment ws-e-1 of a learner (failed: Failed)']);
    // The learner's next Start lab claims a new one.
    expect(await store.claimEnvironment('L1', '02')).toBe('ws-e-3');
    expect(held.discard('nobody')).toBeUndefined();
  });
});
