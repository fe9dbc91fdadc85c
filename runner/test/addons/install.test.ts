// installComponents against FakeClusterDriver and a DockerEngine over a FakeShell: the steps, what
// it asks the cluster and docker, and its refusals. The real cluster is in
// components.real.test.ts.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { RunnerError, isRunnerError } from '../../src/errors.ts';
import { FakeShell } from '../../src/exec/fake-shell.ts';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { FakeClusterDriver } from '../../src/cluster/fake-cluster-driver.ts';
import type { StepEvent } from '../../src/cluster/cluster-driver.ts';
import { defaultImagesDir } from '../../src/images/images.ts';
import { installComponents, type ComponentsDeps } from '../../src/addons/install.ts';

const NAME = 'svclab-comp';
const CRD = (name: string) => `---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  annotations:\n    controller-gen.kubebuilder.io/version: v0.19.0\n  name: ${name}\nspec: {}\n`;

async function fakeArtifacts(opts: { gatewayApi?: boolean } = {}): Promise<Record<string, string>> {
  const root = await mkdtemp(join(tmpdir(), 'svclab-components-'));
  const traefik = join(root, 'traefik'), metallb = join(root, 'metallb');
  if (opts.gatewayApi) {
    const gw = join(root, 'gateway-api');
    await mkdir(join(gw, 'crds'), { recursive: true });
    await writeFile(join(gw, 'VERSION'), 'v1.4.0\n');
    await writeFile(join(gw, 'crds', 'gateway.networking.k8s.io_gatewayclasses.yaml'), CRD('gatewayclasses.gateway.networking.k8s.io'));
    await writeFile(join(gw, 'crds', 'gateway.networking.k8s.io_httproutes.yaml'), CRD('httproutes.gateway.networking.k8s.io'));
  }
  await mkdir(join(traefik, 'images'), { recursive: true });
  await mkdir(join(metallb, 'crds'), { recursive: true });
  await writeFile(join(traefik, 'images.txt'), 'svclab/traefik:v3.6.12 sha256:aaa\n');
  await writeFile(join(metallb, 'images.txt'), 'svclab/metallb-controller:v0.15.2 sha256:bbb\nsvclab/metallb-speaker:v0.15.2 sha256:ccc\n');
  await writeFile(join(metallb, 'crds', 'metallb.io_ipaddresspools.yaml'), CRD('ipaddresspools.metallb.io'));
  await writeFile(join(metallb, 'crds', 'metallb.io_l2advertisements.yaml'), CRD('l2advertisements.metallb.io'));
  return { traefik, metallb, ...(opts.gatewayApi ? { 'gateway-api': join(root, 'gateway-api') } : {}) };
}

const networkJson = JSON.stringify([{ Name: NAME, IPAM: { Config: [{ Subnet: '172.31.0.0/16', Gateway: '172.31.0.1' }] }, Containers: { a: { IPv4Address: '172.31.0.2/16' } } }]);

interface World { driver: FakeClusterDriver; runner: FakeShell; deps: ComponentsDeps; kubectl: { argv: string[]; input?: string }[] }

async function world(opts: { workers?: number; rolloutFails?: boolean; gatewayApi?: boolean; crdTimeouts?: number } = {}): Promise<World> {
  let crdTimeouts = opts.crdTimeouts ?? 0;
  const driver = new FakeClusterDriver();
  await driver.create({ name: NAME, workers: opts.workers ?? 2, nodeImage: 'svclab/node:fake' });
  const kubectl: World['kubectl'] = [];
  driver.responder = ({ argv, input }) => {
    if (argv[0] !== 'kubectl') return { exitCode: 0, stdout: '', stderr: '' };
    const args = argv.slice(2);
    kubectl.push({ argv: args, ...(input !== undefined ? { input } : {}) });
    if (args[0] === 'get' && args[1] === 'nodes') return { exitCode: 0, stdout: `${NAME}-worker`, stderr: '' };
    if (args[0] === 'apply' && /kind: CustomResourceDefinition/.test(input ?? '') && crdTimeouts > 0) {
      crdTimeouts--;
      return { exitCode: 1, stdout: '', stderr: 'Error from server (Timeout): Timeout: request did not complete within requested timeout - context deadline exceeded' };
    }
    if (args.includes('rollout') && opts.rolloutFails && args.some((a) => a.startsWith('daemonset/speaker'))) return { exitCode: 1, stdout: '', stderr: 'error: timed out waiting for the condition' };
    if (args.includes('get') && args.includes('pods')) return { exitCode: 0, stdout: 'speaker-x  0/1  CrashLoopBackOff', stderr: '' };
    return { exitCode: 0, stdout: '', stderr: '' };
  };
  const runner = new FakeShell()
    .on(['docker', 'network', 'inspect', NAME], { stdout: networkJson })
    .on(['docker', 'image', 'inspect'], (argv) => ({ stdout: argv.at(-1) === 'svclab/traefik:v3.6.12' ? 'sha256:aaa\n' : 'sha256:old\n' }))
    .on(['docker', 'load'], { stdout: 'Loaded image' });
  const dirs = await fakeArtifacts(opts);
  // As componentsDeps says it: an artifact that was never built is IMAGE_MISSING.
  const artifactDir = async (n: string) => dirs[n] ?? Promise.reject(new RunnerError('IMAGE_MISSING', { message: `The ${n} component has not been built.` }));
  const deps: ComponentsDeps = { driver, engine: new DockerEngine({ runner }), addonsDir: join(defaultImagesDir(), 'addons'), artifactDir };
  return { driver, runner, deps, kubectl };
}

async function rejection(p: Promise<unknown>): Promise<RunnerError> {
  try { await p; } catch (e) { if (isRunnerError(e)) return e; throw e; }
  throw new Error('expected a RunnerError');
}

describe('installComponents', () => {
  let w: World;
  beforeEach(async () => { w = await world(); });

  it('nodeport mode: named steps in order with elapsed time, pool from the network, images loaded and pinned', async () => {
    const events: StepEvent[] = [];
    const r = await installComponents(NAME, w.deps, { ingressMode: 'nodeport', onStep: (e) => events.push(e) });
    expect(events.filter((e) => e.state === 'ok').map((e) => e.id)).toEqual([
      'components-artifacts', 'components-nodes', 'components-pool', 'components-images', 'components-crds',
      'components-apply', 'components-metallb-ready', 'components-traefik-ready',
    ]);
    expect(events.every((e) => e.elapsedMs >= 0 && e.total === 8)).toBe(true);
    expect(r.pool.range).toBe('172.31.255.240-172.31.255.254');
    expect(r.edgeNodes).toEqual([]);
    expect(w.driver.loadedImages(NAME)).toEqual(['svclab/traefik:v3.6.12', 'svclab/metallb-controller:v0.15.2', 'svclab/metallb-speaker:v0.15.2']);
    // docker already has traefik with the artifact's id: only the two others are loaded from their tars
    expect(w.runner.calls.filter((c) => c.argv[1] === 'load').map((c) => c.argv.at(-1)!.split('/').pop())).toEqual(['metallb-controller.tar', 'metallb-speaker.tar']);
    const pins = w.driver.execCalls.filter((c) => c.argv[0] === 'ctr');
    expect(pins).toHaveLength(3 * 3);
    expect(pins[0]!.argv).toContain('docker.io/svclab/traefik:v3.6.12');

    const applied = w.kubectl.filter((k) => k.argv[0] === 'apply').map((k) => k.input ?? '');
    expect(applied[0]).toMatch(/name: ipaddresspools\.metallb\.io/);
    expect(applied.some((y) => /kind: IPAddressPool[\s\S]*172\.31\.255\.240-172\.31\.255\.254/.test(y))).toBe(true);
    expect(applied.some((y) => /kind: Deployment[\s\S]*image: "?svclab\/traefik:v3\.6\.12/.test(y) && /nodePort: 30443/.test(y))).toBe(true);
    expect(w.kubectl.find((k) => k.argv[0] === 'wait')!.argv).toEqual(['wait', '--for=condition=Established', '--timeout=60s', 'crd/ipaddresspools.metallb.io', 'crd/l2advertisements.metallb.io']);
    // the hostNetwork DaemonSet stays, on standby (applied with the Deployment); the edge node is not reserved
    expect(applied.some((y) => /kind: DaemonSet\s+metadata:\s+name: traefik-edge/.test(y) && /"svclab\.io\/ingress": "hostnetwork"/.test(y))).toBe(true);
    expect(w.kubectl.some((k) => k.argv[0] === 'delete' && k.argv.includes('traefik-edge'))).toBe(false);
    expect(w.kubectl.some((k) => k.argv.join(' ') === `taint nodes ${NAME}-worker svclab.io/edge=true:NoSchedule-`)).toBe(true);
    expect(w.kubectl.filter((k) => k.argv.includes('rollout')).map((k) => k.argv[4])).toEqual(['deployment/controller', 'daemonset/speaker', 'deployment/traefik']);
  });

  it('loads nothing when every node already holds the images (the node image preloads them)', async () => {
    for (const ref of ['svclab/traefik:v3.6.12', 'svclab/metallb-controller:v0.15.2', 'svclab/metallb-speaker:v0.15.2']) await w.driver.loadImage(NAME, ref, { imageId: 'sha256:x' });
    const events: StepEvent[] = [];
    await installComponents(NAME, w.deps, { ingressMode: 'nodeport', onStep: (e) => events.push(e) });
    expect(events.find((e) => e.id === 'components-images' && e.state === 'ok')!.detail).toBe('3 images already in all 3 nodes (node image)');
    expect(w.runner.calls.filter((c) => c.argv[1] === 'load' || c.argv[1] === 'image')).toEqual([]);
    expect(w.driver.execCalls.filter((c) => c.argv[0] === 'ctr')).toEqual([]);
  });

  it('daemonset mode: taints the edge node before the DaemonSet is applied, waits for traefik-edge', async () => {
    const r = await installComponents(NAME, w.deps, { ingressMode: 'daemonset' });
    expect(r.edgeNodes).toEqual([`${NAME}-worker`]);
    const seq = w.kubectl.map((k) => k.argv.join(' '));
    const taint = seq.indexOf(`taint nodes ${NAME}-worker svclab.io/edge=true:NoSchedule --overwrite`);
    const dsApply = w.kubectl.findIndex((k) => k.argv[0] === 'apply' && /kind: DaemonSet\s+metadata:\s+name: traefik-edge/.test(k.input ?? ''));
    expect(taint).toBeGreaterThan(-1);
    expect(dsApply).toBeGreaterThan(taint);
    expect(seq).toContain('delete deployment traefik -n traefik --ignore-not-found --wait=false');
    expect(seq).toContain('delete service traefik -n traefik --ignore-not-found --wait=false');
    expect(seq.filter((s) => s.includes('rollout')).at(-1)).toMatch(/daemonset\/traefik-edge/);
  });

  it('refuses an unknown controller mode before touching the cluster or docker', async () => {
    const e = await rejection(installComponents(NAME, w.deps, { ingressMode: 'ingress-nginx' as never }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('Unknown ingress controller mode "ingress-nginx".');
    expect(w.driver.execCalls).toEqual([]);
    expect(w.runner.calls).toEqual([]);
  });

  it('refuses daemonset mode when tainting the edge node would leave lab pods nowhere to run', async () => {
    const one = await world({ workers: 1 });
    const e = await rejection(installComponents(NAME, one.deps, { ingressMode: 'daemonset' }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/no other worker/);
    expect(e.hint).toMatch(/--workers 2/);
    expect(one.driver.loadedImages(NAME)).toEqual([]);
  });

  it('a rollout that does not finish names the step, the command and the pods', async () => {
    const bad = await world({ rolloutFails: true });
    const events: StepEvent[] = [];
    const e = await rejection(installComponents(NAME, bad.deps, { ingressMode: 'nodeport', onStep: (x) => events.push(x) }));
    expect(e.code).toBe('CLUSTER_FAILED');
    expect(e.message).toMatch(/step "components-metallb-ready".*rollout status daemonset\/speaker.*timed out/);
    expect(e.hint).toMatch(/describe daemonset\/speaker/);
    expect((e.details as { pods?: string }).pods).toMatch(/CrashLoopBackOff/);
    expect(events.at(-1)).toMatchObject({ id: 'components-metallb-ready', state: 'failed' });
  });

  it('without the gateway-api artifact: no Gateway API, Traefik without its gateway provider, and the step says how to add it', async () => {
    const events: StepEvent[] = [];
    const r = await installComponents(NAME, w.deps, { ingressMode: 'nodeport', onStep: (e) => events.push(e) });
    expect(r.gatewayApi).toEqual({ installed: false, reason: expect.stringMatching(/gateway-api component has not been built\. Run `svclab images build gateway-api`, then `svclab up` again \(lab 14 needs it\)/) });
    expect(events.find((e) => e.id === 'components-artifacts' && e.state === 'ok')!.detail).toMatch(/Gateway API skipped: /);
    const applied = w.kubectl.filter((k) => k.argv[0] === 'apply').map((k) => k.input ?? '').join('\n');
    expect(applied).not.toMatch(/gateway\.networking\.k8s\.io/);
    expect(applied).not.toMatch(/kubernetesgateway/);
  });

  it('with the gateway-api artifact: its CRDs applied and Established beside MetalLB\'s, then GatewayClass traefik, its RBAC and the provider flag', async () => {
    const g = await world({ gatewayApi: true });
    const r = await installComponents(NAME, g.deps, { ingressMode: 'nodeport' });
    expect(r.gatewayApi).toEqual({ installed: true, version: 'v1.4.0' });
    const applies = g.kubectl.filter((k) => k.argv[0] === 'apply').map((k) => k.input ?? '');
    expect(applies[0]).toMatch(/name: httproutes\.gateway\.networking\.k8s\.io/);
    expect(g.kubectl.find((k) => k.argv[0] === 'wait')!.argv).toEqual(['wait', '--for=condition=Established', '--timeout=60s',
      'crd/ipaddresspools.metallb.io', 'crd/l2advertisements.metallb.io', 'crd/gatewayclasses.gateway.networking.k8s.io', 'crd/httproutes.gateway.networking.k8s.io']);
    const traefik = applies.find((y) => /kind: Deployment/.test(y) && /name: traefik/.test(y))!;
    expect(traefik).toMatch(/kind: GatewayClass\s+metadata:\s+name: traefik/);
    expect(traefik).toMatch(/controllerName: traefik\.io\/gateway-controller/);
    expect(traefik).toMatch(/- --providers\.kubernetesgateway=true/);
    // The CRDs are applied in an earlier step than the GatewayClass that needs them.
    expect(applies.findIndex((y) => /kind: GatewayClass/.test(y))).toBeGreaterThan(0);
  });

  it('the API server timing out on the big CRD apply is retried (server-side apply converges); a third timeout fails the step', async () => {
    const slow = await world({ gatewayApi: true, crdTimeouts: 2 });
    const events: StepEvent[] = [];
    await installComponents(NAME, slow.deps, { ingressMode: 'nodeport', onStep: (e) => events.push(e) });
    expect(events.find((e) => e.id === 'components-crds' && e.state === 'ok')!.detail).toBe('4 CRDs (applied on try 3: the API server timed out before)');
    const stuck = await world({ gatewayApi: true, crdTimeouts: 3 });
    const e = await rejection(installComponents(NAME, stuck.deps, { ingressMode: 'nodeport' }));
    expect(e.message).toMatch(/step "components-crds".*Timeout/);
  });

  it('a missing artifact stops at the first step with the builder\'s error', async () => {
    const deps: ComponentsDeps = { ...w.deps, artifactDir: async (n) => { throw new RunnerError('IMAGE_MISSING', { message: `The ${n} component has not been built.` }); } };
    const e = await rejection(installComponents(NAME, deps, { ingressMode: 'nodeport' }));
    expect(e.code).toBe('IMAGE_MISSING');
    expect(w.driver.execCalls).toEqual([]);
  });
});
