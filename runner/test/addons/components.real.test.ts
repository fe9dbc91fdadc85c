// Real tier: a 3-node kind cluster, installComponents, then what the labs rely on —
// host routing through 127.0.0.1:<30080 mapping>, TLS by SNI (own certificate for its
// name, Traefik's default for any other), a LoadBalancer IP from the pool answering
// the host, the controller following a replaced backend pod without a restart, and
// the DaemonSet mode on the tainted edge node. Each is seen failing first (404, the
// default certificate, <pending>) and then passing. Runs when docker answers and the
// kind binary, node image, web image and the traefik/metallb artifacts are current;
// otherwise prints one SKIP line.
//
// SVCLAB_TEST_KIND / SVCLAB_TEST_NODE_IMAGE pin a kind binary and node image, as the
// cluster contract test does (other developers rebuild the node image meanwhile).

import { nodeAdminKubectl } from '../../src/cluster/node-shell.ts';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { isRunnerError } from '../../src/errors.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { defaultCacheDir, defaultImagesDir, imageRef } from '../../src/images/images.ts';
import { formatStepEvent } from '../../src/cluster/bring-up-steps.ts';
import { type NodeInfo } from '../../src/cluster/cluster-driver.ts';
import { kindBinary, nodeImageRef } from '../../src/cluster/cluster-tools.ts';
import { KindDriver } from '../../src/cluster/kind-driver.ts';
import { parseIPv4 } from '../../src/addons/address-pool.ts';
import { componentsDeps, installComponents, type ComponentsDeps, type InstallResult } from '../../src/addons/install.ts';

const runner = new ExecaRunner();
const engine = new DockerEngine({ runner, queryTimeoutMs: 15_000 });
const imagesDeps = { runner, engine, imagesDir: defaultImagesDir(), cacheDir: defaultCacheDir() };
const labDir = join(defaultImagesDir(), '..', 'labs', '11-ingress-and-tls', 'manifests');

const real = await (async (): Promise<{ skip: string } | { kind: string; nodeImage: string; web: string; deps: ComponentsDeps }> => {
  try {
    await engine.info();
  } catch (e) {
    return { skip: isRunnerError(e) ? `${e.code}: ${e.message}` : String(e) };
  }
  const pinnedImage = process.env['SVCLAB_TEST_NODE_IMAGE'];
  if (pinnedImage && !(await engine.imageExists(pinnedImage))) return { skip: `SVCLAB_TEST_NODE_IMAGE ${pinnedImage} is not in docker` };
  try {
    const kind = process.env['SVCLAB_TEST_KIND'] ?? await kindBinary(imagesDeps);
    const deps = componentsDeps(imagesDeps, new KindDriver({ runner, engine, kindPath: kind, stateDir: `${defaultCacheDir()}/clusters` }));
    // Resolve the artifact dirs now: a recipe edited during the run must not turn into IMAGE_STALE later.
    // gateway-api is optional for the install (without it the cluster goes without Gateway API): resolved when built.
    const dirs: Record<string, string> = Object.fromEntries(await Promise.all(['traefik', 'metallb'].map(async (a) => [a, await deps.artifactDir(a)] as const)));
    const gateway = await deps.artifactDir('gateway-api').catch((e: unknown) => e);
    if (typeof gateway === 'string') dirs['gateway-api'] = gateway;
    return {
      kind,
      nodeImage: pinnedImage ?? await nodeImageRef(imagesDeps),
      web: await imageRef(imagesDeps, 'web'),
      deps: { ...deps, artifactDir: async (a) => dirs[a] ?? deps.artifactDir(a) },
    };
  } catch (e) {
    return { skip: isRunnerError(e) ? `${e.code}: ${e.message} (run \`svclab images build\`)` : String(e) };
  }
})();
if ('skip' in real) console.log(`SKIP components (real): ${real.skip}`);

const until = async <T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> => {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
};

/** The certificate a TLS server presents for an SNI name (not verified: we read it). */
function peerCertificate(host: string, port: number, servername: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, servername, rejectUnauthorized: false, timeout: 5000 }, () => {
      const raw = s.getPeerX509Certificate();
      s.end();
      if (raw) resolve(raw); else reject(new Error('no certificate'));
    });
    s.on('error', reject);
    s.on('timeout', () => { s.destroy(); reject(new Error('TLS timeout')); });
  });
}

describe.skipIf('skip' in real)('components on a real cluster', () => {
  if ('skip' in real) return;
  const name = `svclab-comp-${randomBytes(2).toString('hex')}`;
  const driver = real.deps.driver;
  let nodes: NodeInfo[] = [];
  let cp: NodeInfo;
  let port30080 = 0;
  let port80 = 0;
  let port443 = 0;
  let imagesStep = '';
  let webLoad: Awaited<ReturnType<typeof driver.loadImage>>;
  let installed: InstallResult;
  const tmp = mkdtemp(join(tmpdir(), 'svclab-comp-tls-'));

  const kubectl = async (args: string[], input?: string) => {
    const r = await nodeAdminKubectl(driver, name).run(args, { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  /** curl from the host: status, X-Served-By and body. */
  const curl = async (url: string, extra: string[] = []) => {
    const r = await runner.run(['curl', '-sS', '--max-time', '5', '-D', '-', ...extra, url], { timeoutMs: 10_000 });
    if (r.exitCode !== 0) throw new Error(`curl ${url}: ${r.stderr.trim()}`);
    const [head = '', ...body] = r.stdout.replace(/\r/g, '').split('\n\n');
    return { status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(head)?.[1]), servedBy: /^x-served-by: (.+)$/im.exec(head)?.[1]?.trim(), body: body.join('\n\n') };
  };
  const viaNodePort = (host: string) => curl(`http://${host}:${port30080}/`, ['--resolve', `${host}:${port30080}:127.0.0.1`]);

  beforeAll(async () => {
    const log = (e: Parameters<typeof formatStepEvent>[0]) => { if (e.state !== 'running') console.log(`  ${formatStepEvent(e)}`); };
    const c = await driver.create({ name, workers: 2, proxyMode: 'iptables', nodeImage: real.nodeImage }, { onStep: log });
    port30080 = c.ports.find((p) => p.containerPort === 30080)!.hostPort;
    port80 = c.ports.find((p) => p.containerPort === 80)!.hostPort;
    port443 = c.ports.find((p) => p.containerPort === 443)!.hostPort;
    nodes = await driver.nodes(name);
    cp = nodes[0]!;
    // As loadLabImages does after `svclab up`: the lab pods' image under the name lab manifests use.
    const tag = await runner.run(['docker', 'tag', real.web, 'svclab/web:latest'], { timeoutMs: 30_000 });
    if (tag.exitCode !== 0) throw new Error(tag.stderr);
    webLoad = await driver.loadImage(name, 'svclab/web:latest');
    installed = await installComponents(name, real.deps, { ingressMode: 'nodeport', onStep: (e) => { log(e); if (e.id === 'components-images' && e.state === 'ok') imagesStep = e.detail ?? ''; } });
    console.log(`  components: ${(installed.totalMs / 1000).toFixed(1)} s; pool ${installed.pool.range}`);
    for (const f of ['blog.yaml', 'shop.yaml']) await kubectl(['apply', '-f', '-'], await readFile(join(labDir, f), 'utf8'));
    for (const d of ['blog', 'shop']) await kubectl(['rollout', 'status', `deployment/${d}`, '--timeout=180s']);
  }, 20 * 60_000);

  afterAll(async () => {
    try { await driver.delete(name); } catch { /* already gone */ }
    await rm(await tmp, { recursive: true, force: true });
  }, 5 * 60_000);

  it('loads no image: the node image preloads svclab/web:latest, Traefik and MetalLB', () => {
    expect(webLoad).toEqual({ loaded: [], present: nodes.map((n) => n.name) });
    expect(imagesStep).toBe(`3 images already in all ${nodes.length} nodes (node image)`);
  });

  it('installs IngressClass traefik as the default class, and the controller answers 404 until an Ingress exists', async () => {
    const ic = JSON.parse(await kubectl(['get', 'ingressclass', 'traefik', '-o', 'json'])) as { metadata: { annotations: Record<string, string> } };
    expect(ic.metadata.annotations['ingressclass.kubernetes.io/is-default-class']).toBe('true');
    expect((await viaNodePort('blog.svclab.test')).status).toBe(404);
  });

  it('routes two hosts by the Host header through 127.0.0.1:<30080 mapping>', async () => {
    await kubectl(['apply', '-f', '-'], await readFile(join(labDir, '..', 'solution', 'ingress.yaml'), 'utf8'));
    const blog = await until('blog routed', 60, async () => { const r = await viaNodePort('blog.svclab.test'); return r.status === 200 ? r : undefined; });
    expect(blog.body).toContain('Welcome to the blog');
    const shop = await viaNodePort('shop.svclab.test');
    expect(shop.status).toBe(200);
    expect(shop.body).toContain('Welcome to the shop');
    expect((await viaNodePort('nobody.svclab.test')).status).toBe(404);
  });

  it('presents the learner\'s self-signed certificate for its SNI name and Traefik\'s default for any other', async () => {
    const dir = await tmp;
    const gen = await runner.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', join(dir, 'shop.key'), '-out', join(dir, 'shop.crt'),
      '-subj', '/CN=shop.svclab.test', '-addext', 'subjectAltName=DNS:shop.svclab.test'], { timeoutMs: 30_000 });
    expect(gen.exitCode, gen.stderr).toBe(0);
    // Broken first: the Ingress names a Secret that does not exist yet, so the SNI name gets the default certificate.
    await kubectl(['apply', '-f', '-'], await readFile(join(labDir, '..', 'solution', 'ingress-tls.yaml'), 'utf8'));
    await until('TLS listener up', 60, async () => (await peerCertificate(cp.internalIP, 30443, 'shop.svclab.test')) ?? undefined);
    expect((await peerCertificate(cp.internalIP, 30443, 'shop.svclab.test')).subject).toMatch(/CN=TRAEFIK DEFAULT CERT/);
    const crt = await readFile(join(dir, 'shop.crt'), 'utf8');
    const key = await readFile(join(dir, 'shop.key'), 'utf8');
    const secret = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'shop-tls', namespace: 'default' },
      data: { 'tls.crt': Buffer.from(crt).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') } });
    await kubectl(['apply', '-f', '-'], secret);
    const served = await until('own certificate served', 60, async () => {
      const c = await peerCertificate(cp.internalIP, 30443, 'shop.svclab.test');
      return /CN=shop\.svclab\.test/.test(c.subject) ? c : undefined;
    });
    expect(served.subjectAltName).toBe('DNS:shop.svclab.test');
    expect(served.fingerprint256).toBe(new X509Certificate(crt).fingerprint256);
    expect(served.checkIssued(served)).toBe(true); // self-signed
    expect((await peerCertificate(cp.internalIP, 30443, 'unknown.svclab.test')).subject).toMatch(/CN=TRAEFIK DEFAULT CERT/);
    // and the page behind it, verified against the learner's own certificate
    const r = await runner.run(['curl', '-sS', '--max-time', '5', '--cacert', join(dir, 'shop.crt'), '--resolve', `shop.svclab.test:30443:${cp.internalIP}`, 'https://shop.svclab.test:30443/'], { timeoutMs: 10_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('Welcome to the shop');
  });

  it('gives a LoadBalancer Service an address from the pool that answers from the host', async () => {
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'shop-lb', namespace: 'default' },
      spec: { type: 'ClusterIP', selector: { app: 'shop' }, ports: [{ port: 80, targetPort: 'http' }] } }));
    // Broken first: a ClusterIP Service has no external address.
    expect(await kubectl(['get', 'svc', 'shop-lb', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])).toBe('');
    await kubectl(['patch', 'svc', 'shop-lb', '-p', '{"spec":{"type":"LoadBalancer"}}']);
    const ip = await until('EXTERNAL-IP assigned', 60, async () => (await kubectl(['get', 'svc', 'shop-lb', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])) || undefined);
    const n = parseIPv4(ip)!;
    expect(n).toBeGreaterThanOrEqual(parseIPv4(installed.pool.first)!);
    expect(n).toBeLessThanOrEqual(parseIPv4(installed.pool.last)!);
    const page = await until(`http://${ip}/ answers`, 60, async () => { const r = await curl(`http://${ip}/`); return r.status === 200 ? r : undefined; });
    expect(page.body).toContain('Welcome to the shop');
  });

  it('follows a deleted backend pod without restarting the controller', async () => {
    const controller = async () => JSON.parse(await kubectl(['-n', 'traefik', 'get', 'pods', '-l', 'app.kubernetes.io/component=controller', '-o', 'json'])) as { items: { metadata: { uid: string }; status: { containerStatuses: { restartCount: number }[] } }[] };
    const before = await controller();
    const shopPods = async () => (await kubectl(['get', 'pods', '-l', 'app=shop', '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].metadata.name}'])).split(/\s+/).filter(Boolean).sort();
    const served = async (n = 16) => {
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) { const r = await viaNodePort('shop.svclab.test'); if (r.status === 200 && r.servedBy) seen.add(r.servedBy); }
      return [...seen].sort();
    };
    const old = await shopPods();
    expect(await served()).toEqual(old);
    const victim = old[0]!;
    await kubectl(['delete', 'pod', victim, '--wait=true']);
    await kubectl(['rollout', 'status', 'deployment/shop', '--timeout=120s']);
    const now = await until('replacement pod ready and served', 90, async () => {
      const pods = await shopPods();
      if (pods.includes(victim) || pods.length !== old.length) return undefined;
      return JSON.stringify(await served()) === JSON.stringify(pods) ? pods : undefined;
    });
    expect(now).not.toContain(victim);
    const after = await controller();
    expect(after.items.map((p) => p.metadata.uid)).toEqual(before.items.map((p) => p.metadata.uid));
    expect(after.items[0]!.status.containerStatuses[0]!.restartCount).toBe(before.items[0]!.status.containerStatuses[0]!.restartCount);
  });

  it('nodeport mode: the standby hostNetwork DaemonSet runs nothing until a node is labelled svclab.io/ingress=hostnetwork, then answers on that node\'s port 80; the label removed, it goes', async () => {
    const edge = nodes.find((n) => n.role === 'worker' && n.name === `${name}-worker`)!;
    const edgePods = async () => (JSON.parse(await kubectl(['-n', 'traefik', 'get', 'pods', '-l', 'app.kubernetes.io/name=traefik,app.kubernetes.io/component=edge', '-o', 'json'])) as { items: { metadata: { deletionTimestamp?: string }; spec: { nodeName: string; hostNetwork?: boolean }; status: { podIP?: string } }[] }).items;
    const ds = JSON.parse(await kubectl(['-n', 'traefik', 'get', 'daemonset', 'traefik-edge', '-o', 'json'])) as { spec: { template: { spec: { nodeSelector: Record<string, string> } } }; status: { desiredNumberScheduled: number } };
    expect(ds.spec.template.spec.nodeSelector).toEqual({ 'svclab.io/ingress': 'hostnetwork' });
    expect(ds.status.desiredNumberScheduled).toBe(0);
    expect(await edgePods()).toEqual([]);
    // Broken first: nothing listens on the edge node's port 80.
    await expect(curl(`http://${edge.internalIP}/`, ['-H', 'Host: blog.svclab.test'])).rejects.toThrow(/curl/);
    await kubectl(['label', 'node', edge.name, 'svclab.io/ingress=hostnetwork']);
    const pod = await until('traefik-edge pod on the labelled node', 90, async () => (await edgePods()).find((p) => p.spec.nodeName === edge.name && p.status.podIP));
    expect([pod.spec.hostNetwork, pod.status.podIP]).toEqual([true, edge.internalIP]);
    const blog = await until('edge node :80 answers', 90, async () => { const r = await curl(`http://${edge.internalIP}/`, ['-H', 'Host: blog.svclab.test']).catch(() => undefined); return r?.status === 200 ? r : undefined; });
    expect(blog.body).toContain('Welcome to the blog');
    // The proxy's connections leave from the node's network: the backend sees a node address, not a pod's.
    console.log(`  blog page via ${edge.internalIP}: ${/client: ([^<]+)/.exec(blog.body)?.[1]}`);
    // The NodePort Deployment goes on serving, side by side.
    expect((await viaNodePort('blog.svclab.test')).status).toBe(200);
    await kubectl(['label', 'node', edge.name, 'svclab.io/ingress-']);
    await until('traefik-edge pod gone', 90, async () => ((await edgePods()).length === 0 ? true : undefined));
    await until('edge node :80 closed', 30, async () => (await curl(`http://${edge.internalIP}/`).then(() => undefined, () => true)));
  });

  it('daemonset mode: the controller runs only on the tainted edge node, in its network, answering on its port 80 and the host\'s 80/443 mappings', async () => {
    const viaHost80 = () => curl(`http://shop.svclab.test:${port80}/`, ['--resolve', `shop.svclab.test:${port80}:127.0.0.1`]);
    // Broken first: in nodeport mode nothing listens on the edge node's port 80, which the host's 80 mapping reaches.
    await expect(viaHost80()).rejects.toThrow(/curl/);
    const r = await installComponents(name, real.deps, { ingressMode: 'daemonset' });
    expect(r.edgeNodes).toEqual([`${name}-worker`]);
    const edge = nodes.find((n) => n.name === r.edgeNodes[0])!;
    const taints = await kubectl(['get', 'node', edge.name, '-o', 'jsonpath={.spec.taints}']);
    expect(taints).toContain('"key":"svclab.io/edge"');
    const pods = JSON.parse(await kubectl(['-n', 'traefik', 'get', 'pods', '-l', 'app.kubernetes.io/name=traefik,app.kubernetes.io/component=edge', '-o', 'json'])) as { items: { spec: { nodeName: string; hostNetwork?: boolean } }[] };
    expect(pods.items.map((p) => [p.spec.nodeName, p.spec.hostNetwork])).toEqual([[edge.name, true]]);
    // The NodePort Deployment is gone: 30080 no longer answers.
    await until('nodeport controller gone', 60, async () => (await viaNodePort('shop.svclab.test').then((x) => x.status, () => 0)) !== 200 ? true : undefined);
    const page = await until('edge :80 answers', 60, async () => {
      const x = await curl(`http://shop.svclab.test/`, ['--resolve', `shop.svclab.test:80:${edge.internalIP}`]);
      return x.status === 200 ? x : undefined;
    });
    expect(page.body).toContain('Welcome to the shop');
    // kind maps the host's 80/443 to the edge node (not the control plane): the learner's browser reaches the controller.
    const host80 = await until('host 80 mapping answers', 60, async () => { const x = await viaHost80(); return x.status === 200 ? x : undefined; });
    expect(host80.body).toContain('Welcome to the shop');
    const host443 = await runner.run(['curl', '-sS', '-k', '--max-time', '5', '--resolve', `shop.svclab.test:${port443}:127.0.0.1`, `https://shop.svclab.test:${port443}/`], { timeoutMs: 10_000 });
    expect(host443.exitCode, host443.stderr).toBe(0);
    expect(host443.stdout).toContain('Welcome to the shop');
    const other = nodes.find((n) => n.role === 'worker' && n.name !== edge.name)!;
    await expect(curl(`http://${other.internalIP}/`)).rejects.toThrow(/curl/);
  });
});
