// Real tier: what a new svclab cluster holds before anyone loads anything, and what
// its nodes answer. One 3-node cluster (KindDriver, the current node image):
// - svclab's own images (Traefik, MetalLB, svclab/web:latest) are in every node's
//   containerd with docker's image ids, so loading them again copies nothing;
// - CoreDNS answers cluster names and REFUSES anything else, from a pod's own
//   resolv.conf (nothing reaches docker's resolver or the host's);
// - a node shell (`docker exec <node> bash -l`, as the runner's node:<node> terminal
//   does) has the debug tools the labs name: iptables-save, nft, conntrack, ipvsadm,
//   tcpdump.
// Runs when docker answers and the kind binary, node image, web image and addon
// artifacts are current; otherwise prints one SKIP line.

import { nodeAdminKubectl } from '../../src/cluster/node-shell.ts';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { isRunnerError } from '../../src/errors.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { defaultCacheDir, defaultImagesDir, imageRef } from '../../src/images/images.ts';
import { formatStepEvent } from '../../src/cluster/bring-up-steps.ts';
import { type NodeInfo } from '../../src/cluster/cluster-driver.ts';
import { kindBinary, nodeImageRef } from '../../src/cluster/cluster-tools.ts';
import { KindDriver } from '../../src/cluster/kind-driver.ts';
import { componentsDeps } from '../../src/addons/install.ts';
import { nodeToolsPod } from '../support/node-tools-pod.ts';

const runner = new ExecaRunner();
const engine = new DockerEngine({ runner, queryTimeoutMs: 15_000 });
const imagesDeps = { runner, engine, imagesDir: defaultImagesDir(), cacheDir: defaultCacheDir() };

const real = await (async (): Promise<{ skip: string } | { driver: KindDriver; nodeImage: string; web: string; addonImages: { ref: string; id: string }[] }> => {
  try {
    await engine.info();
  } catch (e) {
    return { skip: isRunnerError(e) ? `${e.code}: ${e.message}` : String(e) };
  }
  try {
    const driver = new KindDriver({ runner, engine, kindPath: await kindBinary(imagesDeps), stateDir: `${defaultCacheDir()}/clusters` });
    const deps = componentsDeps(imagesDeps, driver);
    const addonImages: { ref: string; id: string }[] = [];
    for (const a of ['traefik', 'metallb']) {
      for (const line of (await readFile(join(await deps.artifactDir(a), 'images.txt'), 'utf8')).split('\n').filter(Boolean)) {
        const [ref = '', id = ''] = line.split(/\s+/);
        addonImages.push({ ref, id });
      }
    }
    return { driver, nodeImage: await nodeImageRef(imagesDeps), web: await imageRef(imagesDeps, 'web'), addonImages };
  } catch (e) {
    return { skip: isRunnerError(e) ? `${e.code}: ${e.message} (run \`svclab images build\`)` : String(e) };
  }
})();
if ('skip' in real) console.log(`SKIP node image (real): ${real.skip}`);

describe.skipIf('skip' in real)('a new cluster from the node image', () => {
  if ('skip' in real) return;
  const name = `svclab-img-${randomBytes(2).toString('hex')}`;
  const driver = real.driver;
  let nodes: NodeInfo[] = [];
  let cp = '';

  const kubectl = async (args: string[], input?: string) => {
    const r = await nodeAdminKubectl(driver, name).run(args, { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  /** As the runner's node:<node> terminal: a login bash in the node container. */
  const nodeShell = (node: string, script: string) => driver.execOnNode(name, node, ['bash', '-lc', script], { timeoutMs: 60_000 });

  beforeAll(async () => {
    const log = (e: Parameters<typeof formatStepEvent>[0]) => { if (e.state !== 'running') console.log(`  ${formatStepEvent(e)}`); };
    await driver.create({ name, workers: 2, proxyMode: 'iptables', nodeImage: real.nodeImage }, { onStep: log });
    nodes = await driver.nodes(name);
    cp = nodes[0]!.name;
  }, 20 * 60_000);

  afterAll(async () => {
    try { await driver.delete(name); } catch { /* already gone */ }
  }, 5 * 60_000);

  it('holds Traefik, MetalLB and svclab/web:latest in every node, with the ids docker has', async () => {
    const webId = (await runner.run(['docker', 'image', 'inspect', '--format', '{{.Id}}', real.web], { timeoutMs: 30_000 })).stdout.trim();
    expect(webId).toMatch(/^sha256:/);
    for (const img of [...real.addonImages, { ref: 'svclab/web:latest', id: webId }]) {
      expect(await driver.nodesWithoutImage(name, img.ref, img.id), img.ref).toEqual([]);
    }
    // Pinned like kubeadm's images: kubelet's image GC never removes them.
    const r = await driver.execOnNode(name, nodes[2]!.name, ['ctr', '--namespace=k8s.io', 'images', 'ls', 'name==docker.io/svclab/web:latest'], { timeoutMs: 30_000 });
    expect(r.stdout).toContain('io.cri-containerd.pinned=pinned');
  });

  it('loads nothing when asked to load the current web image again (`svclab up` after the node image)', async () => {
    const tag = await runner.run(['docker', 'tag', real.web, 'svclab/web:latest'], { timeoutMs: 30_000 });
    expect(tag.exitCode, tag.stderr).toBe(0);
    const t = Date.now();
    expect(await driver.loadImage(name, 'svclab/web:latest')).toEqual({ loaded: [], present: nodes.map((n) => n.name) });
    console.log(`  loadImage svclab/web:latest with nothing to load: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  });

  it('CoreDNS answers cluster names to a pod and REFUSES any other name instead of forwarding it', async () => {
    // A pod with the cluster's resolv.conf and the node's dig (hostPath /usr): lab images have no shell.
    const preloaded = (await driver.execOnNode(name, cp, ['cat', '/kind/images.txt'], { timeoutMs: 15_000 })).stdout;
    const pause = preloaded.split('\n').find((l) => /\/pause:/.test(l))!;
    const pod = nodeToolsPod('dns-client', 'default', pause);
    await kubectl(['apply', '-f', '-'], JSON.stringify(pod));
    await kubectl(['wait', '--for=condition=Ready', 'pod/dns-client', '--timeout=180s']);
    const dig = async (...args: string[]) => (await nodeAdminKubectl(driver, name).run(['exec', 'dns-client', '--', '/usr/bin/dig', '+time=3', '+tries=2', ...args], { timeoutMs: 60_000 })).stdout;
    const resolvConf = await kubectl(['exec', 'dns-client', '--', '/usr/bin/cat', '/etc/resolv.conf']);
    const dnsIP = (await kubectl(['-n', 'kube-system', 'get', 'service', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    expect(resolvConf).toContain(`nameserver ${dnsIP}`);

    expect((await dig('+short', 'kubernetes.default.svc.cluster.local')).trim()).toBe('10.96.0.1');
    expect((await dig('+short', '+search', 'kubernetes.default')).trim()).toBe('10.96.0.1');
    expect(await dig('-x', '10.96.0.1')).toMatch(/PTR\s+kubernetes\.default\.svc\.cluster\.local\./);
    for (const outside of ['example.com', `${name}-worker`, 'deb.debian.org']) {
      const out = await dig(outside);
      expect(out, outside).toMatch(/status: REFUSED/);
      expect(out, outside).toMatch(/ANSWER: 0,/);
    }
  });

  it('node shells have the debug tools: iptables-save (KUBE-SERVICES), nft, conntrack, ipvsadm, tcpdump', async () => {
    for (const n of nodes) {
      const ipt = await nodeShell(n.name, 'iptables-save -t nat | grep -c "^-A KUBE-SERVICES"');
      expect(ipt.exitCode, `${n.name}: ${ipt.stderr}`).toBe(0);
      expect(Number(ipt.stdout.trim()), n.name).toBeGreaterThan(0);
      const nft = await nodeShell(n.name, 'nft list ruleset');
      expect(nft.exitCode, `${n.name}: ${nft.stderr}`).toBe(0);
      expect(nft.stdout).toMatch(/table ip nat/);
      // conntrack reads the kernel's table through netlink; where the sandbox denies that, it says so.
      const ct = await nodeShell(n.name, 'conntrack -L 2>&1 >/dev/null | tail -1; echo "exit ${PIPESTATUS[0]}"');
      expect(ct.stdout, n.name).toMatch(/conntrack v[\d.]+ \(conntrack-tools\): \d+ flow entries have been shown\.|Operation not permitted|Permission denied/);
      for (const tool of ['ipvsadm', 'tcpdump', 'conntrack', 'iptables', 'nft', 'crictl', 'dig', 'curl']) {
        const r = await nodeShell(n.name, `command -v ${tool}`);
        expect(r.exitCode, `${n.name}: ${tool} missing`).toBe(0);
      }
      const ipvs = await nodeShell(n.name, 'ipvsadm -Ln 2>&1; true');
      // Without the ip_vs module (these hosts) ipvsadm says so; with it, it prints its table header.
      expect(ipvs.stdout, n.name).toMatch(/IP Virtual Server version|Can't initialize ipvs|Protocol not available|modprobe/);
      const td = await nodeShell(n.name, 'tcpdump --version');
      expect(td.stdout + td.stderr).toMatch(/tcpdump version/);
    }
  });
});
