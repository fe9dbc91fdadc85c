// KubeWorkshopStore on a real API server: a one-node svclab cluster of its own
// (svclab-k8s-t) with svclab's CRDs installed; two stores (two runner replicas, each
// with its own client) race for the same environments round after round, and join
// learners past the capacity; no environment goes to two learners, no workshop
// overfills. The committed deploy/kustomize render passes a server-side dry run.
// One SKIP line when docker, kind or the node image is missing.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeKubectl, type ClusterDriver } from '../../src/cluster/cluster-driver.ts';
import { kindBinary, nodeImageRef } from '../../src/cluster/cluster-tools.ts';
import { KindDriver } from '../../src/cluster/kind-driver.ts';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { defaultCacheDir, defaultImagesDir } from '../../src/images/images.ts';
import { ClientNodeKubeObjects } from '../../src/kube-store/kube-objects.ts';
import { KubeWorkshopStore } from '../../src/kube-store/kube-workshop-store.ts';
import { askAgain, raceClaims } from './race.ts';

const CLUSTER = 'svclab-k8s-t';
const NS = 'svclab-store';
const ROUNDS = Number(process.env['SVCLAB_TEST_CLAIM_ROUNDS'] ?? 10);
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
if ('skip' in real) console.log(`SKIP kube-store (real): ${real.skip}`);

describe.skipIf('skip' in real)(`KubeWorkshopStore on cluster ${CLUSTER}`, () => {
  if ('skip' in real) return;
  const { driver, nodeImage } = real;
  const cp = `${CLUSTER}-control-plane`;
  let kubeconfig = '';
  const kubectl = async (args: string[], input?: string) => {
    const r = await driver.execOnNode(CLUSTER, cp, nodeKubectl(args), { timeoutMs: 120_000, ...(input === undefined ? {} : { input }) });
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.exitCode}: ${r.stderr}`);
    return r.stdout;
  };
  const replicas = (name: string) => [
    new KubeWorkshopStore({ objects: new ClientNodeKubeObjects({ namespace: NS, kubeconfig }), name, replica: 'runner-a' }),
    new KubeWorkshopStore({ objects: new ClientNodeKubeObjects({ namespace: NS, kubeconfig }), name, replica: 'runner-b' }),
  ] as const;

  beforeAll(async () => {
    if ((await driver.list()).some((c) => c.name === CLUSTER)) await driver.delete(CLUSTER);
    await driver.create({ name: CLUSTER, workers: 0, nodeImage, ports: [] });
    kubeconfig = await driver.kubeconfig(CLUSTER, 'host');
    const crdDir = join(root, 'deploy/helm/svclab/crds');
    const crds = readdirSync(crdDir).map((f) => readFileSync(join(crdDir, f), 'utf8')).join('\n---\n');
    await kubectl(['apply', '-f', '-'], crds);
    await kubectl(['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd/workshops.svclab.dev', 'crd/learnersessions.svclab.dev', 'crd/environments.svclab.dev']);
    await kubectl(['create', 'namespace', NS]);
  }, 900_000);

  afterAll(async () => {
    await driver.delete(CLUSTER).catch(() => undefined);
  }, 300_000);

  it(`${ROUNDS} rounds of two replicas racing 8 learners for 5 ready environments: never one environment to two learners`, async () => {
    const [a, b] = replicas('race');
    const t = Date.now();
    await a.putWorkshop({ id: 'race', labs: ['02'], capacity: 100, reserve: 5, createdAt: t, expiresAt: t + 3_600_000, code: 'RACE1234', instructorSecret: 's', credentialKey: 'k' });
    let claimed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < 6; i++) {
        await a.createEnvironment(`env-${round}-${i}`);
        // One stays Pending: it must never be handed out.
        if (i < 5) await b.setEnvironmentStatus(`env-${round}-${i}`, { phase: 'Ready', pod: `env-${round}-${i}` });
      }
      const learners = Array.from({ length: 8 }, (_, i) => `r${round}-L${i}`);
      for (const [i, l] of learners.entries()) await (i % 2 ? a : b).addLearner({ id: l, name: l, joinedAt: t, nodeShells: false }, 100);
      const r = await raceClaims(a, b, learners);
      expect(r.doubles, `round ${round}`).toEqual([]);
      expect(r.disagreements, `round ${round}`).toEqual([]);
      expect(r.split, `round ${round}`).toEqual([]);
      const got = await askAgain(a, r);
      expect(new Set(got).size, `round ${round}`).toBe(5);
      expect(got.every((e) => !e.endsWith('-5'))).toBe(true);
      claimed += got.length;
      // Used environments leave (a used cluster never goes back to the reserve).
      for (const [l, e] of r.got) if (e) expect(await (l.endsWith('1') ? a : b).releaseEnvironment(e, l)).toBe(true);
      await a.setEnvironmentStatus(`env-${round}-5`, { phase: 'Failed', message: 'test' });
    }
    expect(claimed).toBe(5 * ROUNDS);
    expect(await kubectl(['-n', NS, 'get', 'svclabenvs'])).toContain('Failed');
  });

  it('two replicas letting 12 learners join a workshop of 5 fill exactly 5 places', async () => {
    const [a, b] = replicas('join');
    const t = Date.now();
    await a.putWorkshop({ id: 'join', labs: ['02'], capacity: 5, reserve: 0, createdAt: t, expiresAt: t + 3_600_000, code: 'JOIN1234', instructorSecret: 's', credentialKey: 'k' });
    const joins = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).addLearner({ id: `L${i}_x`, name: `Learner ${i}`, joinedAt: t + i, nodeShells: false }, 5)));
    expect(joins.filter(Boolean)).toHaveLength(5);
    expect(await b.listLearners()).toHaveLength(5);
    // What `kubectl get` prints is what the store holds.
    const table = await kubectl(['-n', NS, 'get', 'workshops', 'join']);
    expect(table).toMatch(/CAPACITY\s+LEARNERS/);
    expect(table).toMatch(/join\s+\["02"\]\s+5\s+5\s+0/);
    expect((await kubectl(['-n', NS, 'get', 'svclabsessions', '-l', 'svclab.dev/workshop=join', '-o', 'name'])).trim().split('\n')).toHaveLength(5);
    // The workshop's secrets are in its Secret, not in the Workshop.
    expect(await kubectl(['-n', NS, 'get', 'workshop', 'join', '-o', 'json'])).not.toContain('JOIN1234');
    expect((await b.getWorkshop())?.code).toBe('JOIN1234');
    const [one] = await a.listLearners();
    await a.putWork(one!.id, '02', { progress: {}, editor: { 'a.yaml': 'kind: Pod' }, applied: ['kind: Pod'] });
    expect((await b.getWork(one!.id, '02')).applied).toEqual(['kind: Pod']);
  });

  it('the CRD schema refuses what the store would never write (server-side validation)', async () => {
    const bad = { apiVersion: 'svclab.dev/v1alpha1', kind: 'Workshop', metadata: { name: 'bad', namespace: NS }, spec: { id: 'x', labs: [], capacity: 0, reserve: 0, createdAt: 'now', expiresAt: 'later' } };
    await expect(kubectl(['apply', '-f', '-'], JSON.stringify(bad))).rejects.toThrow(/spec.capacity|spec.labs/);
  });

  it('a namespace without the CRDs… is a clear error: the resource type is unknown', async () => {
    const objects = new ClientNodeKubeObjects({ namespace: NS, kubeconfig });
    await kubectl(['delete', 'crd', 'environments.svclab.dev', '--wait=true']);
    await expect(objects.list('environments')).rejects.toThrow(/are svclab's CRDs installed/);
  });

  it('deploy/kustomize passes a server-side dry run (strict field validation)', async () => {
    const dir = join(root, 'deploy/kustomize');
    await kubectl(['apply', '--server-side', '-f', '-'], readFileSync(join(dir, 'namespace.yaml'), 'utf8'));
    await kubectl(['apply', '-f', '-'], readFileSync(join(dir, 'crds.yaml'), 'utf8'));
    const out = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-n', 'svclab', '-f', '-'], readFileSync(join(dir, 'svclab.yaml'), 'utf8'));
    expect(out).toMatch(/deployment.apps\/svclab-runner created \(server dry run\)/);
  });
});
