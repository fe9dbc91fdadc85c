// The reserve controller on a real API server: a one-node svclab cluster of its own
// (svclab-k8s-r) with svclab's CRDs; two replicas (two clients, two Lease identities)
// reconcile at once. The environment pods are the chart's environment-pod.yaml with the
// container swapped for the preloaded svclab/web image (not privileged): everything short
// of the nested kind cluster — Lease, Environments, pods owned by them, Ready from the
// kubelet, claim, a lost pod marked Failed, garbage collection when the Workshop goes.
// One SKIP line when docker, kind or the node image is missing.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeKubectl, type ClusterDriver } from '../../src/cluster/cluster-driver.ts';
import { kindBinary, nodeImageRef } from '../../src/cluster/cluster-tools.ts';
import { KindDriver } from '../../src/cluster/kind-driver.ts';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { defaultCacheDir, defaultImagesDir } from '../../src/images/images.ts';
import { ClientNodeKubeObjects, isReason } from '../../src/kube-store/kube-objects.ts';
import { KubeWorkshopStore } from '../../src/kube-store/kube-workshop-store.ts';
import { LeaseElector } from '../../src/environments/lease-elector.ts';
import { parsePodTemplate, PodEnvironmentRuntime } from '../../src/environments/pod-environment-runtime.ts';
import { ReserveController, type ReconcileReport } from '../../src/environments/reserve-controller.ts';

const CLUSTER = 'svclab-k8s-r';
const NS = 'svclab-reserve';
const root = new URL('../../../', import.meta.url).pathname;

const runner = new ExecaRunner();
const engine = new DockerEngine({ runner, queryTimeoutMs: 15_000 });
const real = await (async (): Promise<{ skip: string } | { driver: ClusterDriver; nodeImage: string }> => {
  try {
    await engine.info();
    const deps = { runner, engine, imagesDir: defaultImagesDir(), cacheDir: defaultCacheDir() };
    const driver = new KindDriver({ runner, engine, kindPath: process.env['SVCLAB_TEST_KIND'] ?? (await kindBinary(deps)), stateDir: `${defaultCacheDir()}/clusters` });
    return { driver, nodeImage: process.env['SVCLAB_TEST_NODE_IMAGE'] ?? (await nodeImageRef(deps)) };
  } catch (e) {
    return { skip: e instanceof Error ? e.message : String(e) };
  }
})();
if ('skip' in real) console.log(`SKIP reserve controller (real): ${real.skip}`);

/** The chart's environment pod (as deploy/kustomize renders it) running svclab/web instead of a nested node. */
function template() {
  const docs = parseAllDocuments(readFileSync(join(root, 'deploy/kustomize/svclab.yaml'), 'utf8')).map((d) => d.toJSON() as { kind: string; data?: Record<string, string> });
  const t = parsePodTemplate(docs.find((d) => d.kind === 'ConfigMap')!.data!['environment-pod.yaml']!, 'environment-pod.yaml');
  const spec = t.spec as { containers: Record<string, unknown>[]; volumes: unknown[] };
  spec.containers = [{ name: 'node', image: 'svclab/web:latest', imagePullPolicy: 'Never', resources: { requests: { cpu: '10m', memory: '16Mi' } } }];
  spec.volumes = [];
  return t;
}

describe.skipIf('skip' in real)(`ReserveController on cluster ${CLUSTER}`, () => {
  if ('skip' in real) return;
  const { driver, nodeImage } = real;
  const cp = `${CLUSTER}-control-plane`;
  let kubeconfig = '';
  const kubectl = async (args: string[], input?: string) => {
    const r = await driver.execOnNode(CLUSTER, cp, nodeKubectl(args), { timeoutMs: 120_000, ...(input === undefined ? {} : { input }) });
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.exitCode}: ${r.stderr}`);
    return r.stdout;
  };
  const replica = (id: string) => {
    const objects = new ClientNodeKubeObjects({ namespace: NS, kubeconfig });
    const store = new KubeWorkshopStore({ objects, name: 'ws', replica: id });
    const runtime = new PodEnvironmentRuntime({ objects, workshop: 'ws', template: template(), readyTimeoutMs: 180_000 });
    const controller = new ReserveController({ objects, store, runtime, elector: new LeaseElector({ objects, name: 'ws-reserve', identity: id, durationMs: 15_000 }) });
    return { objects, store, controller };
  };
  /** Both replicas reconcile, once a second, until `done` holds for the leader's report. */
  async function until(reps: ReturnType<typeof replica>[], done: (r: ReconcileReport) => boolean, timeoutMs = 180_000): Promise<ReconcileReport> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // As the serve loop does: a pass the API server could not answer (429 "storage is
      // (re)initializing" right after the CRDs are made, 5xx) is tried again next second.
      let reports: ReconcileReport[];
      try {
        reports = await Promise.all(reps.map((x) => x.controller.reconcileOnce()));
      } catch (e) {
        if (!isReason(e, 'unavailable') || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      expect(reports.filter((r) => r.leader)).toHaveLength(1);
      const leader = reports.find((r) => r.leader)!;
      expect(leader.errors).toEqual([]);
      if (done(leader)) return leader;
      if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs / 1000} s: ${JSON.stringify(leader)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  beforeAll(async () => {
    if ((await driver.list()).some((c) => c.name === CLUSTER)) await driver.delete(CLUSTER);
    await driver.create({ name: CLUSTER, workers: 0, nodeImage, ports: [] });
    kubeconfig = await driver.kubeconfig(CLUSTER, 'host');
    const crdDir = join(root, 'deploy/helm/svclab/crds');
    await kubectl(['apply', '-f', '-'], readdirSync(crdDir).map((f) => readFileSync(join(crdDir, f), 'utf8')).join('\n---\n'));
    await kubectl(['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd/workshops.svclab.dev', 'crd/learnersessions.svclab.dev', 'crd/environments.svclab.dev']);
    await kubectl(['create', 'namespace', NS]);
  }, 900_000);

  afterAll(async () => {
    await driver.delete(CLUSTER).catch(() => undefined);
  }, 300_000);

  it('two replicas keep one reserve: Ready pods, a claim refilled, a lost pod Failed, all collected with the Workshop', async () => {
    const a = replica('runner-a');
    const b = replica('runner-b');
    const t = Date.now();
    await a.store.putWorkshop({ id: 'w', labs: ['02'], capacity: 3, reserve: 2, createdAt: t, expiresAt: t + 3_600_000, code: 'RESV1234', instructorSecret: 's', credentialKey: 'k' });

    const t0 = Date.now();
    await until([a, b], (r) => r.ready === 2);
    const readySeconds = (Date.now() - t0) / 1000;
    console.log(`reserve of 2 (svclab/web pods) Ready in ${readySeconds.toFixed(1)} s`);
    const lease = (await a.objects.get('leases', 'ws-reserve'))!;
    expect(['runner-a', 'runner-b']).toContain(lease.spec!['holderIdentity']);
    const pods = await a.objects.list('pods', { 'svclab.dev/workshop': 'ws' });
    expect(pods).toHaveLength(2);
    expect(pods.every((p) => p.metadata.ownerReferences?.[0]?.kind === 'Environment')).toBe(true);
    const envs = await a.store.listEnvironments();
    expect(envs.every((e) => e.phase === 'Ready' && e.node === `${CLUSTER}-control-plane`)).toBe(true);

    await a.store.addLearner({ id: 'L1', name: 'Ana', joinedAt: Date.now(), nodeShells: false }, 3);
    const held = (await b.store.claimEnvironment('L1', '02'))!;
    expect(held).toBeDefined();
    await until([a, b], (r) => r.claimed === 1 && r.ready === 2);

    await kubectl(['-n', NS, 'delete', 'pod', held, '--wait=true']);
    await until([a, b], () => true);
    expect((await a.store.listEnvironments()).find((e) => e.name === held)).toMatchObject({ phase: 'Failed', claim: { learnerId: 'L1' } });
    const next = await a.store.claimEnvironment('L1', '02');
    expect(next).toBeDefined();
    expect(next).not.toBe(held);

    // Deleting the Workshop takes environments and pods with it (owner references, the API server's collector).
    await a.objects.delete('workshops', 'ws');
    const deadline = Date.now() + 90_000;
    while ((await a.objects.list('pods', { 'svclab.dev/workshop': 'ws' })).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2000));
    expect(await a.objects.list('environments')).toEqual([]);
    expect(await a.objects.list('pods', { 'svclab.dev/workshop': 'ws' })).toEqual([]);
  }, 600_000);
});
