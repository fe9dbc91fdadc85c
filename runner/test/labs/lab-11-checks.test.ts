// Lab 11 step 4 (load-balancer) against recorded states: the learner's Service edge,
// a selector-less LoadBalancer whose EndpointSlice names the controller pod, and
// HTTPS on port 443 of its address verified against ~/tls/shop.crt. No Service, a
// ClusterIP, a slice naming a node's or another pod's address, fail with the cause.
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
