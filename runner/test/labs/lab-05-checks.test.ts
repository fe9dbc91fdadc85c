// Lab 05's check scripts against recorded states. Step 1 used to accept a bare
// probability, which is 1/N for N endpoints: a learner could pass without looking at
// a node. It now also wants the KUBE-SEP chain the first rule jumps to, a hash only
// the node shows; the script recomputes kube-proxy's chain names to confirm it.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { labScripts, missingTools, unmappedExitCodes } from './lab-script-harness.ts';

const missing = missingTools(['sh', 'jq', 'awk', 'sha256sum', 'base32']);
if (missing.length) console.log(`SKIP lab 05 check scripts: ${missing.join(', ')} not installed on this machine`);

/** kube-proxy's endpoint chain name (pkg/proxy/iptables: servicePortEndpointChainName). */
function sepChain(endpoint: string): string {
  const digest = createHash('sha256').update(`default/web:httptcp${endpoint}`).digest();
  return `KUBE-SEP-${base32(digest).slice(0, 16)}`;
}
function base32(buf: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

const SLICES = 'get endpointslices -l kubernetes.io/service-name=web -o json';
const ips = ['10.244.1.4', '10.244.1.5', '10.244.2.3', '10.244.2.4'];
const slices = (addrs: string[]) => ({
  items: [{ ports: [{ name: 'http', port: 80, protocol: 'TCP' }], endpoints: addrs.map((a) => ({ addresses: [a], conditions: { ready: true } })) }],
});

describe.skipIf(missing.length > 0)('lab 05 check scripts', () => {
  const lab = labScripts('05-kube-proxy-modes');

  it('every exit code a script uses is mapped in lab.yaml', () => {
    expect(unmappedExitCodes(lab.lab)).toEqual([]);
  });

  it('the script names chains as kube-proxy does (the well-known kubernetes Service chain)', async () => {
    // KUBE-SVC-NPX46M4PTMTKRN6Y is default/kubernetes:https in every cluster; the same hash
    // with the endpoint appended names KUBE-SEP chains.
    const r = await lab.run(['sh', '-c', `printf '%s' 'default/kubernetes:httpstcp' | sha256sum | cut -c1-64`]);
    expect(createHash('sha256').update('default/kubernetes:httpstcp').digest('hex')).toBe(r.out);
    expect(base32(createHash('sha256').update('default/kubernetes:httpstcp').digest()).slice(0, 16)).toBe('NPX46M4PTMTKRN6Y');
  });

  describe('step walk-iptables', () => {
    it('the old way: the probability alone (1/N, guessable) now fails and says why', async () => {
      await lab.state({ [SLICES]: slices(ips) });
      await lab.answer('first-rule', '0.25\n');
      const r = await lab.check('walk-iptables');
      expect(r).toMatchObject({ exitCode: 8, out: expect.stringContaining('no KUBE-SEP-… chain name') });
      const failure = lab.lab.steps[0]!.checks.find((c) => c.id === 'first-rule-noted');
      expect(failure?.kind === 'command' && failure.failures.find((f) => f.exitCode === 8)?.message.en).toMatch(/can be worked out without looking/);
    });

    it('a made-up or stale chain name fails', async () => {
      await lab.state({ [SLICES]: slices(ips) });
      await lab.answer('first-rule', '0.25 KUBE-SEP-AAAAAAAAAAAAAAAA\n');
      expect((await lab.check('walk-iptables')).exitCode).toBe(9);
      // the chain of a pod that has since gone away
      await lab.answer('first-rule', `0.25 ${sepChain('10.244.9.9:80')}\n`);
      expect((await lab.check('walk-iptables')).exitCode).toBe(9);
    });

    it('passes with the first rule as iptables prints it', async () => {
      await lab.state({ [SLICES]: slices(ips) });
      await lab.answer('first-rule', `-A KUBE-SVC-2CMXP7HKUVJN7L6M -m statistic --mode random --probability 0.25000000000 -j ${sepChain('10.244.2.3:80')}\n`);
      expect(await lab.check('walk-iptables')).toMatchObject({ exitCode: 0, out: expect.stringContaining('10.244.2.3:80') });
      await lab.answer('first-rule', `0.25000000000 ${sepChain('10.244.1.4:80')}\n`);
      expect((await lab.check('walk-iptables')).exitCode).toBe(0);
    });

    it('a real chain with the wrong probability, or the last rule, fails', async () => {
      await lab.state({ [SLICES]: slices(ips) });
      await lab.answer('first-rule', `0.33333333349 ${sepChain('10.244.1.5:80')}\n`);
      expect((await lab.check('walk-iptables')).exitCode).toBe(7);
      await lab.answer('first-rule', `1 ${sepChain('10.244.1.5:80')}\n`);
      expect((await lab.check('walk-iptables')).exitCode).toBe(6);
    });

    it('the step solution (it names the chain as kube-proxy does) makes the check pass', async () => {
      await lab.state({ [SLICES]: slices(ips) });
      const step = lab.lab.steps.find((s) => s.id === 'walk-iptables')!;
      const script = (step.solution.commands ?? []).find((argv) => argv[0] === 'sh')!;
      expect((await lab.run(script)).exitCode).toBe(0);
      expect(await lab.check('walk-iptables')).toMatchObject({ exitCode: 0, out: expect.stringContaining(sepChain('10.244.1.4:80')) });
    });

    it('names the states it cannot judge', async () => {
      await lab.state({ [SLICES]: slices(ips) }, { apiDown: true });
      expect((await lab.check('walk-iptables')).exitCode).toBe(10);
      await lab.state({ [SLICES]: slices(ips) });
      expect((await lab.check('walk-iptables')).exitCode).toBe(3);
      await lab.state({ [SLICES]: slices(ips.slice(0, 1)) });
      await lab.answer('first-rule', `0.25 ${sepChain('10.244.1.4:80')}\n`);
      expect((await lab.check('walk-iptables')).exitCode).toBe(5);
    });
  });
});
