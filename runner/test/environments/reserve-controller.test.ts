import { describe, expect, it } from 'vitest';
import { FakeKubeObjects } from '../../src/kube-store/fake-kube-objects.ts';
import { KubeWorkshopStore } from '../../src/kube-store/kube-workshop-store.ts';
import { FakeEnvironmentRuntime } from '../../src/environments/fake-environment-runtime.ts';
import { LeaseElector } from '../../src/environments/lease-elector.ts';
import { ReserveController } from '../../src/environments/reserve-controller.ts';
import type { WorkshopRecord } from '../../src/workshop/workshop-store.ts';

const T0 = Date.parse('2026-12-02T05:00:00.000Z');
const record = (o: Partial<WorkshopRecord> = {}): WorkshopRecord => ({
  id: 'w-1', labs: ['02'], capacity: 4, reserve: 2, createdAt: T0, expiresAt: T0 + 7_200_000,
  code: 'ABCD1234', instructorSecret: 'i', credentialKey: 'k', ...o,
});

/** One runner replica: its store, its controller (its own lease identity), sharing the API and the runtime. */
function replica(objects: FakeKubeObjects, runtime: FakeEnvironmentRuntime, id: string, c: { t: number }, elector?: { tryAcquire: () => Promise<boolean>; release: () => Promise<void> }) {
  const store = new KubeWorkshopStore({ objects, name: 'ws', replica: id, now: () => c.t });
  let n = 0;
  const controller = new ReserveController({
    objects, store, runtime, now: () => c.t, newName: () => `ws-e-${id}-${++n}`,
    elector: (elector ?? new LeaseElector({ objects, name: 'ws-reserve', identity: id, now: () => c.t })) as LeaseElector,
  });
  return { store, controller };
}

async function setup(o: Partial<WorkshopRecord> = {}) {
  const objects = new FakeKubeObjects();
  const runtime = new FakeEnvironmentRuntime();
  const c = { t: T0 };
  objects.now = () => c.t;
  const a = replica(objects, runtime, 'a', c);
  await a.store.putWorkshop(record(o));
  return { objects, runtime, c, a };
}

const phases = async (s: KubeWorkshopStore) => (await s.listEnvironments()).map((e) => `${e.name}:${e.phase}${e.claim ? `:${e.claim.learnerId}` : ''}`).sort();

describe('ReserveController', () => {
  it('keeps `reserve` environments Ready: made Pending, Ready when the runtime says so, claimed, replaced', async () => {
    const { runtime, c, a } = await setup();
    const r1 = await a.controller.reconcileOnce();
    expect(r1).toMatchObject({ leader: true, target: 2, pending: 2, created: ['ws-e-a-1', 'ws-e-a-2'], errors: [] });
    expect(runtime.started).toEqual(['ws-e-a-1', 'ws-e-a-2']);
    expect(await phases(a.store)).toEqual(['ws-e-a-1:Pending', 'ws-e-a-2:Pending']);
    await a.store.addLearner({ id: 'L1', name: 'Ana', joinedAt: T0, nodeShells: false }, 4);
    expect(await a.store.claimEnvironment('L1')).toBeUndefined(); // none Ready yet

    runtime.readyAll('svclab-k8s-worker2');
    c.t += 95_000;
    expect(await a.controller.reconcileOnce()).toMatchObject({ ready: 2, pending: 0, created: [] });
    const envs = await a.store.listEnvironments();
    expect(envs.every((e) => e.phase === 'Ready' && e.node === 'svclab-k8s-worker2')).toBe(true);
    expect(a.controller.readyTimesMs).toEqual([95_000, 95_000]);

    const got = await a.store.claimEnvironment('L1', '02');
    expect(got).toMatch(/^ws-e-a-[12]$/);
    // One claimed: the reserve is made whole again.
    expect(await a.controller.reconcileOnce()).toMatchObject({ claimed: 1, ready: 1, pending: 1, created: ['ws-e-a-3'] });
  });

  it('never more than the capacity: the reserve shrinks as learners take places', async () => {
    const { runtime, a } = await setup({ capacity: 3, reserve: 2 });
    await a.controller.reconcileOnce();
    runtime.readyAll();
    await a.controller.reconcileOnce();
    for (const id of ['L1', 'L2']) {
      await a.store.addLearner({ id, name: id, joinedAt: T0, nodeShells: false }, 3);
      expect(await a.store.claimEnvironment(id)).toBeDefined();
    }
    const r = await a.controller.reconcileOnce();
    expect(r).toMatchObject({ claimed: 2, target: 1, created: ['ws-e-a-3'] });
    expect((await a.store.listEnvironments()).length).toBe(3);
  });

  it('two replicas reconciling at once: one holds the lease, the reserve is made once', async () => {
    const { objects, runtime, c, a } = await setup({ reserve: 3, capacity: 10 });
    const b = replica(objects, runtime, 'b', c);
    for (let pass = 0; pass < 3; pass++) {
      const [ra, rb] = await Promise.all([a.controller.reconcileOnce(), b.controller.reconcileOnce()]);
      expect([ra.leader, rb.leader].filter(Boolean)).toHaveLength(1);
    }
    expect(runtime.names()).toHaveLength(3);
    // The holder stops (a rolling update): the other takes over at once and keeps the same reserve.
    const holder = (await objects.get('leases', 'ws-reserve'))!.spec!['holderIdentity'] === 'a' ? a : b;
    const other = holder === a ? b : a;
    await holder.controller.stop();
    expect(await other.controller.reconcileOnce()).toMatchObject({ leader: true, created: [] });
  });

  it('without the lease the two replicas make the reserve twice (the lease test can fail)', async () => {
    const { objects, runtime, c, a } = await setup({ reserve: 3, capacity: 10 });
    const always = { tryAcquire: async () => true, release: async () => undefined };
    const a2 = replica(objects, runtime, 'a2', c, always);
    const b2 = replica(objects, runtime, 'b2', c, always);
    void a;
    await Promise.all([a2.controller.reconcileOnce(), b2.controller.reconcileOnce()]);
    expect(runtime.names().length).toBeGreaterThan(3);
  });

  it('a lost environment: unclaimed is replaced; claimed is marked Failed with the reason and kept for the learner', async () => {
    const { runtime, a } = await setup();
    await a.controller.reconcileOnce();
    runtime.readyAll();
    await a.controller.reconcileOnce();
    await a.store.addLearner({ id: 'L1', name: 'Ana', joinedAt: T0, nodeShells: false }, 4);
    const held = (await a.store.claimEnvironment('L1'))!;
    const spare = runtime.names().find((n) => n !== held)!;
    runtime.lose(held);
    runtime.fail(spare, 'pod ws-e stopped (Failed: Evicted)');
    const r = await a.controller.reconcileOnce();
    expect(r.failedClaimed).toEqual([held]);
    expect(r.removed).toEqual([spare]);
    expect(r.removedWhy).toEqual(['pod ws-e stopped (Failed: Evicted)']);
    // reserve 2, capacity 4, one claimed: two spare again.
    expect(r.created).toHaveLength(2);
    const envs = await a.store.listEnvironments();
    expect(envs.find((e) => e.name === held)).toMatchObject({ phase: 'Failed', claim: { learnerId: 'L1' } });
    expect(envs.some((e) => e.name === spare)).toBe(false);
    // A Failed environment is not handed out again: the learner gets a Ready one.
    expect(await a.store.claimEnvironment('L1')).not.toBe(held);
    // Reported once, not on every pass.
    expect((await a.controller.reconcileOnce()).failedClaimed).toEqual([]);
  });

  it('the workshop over: spare environments are removed, claimed ones stay until released', async () => {
    const { runtime, c, a } = await setup();
    await a.controller.reconcileOnce();
    runtime.readyAll();
    await a.controller.reconcileOnce();
    await a.store.addLearner({ id: 'L1', name: 'Ana', joinedAt: T0, nodeShells: false }, 4);
    const held = (await a.store.claimEnvironment('L1'))!;
    c.t = T0 + 7_200_000;
    const r = await a.controller.reconcileOnce();
    expect(r).toMatchObject({ target: 0, created: [] });
    expect(r.removed).toHaveLength(1);
    expect(runtime.names()).toEqual([held]);
    expect(await a.store.listEnvironments()).toMatchObject([{ name: held, claim: { learnerId: 'L1' } }]);
  });

  it('stops what runs without an Environment, and removes an Environment whose start was refused', async () => {
    const { runtime, a } = await setup({ reserve: 1 });
    await runtime.start({ name: 'ws-e-left-over', uid: 'u' });
    runtime.refuse.add('ws-e-a-1');
    const r = await a.controller.reconcileOnce();
    expect(r.stopped).toEqual(['ws-e-left-over']);
    expect(r.errors).toEqual(['create ws-e-a-1: pods "ws-e-a-1" is forbidden: exceeded quota']);
    expect(await a.store.listEnvironments()).toEqual([]);
    expect((await a.controller.reconcileOnce()).created).toEqual(['ws-e-a-2']);
  });

  it('removing a spare while a replica claims it: the learner never gets a removed environment', async () => {
    for (let delay = 0; delay < 12; delay++) {
      const { runtime, c, a } = await setup({ reserve: 1, capacity: 2 });
      await a.controller.reconcileOnce();
      runtime.readyAll();
      await a.controller.reconcileOnce();
      await a.store.addLearner({ id: 'L1', name: 'Ana', joinedAt: T0, nodeShells: false }, 2);
      await a.store.putWorkshop({ ...record({ reserve: 1, capacity: 2 }), endedAt: T0, expiresAt: T0 });
      c.t = T0 + 1;
      const claim = (async () => {
        for (let i = 0; i < delay; i++) await new Promise<void>((r) => setImmediate(r));
        return a.store.claimEnvironment('L1');
      })();
      const [, got] = await Promise.all([a.controller.reconcileOnce(), claim]);
      const envs = await a.store.listEnvironments();
      if (got !== undefined) {
        expect(envs.find((e) => e.name === got), `delay ${delay}`).toMatchObject({ claim: { learnerId: 'L1' } });
        expect(runtime.names(), `delay ${delay}`).toContain(got);
      }
    }
  });

  it('idle (and harmless) before the workshop exists', async () => {
    const objects = new FakeKubeObjects();
    const runtime = new FakeEnvironmentRuntime();
    const { controller } = replica(objects, runtime, 'a', { t: T0 });
    expect(await controller.reconcileOnce()).toMatchObject({ leader: true, idle: 'no Workshop ws yet', created: [] });
  });
});
