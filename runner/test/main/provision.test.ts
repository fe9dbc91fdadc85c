// The provisioning pipeline against FakeClusterDriver and FakeContainerEngine: its
// steps, in order, with time; optional steps; reuse; cleanup on failure.
import { describe, expect, it } from 'vitest';
import { FakeClusterDriver } from '../../src/cluster/fake-cluster-driver.ts';
import type { StepEvent } from '../../src/cluster/cluster-driver.ts';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { RunnerError } from '../../src/errors.ts';
import type { InstallResult } from '../../src/addons/install.ts';
import { LAB_IMAGE, formatProvisionEvent, provisionCluster, type ProvisionDeps } from '../../src/main/provision.ts';

const NODE = 'svclab/node:0123456789abcdef';
const WEB = 'svclab/web:fedcba9876543210';

function deps(over: Partial<ProvisionDeps> = {}) {
  const engine = new FakeContainerEngine();
  engine.addImage(NODE);
  engine.addImage(WEB);
  const driver = new FakeClusterDriver({ imageExists: (ref) => engine.images.has(ref.includes(':') ? ref : `${ref}:latest`) });
  const calls: string[] = [];
  const d: ProvisionDeps = {
    driver, engine,
    nodeImage: async () => NODE,
    labImage: async () => WEB,
    addons: async (cluster, o) => {
      calls.push(`addons ${cluster} ${o.ingressMode}`);
      return { ingressMode: o.ingressMode, pool: { first: '172.18.255.240', last: '172.18.255.254', range: '172.18.255.240-172.18.255.254' }, totalMs: 5, steps: [] } as unknown as InstallResult;
    },
    baseline: async (cluster, dir, o) => { calls.push(`baseline ${cluster} ${dir}${o.keepExisting ? ' keep' : ''}`); return 'taken'; },
    ...over,
  };
  return { d, engine, driver, calls };
}

describe('provisionCluster', () => {
  it('runs cluster → lab image → add-ons → learner access → baseline, each a named step with time', async () => {
    const { d, engine, driver, calls } = deps();
    const events: StepEvent[] = [];
    const lines: string[] = [];
    const r = await provisionCluster(d, {
      name: 'svclab-p', ingressMode: 'daemonset', out: (l) => lines.push(l), onStep: (e) => events.push(e),
      learnerAccess: async (cluster, x) => { calls.push(`access ${cluster} ${x.driver === driver}`); return { kubeconfig: 'apiVersion: v1', detail: 'svclab:learner' }; },
      baseline: { dir: '/pool' },
    });
    expect(events.filter((e) => e.state === 'ok').map((e) => e.id)).toEqual(['cluster', 'lab-image', 'addons', 'learner-access', 'baseline']);
    expect(events.every((e) => e.total === 5 && e.elapsedMs >= 0)).toBe(true);
    expect(calls).toEqual(['addons svclab-p daemonset', 'access svclab-p true', 'baseline svclab-p /pool']);
    expect(r).toMatchObject({ name: 'svclab-p', created: true, learnerKubeconfig: 'apiVersion: v1' });
    expect(engine.imageOps).toContain(`tag ${WEB} ${LAB_IMAGE}`);
    expect(driver.loadedImages('svclab-p')).toEqual([LAB_IMAGE]);
    // The human lines `svclab up` always printed: what is made, the bring-up, what was made.
    expect(lines[0]).toBe(`Creating cluster svclab-p: 1 control plane + 2 workers, kube-proxy iptables, image ${NODE}`);
    expect(lines.some((l) => l.startsWith('Cluster svclab-p is ready in'))).toBe(true);
    expect(lines.some((l) => /^\[\d+\/\d+\] /.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^✓ Traefik \(daemonset\) and MetalLB \(pool 172\.18\.255\.240-172\.18\.255\.254\) installed in/);
    expect(formatProvisionEvent(events.find((e) => e.id === 'addons' && e.state === 'ok')!)).toMatch(/^── 3\/5 Add-ons: Traefik and MetalLB ok \(\d+\.\d s, total \d+\.\d s\) Traefik daemonset/);
  });

  it('leaves out the optional steps it is not given', async () => {
    const { d } = deps();
    const events: StepEvent[] = [];
    await provisionCluster(d, { name: 'svclab-q', onStep: (e) => events.push(e) });
    expect([...new Set(events.map((e) => e.id))]).toEqual(['cluster', 'lab-image', 'addons']);
  });

  it('reuses a running cluster when asked (validate), and makes a new one otherwise', async () => {
    const { d, driver, calls } = deps();
    await driver.create({ name: 'svclab-v', nodeImage: NODE });
    const r = await provisionCluster(d, { name: 'svclab-v', reuseRunning: true, baseline: { dir: '/v', keepExisting: true } });
    expect(r.created).toBe(false);
    expect(calls).toContain('baseline svclab-v /v keep');
    await expect(provisionCluster(d, { name: 'svclab-v' })).rejects.toMatchObject({ code: 'CLUSTER_EXISTS' });
  });

  it('a cluster made now never keeps a baseline recorded for an earlier cluster of its name (validate after svclab down)', async () => {
    const { d, calls } = deps();
    const r = await provisionCluster(d, { name: 'svclab-w', reuseRunning: true, baseline: { dir: '/v', keepExisting: true } });
    expect(r.created).toBe(true);
    expect(calls).toContain('baseline svclab-w /v');
    expect(calls).not.toContain('baseline svclab-w /v keep');
  });

  it('deletes the cluster it made when a later step fails, if asked (the pool), and names the step', async () => {
    const { d, driver } = deps({ addons: async () => { throw new RunnerError('CLUSTER_FAILED', { message: 'traefik never became ready' }); } });
    const events: StepEvent[] = [];
    const e = await provisionCluster(d, { name: 'svclab-f', deleteOnFailure: true, onStep: (x) => events.push(x) }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'CLUSTER_FAILED', message: 'traefik never became ready' });
    expect(events.at(-1)).toMatchObject({ id: 'addons', state: 'failed' });
    expect((await driver.list()).map((c) => c.name)).toEqual([]);
    // Without deleteOnFailure (svclab up) the cluster stays for a look.
    await provisionCluster(d, { name: 'svclab-g' }).catch(() => undefined);
    expect((await driver.list()).map((c) => c.name)).toEqual(['svclab-g']);
  });
});

describe('provisionCluster, cancelled', () => {
  it('stops before the next step and removes what it made when asked (the pool closing)', async () => {
    const abort = new AbortController();
    const { d, driver } = deps({ labImage: async () => { abort.abort(); return WEB; } });
    const e = await provisionCluster(d, { name: 'svclab-c', signal: abort.signal, deleteOnFailure: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunnerError);
    expect((e as RunnerError).message).toMatch(/cancelled before step "Add-ons/);
    expect(await driver.list()).toEqual([]);
  });
});

describe('provisionDeps: the baseline step', () => {
  it('records the state in <dir>/<cluster>.json, and keeps one recorded before when asked', async () => {
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { provisionDeps } = await import('../../src/main/provision.ts');
    const dir = await mkdtemp(join(tmpdir(), 'svclab-baseline-'));
    try {
      const driver = new FakeClusterDriver();
      await driver.create({ name: 'svclab-b', workers: 0, nodeImage: NODE });
      let gets = 0;
      driver.responder = ({ argv }) => (argv.includes('api-resources') ? { exitCode: 0, stdout: 'namespaces\n', stderr: '' }
        : argv.includes('get') ? (gets++, { exitCode: 0, stdout: '{"items":[{"kind":"Namespace","metadata":{"name":"default","uid":"u1"}}]}', stderr: '' })
        : { exitCode: 0, stdout: '', stderr: '' });
      const d = provisionDeps({ driver, engine: new FakeContainerEngine(), images: { runner: new (await import('../../src/exec/fake-shell.ts')).FakeShell(), engine: new FakeContainerEngine(), imagesDir: dir, cacheDir: dir } });
      expect(await d.baseline('svclab-b', dir, { keepExisting: true })).toBe('taken');
      expect(JSON.parse(await readFile(join(dir, 'svclab-b.json'), 'utf8'))).toMatchObject({ namespaces: ['default'] });
      expect(await d.baseline('svclab-b', dir, { keepExisting: true })).toBe('kept');
      expect(await d.baseline('svclab-b', dir, { keepExisting: false })).toBe('taken');
      expect(gets).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
