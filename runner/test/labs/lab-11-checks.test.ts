// Lab 11 step 4 (load-balancer) against recorded states: the learner's Service edge,
// a selector-less LoadBalancer whose EndpointSlice names the controller pod, and
// HTTPS on port 443 of its address verified against ~/tls/shop.crt. No Service, a
// ClusterIP, a slice naming a node's or another pod's address, fail with the cause.
// Step 5 (edge-daemonset): the labelled node runs a ready traefik-edge pod whose IP is
// the node's, and the node's own address answers on 80 (blog) and 443 (the learner's
// certificate); each way of not being there yet fails with its own exit code.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labScripts, missingTools, repoRoot, unmappedExitCodes } from './lab-script-harness.ts';

const missing = missingTools(['sh']);
if (missing.length) console.log(`SKIP lab 11 check scripts: ${missing.join(', ')} not installed on this machine`);

/** The stub curl: no request leaves the test. */
const STUB_BIN = path.join(repoRoot, 'runner/test/labs/fixtures/bin');
const LB = '172.18.255.240';
const POD = '10.244.1.7';
const SVC = 'get service edge -o jsonpath={.spec.type}/{.status.loadBalancer.ingress[0].ip}';
const CTL = '-n traefik get pods -l app.kubernetes.io/component=controller -o jsonpath={.items[0].status.podIP}';
const EPS = 'get endpointslices -l kubernetes.io/service-name=edge -o jsonpath={.items[*].endpoints[*].addresses[*]}';
const solved = (over: Record<string, string> = {}) => ({ [SVC]: `LoadBalancer/${LB}`, [CTL]: POD, [EPS]: POD, ...over });

describe.skipIf(missing.length > 0)('lab 11 check scripts', () => {
  const lab = labScripts('11-ingress-and-tls');
  const run = (env: Record<string, string> = {}) =>
    lab.check('load-balancer', 'controller-behind-lb', { PATH: `${path.join(lab.home, '..', 'bin')}:${STUB_BIN}:${process.env.PATH}`, SVCLAB_CURL_EXIT: '0', SVCLAB_HTTP_BODY: 'Welcome to the shop', ...env });

  it('every exit code a script uses is mapped in lab.yaml', () => {
    expect(unmappedExitCodes(lab.lab)).toEqual([]);
  });

  it('before the step (no Service edge) it fails; the solved state passes', async () => {
    await lab.state({ [CTL]: POD });
    expect(await run()).toMatchObject({ exitCode: 3, out: 'there is no Service edge in namespace default' });
    await lab.state(solved());
    expect(await run()).toMatchObject({ exitCode: 0, out: `the controller answers on the LoadBalancer address ${LB}, port 443, with your certificate` });
  });

  it('a ClusterIP Service, no address yet, or a slice naming a node instead of the controller pod', async () => {
    await lab.state(solved({ [SVC]: 'ClusterIP/' }));
    expect((await run()).exitCode).toBe(4);
    await lab.state(solved({ [SVC]: 'LoadBalancer/' }));
    expect((await run()).exitCode).toBe(8);
    await lab.state(solved({ [EPS]: '172.18.0.3' }));
    expect(await run()).toMatchObject({ exitCode: 6, out: `the EndpointSlices of Service edge list 172.18.0.3; the controller pod is ${POD}` });
  });

  it('the right path but TLS or the page wrong: exit 5 / 7; the API down is an error (10)', async () => {
    await lab.state(solved());
    expect((await run({ SVCLAB_CURL_EXIT: '60' })).exitCode).toBe(5);
    expect((await run({ SVCLAB_HTTP_BODY: 'Welcome to the blog' })).exitCode).toBe(7);
    await lab.state(solved(), { apiDown: true });
    expect((await run()).exitCode).toBe(10);
  });
});

const NODES = 'get nodes -l svclab.io/ingress=hostnetwork -o jsonpath={range .items[*]}{.metadata.name} {.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}';
const EDGE_PODS = '-n traefik get pods -l app.kubernetes.io/component=edge -o jsonpath={range .items[*]}{.spec.nodeName} {.metadata.name} {.status.podIP} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}';
const EDGE = 'svclab-x-worker';
const EDGE_IP = '172.18.0.3';

/**
 * curl as the node's hostNetwork Traefik would answer: Host blog.svclab.test on http://IP/ gets
 * $BLOG_BODY (exit $HTTP_EXIT), https with --cacert gets $SHOP_BODY (exit $TLS_EXIT). Each call's
 * arguments go to curl.log.
 */
const EDGE_CURL = `#!/bin/sh
printf '%s\\n' "$*" >> "$SVCLAB_FIXTURES/../curl.log"
case " $* " in
  *" https://"*) printf '%s' "$SHOP_BODY"; exit "\${TLS_EXIT:-0}" ;;
  *) printf '%s' "$BLOG_BODY"; exit "\${HTTP_EXIT:-0}" ;;
esac
`;

describe.skipIf(missing.length > 0)('lab 11 step 5 (edge-daemonset) check script', () => {
  const lab = labScripts('11-ingress-and-tls');
  const bin = () => path.join(lab.home, '..', 'bin');
  const run = async (env: Record<string, string> = {}) => {
    await writeFile(path.join(bin(), 'curl'), EDGE_CURL);
    await chmod(path.join(bin(), 'curl'), 0o755);
    return lab.check('edge-daemonset', 'controller-on-edge-node', { BLOG_BODY: 'Welcome to the blog', SHOP_BODY: 'Welcome to the shop', ...env });
  };
  const labelled = (pods: string, nodes = `${EDGE} ${EDGE_IP}\n`) => ({ [NODES]: nodes, [EDGE_PODS]: pods });
  const solved = () => labelled(`${EDGE} traefik-edge-abcde ${EDGE_IP} True\n`);

  it('before the step (no node labelled) it fails at once with exit 3; the solved state passes, asking the node\'s own address', async () => {
    await lab.state({ [NODES]: '', [EDGE_PODS]: '' });
    expect(await run()).toMatchObject({ exitCode: 3, out: 'no node carries the label svclab.io/ingress=hostnetwork' });
    const check = lab.lab.steps.at(-1)!.checks[0]!;
    expect(check.kind === 'command' && check.failures.find((f) => f.exitCode === 3)!.retry).toBe(false);
    await lab.state(solved());
    await shopCert(lab.home);
    expect(await run()).toMatchObject({ exitCode: 0, out: `traefik-edge answers on its node's own address, ports 80 and 443: pod traefik-edge-abcde on node ${EDGE} (${EDGE_IP})` });
    const calls = await readFile(path.join(lab.home, '..', 'curl.log'), 'utf8');
    expect(calls).toContain(`-H Host: blog.svclab.test http://${EDGE_IP}/`);
    expect(calls).toContain(`--resolve shop.svclab.test:443:${EDGE_IP} https://shop.svclab.test/`);
    expect(calls).toContain(`--cacert ${lab.home}/tls/shop.crt`);
  });

  it('the label on a node with no pod (the tainted control plane), a pod not ready, or a pod not in the node\'s network', async () => {
    await shopCert(lab.home);
    await lab.state(labelled('', `svclab-x-control-plane 172.18.0.2\n`));
    expect(await run()).toMatchObject({ exitCode: 4, out: 'node svclab-x-control-plane carries the label, but no traefik-edge pod runs on it' });
    // One labelled node of two without its pod is enough to fail: one pod per labelled node.
    await lab.state(labelled(`${EDGE} traefik-edge-abcde ${EDGE_IP} True\n`, `${EDGE} ${EDGE_IP}\nsvclab-x-worker2 172.18.0.4\n`));
    expect(await run()).toMatchObject({ exitCode: 4, out: 'node svclab-x-worker2 carries the label, but no traefik-edge pod runs on it' });
    await lab.state(labelled(`${EDGE} traefik-edge-abcde ${EDGE_IP} False\n`));
    expect(await run()).toMatchObject({ exitCode: 5, out: `traefik-edge pod traefik-edge-abcde on ${EDGE} is not ready yet` });
    await lab.state(labelled(`${EDGE} traefik-edge-abcde 10.244.1.9 True\n`));
    expect(await run()).toMatchObject({ exitCode: 6, out: `traefik-edge pod traefik-edge-abcde has IP 10.244.1.9, its node ${EDGE} has ${EDGE_IP}` });
  });

  it('HTTP on port 80 down or the wrong page (7, 8); the certificate refused, HTTPS down or the wrong page (11, 12, 13); no certificate file (9); the API down (10)', async () => {
    await lab.state(solved());
    expect((await run()).exitCode).toBe(9);
    await shopCert(lab.home);
    expect(await run({ HTTP_EXIT: '7' })).toMatchObject({ exitCode: 7 });
    expect((await run({ HTTP_EXIT: '7' })).out).toMatch(new RegExp(`^curl -H 'Host: blog.svclab.test' http://${EDGE_IP.replace(/\./g, '\\.')}/ failed \\(7\\)`));
    expect((await run({ BLOG_BODY: '404 page not found' })).exitCode).toBe(8);
    expect((await run({ TLS_EXIT: '60' })).exitCode).toBe(11);
    expect((await run({ TLS_EXIT: '7' })).exitCode).toBe(12);
    expect((await run({ SHOP_BODY: 'Welcome to the blog' })).exitCode).toBe(13);
    await lab.state(solved(), { apiDown: true });
    expect((await run()).exitCode).toBe(10);
  });

  it('every failure has a message and a hint in both languages', () => {
    const check = lab.lab.steps.find((s) => s.id === 'edge-daemonset')!.checks[0]!;
    if (check.kind !== 'command') throw new Error('edge-daemonset is a command check');
    expect(check.failures.map((f) => f.exitCode).sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    for (const f of check.failures) {
      expect(f.message.en && f.message.zh, `exit ${f.exitCode}`).toBeTruthy();
      if (f.status !== 'error') expect(f.hint?.en && f.hint.zh, `exit ${f.exitCode}`).toBeTruthy();
    }
  });
});

async function shopCert(home: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.join(home, 'tls'), { recursive: true });
  await writeFile(path.join(home, 'tls', 'shop.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
}
