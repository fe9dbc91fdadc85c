// Lab 16's check scripts against recorded states: the conntrack lines are what
// `conntrack -L` prints on the control-plane node, handed to the scripts by the
// observed-command kind as their last argument.
import { describe, expect, it } from 'vitest';
import { labScripts, missingTools, unmappedExitCodes } from './lab-script-harness.ts';

const missing = missingTools(['sh', 'jq', 'sed', 'awk']);
if (missing.length) console.log(`SKIP lab 16 check scripts: ${missing.join(', ')} not installed on this machine`);

const table = (lines: string[]) => (lines.length ? `${lines.join('\n')}\n` : '');
const tcp = (sport: number, pod: string, state = 'ESTABLISHED') =>
  `tcp      6 86397 ${state} src=172.18.0.2 dst=10.96.16.16 sport=${sport} dport=80 src=${pod} dst=172.18.0.2 sport=80 dport=${sport} [ASSURED] mark=0 use=1`;
const webSlices = (eps: { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean }[]) => ({
  'get endpointslices -l kubernetes.io/service-name=web -o json': {
    items: [{ endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true, serving: e.serving ?? true, terminating: e.terminating ?? false } })) }],
  },
});

describe.skipIf(missing.length > 0)('lab 16 check scripts', () => {
  const lab = labScripts('16-conntrack');

  it('every exit code a script uses is mapped in lab.yaml', () => {
    expect(unmappedExitCodes(lab.lab)).toEqual([]);
  });

  it('keep-alive: one pod on one connection, several on new ones', async () => {
    const pods = { items: ['web-7d-aaaaa', 'web-7d-bbbbb', 'web-7d-ccccc'].map((n) => ({ metadata: { name: n } })) };
    await lab.state({ 'get pods -l app=web -o json': pods });
    await lab.answer('keepalive', 'X-Served-By: web-7d-aaaaa\n'.repeat(6));
    await lab.answer('fresh', 'X-Served-By: web-7d-aaaaa\n'.repeat(6));
    expect((await lab.check('keep-alive')).exitCode).toBe(9);
    await lab.answer('keepalive', 'X-Served-By: web-7d-aaaaa\nX-Served-By: web-7d-bbbbb\n'.repeat(3));
    expect((await lab.check('keep-alive')).exitCode).toBe(5);
    await lab.answer('keepalive', 'X-Served-By: web-7d-aaaaa\n'.repeat(6));
    await lab.answer('fresh', 'X-Served-By: web-7d-aaaaa\nX-Served-By: web-7d-ccccc\n'.repeat(3));
    expect((await lab.check('keep-alive')).exitCode).toBe(0);
    await lab.answer('keepalive', 'X-Served-By: web-7d-zzzzz\n'.repeat(6));
    expect((await lab.check('keep-alive')).exitCode).toBe(6);
  });

  it('conntrack entry: the noted port and pod must be a tracked connection on the control-plane node', async () => {
    const ct = table([tcp(45678, '10.244.1.5'), tcp(45990, '10.244.2.6', 'TIME_WAIT')]);
    await lab.state({ ...webSlices([{ ip: '10.244.1.5' }, { ip: '10.244.2.6' }]) });
    const run = () => lab.check('conntrack-entry', undefined, {}, ct);
    await lab.answer('conntrack', '45678 10.244.1.5\n');
    expect(await run()).toMatchObject({ exitCode: 0, out: expect.stringContaining('translated to 10.244.1.5:80 (ESTABLISHED)') });
    await lab.answer('conntrack', '45678 10.244.2.6\n');
    expect((await run()).exitCode).toBe(7);
    await lab.answer('conntrack', '41000 10.244.1.5\n');
    expect((await run()).exitCode).toBe(6);
    await lab.answer('conntrack', '10.244.1.5\n');
    expect((await run()).exitCode).toBe(4);
    await lab.answer('conntrack', '45678 10.244.9.9\n');
    expect((await run()).exitCode).toBe(5);
  });

  it('graceful termination: a terminating, still serving pod that still holds the connection', async () => {
    const pod = (deleting: boolean) => ({ metadata: { name: 'web-7d-aaaaa', ...(deleting ? { deletionTimestamp: '2026-11-26T02:00:00Z' } : {}) }, status: { podIP: '10.244.1.5' } });
    const run = (ct: string) => lab.check('graceful-termination', undefined, {}, ct);
    await lab.answer('terminating', 'web-7d-aaaaa\n');
    await lab.state({ ...webSlices([{ ip: '10.244.2.6' }]) });
    expect((await run('')).exitCode).toBe(5);
    await lab.state({ ...webSlices([{ ip: '10.244.2.6' }]), 'get pod web-7d-aaaaa -o json': pod(false) });
    expect((await run('')).exitCode).toBe(6);
    await lab.state({ 'get pod web-7d-aaaaa -o json': pod(true), ...webSlices([{ ip: '10.244.1.5', ready: false, serving: true, terminating: true }, { ip: '10.244.2.6' }]) });
    expect(await run(table([tcp(45678, '10.244.1.5')]))).toMatchObject({ exitCode: 0, out: expect.stringContaining('ready=false serving=true terminating=true') });
    expect((await run(table([tcp(45678, '10.244.1.5', 'TIME_WAIT')]))).exitCode).toBe(8);
  });

  it('stale UDP: the first pod gone, the second ready, no entry left to the first', async () => {
    const udp = (pod: string) => `udp      17 28 src=172.18.0.2 dst=10.96.16.53 sport=40053 dport=53 src=${pod} dst=172.18.0.2 sport=1053 dport=40053 mark=0 use=1`;
    const names = { 'get endpointslices -l kubernetes.io/service-name=names -o json': { items: [{ endpoints: [{ addresses: ['10.244.2.9'], conditions: { ready: true } }] }] } };
    const run = (ct: string) => lab.check('stale-udp', undefined, {}, ct);
    await lab.answer('udp', '"names-5c-aaaaa/10.244.1.8"\n"names-5c-bbbbb/10.244.2.9"\n');
    await lab.state({ ...names });
    expect(await run(table([udp('10.244.2.9')]))).toMatchObject({ exitCode: 0, out: expect.stringContaining('now reaches names-5c-bbbbb') });
    expect((await run(table([udp('10.244.1.8')]))).exitCode).toBe(8);
    await lab.state({ ...names, 'get pod names-5c-aaaaa -o json': { metadata: { name: 'names-5c-aaaaa' } } });
    expect((await run('')).exitCode).toBe(6);
    await lab.answer('udp', '"names-5c-aaaaa/10.244.1.8"\n"names-5c-aaaaa/10.244.1.8"\n');
    expect((await run('')).exitCode).toBe(5);
  });
});
