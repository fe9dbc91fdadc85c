import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ClusterPool, type PoolDeps, type WaitInfo } from '../../src/pool/cluster-pool.ts';
import { poolSizing } from '../../src/pool/pool-size.ts';

const GiB = 1024 ** 3;

/** Provisioning that finishes when the test says so; a clock the test moves. */
function harness(opts: { size: number; recycleOk?: boolean; healthy?: boolean; existing?: { name: string; state: 'running' | 'broken' }[] }) {
  let now = 0;
  const pending: { name: string; done: () => void; fail: (e: unknown) => void }[] = [];
  const deleted: string[] = [];
  const recycled: string[] = [];
  const deps: PoolDeps = {
    driver: {
      list: async () => (opts.existing ?? []).map((c) => ({ name: c.name, state: c.state, ports: [], dockerLabels: { containers: {}, networks: {} } })),
      delete: async (name) => { deleted.push(name); },
    },
    provision: (name, signal) => new Promise<void>((resolve, reject) => {
      pending.push({ name, done: resolve, fail: reject });
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    }),
    recycle: async (name) => { recycled.push(name); return opts.recycleOk ?? true; },
    healthy: async () => opts.healthy ?? true,
    logger: pino({ level: 'silent' }),
    now: () => now,
  };
  const pool = new ClusterPool(deps, { size: opts.size, provisionEstimateMs: 60_000 });
  const tick = () => new Promise((r) => setImmediate(r));
  return {
    pool, pending, deleted, recycled,
    advance: (ms: number) => { now += ms; },
    /** Finish the oldest provisioning after `ms` of clock. */
    async finish(ms = 60_000) { now += ms; pending.shift()!.done(); for (let i = 0; i < 5; i++) await tick(); },
    tick,
  };
}

describe('ClusterPool', () => {
  it('fills to K one cluster at a time, and a claim of a ready cluster is immediate', async () => {
    const h = harness({ size: 2 });
    await h.pool.start();
    expect(h.pending.map((p) => p.name)).toEqual(['svclab-pool-1']); // one at a time on 2 cores
    await h.finish();
    expect(h.pending.map((p) => p.name)).toEqual(['svclab-pool-2']);
    await h.finish();
    expect(h.pool.snapshot().clusters.map((c) => c.state)).toEqual(['ready', 'ready']);
    expect(await h.pool.claim('alice')).toBe('svclab-pool-1');
    // The same learner's next lab reuses their cluster.
    expect(await h.pool.claim('alice')).toBe('svclab-pool-1');
    expect(await h.pool.claim('bob')).toBe('svclab-pool-2');
    expect(h.pool.snapshot().clusters.map((c) => [c.state, c.owner])).toEqual([['claimed', 'alice'], ['claimed', 'bob']]);
  });

  it('makes a learner wait in line with an estimate from measured provisioning, never a raw error', async () => {
    const h = harness({ size: 2 });
    await h.pool.start();
    const waits: WaitInfo[] = [];
    const claim = h.pool.claim('carol', { onWait: (w) => waits.push(w) });
    await h.tick();
    expect(waits.at(-1)).toEqual({ position: 1, etaSeconds: 60 }); // the estimate until one is measured
    h.advance(20_000);
    expect(h.pool.waitInfo('carol')).toEqual({ position: 1, etaSeconds: 40 });
    const second = h.pool.claim('dave');
    await h.tick();
    expect(h.pool.waitInfo('dave')).toEqual({ position: 2, etaSeconds: 100 }); // the one after: +1 provisioning
    await h.finish(10_000);
    expect(await claim).toBe('svclab-pool-1');
    await h.finish(90_000);
    expect(await second).toBe('svclab-pool-2');
    // Both in use: a third learner waits with no estimate (someone must finish first).
    const third = h.pool.claim('erin');
    await h.tick();
    expect(h.pool.waitInfo('erin')).toEqual({ position: 1 });
    await h.pool.release('carol');
    expect(await third).toBe('svclab-pool-1');
    expect(h.recycled).toEqual(['svclab-pool-1']);
  });

  it('deletes and replaces a cluster that cannot be trusted after use (recycle fails, or a root node shell was opened)', async () => {
    const h = harness({ size: 1, recycleOk: false });
    await h.pool.start();
    await h.finish();
    await h.pool.claim('alice');
    await h.pool.release('alice');
    expect(h.deleted).toEqual(['svclab-pool-1']);
    expect(h.pending.map((p) => p.name)).toEqual(['svclab-pool-1']); // refilling

    const t = harness({ size: 1, recycleOk: true });
    await t.pool.start();
    await t.finish();
    await t.pool.claim('bob');
    t.pool.taint('bob');
    await t.pool.release('bob');
    expect(t.recycled).toEqual([]);
    expect(t.deleted).toEqual(['svclab-pool-1']);
  });

  it('replaces a ready cluster that fails its health probe instead of handing it out', async () => {
    const h = harness({ size: 1, healthy: false });
    await h.pool.start();
    await h.finish();
    const c = h.pool.claim('alice');
    await h.tick();
    expect(h.deleted).toEqual(['svclab-pool-1']);
    expect(h.pool.waitInfo('alice')?.position).toBe(1);
    void c.catch(() => undefined);
    await h.pool.close();
    await expect(c).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });

  it('adopts running pool clusters that verify, deletes broken ones, and stops cleanly', async () => {
    const h = harness({ size: 2, existing: [{ name: 'svclab-pool-1', state: 'running' }, { name: 'svclab-pool-2', state: 'broken' }, { name: 'svclab-main', state: 'running' }] });
    await h.pool.start();
    expect(h.recycled).toEqual(['svclab-pool-1']);
    expect(h.deleted).toEqual(['svclab-pool-2']);
    expect(h.pool.snapshot().clusters.map((c) => [c.name, c.state])).toEqual([['svclab-pool-1', 'ready'], ['svclab-pool-2', 'provisioning']]);
    await h.pool.close(); // the provisioning in flight is aborted
    await h.pool.settled();
    expect(h.pool.snapshot().clusters.map((c) => c.name)).toEqual(['svclab-pool-1']);
    await expect(h.pool.claim('x')).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });

  it('gives waiters the error after repeated provisioning failures', async () => {
    const h = harness({ size: 1 });
    await h.pool.start();
    const c = h.pool.claim('alice');
    c.catch(() => undefined);
    for (let i = 0; i < 3; i++) { h.pending.shift()!.fail(new Error(`boom ${i}`)); await h.tick(); await h.tick(); }
    await expect(c).rejects.toMatchObject({ code: 'CLUSTER_FAILED' });
  });
});

describe('pool sizing', () => {
  it('derives K from the memory budget and refuses more with the numbers', () => {
    expect(poolSizing({ requested: 'auto', totalMemBytes: 24 * GiB, cpus: 2 })).toMatchObject({ size: 8, max: 9 });
    expect(poolSizing({ requested: 'auto', totalMemBytes: 64 * GiB, cpus: 1 })).toMatchObject({ size: 4 });
    expect(poolSizing({ requested: 3, totalMemBytes: 24 * GiB, cpus: 2 })).toMatchObject({ size: 3 });
    expect(() => poolSizing({ requested: 12, totalMemBytes: 24 * GiB, cpus: 2 })).toThrow(/12 clusters need about 15\.0 GiB .*budget is 12\.0 GiB .*enough for 9/);
    try { poolSizing({ requested: 12, totalMemBytes: 24 * GiB, cpus: 2 }); } catch (e) { expect(e).toMatchObject({ code: 'POOL_TOO_BIG', hint: expect.stringContaining('--pool 9') }); }
    expect(poolSizing({ requested: 'auto', totalMemBytes: 24 * GiB, cpus: 2, budgetGiB: 2 })).toMatchObject({ size: 1, max: 1 });
    expect(() => poolSizing({ requested: 'auto', totalMemBytes: 24 * GiB, cpus: 2, budgetGiB: 1 })).toThrow(/enough for 0/);
    expect(() => poolSizing({ requested: 0, totalMemBytes: 24 * GiB, cpus: 2 })).toThrow(/whole number/);
    expect(() => poolSizing({ requested: 2, totalMemBytes: 24 * GiB, cpus: 2, budgetGiB: 64 })).toThrow(/not possible/);
  });

  it('discards a failed cluster: deleted, replaced, and its learners wait ahead of new arrivals in the order they were moved', async () => {
    const h = harness({ size: 2 });
    await h.pool.start();
    await h.finish();
    await h.finish();
    expect(await h.pool.claim('ana')).toBe('svclab-pool-1');
    expect(await h.pool.claim('bo')).toBe('svclab-pool-2');
    expect(h.pool.claimed()).toEqual([{ name: 'svclab-pool-1', owner: 'ana' }, { name: 'svclab-pool-2', owner: 'bo' }]);
    const cy = h.pool.claim('cy'); // waiting first
    await h.tick();
    expect(h.pool.discard('bo')).toBe('svclab-pool-2');
    expect(h.pool.discard('nobody')).toBeUndefined();
    await h.tick();
    expect(h.deleted).toEqual(['svclab-pool-2']);
    const bo = h.pool.claim('bo');
    expect(h.pool.discard('ana')).toBe('svclab-pool-1');
    await h.tick();
    const ana = h.pool.claim('ana');
    await h.tick();
    expect([h.pool.waitInfo('bo')?.position, h.pool.waitInfo('ana')?.position, h.pool.waitInfo('cy')?.position]).toEqual([1, 2, 3]);
    await h.finish();
    expect(await bo).toMatch(/^svclab-pool-/);
    await h.finish();
    expect(await ana).toMatch(/^svclab-pool-/);
    expect(h.pool.waitInfo('cy')).toEqual({ position: 1 });
    await h.pool.release('ana');
    expect(await cy).toMatch(/^svclab-pool-/);
  });
});
