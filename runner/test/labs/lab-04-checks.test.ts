// Lab 04 step 3 against recorded states. It used to accept the ServiceCIDR copied from
// `kubectl get servicecidrs`: transcription. Now it wants the DNAT rule read on a node,
// whose KUBE-SEP chain name the script recomputes from hello's endpoint.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { labScripts, missingTools, unmappedExitCodes } from './lab-script-harness.ts';

const missing = missingTools(['sh', 'jq', 'awk', 'sha256sum', 'base32']);
if (missing.length) console.log(`SKIP lab 04 check scripts: ${missing.join(', ')} not installed on this machine`);

function base32(buf: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}
/** `kubectl expose pod hello --port 80` makes an unnamed port: the name is just default/hello. */
const sep = (endpoint: string, spn = 'default/hello') => `KUBE-SEP-${base32(createHash('sha256').update(`${spn}tcp${endpoint}`).digest()).slice(0, 16)}`;

const cluster = (portName?: string) => ({
  'get service hello -o json': { metadata: { name: 'hello' }, spec: { clusterIP: '10.96.200.7', ports: [{ ...(portName ? { name: portName } : {}), port: 80, protocol: 'TCP' }] } },
  'get endpointslices -l kubernetes.io/service-name=hello -o json': {
    items: [{ ports: [{ ...(portName ? { name: portName } : {}), port: 80, protocol: 'TCP' }], endpoints: [{ addresses: ['10.244.2.6'], conditions: { ready: true } }] }],
  },
});
const rule = (chain: string, dest = '10.244.2.6:80') => `-A ${chain} -p tcp -m comment --comment "default/hello" -m tcp -j DNAT --to-destination ${dest}\n`;

describe.skipIf(missing.length > 0)('lab 04 check scripts', () => {
  const lab = labScripts('04-cluster-networks');

  it('every exit code a script uses is mapped in lab.yaml', () => {
    expect(unmappedExitCodes(lab.lab)).toEqual([]);
  });

  it('the old way of passing, the ServiceCIDR copied from kubectl, now fails and says why', async () => {
    await lab.state(cluster());
    await lab.answer('dnat', '10.96.0.0/12\n');
    expect(await lab.check('service-network')).toMatchObject({ exitCode: 4, out: expect.stringContaining('it wants the DNAT rule itself') });
  });

  it('a rule with a made-up chain or another destination fails', async () => {
    await lab.state(cluster());
    await lab.answer('dnat', rule('KUBE-SEP-ABCDEFGHIJKLMNOP'));
    expect((await lab.check('service-network')).exitCode).toBe(7);
    await lab.answer('dnat', rule(sep('10.244.2.6:80'), '10.244.1.3:80'));
    expect((await lab.check('service-network')).exitCode).toBe(6);
    await lab.answer('dnat', 'KUBE-SVC-XYZ\n');
    expect((await lab.check('service-network')).exitCode).toBe(5);
  });

  it('passes with the rule as iptables prints it, for an unnamed or a named port', async () => {
    await lab.state(cluster());
    await lab.answer('dnat', rule(sep('10.244.2.6:80')));
    expect(await lab.check('service-network')).toMatchObject({ exitCode: 0, out: expect.stringContaining('rewrites hello\'s ClusterIP to 10.244.2.6:80') });
    await lab.state(cluster('http'));
    await lab.answer('dnat', rule(sep('10.244.2.6:80', 'default/hello:http')));
    expect((await lab.check('service-network')).exitCode).toBe(0);
  });

  it('the step solution (no node access: it names the chain as kube-proxy does) makes the check pass', async () => {
    await lab.state(cluster());
    const step = lab.lab.steps.find((s) => s.id === 'service-network')!;
    const script = (step.solution.commands ?? []).find((argv) => argv[0] === 'sh')!;
    expect((await lab.run(script)).exitCode).toBe(0);
    expect(await lab.check('service-network')).toMatchObject({ exitCode: 0 });
  });

  it('names the states it cannot judge yet', async () => {
    await lab.state({});
    expect((await lab.check('service-network')).exitCode).toBe(2);
    await lab.state(cluster(), { apiDown: true });
    expect((await lab.check('service-network')).exitCode).toBe(10);
    await lab.state(cluster());
    expect((await lab.check('service-network')).exitCode).toBe(3);
  });
});
