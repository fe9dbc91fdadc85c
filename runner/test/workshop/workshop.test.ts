import { describe, expect, it } from 'vitest';
import { JoinLimiter } from '../../src/workshop/join-limiter.ts';
import { safeEqual, signLearnerCredential, verifyLearnerCredential } from '../../src/workshop/learner-credential.ts';
import { CREDENTIAL_TTL_MS, parseDuration, Workshop } from '../../src/workshop/workshop.ts';
import { MemoryWorkshopStore } from '../../src/workshop/workshop-store.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

async function workshop(o: { capacity?: number; code?: string } = {}) {
  const c = clock();
  const store = new MemoryWorkshopStore();
  const w = await Workshop.create({ store, now: c.now }, { labs: ['02-selectors-and-endpoints'], capacity: o.capacity ?? 3, reserve: 1, durationMs: 2 * 3600_000, code: o.code ?? 'KUBE42' });
  return { w, store, c };
}

describe('Workshop', () => {
  it('makes an instructor secret unrelated to the code, and a random code when none is given', async () => {
    const { w } = await workshop();
    expect(w.code).toBe('KUBE42');
    expect(w.instructorSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(w.instructorSecret).not.toContain('KUBE42');
    expect(w.isInstructor(w.instructorSecret)).toBe(true);
    expect(w.isInstructor('KUBE42')).toBe(false);
    expect(w.isInstructor(undefined)).toBe(false);
    const r = await Workshop.create({ store: new MemoryWorkshopStore() }, { labs: ['a'], capacity: 1, reserve: 0, durationMs: 1000 });
    expect(r.code).toMatch(/^[A-Z2-9]{8}$/);
  });

  it('refuses bad options with what and why', async () => {
    const store = new MemoryWorkshopStore();
    await expect(Workshop.create({ store }, { labs: [], capacity: 1, reserve: 0, durationMs: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(Workshop.create({ store }, { labs: ['a'], capacity: 2, reserve: 3, durationMs: 1 })).rejects.toMatchObject({ message: expect.stringContaining('--reserve 3') });
    await expect(Workshop.create({ store }, { labs: ['a'], capacity: 2, reserve: 0, durationMs: 1, code: 'a b' })).rejects.toMatchObject({ message: expect.stringContaining('--code') });
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(() => parseDuration('soon')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('joins with the right code (any case), gives a pass naming the learner, and keeps their place on a second join', async () => {
    const { w } = await workshop();
    const a = await w.join({ code: 'kube42', name: 'Ana', address: '10.0.0.2' });
    expect(a.learner).toMatchObject({ name: 'Ana', nodeShells: false });
    expect((await w.learnerFrom(a.credential)).id).toBe(a.learner.id);
    const again = await w.join({ code: 'KUBE42', name: 'Ana P.', address: '10.0.0.2', existing: a.credential });
    expect(again.learner.id).toBe(a.learner.id);
    expect((await w.learners()).map((l) => l.name)).toEqual(['Ana P.']);
  });

  it('is full at capacity, with a clear error', async () => {
    const { w } = await workshop({ capacity: 2 });
    await w.join({ code: 'KUBE42', name: 'A', address: 'x' });
    await w.join({ code: 'KUBE42', name: 'B', address: 'x' });
    await expect(w.join({ code: 'KUBE42', name: 'C', address: 'x' })).rejects.toMatchObject({ code: 'WORKSHOP_FULL', httpStatus: 409, message: expect.stringContaining('all 2 places') });
  });

  it('rate-limits wrong codes per address and states the wait; the right code waits too; other addresses are not affected', async () => {
    const { w, c } = await workshop();
    const errors: string[] = [];
    for (let i = 0; i < 5; i++) errors.push(await w.join({ code: 'WRONG', name: 'M', address: '10.0.0.9' }).then(() => 'joined', (e: { code: string }) => e.code));
    expect(errors).toEqual(['CODE_WRONG', 'CODE_WRONG', 'CODE_WRONG', 'CODE_WRONG', 'JOIN_RATE_LIMITED']);
    await expect(w.join({ code: 'KUBE42', name: 'M', address: '10.0.0.9' })).rejects.toMatchObject({ code: 'JOIN_RATE_LIMITED', httpStatus: 429, message: expect.stringMatching(/wait 30 seconds/) });
    await expect(w.join({ code: 'KUBE42', name: 'N', address: '10.0.0.10' })).resolves.toMatchObject({ learner: { name: 'N' } });
    c.advance(31_000);
    await expect(w.join({ code: 'KUBE42', name: 'M', address: '10.0.0.9' })).resolves.toMatchObject({ learner: { name: 'M' } });
  });

  it('refuses a forged, foreign or expired pass, and every pass once the workshop ended; extend reopens it', async () => {
    const { w, c } = await workshop();
    const { credential, learner } = await w.join({ code: 'KUBE42', name: 'Ana', address: 'x' });
    const [payload] = credential.split('.');
    const forged = `${Buffer.from(JSON.stringify({ w: w.id, l: 'someone-else', e: c.now() + 1e9 })).toString('base64url')}.${credential.split('.')[1]}`;
    await expect(w.learnerFrom(forged)).rejects.toMatchObject({ code: 'CREDENTIAL_INVALID', details: { reason: 'forged' } });
    await expect(w.learnerFrom(`${payload}.AAAA`)).rejects.toMatchObject({ details: { reason: 'forged' } });
    const other = await workshop();
    await expect(other.w.learnerFrom(credential)).rejects.toMatchObject({ code: 'CREDENTIAL_INVALID' });
    const selfSigned = signLearnerCredential('not-the-key', { w: w.id, l: learner.id, e: c.now() + 1000 });
    await expect(w.learnerFrom(selfSigned)).rejects.toMatchObject({ details: { reason: 'forged' } });
    expect(w.times()).toMatchObject({ endingSoon: false, ended: false, secondsLeft: 7200 });
    c.advance(2 * 3600_000 - 4 * 60_000);
    expect(w.times()).toMatchObject({ endingSoon: true, ended: false });
    c.advance(5 * 60_000);
    await expect(w.learnerFrom(credential)).rejects.toMatchObject({ code: 'WORKSHOP_ENDED' });
    await expect(w.join({ code: 'KUBE42', name: 'B', address: 'y' })).rejects.toMatchObject({ code: 'WORKSHOP_ENDED' });
    await w.extend(30 * 60_000);
    await expect(w.learnerFrom(credential)).resolves.toMatchObject({ id: learner.id });
    await w.end();
    await expect(w.learnerFrom(credential)).rejects.toMatchObject({ code: 'WORKSHOP_ENDED' });
  });

  it('a pass expires after its time even while the workshop runs', async () => {
    const c = clock();
    const w = await Workshop.create({ store: new MemoryWorkshopStore(), now: c.now }, { labs: ['a'], capacity: 1, reserve: 0, durationMs: 3 * CREDENTIAL_TTL_MS });
    const { credential } = await w.join({ code: w.code, name: 'A', address: 'x' });
    c.advance(CREDENTIAL_TTL_MS + 1);
    await expect(w.learnerFrom(credential)).rejects.toMatchObject({ code: 'CREDENTIAL_INVALID', details: { reason: 'expired' } });
  });

  it('keeps progress, editor text and applied YAML per learner and lab (solved-with-help is not overwritten by a pass)', async () => {
    const { w } = await workshop();
    await w.recordProgress('l1', 'lab', 's1', 'solved-with-help');
    await w.recordProgress('l1', 'lab', 's1', 'passed');
    await w.recordProgress('l1', 'lab', 's2', 'passed');
    await w.saveEditor('l1', 'lab', 'svc.yaml', 'kind: Service');
    await w.recordApplied('l1', 'lab', 'a: 1');
    await w.recordApplied('l1', 'lab', 'a: 1');
    await w.recordApplied('l1', 'lab', 'b: 2');
    const work = await w.work('l1', 'lab');
    expect(work.progress.s1?.status).toBe('solved-with-help');
    expect(Object.keys(work.progress)).toEqual(['s1', 's2']);
    expect(work.editor).toEqual({ 'svc.yaml': 'kind: Service' });
    expect(work.applied).toEqual(['a: 1', 'b: 2']);
    expect((await w.work('l2', 'lab')).applied).toEqual([]);
  });
});

describe('learner credential and compare', () => {
  it('round-trips and refuses a changed payload', () => {
    const v = signLearnerCredential('k', { w: 'w1', l: 'l1', e: 10 });
    expect(verifyLearnerCredential('k', 'w1', v, 5)).toEqual({ ok: true, claims: { w: 'w1', l: 'l1', e: 10 } });
    expect(verifyLearnerCredential('k', 'w1', v, 10)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyLearnerCredential('k', 'w2', v, 5)).toEqual({ ok: false, reason: 'other-workshop' });
    expect(verifyLearnerCredential('k', 'w1', 'garbage', 5)).toEqual({ ok: false, reason: 'malformed' });
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });

  it('the limiter doubles the wait per lockout, capped, and forgets old addresses beyond its bound', () => {
    const l = new JoinLimiter({ freeTries: 2, baseWaitMs: 1000, maxWaitMs: 3000, maxAddresses: 2 });
    expect(l.failed('a', 0)).toBe(0);
    expect(l.failed('a', 0)).toBe(1000);
    expect(l.failed('a', 1000)).toBe(0);
    expect(l.failed('a', 1000)).toBe(2000);
    expect(l.failed('a', 3000)).toBe(0);
    expect(l.failed('a', 3000)).toBe(3000);
    l.failed('b', 0);
    l.failed('c', 0);
    expect(l.waitMs('a', 3000)).toBe(0); // dropped: the oldest of three
  });
});
