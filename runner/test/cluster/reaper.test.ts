// The reaper and `down --all` on an in-memory docker + kind: what a kill -9 in
// the middle of `svclab up` leaves is found by its labels and removed.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KindDriver } from '../../src/cluster/kind-driver.ts';
import { downAll, reapLeftoverClusters } from '../../src/cluster/reaper.ts';
import { FakeDockerWorld, KIND } from './fake-docker-world.ts';

const IMAGE = 'svclab/node:0123456789abcdef';

describe('reaper', () => {
  let dir: string;
  let world: FakeDockerWorld;
  let driver: KindDriver;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'svclab-reaper-'));
    world = new FakeDockerWorld();
    world.images.set(IMAGE, 'sha256:node');
    driver = new KindDriver({
      runner: world.runner, engine: world.engine, kindPath: KIND, stateDir: dir, pollIntervalMs: 1,
      portProbe: { isFree: async () => true, ephemeral: async () => 45000 },
      freeDiskBytes: async () => 50 * 1024 ** 3,
      inotifyUsage: async () => ({ limit: 512, inUse: 10 }),
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** What kill -9 during `kind create` leaves: our network, some kind nodes, no record of success. */
  function killedMidUp(name: string) {
    world.addNetwork(name, { 'svclab.cluster': name });
    world.addContainer({ name: `${name}-control-plane`, labels: { 'io.x-k8s.kind.cluster': name, 'io.x-k8s.kind.role': 'control-plane' }, network: name });
  }

  it('on start, removes broken clusters and orphaned cluster objects but keeps running clusters and every workstation', async () => {
    await driver.create({ name: 'svclab-keep', nodeImage: IMAGE, ports: [{ containerPort: 30080 }] });
    killedMidUp('svclab-dead');
    world.addContainer({ name: 'ws-live', labels: { 'svclab.session': 'live' } });
    world.addContainer({ name: 'ws-dead', labels: { 'svclab.session': 'gone' } });
    world.addContainer({ name: 'other', labels: { 'io.x-k8s.kind.cluster': 'someone-elses' } });
    world.addNetwork('svclab-orphan-net', { 'svclab.cluster': 'svclab-orphan' });
    world.addContainer({ name: 'tools-orphan', labels: { 'svclab.cluster': 'svclab-orphan' } });
    const r = await reapLeftoverClusters({ engine: world.engine, driver });
    expect(r.clusters).toContain('svclab-dead');
    // Workstations are the session manager's to reap (SessionManager.reapOrphans).
    expect(world.containers.map((c) => c.name).sort()).toEqual(['other', 'svclab-keep-control-plane', 'svclab-keep-worker', 'svclab-keep-worker2', 'ws-dead', 'ws-live']);
    expect(world.networks.map((n) => n.name)).toEqual(['svclab-keep']);
  });

  it('down --all leaves zero svclab containers and networks after a kill -9 mid-up, and leaves others alone', async () => {
    await driver.create({ name: 'svclab-a', nodeImage: IMAGE, ports: [{ containerPort: 30080 }] });
    killedMidUp('svclab-b');
    world.addContainer({ name: 'ws', labels: { 'svclab.session': 's1', 'svclab.cluster': 'svclab-a' } });
    world.addContainer({ name: 'not-ours', labels: { 'io.x-k8s.kind.cluster': 'kind' } });
    world.addNetwork('kind', {});
    // An orphaned kind makes one more node just after the first sweep.
    let sweeps = 0;
    const r = await downAll({ engine: world.engine, driver, sleep: async () => {
      if (++sweeps === 1) world.addContainer({ name: 'svclab-b-worker', labels: { 'io.x-k8s.kind.cluster': 'svclab-b', 'io.x-k8s.kind.role': 'worker' } });
    } });
    expect(r.clusters.sort()).toEqual(['svclab-a', 'svclab-b']);
    expect(world.containers.map((c) => c.name)).toEqual(['not-ours']);
    expect(world.networks.map((n) => n.name)).toEqual(['kind']);
    expect(sweeps).toBe(2);
  });

  it('down --all on a clean machine does one sweep and reports nothing', async () => {
    let sweeps = 0;
    const r = await downAll({ engine: world.engine, driver, sleep: async () => { sweeps++; } });
    expect(r).toEqual({ clusters: [], containers: [], networks: [] });
    expect(sweeps).toBe(0);
  });

  it('down --all limited to some clusters leaves the others alone', async () => {
    killedMidUp('svclab-mine');
    killedMidUp('svclab-theirs');
    world.addContainer({ name: 'ws-theirs', labels: { 'svclab.session': 's', 'svclab.cluster': 'svclab-theirs' } });
    await downAll({ engine: world.engine, driver, sleep: async () => {} }, { only: (c) => c === 'svclab-mine' });
    expect(world.containers.map((c) => c.name).sort()).toEqual(['svclab-theirs-control-plane', 'ws-theirs']);
    expect(world.networks.map((n) => n.name)).toEqual(['svclab-theirs']);
  });

  it("down --all removes learners' home volumes, only those of its clusters when limited", async () => {
    killedMidUp('svclab-mine');
    world.volumes.push(
      { name: 'svclab-home-a', labels: { 'svclab.session': 'a', 'svclab.role': 'home', 'svclab.cluster': 'svclab-mine' } },
      { name: 'svclab-home-b', labels: { 'svclab.session': 'b', 'svclab.role': 'home', 'svclab.cluster': 'svclab-theirs' } },
      { name: 'not-svclab', labels: {} },
    );
    const r = await downAll({ engine: world.engine, driver, sleep: async () => {} }, { only: (c) => c === 'svclab-mine' });
    expect(r.volumes).toEqual(['svclab-home-a']);
    expect(world.volumes.map((v) => v.name)).toEqual(['svclab-home-b', 'not-svclab']);
    await downAll({ engine: world.engine, driver, sleep: async () => {} });
    expect(world.volumes.map((v) => v.name)).toEqual(['not-svclab']);
  });

  it('leaves workstation containers alone', async () => {
    world.addContainer({ name: 'ws-other-runner', labels: { 'svclab.session': 'x' } });
    killedMidUp('svclab-dead2');
    const r = await reapLeftoverClusters({ engine: world.engine, driver });
    expect(r.clusters).toEqual(['svclab-dead2']);
    expect(world.containers.map((c) => c.name)).toEqual(['ws-other-runner']);
  });
});
