// Lab 10 step 3 against recorded states. It used to pass with the NodePort and
// ClusterIP copied from `kubectl get svc`; now it wants the node that answers ARP for
// the external IP and the MAC the workstation saw, confirmed by the neighbour table and
// MetalLB's nodeAssigned event.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labScripts, missingTools, unmappedExitCodes } from './lab-script-harness.ts';

const missing = missingTools(['sh', 'jq', 'sed']);
if (missing.length) console.log(`SKIP lab 10 check scripts: ${missing.join(', ')} not installed on this machine`);

const LB = '172.18.255.200';
const MAC = '02:42:ac:12:00:03';
const service = { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', clusterIP: '10.96.7.7', ports: [{ port: 80, nodePort: 31234 }] }, status: { loadBalancer: { ingress: [{ ip: LB }] } } };
const events = (node: string) => ({
  items: [
    { reason: 'IPAllocated', message: `Assigned IP ["${LB}"]`, lastTimestamp: '2026-11-26T02:00:00Z' },
    { reason: 'nodeAssigned', message: 'announcing from node "svclab-worker2" with protocol "layer2"', lastTimestamp: '2026-11-26T02:00:01Z' },
    { reason: 'nodeAssigned', message: `announcing from node "${node}" with protocol "layer2"`, lastTimestamp: '2026-11-26T02:05:00Z' },
  ],
});
const cluster = (node = 'svclab-worker') => ({
  'get service web -o json': service,
  'get events --field-selector involvedObject.kind=Service,involvedObject.name=web -o json': events(node),
});

describe.skipIf(missing.length > 0)('lab 10 check scripts', () => {
  const lab = labScripts('10-externalname-and-loadbalancer');
  /** Stubs for the network tools the script uses: ping and curl do nothing, ip neigh answers $SVCLAB_NEIGH. */
  const run = async (neigh = `${LB} dev eth0 lladdr ${MAC} REACHABLE`) => {
    const bin = path.join(lab.home, '..', 'net-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, 'curl'), '#!/bin/sh\nexit 0\n');
    // No real packets from a unit test: ping is a stub too.
    await writeFile(path.join(bin, 'ping'), '#!/bin/sh\nexit 0\n');
    await chmod(path.join(bin, 'ping'), 0o755);
    await writeFile(path.join(bin, 'ip'), '#!/bin/sh\n[ "$1 $2" = "neigh show" ] && printf \'%s\\n\' "$SVCLAB_NEIGH"\n');
    await chmod(path.join(bin, 'curl'), 0o755);
    await chmod(path.join(bin, 'ip'), 0o755);
    return lab.check('lb-layers', undefined, { SVCLAB_NEIGH: neigh, PATH: `${path.join(lab.home, '..', 'bin')}:${bin}:${process.env.PATH}` });
  };

  it('every exit code a script uses is mapped in lab.yaml', () => {
    expect(unmappedExitCodes(lab.lab)).toEqual([]);
  });

  it('the old way of passing, NodePort and ClusterIP copied from kubectl, now fails and says why', async () => {
    await lab.state(cluster());
    await lab.answer('lb-node', '31234\n10.96.7.7\n');
    const r = await run();
    expect(r).toMatchObject({ exitCode: 5, out: expect.stringContaining('holds no MAC address') });
    const c = lab.lab.steps.find((s) => s.id === 'lb-layers')!.checks[0]!;
    expect(c.kind === 'command' && c.failures.find((f) => f.exitCode === 5)?.message.en).toMatch(/can only be observed on the network/);
  });

  it('a wrong MAC or a node MetalLB does not announce from fails', async () => {
    await lab.state(cluster());
    await lab.answer('lb-node', 'svclab-worker 02:42:ac:12:00:09\n');
    expect((await run()).exitCode).toBe(7);
    await lab.answer('lb-node', `svclab-worker2 ${MAC}\n`);
    expect(await run()).toMatchObject({ exitCode: 8, out: expect.stringContaining(`from svclab-worker`) });
  });

  it('passes when the MAC and the node agree with the neighbour table and MetalLB', async () => {
    await lab.state(cluster());
    await lab.answer('lb-node', `svclab-worker ${MAC.toUpperCase()}\n`);
    expect(await run()).toMatchObject({ exitCode: 0, out: `${LB} is announced from svclab-worker, whose MAC ${MAC} answers ARP for it` });
  });

  it('names the states it cannot judge', async () => {
    await lab.state({ 'get service web -o json': service, 'get events --field-selector involvedObject.kind=Service,involvedObject.name=web -o json': { items: [] } });
    await lab.answer('lb-node', `svclab-worker ${MAC}\n`);
    expect((await run()).exitCode).toBe(11);
    await lab.state(cluster());
    expect((await run('')).exitCode).toBe(12);
    await lab.state({ 'get service web -o json': { ...service, status: {} } });
    expect((await run()).exitCode).toBe(3);
  });
});
