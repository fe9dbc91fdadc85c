// One suite, two KubeApis: FakeKubeApi on recorded objects always; ClientNodeKubeApi
// on the same objects applied to a live svclab cluster when one runs (else one
// SKIP line). Plus the real client's errors when the API can't be reached.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ClientNodeKubeApi, FakeKubeApi, KubeApiError, type KubeApi, type KubeObject } from '../../src/checks/kube-api.ts';
import { nodeKubectl, type ClusterDriver } from '../../src/cluster/cluster-driver.ts';
import { kindBinary, nodeImageRef } from '../../src/cluster/cluster-tools.ts';
import { KindDriver } from '../../src/cluster/kind-driver.ts';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { defaultCacheDir, defaultImagesDir } from '../../src/images/images.ts';

const ns = `svclab-kapi-${randomBytes(3).toString('hex')}`;

/** The state both implementations hold: a selector Service, a selector-less one with a hand-written slice, two pods. */
function objects(pause: string): KubeObject[] {
  const pod = (name: string, labels: Record<string, string>) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: pause, imagePullPolicy: 'Never' }] },
  });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc-a', namespace: ns }, spec: { selector: { app: 'a' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc-b', namespace: ns }, spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'svc-b-manual', namespace: ns, labels: { 'kubernetes.io/service-name': 'svc-b', 'endpointslice.kubernetes.io/managed-by': 'svclab-test' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
    // A class no controller serves: nothing acts on it.
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'ing', namespace: ns }, spec: { ingressClassName: 'svclab-contract-none', tls: [{ hosts: ['a.svclab.test'], secretName: 'a-tls' }], rules: [{ host: 'a.svclab.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'svc-a', port: { number: 80 } } } }] } }] } },
    pod('p1', { app: 'a', tier: 'x' }),
    pod('p2', { app: 'b' }),
  ];
}

function contract(label: string, make: () => Promise<{ api: KubeApi; unreachable: KubeApi }>) {
  describe(label, () => {
    let api: KubeApi;
    let unreachable: KubeApi;
    beforeAll(async () => {
      ({ api, unreachable } = await make());
    }, 180_000);

    it('reads a Service as the server sends it (plain JSON)', async () => {
      const svc = await api.getService(ns, 'svc-a');
      expect(svc?.metadata?.name).toBe('svc-a');
      expect(svc?.spec?.selector).toEqual({ app: 'a' });
      expect(svc?.spec?.ports?.[0]).toMatchObject({ name: 'http', port: 80, targetPort: 8080 });
      if (svc?.metadata?.['creationTimestamp'] !== undefined) expect(typeof svc.metadata['creationTimestamp']).toBe('string');
    });

    it('a missing object is undefined, not an error', async () => {
      expect(await api.getService(ns, 'nope')).toBeUndefined();
      expect(await api.getObject({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'nope' })).toBeUndefined();
    });

    it('lists pods, all or by labels', async () => {
      expect((await api.listPods(ns)).map((p) => p.metadata?.name).sort()).toEqual(['p1', 'p2']);
      expect((await api.listPods(ns, { app: 'a' })).map((p) => p.metadata?.name)).toEqual(['p1']);
      expect(await api.listPods(ns, { app: 'a', tier: 'y' })).toEqual([]);
    });

    it("lists a Service's EndpointSlices by the service-name label", async () => {
      const slices = await api.listEndpointSlices(ns, 'svc-b');
      expect(slices.map((s) => s.metadata?.name)).toEqual(['svc-b-manual']);
      expect(slices[0]!.endpoints?.[0]?.addresses).toEqual(['10.0.0.1']);
      expect(await api.listEndpointSlices(ns, 'nope')).toEqual([]);
    });

    it('lists Ingresses in a namespace and in all of them', async () => {
      const [ing] = await api.listIngresses(ns);
      expect(ing?.spec?.tls).toEqual([{ hosts: ['a.svclab.test'], secretName: 'a-tls' }]);
      expect((await api.listIngresses()).map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`)).toContain(`${ns}/ing`);
      expect(await api.listIngresses(`${ns}-none`)).toEqual([]);
    });

    it('reads cluster-scoped objects', async () => {
      expect((await api.getObject({ apiVersion: 'v1', kind: 'Namespace', name: ns }))?.metadata?.name).toBe(ns);
    });

    it('an API that cannot be reached throws KubeApiError', async () => {
      await expect(unreachable.getService(ns, 'svc-a')).rejects.toBeInstanceOf(KubeApiError);
      await expect(unreachable.listPods(ns)).rejects.toBeInstanceOf(KubeApiError);
    });
  });
}

contract('FakeKubeApi', async () => {
  const unreachable = new FakeKubeApi();
  unreachable.unreachable = 'the Kubernetes API at https://127.0.0.1:1 could not be reached';
  return { api: new FakeKubeApi(objects('registry.k8s.io/pause:3.10.1')), unreachable };
});

/** A kubeconfig for an API server nobody listens at. */
const deadKubeconfig = stringify({
  apiVersion: 'v1', kind: 'Config', 'current-context': 'dead',
  clusters: [{ name: 'dead', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
  contexts: [{ name: 'dead', context: { cluster: 'dead', user: 'dead' } }],
  users: [{ name: 'dead', user: { token: 'x' } }],
});

describe('ClientNodeKubeApi without a server', () => {
  it('says where it could not connect', async () => {
    const api = new ClientNodeKubeApi(deadKubeconfig);
    const e = await api.getService('default', 'nginx').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KubeApiError);
    expect((e as KubeApiError).status).toBeUndefined();
    expect((e as KubeApiError).message).toMatch(/^the Kubernetes API at https:\/\/127\.0\.0\.1:1 could not be reached \(read Service nginx\): /);
  });

  it('times out a request that hangs', async () => {
    const net = await import('node:net');
    const server = net.createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const api = new ClientNodeKubeApi(deadKubeconfig.replace('127.0.0.1:1', `127.0.0.1:${port}`), { requestTimeoutMs: 300 });
      await expect(api.listPods('default')).rejects.toThrow(/did not answer within 0 s \(list pods in default\)|did not answer within/);
    } finally {
      server.close();
    }
  });
});

// --- the real API, when a svclab cluster runs ---
const runner = new ExecaRunner();
const engine = new DockerEngine({ runner, queryTimeoutMs: 15_000 });
const real = await (async (): Promise<{ skip: string } | { driver: ClusterDriver; cluster: string; owned?: boolean }> => {
  try {
    await engine.info();
    const driver = new KindDriver({ runner, engine, kindPath: process.env['SVCLAB_TEST_KIND'] ?? (await kindBinary({ runner, engine, imagesDir: defaultImagesDir(), cacheDir: defaultCacheDir() })), stateDir: `${defaultCacheDir()}/clusters` });
    const running = (await driver.list()).filter((c) => c.state === 'running').map((c) => c.name);
    const wanted = process.env['SVCLAB_CHECKS_CLUSTER'];
    const cluster = wanted ? running.find((n) => n === wanted) : running.find((n) => n === 'svclab-main') ?? running.find((n) => !n.startsWith('svclab-ct-'));
    if (cluster) return { driver, cluster };
    // `npm test` lets it make a small cluster of its own (one node, no host ports).
    if (!wanted && process.env['SVCLAB_TEST_CREATE_CLUSTER'] === '1') {
      const nodeImage = process.env['SVCLAB_TEST_NODE_IMAGE'] ?? (await nodeImageRef({ runner, engine, imagesDir: defaultImagesDir(), cacheDir: defaultCacheDir() }));
      const own = `svclab-kapi-${randomBytes(3).toString('hex')}`;
      await driver.create({ name: own, workers: 0, nodeImage, ports: [] });
      return { driver, cluster: own, owned: true };
    }
    return { skip: running.length ? `only other suites' test clusters run (${running.join(', ')})` : 'no svclab cluster is running (run `svclab up`, or set SVCLAB_TEST_CREATE_CLUSTER=1)' };
  } catch (e) {
    return { skip: e instanceof Error ? e.message : String(e) };
  }
})();
if ('skip' in real) console.log(`SKIP kube-api contract (real): ${real.skip}`);

describe.skipIf('skip' in real)('live cluster', () => {
  if ('skip' in real) return;
  const { driver, cluster } = real;
  const cp = `${cluster}-control-plane`;
  contract('ClientNodeKubeApi', async () => {
    const images = JSON.parse((await driver.execOnNode(cluster, cp, ['crictl', 'images', '-o', 'json'], { timeoutMs: 30_000 })).stdout) as { images: { repoTags: string[] }[] };
    const pause = images.images.flatMap((i) => i.repoTags).find((t) => /\/pause:/.test(t)) ?? 'registry.k8s.io/pause:3.10.1';
    const r = await driver.execOnNode(cluster, cp, nodeKubectl(['apply', '-f', '-']), { timeoutMs: 120_000, input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects(pause) }) });
    if (r.exitCode !== 0) throw new Error(r.stderr);
    return { api: new ClientNodeKubeApi(await driver.kubeconfig(cluster, 'host')), unreachable: new ClientNodeKubeApi(deadKubeconfig) };
  });
  it('a kind the cluster does not serve is an error naming it, not a missing object', async () => {
    const api = new ClientNodeKubeApi(await driver.kubeconfig(cluster, 'host'));
    await expect(api.getObject({ apiVersion: 'example.com/v1', kind: 'Widget', namespace: ns, name: 'x' })).rejects.toThrow('the cluster does not know the kind Widget (example.com/v1)');
    await expect(api.getObject({ apiVersion: 'v1', kind: 'Widget', namespace: ns, name: 'x' })).rejects.toBeInstanceOf(KubeApiError);
  });
  afterAll(async () => {
    if (real.owned) await driver.delete(cluster).catch(() => undefined);
    else await driver.execOnNode(cluster, cp, nodeKubectl(['delete', 'namespace', ns, '--wait=false']), { timeoutMs: 60_000 }).catch(() => undefined);
  }, 120_000);
});
