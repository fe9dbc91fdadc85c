// Lab 11 step 4 (load-balancer) against recorded states: the learner notes the
// controller's LoadBalancer address and the script fetches the shop over HTTPS on
// port 443 of that address, verifying against ~/tls/shop.crt. A ClusterIP, a node
// address or nothing noted fails; a cluster whose controller Service is still a
// NodePort says so.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labScripts, missingTools, repoRoot, unmappedExitCodes } from './lab-script-harness.ts';

const missing = missingTools(['sh', 'tr']);
if (missing.length) console.log(`SKIP lab 11 check scripts: ${missing.join(', ')} not installed on this machine`);

/** The stub curl: no request leaves the test. */
const STUB_BIN = path.join(repoRoot, 'runner/test/labs/fixtures/bin');
const LB = '172.18.255.240';
const READ = "-n traefik get service traefik -o jsonpath={.spec.type}/{.status.loadBalancer.ingress[0].ip}";

describe.skipIf(missing.length > 0)('lab 11 check scripts', () => {
  const lab = labScripts('11-ingress-and-tls');
  const run = (env: Record<string, string> = {}) =>
    lab.check('load-balancer', 'lb-address-noted', { PATH: `${path.join(lab.home, '..', 'bin')}:${STUB_BIN}:${process.env.PATH}`, SVCLAB_CURL_EXIT: '0', SVCLAB_HTTP_BODY: 'Welcome to the shop', ...env });

  it('every exit code a script uses is mapped in lab.yaml', () => {
    expect(unmappedExitCodes(lab.lab)).toEqual([]);
  });

  it('nothing noted yet fails at once; the noted LoadBalancer address and the shop on :443 pass', async () => {
    await lab.state({ [READ]: `LoadBalancer/${LB}` });
    expect(await run()).toMatchObject({ exitCode: 3, out: expect.stringContaining('answers/lb-address is missing') });
    await lab.answer('lb-address', `${LB}\n`);
    expect(await run()).toMatchObject({ exitCode: 0, out: `the controller answers on its LoadBalancer address ${LB}, port 443, with your certificate` });
  });

  it('a ClusterIP or a node address noted instead fails without echoing the right one', async () => {
    await lab.state({ [READ]: `LoadBalancer/${LB}` });
    await lab.answer('lb-address', '10.96.120.7\n');
    const r = await run();
    expect(r.exitCode).toBe(4);
    expect(r.out).not.toContain(LB);
  });

  it('the right address but TLS or the page wrong: exit 5 / 7', async () => {
    await lab.state({ [READ]: `LoadBalancer/${LB}` });
    await lab.answer('lb-address', LB);
    expect((await run({ SVCLAB_CURL_EXIT: '60' })).exitCode).toBe(5);
    expect((await run({ SVCLAB_HTTP_BODY: 'Welcome to the blog' })).exitCode).toBe(7);
  });

  it('a controller Service without an address yet, or still a NodePort, or an API that does not answer', async () => {
    await lab.answer('lb-address', LB);
    await lab.state({ [READ]: 'LoadBalancer/' });
    expect((await run()).exitCode).toBe(8);
    await lab.state({ [READ]: 'NodePort/' });
    expect((await run()).exitCode).toBe(9);
    await lab.state({ [READ]: `LoadBalancer/${LB}` }, { apiDown: true });
    expect((await run()).exitCode).toBe(10);
  });
});
