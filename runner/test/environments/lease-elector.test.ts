import { describe, expect, it } from 'vitest';
import { FakeKubeObjects } from '../../src/kube-store/fake-kube-objects.ts';
import { LeaseElector, microTime } from '../../src/environments/lease-elector.ts';

function clock(start = Date.parse('2026-12-02T05:00:00.000Z')) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('LeaseElector', () => {
  it('one replica holds the lease and renews it; the other waits until it expires, then takes it', async () => {
    const objects = new FakeKubeObjects();
    const c = clock();
    const a = new LeaseElector({ objects, name: 'ws-reserve', identity: 'runner-a', durationMs: 15_000, now: c.now });
    const b = new LeaseElector({ objects, name: 'ws-reserve', identity: 'runner-b', durationMs: 15_000, now: c.now });
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    c.t += 10_000;
    expect(await a.tryAcquire()).toBe(true);
    c.t += 10_000;
    // a renewed 10 s ago: still a's.
    expect(await b.tryAcquire()).toBe(false);
    c.t += 6_000;
    expect(await b.tryAcquire()).toBe(true);
    expect(await a.tryAcquire()).toBe(false);
    const lease = (await objects.get('leases', 'ws-reserve'))!;
    expect(lease.spec).toMatchObject({ holderIdentity: 'runner-b', leaseDurationSeconds: 15, leaseTransitions: 1, renewTime: '2026-12-02T05:00:26.000000Z' });
  });

  it('a replica that stops gives the lease up, so the other takes it at once', async () => {
    const objects = new FakeKubeObjects();
    const c = clock();
    const a = new LeaseElector({ objects, name: 'l', identity: 'a', now: c.now });
    const b = new LeaseElector({ objects, name: 'l', identity: 'b', now: c.now });
    expect(await a.tryAcquire()).toBe(true);
    await b.release(); // not b's: nothing happens
    expect(await b.tryAcquire()).toBe(false);
    await a.release();
    expect(await b.tryAcquire()).toBe(true);
  });

  it('of replicas taking a missing or expired lease at once, exactly one wins', async () => {
    for (const start of ['missing', 'expired'] as const) {
      const objects = new FakeKubeObjects();
      const c = clock();
      if (start === 'expired') {
        await new LeaseElector({ objects, name: 'l', identity: 'old', now: c.now }).tryAcquire();
        c.t += 60_000;
      }
      const electors = ['a', 'b', 'c', 'd'].map((identity) => new LeaseElector({ objects, name: 'l', identity, now: c.now }));
      const won = await Promise.all(electors.map((e) => e.tryAcquire()));
      expect(won.filter(Boolean), start).toHaveLength(1);
    }
  });

  it('without resourceVersion checks two replicas both take an expired lease (the race test can fail)', async () => {
    const objects = new FakeKubeObjects();
    const c = clock();
    await new LeaseElector({ objects, name: 'l', identity: 'old', now: c.now }).tryAcquire();
    c.t += 60_000;
    objects.checkResourceVersion = false;
    const won = await Promise.all(['a', 'b'].map((identity) => new LeaseElector({ objects, name: 'l', identity, now: c.now }).tryAcquire()));
    expect(won).toEqual([true, true]);
  });

  it('writes MicroTime with six fractional digits, as the API server parses it', () => {
    expect(microTime(Date.parse('2026-12-02T05:00:00.123Z'))).toBe('2026-12-02T05:00:00.123000Z');
  });
});
