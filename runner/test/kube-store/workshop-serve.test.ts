import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { environmentRuntime, openOrCreateWorkshop, ownerOf, parseWorkshopConfig, serveOptions, type WorkshopConfig } from '../../src/cli/workshop-serve.ts';
import { KubeObjectsError } from '../../src/kube-store/kube-objects.ts';
import { FakeKubeObjects } from '../../src/kube-store/fake-kube-objects.ts';
import { KubeWorkshopStore } from '../../src/kube-store/kube-workshop-store.ts';
import { projectRoot } from '../../src/version.ts';
import { Workshop } from '../../src/workshop/workshop.ts';

// What the chart renders (deploy/kustomize is generated from it, and a deploy test keeps it current).
const rendered = parseAllDocuments(readFileSync(join(projectRoot, 'deploy/kustomize/svclab.yaml'), 'utf8')).map((d) => d.toJSON() as { kind: string; data?: Record<string, string>; spec?: unknown });
const configMap = rendered.find((d) => d.kind === 'ConfigMap')!;
const deployment = rendered.find((d) => d.kind === 'Deployment') as { spec: { template: { spec: { containers: { args: string[]; env: { name: string; value?: string }[] }[] } } } };
const files: Record<string, string> = {
  '/etc/svclab/workshop.json': configMap.data!['workshop.json']!,
  '/etc/svclab/environment-pod.yaml': configMap.data!['environment-pod.yaml']!,
};
const read = (f: string): string => {
  if (files[f] === undefined) throw Object.assign(new Error(`ENOENT: ${f}`), { code: 'ENOENT' });
  return files[f];
};
const chartEnv = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(deployment.spec.template.spec.containers[0]!.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value])),
  SVCLAB_NAMESPACE: 'svclab', SVCLAB_REPLICA: 'svclab-runner-7d9f-abcde',
});
const config: WorkshopConfig = { name: 'ws', labs: ['02'], capacity: 5, reserve: 2, expiry: '2h' };

describe('svclab workshop serve --store kube (what the chart runs)', () => {
  it("takes the chart's Deployment args, environment and mounted files as they are rendered", () => {
    const args = deployment.spec.template.spec.containers[0]!.args;
    expect(args.slice(0, 2)).toEqual(['workshop', 'serve']);
    const o = serveOptions(args.slice(2), chartEnv(), read);
    expect(o).toMatchObject({ host: '0.0.0.0', port: 8080, namespace: 'svclab', name: 'workshop', replica: 'svclab-runner-7d9f-abcde', runtime: 'nested-kind-pod', environmentPodFile: '/etc/svclab/environment-pod.yaml' });
    expect(o.config).toMatchObject({ labs: ['02'], capacity: 20, reserve: 4, expiry: '2h' });
    // The Service's names are served (no 421 for a browser or proxy that names them).
    expect(o.publicOrigins).toEqual(['http://svclab.svclab.svc', 'http://svclab.svclab.svc.cluster.local']);
    expect(() => serveOptions(args.slice(2), { ...chartEnv(), SVCLAB_PUBLIC_ORIGINS: 'labs.example.org/x' }, read)).toThrow(/SVCLAB_PUBLIC_ORIGINS "labs.example.org\/x" is not an origin/);
    expect(serveOptions([...args.slice(2), '--public-origin', 'https://labs.example.org'], chartEnv(), read).publicOrigins).toContain('https://labs.example.org');
    const rt = environmentRuntime(o, new FakeKubeObjects(), read)!;
    expect(rt.kind).toBe('nested-kind-pod');
  });

  it('refuses what it cannot serve, saying what and how', () => {
    expect(() => serveOptions(['--store', 'memory'], {}, read)).toThrow(/only "kube" is served this way/);
    expect(() => serveOptions(['--store', 'kube', '--config', '/etc/svclab/workshop.json'], {}, read)).toThrow(/needs a namespace/);
    expect(() => serveOptions(['--store', 'kube', '--namespace', 'n'], {}, read)).toThrow(/needs the workshop's settings/);
    expect(() => serveOptions(['--store', 'kube', '--namespace', 'n', '--config', '/nope.json'], {}, read)).toThrow(/\/nope.json cannot be read/);
    expect(() => serveOptions(['--store', 'kube', '--namespace', 'n', '--config', '/etc/svclab/workshop.json'], {}, read)).toThrow(/needs the environment pod template/);
    expect(() => serveOptions(['--store', 'kube', '--namespace', 'n', '--config', '/etc/svclab/workshop.json', '--runtime', 'vm'], {}, read)).toThrow(/--runtime vm: unknown/);
    expect(serveOptions(['--store', 'kube', '--namespace', 'n', '--config', '/etc/svclab/workshop.json', '--runtime', 'none'], {}, read).runtime).toBe('none');
    expect(() => parseWorkshopConfig('{"name":"w","labs":[],"capacity":0,"reserve":1,"expiry":"2h"}', 'workshop.json')).toThrow(/workshop.json lacks or has a wrong labs \(lab numbers or ids\), capacity/);
    expect(() => environmentRuntime({ ...serveOptions(['--store', 'kube', '--namespace', 'n', '--config', '/etc/svclab/workshop.json', '--environment-pod', '/etc/svclab/workshop.json'], {}, read) }, new FakeKubeObjects(), read))
      .toThrow(/is not a Pod with at least one container/);
  });

  it('replicas starting together share one Workshop: one writes it, all get the same event code', async () => {
    const objects = new FakeKubeObjects();
    const stores = ['a', 'b', 'c'].map((replica) => new KubeWorkshopStore({ objects, name: 'ws', replica }));
    const got = await Promise.all(stores.map((s) => openOrCreateWorkshop(s, config, ['02-selectors-and-endpoints'], { waitMs: 5_000 })));
    expect(got.filter((g) => g.created)).toHaveLength(1);
    expect(new Set(got.map((g) => g.workshop.code)).size).toBe(1);
    expect(new Set(got.map((g) => g.workshop.instructorSecret)).size).toBe(1);
    // A restart opens it; different values are reported, not applied.
    const lines: string[] = [];
    const again = await openOrCreateWorkshop(stores[0]!, { ...config, capacity: 9 }, ['02-selectors-and-endpoints'], { out: (l) => lines.push(l) });
    expect(again.created).toBe(false);
    expect(again.workshop.capacity).toBe(5);
    expect(lines.join('\n')).toMatch(/capacity 5.*the chart's values differ/);
  });

  it('the Workshop is owned by the release\'s ConfigMap: deleting it (helm uninstall) collects learners, environments and their pods', async () => {
    const objects = new FakeKubeObjects();
    await objects.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'svclab' }, data: {} });
    expect(serveOptions(deployment.spec.template.spec.containers[0]!.args.slice(2), chartEnv(), read).ownerConfigMap).toBe('svclab');
    const owner = await ownerOf(objects, 'svclab');
    const store = new KubeWorkshopStore({ objects, name: 'ws', replica: 'a', ...(owner ? { owner } : {}) });
    const { workshop } = await openOrCreateWorkshop(store, config, ['02-selectors-and-endpoints']);
    await store.addLearner({ id: 'L1', name: 'Ana', joinedAt: Date.now(), nodeShells: false }, 5);
    const env = await store.createEnvironment('ws-e-1');
    await objects.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ws-e-1', ownerReferences: [{ apiVersion: 'svclab.dev/v1alpha1', kind: 'Environment', name: env.name, uid: env.uid }] }, spec: {} });
    expect(workshop.code).toBeTruthy();
    await objects.delete('configmaps', 'svclab');
    for (const r of ['workshops', 'secrets', 'learnersessions', 'environments', 'pods'] as const) expect(await objects.list(r), r).toEqual([]);
    // Without an owner (as before) everything outlived the release.
    const bare = new FakeKubeObjects();
    await bare.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'svclab' }, data: {} });
    await openOrCreateWorkshop(new KubeWorkshopStore({ objects: bare, name: 'ws' }), config, ['02-selectors-and-endpoints']);
    await bare.delete('configmaps', 'svclab');
    expect(await bare.list('workshops')).toHaveLength(1);
  });

  it('waits for an API server still initialising svclab\'s CRDs (429) instead of crashing the replica', async () => {
    const objects = new FakeKubeObjects();
    let refusals = 2;
    const busy = Object.assign(Object.create(objects) as FakeKubeObjects, {
      get: async (r: Parameters<FakeKubeObjects['get']>[0], name: string) => {
        if (r === 'workshops' && refusals-- > 0) throw new KubeObjectsError('the Kubernetes API answered 429 to "read workshops/ws": storage is (re)initializing', 'unavailable', 429);
        return objects.get(r, name);
      },
    });
    const lines: string[] = [];
    const got = await openOrCreateWorkshop(new KubeWorkshopStore({ objects: busy, name: 'ws' }), config, ['02-selectors-and-endpoints'], { retryMs: 1, out: (l) => lines.push(l) });
    expect(got.created).toBe(true);
    expect(lines.filter((l) => l.includes('storage is (re)initializing'))).toHaveLength(2);
    refusals = 100;
    await expect(openOrCreateWorkshop(new KubeWorkshopStore({ objects: busy, name: 'ws' }), config, ['02-selectors-and-endpoints'], { retryMs: 1, apiWaitMs: 20 })).rejects.toThrow(/429/);
  });

  it('each replica writing its own Workshop (no create-only write) ends with different event codes (the test can fail)', async () => {
    const objects = new FakeKubeObjects();
    const stores = ['a', 'b', 'c'].map((replica) => new KubeWorkshopStore({ objects, name: 'ws', replica }));
    const made = await Promise.all(stores.map((store) => Workshop.create({ store }, { labs: ['02-selectors-and-endpoints'], capacity: 5, reserve: 2, durationMs: 7_200_000 })));
    expect(new Set(made.map((w) => w.code)).size).toBeGreaterThan(1);
  });
});
