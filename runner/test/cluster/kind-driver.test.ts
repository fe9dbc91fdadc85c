// KindDriver against an in-memory docker + kind (FakeCommandRunner): step order,
// the commands it runs, refusals before anything is made, cleanup on failure.

import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isRunnerError, type RunnerError } from '../../src/errors.ts';
import { BRING_UP_STEP_IDS } from '../../src/cluster/bring-up-steps.ts';
import type { StepEvent } from '../../src/cluster/cluster-driver.ts';
import { KindDriver, type KindDriverOptions } from '../../src/cluster/kind-driver.ts';
import { HostKernelModuleProbe } from '../../src/cluster/proxy-mode-support.ts';
import type { KindCluster } from '../../src/cluster/kind-config.ts';
import { FakeDockerWorld, KIND } from './fake-docker-world.ts';

const IMAGE = 'svclab/node:0123456789abcdef';

async function rejection(p: Promise<unknown>): Promise<RunnerError> {
  try {
    await p;
  } catch (e) {
    if (isRunnerError(e)) return e;
    throw e;
  }
  throw new Error('expected a RunnerError');
}

describe('KindDriver (fake docker and kind)', () => {
  let dir: string;
  let world: FakeDockerWorld;
  const busy = new Set<number>();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'svclab-kind-driver-'));
    world = new FakeDockerWorld();
    world.images.set(IMAGE, 'sha256:node');
    busy.clear();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function driver(over: Partial<KindDriverOptions> = {}): KindDriver {
    let eph = 45000;
    return new KindDriver({
      runner: world.runner,
      engine: world.engine,
      kindPath: KIND,
      stateDir: join(dir, 'state'),
      // No /proc/modules, no /lib/modules: like these machines.
      kernelModules: new HostKernelModuleProbe({ procDir: join(dir, 'proc'), modulesDir: join(dir, 'lib-modules'), kernelRelease: '6.1.0-test' }),
      portProbe: { isFree: async (p) => !busy.has(p), ephemeral: async () => ++eph },
      freeDiskBytes: async () => 50 * 1024 ** 3,
      inotifyUsage: async () => ({ limit: 512, inUse: 10 }),
      pollIntervalMs: 1,
      ...over,
    });
  }

  it('runs the named steps in order and makes the network before the nodes', async () => {
    const events: StepEvent[] = [];
    const d = driver();
    const r = await d.create({ name: 'svclab-t', nodeImage: IMAGE }, { onStep: (e) => events.push(e) });
    expect(events.filter((e) => e.state === 'running').map((e) => e.id)).toEqual([...BRING_UP_STEP_IDS]);
    expect(events.filter((e) => e.state === 'ok').map((e) => e.id)).toEqual([...BRING_UP_STEP_IDS]);
    expect(events.every((e) => e.total === BRING_UP_STEP_IDS.length && e.elapsedMs >= 0)).toBe(true);
    expect(events.map((e) => e.index)).toEqual(BRING_UP_STEP_IDS.flatMap((_, i) => [i + 1, i + 1]));

    const log = world.log;
    const netCreate = log.findIndex((l) => l.startsWith('docker network create'));
    const kindCreate = log.findIndex((l) => l.startsWith(`${KIND} create cluster`));
    expect(netCreate).toBeGreaterThanOrEqual(0);
    expect(kindCreate).toBeGreaterThan(netCreate);
    expect(log[netCreate]).toContain('--label svclab.cluster=svclab-t');

    const call = world.runner.calls[kindCreate]!;
    expect(call.argv).toEqual([KIND, 'create', 'cluster', '--name', 'svclab-t', '--config', '-', '--kubeconfig', join(dir, 'state', 'svclab-t', 'kubeconfig')]);
    expect(call.opts.env).toMatchObject({ KIND_EXPERIMENTAL_DOCKER_NETWORK: 'svclab-t' });
    const cfg = parse(call.opts.input!) as KindCluster;
    expect(cfg.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    expect(cfg.networking.kubeProxyMode).toBe('iptables');

    expect(r.state).toBe('running');
    expect(r.spec?.workers).toBe(2);
    expect(r.ports).toEqual([
      { containerPort: 80, hostPort: 80, listenAddress: '127.0.0.1' },
      { containerPort: 443, hostPort: 443, listenAddress: '127.0.0.1' },
      { containerPort: 30007, hostPort: 30007, listenAddress: '127.0.0.1' },
      { containerPort: 30080, hostPort: 30080, listenAddress: '127.0.0.1' },
    ]);
    expect(r.apiServer).toEqual({ host: '127.0.0.1', port: 39999 });
    expect(r.dockerLabels).toEqual({ containers: { 'io.x-k8s.kind.cluster': 'svclab-t' }, networks: { 'svclab.cluster': 'svclab-t' } });
    expect(r.timings.firstNodeReadyMs).toBeGreaterThanOrEqual(0);
    expect(r.timings.steps.map((s) => s.id)).toEqual([...BRING_UP_STEP_IDS]);
    expect(existsSync(join(dir, 'state', 'svclab-t', 'creating'))).toBe(false);

    // The edge label is set through the node's kubectl, on worker 1.
    expect(world.execs.some((e) => e.node === 'svclab-t-control-plane' && e.argv.join(' ').includes('label node svclab-t-worker svclab.io/edge=true --overwrite'))).toBe(true);

    const nodes = await d.nodes('svclab-t');
    expect(nodes.map((n) => [n.name, n.role])).toEqual([
      ['svclab-t-control-plane', 'control-plane'], ['svclab-t-worker', 'worker'], ['svclab-t-worker2', 'worker'],
    ]);
    expect(nodes.every((n) => /^172\.30\.0\.\d+$/.test(n.internalIP))).toBe(true);
  });

  it('refuses ipvs before running any command, naming ip_vs and modprobe', async () => {
    const events: StepEvent[] = [];
    const e = await rejection(driver().create({ name: 'svclab-ipvs', nodeImage: IMAGE, proxyMode: 'ipvs' }, { onStep: (ev) => events.push(ev) }));
    expect(e.code).toBe('PROXY_MODE_UNSUPPORTED');
    expect(e.message).toContain('ip_vs');
    expect(e.hint).toContain('modprobe ip_vs');
    expect(world.runner.calls).toEqual([]);
    expect(events.at(-1)).toMatchObject({ id: 'preflight-proxy-mode', state: 'failed' });
  });

  it('accepts ipvs when the kernel has ip_vs loaded', async () => {
    mkdirSync(join(dir, 'proc'), { recursive: true });
    writeFileSync(join(dir, 'proc', 'modules'), 'ip_vs 172032 6 ip_vs_rr, Live 0x0\nnf_conntrack 1 2 x, Live 0x0\n');
    const r = await driver().create({ name: 'svclab-ipvs', nodeImage: IMAGE, proxyMode: 'ipvs' });
    expect(r.spec?.proxyMode).toBe('ipvs');
  });

  it('removes the network and nodes when kind fails, and reports the step and output', async () => {
    world.failKindCreate = 'failed to init node with kubeadm';
    const events: StepEvent[] = [];
    const e = await rejection(driver().create({ name: 'svclab-bad', nodeImage: IMAGE }, { onStep: (ev) => events.push(ev) }));
    expect(e.code).toBe('CLUSTER_FAILED');
    expect(e.message).toContain('kubeadm');
    expect(e.details).toMatchObject({ step: 'create-nodes' });
    expect(events.at(-1)).toMatchObject({ id: 'create-nodes', state: 'failed' });
    expect(events.some((ev) => ev.id === 'wait-ready')).toBe(false);
    expect(world.containers).toEqual([]);
    expect(world.networks).toEqual([]);
    expect(existsSync(join(dir, 'state', 'svclab-bad'))).toBe(false);
  });

  it('removes everything when the nodes never become Ready', async () => {
    world.notReadyPolls = 1_000_000;
    const e = await rejection(driver({ readyTimeoutMs: 20 }).create({ name: 'svclab-slow', nodeImage: IMAGE }));
    expect(e.code).toBe('CLUSTER_FAILED');
    expect(e.message).toMatch(/Ready/);
    expect(world.log.some((l) => l.startsWith(`${KIND} delete cluster --name svclab-slow`))).toBe(true);
    expect(world.containers).toEqual([]);
    expect(world.networks).toEqual([]);
  });

  it('removes everything when cancelled while waiting for Ready', async () => {
    world.notReadyPolls = 1_000_000;
    const ac = new AbortController();
    const p = driver({ pollIntervalMs: 5 }).create({ name: 'svclab-cancel', nodeImage: IMAGE }, {
      signal: ac.signal,
      onStep: (ev) => { if (ev.id === 'wait-ready' && ev.state === 'running') setTimeout(() => ac.abort(), 20); },
    });
    const e = await rejection(p);
    expect(e.code).toBe('CLUSTER_FAILED');
    expect(world.containers).toEqual([]);
    expect(world.networks).toEqual([]);
  });

  it('refuses a name in use, leaving the existing cluster alone', async () => {
    const d = driver();
    await d.create({ name: 'svclab-dup', nodeImage: IMAGE });
    const before = world.containers.length;
    const e = await rejection(d.create({ name: 'svclab-dup', nodeImage: IMAGE }));
    expect(e.code).toBe('CLUSTER_EXISTS');
    expect(e.hint).toContain('svclab down --name svclab-dup');
    expect(world.containers.length).toBe(before);
    expect(world.networks).toHaveLength(1);
  });

  it('refuses a name whose leftovers (a network from a killed up) are still there', async () => {
    world.addNetwork('svclab-left', { 'svclab.cluster': 'svclab-left' });
    const e = await rejection(driver().create({ name: 'svclab-left', nodeImage: IMAGE }));
    expect(e.code).toBe('CLUSTER_EXISTS');
    expect(e.message).toContain('broken');
  });

  it('reports docker down, low disk, a missing or stale image before making anything', async () => {
    world.daemonDown = true;
    expect((await rejection(driver().create({ name: 'svclab-a', nodeImage: IMAGE }))).code).toBe('DOCKER_DOWN');
    world.daemonDown = false;
    const low = await rejection(driver({ freeDiskBytes: async () => 3 * 1024 ** 3 }).create({ name: 'svclab-a', nodeImage: IMAGE }));
    expect(low.code).toBe('DISK_LOW');
    expect(low.message).toContain('3.0 GiB');
    expect((await rejection(driver().create({ name: 'svclab-a', nodeImage: 'svclab/node:ffffffffffffffff' }))).code).toBe('IMAGE_MISSING');
    const stale = await rejection(driver({ imageStatus: async () => ({ state: 'stale', detail: 'recipe changed' }) }).create({ name: 'svclab-a', nodeImage: IMAGE }));
    expect(stale.code).toBe('IMAGE_STALE');
    expect(world.networks).toEqual([]);
    expect(world.containers).toEqual([]);
  });

  it('refuses before making anything when the host is short of inotify instances', async () => {
    const e = await rejection(driver({ inotifyUsage: async () => ({ limit: 128, inUse: 125 }) }).create({ name: 'svclab-ino', nodeImage: IMAGE }));
    expect(e.message).toContain('inotify');
    expect(world.networks).toEqual([]);
  });

  it('looks the kind binary up again when the image builder replaced it, and reports a missing one as IMAGE_MISSING', async () => {
    world.addContainer({ name: 'svclab-kb-control-plane', labels: { 'io.x-k8s.kind.cluster': 'svclab-kb', 'io.x-k8s.kind.role': 'control-plane' } });
    const a = join(dir, 'kind-a');
    const b = join(dir, 'kind-b');
    writeFileSync(a, '');
    writeFileSync(b, '');
    const paths = [a, b, join(dir, 'kind-gone')];
    const d = driver({ kindPath: async () => paths.shift()! });
    for (const p of [a, b]) world.runner.on([p], (argv, opts) => world.runner.run([KIND, ...argv.slice(1)], opts));
    await d.kubeconfig('svclab-kb');
    await d.kubeconfig('svclab-kb');
    rmSync(a);
    await d.kubeconfig('svclab-kb');
    expect(world.runner.calls.filter((c) => c.argv[1] === 'get' && c.argv[0] !== KIND).map((c) => c.argv[0])).toEqual([a, a, b]);
    rmSync(b);
    world.runner.on([join(dir, 'kind-gone')], { exitCode: -1, stderr: `spawn ${join(dir, 'kind-gone')} ENOENT` });
    const e = await rejection(d.kubeconfig('svclab-kb'));
    expect(e.code).toBe('IMAGE_MISSING');
    expect(e.hint).toContain('svclab images build');
  });

  it('reports a bad spec as INVALID_ARGUMENT naming the field', async () => {
    const e = await rejection(driver().create({ name: 'svclab-w', nodeImage: IMAGE, workers: 5 }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('workers');
    expect((await rejection(driver().create({ name: 'demo', nodeImage: IMAGE }))).message).toContain('svclab-');
  });

  it('moves to free host ports when the usual ones are taken, and records them', async () => {
    busy.add(80);
    const d = driver();
    const a = await d.create({ name: 'svclab-p1', nodeImage: IMAGE });
    expect(a.ports.find((p) => p.containerPort === 80)?.hostPort).toBe(45001);
    const b = await d.create({ name: 'svclab-p2', nodeImage: IMAGE });
    const hostPorts = b.ports.map((p) => p.hostPort);
    expect(hostPorts).not.toContain(30080);
    expect(hostPorts).not.toContain(443);
    expect(hostPorts.every((p) => p > 45001)).toBe(true);
    expect((await d.list()).map((c) => c.name)).toEqual(['svclab-p1', 'svclab-p2']);
  });

  it('picks new host ports and tries again when another cluster took one just before kind ran', async () => {
    world.kindCreateFailures.push('command "docker run --name svclab-race-control-plane …" failed: Bind for 127.0.0.1:30080 failed: port is already allocated');
    const r = await driver().create({ name: 'svclab-race', nodeImage: IMAGE });
    expect(world.log.filter((l) => l.startsWith(`${KIND} create cluster`))).toHaveLength(2);
    expect(r.ports.map((p) => p.hostPort).sort()).toEqual([45001, 45002, 45003, 45004]);
    expect(world.networks).toHaveLength(1);
    expect(JSON.parse(world.networks[0]!.labels['svclab.spec']!).ports.map((p: { hostPort: number }) => p.hostPort)).toEqual([45001, 45002, 45003, 45004]);
  });

  it('delete removes nodes, network and a workstation sharing the control plane namespace; unknown names are CLUSTER_UNKNOWN', async () => {
    const d = driver();
    await d.create({ name: 'svclab-del', nodeImage: IMAGE });
    const cp = world.containers.find((c) => c.name === 'svclab-del-control-plane')!;
    world.addContainer({ name: 'svclab-ws-1', labels: { 'svclab.session': 's1' }, networkMode: `container:${cp.id}`, network: 'none' });
    world.addContainer({ name: 'unrelated', labels: {} });
    await d.delete('svclab-del');
    expect(world.containers.map((c) => c.name)).toEqual(['unrelated']);
    expect(world.networks).toEqual([]);
    expect((await rejection(d.delete('svclab-del'))).code).toBe('CLUSTER_UNKNOWN');
    expect(world.log.filter((l) => l.startsWith('docker rm')).every((l) => l.startsWith('docker rm -f -v'))).toBe(true);
  });

  it('lists a cluster whose up died after kind made every node as broken, not running', async () => {
    const d = driver({ pidAlive: () => false });
    await d.create({ name: 'svclab-k9', nodeImage: IMAGE });
    mkdirSync(join(dir, 'state', 'svclab-k9'), { recursive: true });
    writeFileSync(join(dir, 'state', 'svclab-k9', 'creating'), JSON.stringify({ pid: 999999 }));
    expect((await d.list()).map((c) => [c.name, c.state])).toEqual([['svclab-k9', 'broken']]);
  });

  it('lists a cluster a live up is making as creating, and one whose up died as broken', async () => {
    world.addNetwork('svclab-mk', { 'svclab.cluster': 'svclab-mk' });
    mkdirSync(join(dir, 'state', 'svclab-mk'), { recursive: true });
    writeFileSync(join(dir, 'state', 'svclab-mk', 'creating'), JSON.stringify({ pid: process.pid }));
    expect((await driver().list()).map((c) => [c.name, c.state])).toEqual([['svclab-mk', 'creating']]);
    expect((await driver({ pidAlive: () => false }).list()).map((c) => [c.name, c.state])).toEqual([['svclab-mk', 'broken']]);
  });

  it('gives kubeconfigs for the host and for the cluster network', async () => {
    const d = driver();
    await d.create({ name: 'svclab-kc', nodeImage: IMAGE });
    expect(await d.kubeconfig('svclab-kc')).toContain('server: https://127.0.0.1:39999');
    expect(await d.kubeconfig('svclab-kc', 'internal')).toContain('server: https://svclab-kc-control-plane:6443');
    expect((await rejection(d.kubeconfig('svclab-nope'))).code).toBe('CLUSTER_UNKNOWN');
  });

  it('runs commands on nodes as data, and refuses nodes of other clusters', async () => {
    const d = driver();
    await d.create({ name: 'svclab-ex', nodeImage: IMAGE });
    world.execHandler = (node, argv) => (argv[0] === 'hostname' ? { stdout: `${node}\n` } : undefined);
    expect(await d.execOnNode('svclab-ex', 'svclab-ex-worker', ['hostname'], { timeoutMs: 1000 })).toMatchObject({ exitCode: 0, stdout: 'svclab-ex-worker\n', stderr: '' });
    expect((await d.execOnNode('svclab-ex', 'svclab-ex-worker', ['nope'], { timeoutMs: 1000 })).exitCode).toBe(127);
    expect((await rejection(d.execOnNode('svclab-ex', 'svclab-other-worker', ['true'], { timeoutMs: 1000 }))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(d.execOnNode('svclab-ex', 'svclab-ex-worker9', ['true'], { timeoutMs: 1000 }))).code).toBe('CLUSTER_UNKNOWN');
  });
  it('gives CoreDNS a Corefile without forward before the nodes are Ready, and restarts pods already placed', async () => {
    const d = driver();
    await d.create({ name: 'svclab-dns', nodeImage: IMAGE });
    const apply = world.execs.find((e) => e.argv.includes('apply'))!;
    expect(apply.node).toBe('svclab-dns-control-plane');
    const cm = parse(apply.input!) as { metadata: { name: string; namespace: string }; data: { Corefile: string } };
    expect(cm.metadata).toEqual({ name: 'coredns', namespace: 'kube-system' });
    expect(cm.data.Corefile).toMatch(/^cluster\.local 10\.96\.0\.0\/12 10\.244\.0\.0\/16 \{$/m);
    expect(cm.data.Corefile).not.toMatch(/^\s*forward\b/m);
    expect(world.execs.some((e) => e.argv.includes('restart'))).toBe(false);

    world.execHandler = (_node, argv) => (argv.includes('pods') ? { stdout: 'svclab-dns2-control-plane' } : undefined);
    const events: StepEvent[] = [];
    await d.create({ name: 'svclab-dns2', nodeImage: IMAGE }, { onStep: (e) => events.push(e) });
    expect(world.execs.some((e) => e.argv.join(' ').endsWith('-n kube-system rollout restart deployment/coredns'))).toBe(true);
    expect(events.find((e) => e.id === 'dns-cluster-only' && e.state === 'ok')!.detail).toMatch(/other names REFUSED; CoreDNS restarted/);
  });

  it('loads an image only into the nodes whose containerd lacks it (same name, same id)', async () => {
    const d = driver();
    await d.create({ name: 'svclab-li', nodeImage: IMAGE });
    world.execHandler = (node, argv) => (argv[0] === 'crictl'
      ? (node.endsWith('worker2') ? { exitCode: 1, stderr: 'no such image' } : { stdout: JSON.stringify({ status: { id: node.endsWith('worker') ? 'sha256:old' : 'sha256:abc' } }) })
      : undefined);
    expect(await d.loadImage('svclab-li', 'svclab/web:latest', { imageId: 'sha256:abc' })).toEqual({ loaded: ['svclab-li-worker', 'svclab-li-worker2'], present: ['svclab-li-control-plane'] });
    const load = world.runner.calls.find((c) => c.argv[1] === 'load')!;
    expect(load.argv).toEqual([KIND, 'load', 'docker-image', 'svclab/web:latest', '--name', 'svclab-li', '--nodes', 'svclab-li-worker,svclab-li-worker2']);
    expect(world.execs.filter((e) => e.argv[0] === 'crictl').map((e) => e.argv)).toEqual(Array(3).fill(['crictl', 'inspecti', '-o', 'json', 'svclab/web:latest']));

    world.execHandler = (_node, argv) => (argv[0] === 'crictl' ? { stdout: JSON.stringify({ status: { id: 'sha256:abc' } }) } : undefined);
    const calls = world.runner.calls.length;
    expect(await d.loadImage('svclab-li', 'svclab/web:latest', { imageId: 'sha256:abc' })).toEqual({ loaded: [], present: ['svclab-li-control-plane', 'svclab-li-worker', 'svclab-li-worker2'] });
    expect(world.runner.calls.slice(calls).some((c) => c.argv[1] === 'load')).toBe(false);
  });
});
