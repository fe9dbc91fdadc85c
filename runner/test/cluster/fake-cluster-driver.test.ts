import { describe, expect, it } from 'vitest';
import { FakeClusterDriver } from '../../src/cluster/fake-cluster-driver.ts';
import type { StepEvent } from '../../src/cluster/cluster-driver.ts';

describe('FakeClusterDriver', () => {
  it('fails at the chosen step, reports it, and leaves nothing behind', async () => {
    const d = new FakeClusterDriver({ failAtStep: 'wait-ready' });
    const events: StepEvent[] = [];
    await expect(d.create({ name: 'svclab-x', nodeImage: 'i' }, { onStep: (e) => events.push(e) })).rejects.toMatchObject({ code: 'CLUSTER_FAILED' });
    expect(events.at(-1)).toMatchObject({ id: 'wait-ready', state: 'failed' });
    expect(await d.list()).toEqual([]);
  });

  it('keeps an existing cluster when a create of the same name fails', async () => {
    const d = new FakeClusterDriver();
    await d.create({ name: 'svclab-x', nodeImage: 'i' });
    await expect(d.create({ name: 'svclab-x', nodeImage: 'i' })).rejects.toMatchObject({ code: 'CLUSTER_EXISTS' });
    expect((await d.list()).map((c) => c.name)).toEqual(['svclab-x']);
  });

  it('gives the second cluster other host ports, and refuses a busy explicit one', async () => {
    const d = new FakeClusterDriver({ busyHostPorts: [8443] });
    const a = await d.create({ name: 'svclab-a', nodeImage: 'i' });
    const b = await d.create({ name: 'svclab-b', nodeImage: 'i' });
    const pa = new Set(a.ports.map((p) => p.hostPort));
    expect(b.ports.some((p) => pa.has(p.hostPort))).toBe(false);
    await expect(d.create({ name: 'svclab-c', nodeImage: 'i', ports: [{ containerPort: 443, hostPort: 8443 }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('reports docker down, low disk and a missing image like KindDriver', async () => {
    await expect(new FakeClusterDriver({ dockerUp: false }).create({ name: 'svclab-a', nodeImage: 'i' })).rejects.toMatchObject({ code: 'DOCKER_DOWN' });
    await expect(new FakeClusterDriver({ freeDiskBytes: 1 }).create({ name: 'svclab-a', nodeImage: 'i' })).rejects.toMatchObject({ code: 'DISK_LOW' });
    await expect(new FakeClusterDriver({ imageExists: () => false }).create({ name: 'svclab-a', nodeImage: 'i' })).rejects.toMatchObject({ code: 'IMAGE_MISSING' });
  });

  it('records loaded images and node commands', async () => {
    const d = new FakeClusterDriver();
    await d.create({ name: 'svclab-a', nodeImage: 'i', workers: 1 });
    await d.loadImage('svclab-a', 'svclab/workstation:1');
    expect(d.loadedImages('svclab-a')).toEqual(['svclab/workstation:1']);
    await d.execOnNode('svclab-a', 'svclab-a-worker', ['true'], { timeoutMs: 1, input: 'x' });
    expect(d.execCalls).toEqual([{ cluster: 'svclab-a', node: 'svclab-a-worker', argv: ['true'], input: 'x' }]);
    await expect(d.execOnNode('svclab-a', 'svclab-a-worker2', ['true'], { timeoutMs: 1 })).rejects.toMatchObject({ code: 'CLUSTER_UNKNOWN' });
  });
});
