// Extending one learner: the instructor gives one learner more time (their own end, later than
// the room's); a learner can't (403), and the sweep ends only those whose place is over.
import { afterEach, describe, expect, it } from 'vitest';
import { endExpiredSessions } from '../../src/workshop/live-sessions.ts';
import { workshopApp } from './workshop-app.ts';

let t: Awaited<ReturnType<typeof workshopApp>> | undefined;
afterEach(async () => { await t?.close(); t = undefined; });

const MIN = 60_000;

describe('extending one learner', () => {
  it('a learner calling extend (for themselves or everyone) gets 403 and nothing moves', async () => {
    t = await workshopApp();
    const ana = await t.join('Ana');
    await ana.startLab();
    const id = (await t.workshop.learners())[0]!.id;
    const before = (await ana.as({ url: '/api/workshop/me' })).json().workshop.expiresAt;
    for (const payload of [{ learner: id.slice(0, 6), minutes: 60 }, { learner: id, minutes: 60 }, { all: true, minutes: 60 }]) {
      const r = await ana.as({ method: 'POST', url: '/api/instructor/extend', payload });
      expect([r.statusCode, r.json().error.code]).toEqual([403, 'INSTRUCTOR_ONLY']);
    }
    const wide = await ana.as({ method: 'POST', url: '/api/workshop/extend', payload: { minutes: 60 } });
    expect([wide.statusCode, wide.json().error.code]).toEqual([403, 'INSTRUCTOR_ONLY']);
    expect((await ana.as({ url: '/api/workshop/me' })).json().workshop.expiresAt).toBe(before);
    expect(t.workshop.times(id).expiresAt).toBe(before);
  });

  it('the instructor extends one learner by the id the page lists: their end moves, the room\'s and others\' stay', async () => {
    t = await workshopApp();
    const ana = await t.join('Ana');
    const bo = await t.join('Bo', '10.0.0.3');
    await ana.startLab();
    await bo.startLab();
    const [a] = (await t.workshop.learners()).filter((l) => l.name === 'Ana');
    const room = t.workshop.expiresAt;
    const snap = (await t.instructor({ url: '/api/instructor/snapshot' })).json();
    const row = snap.labs[0].rows.find((r: { name: string }) => r.name === 'Ana');
    const r = await t.instructor({ method: 'POST', url: '/api/instructor/extend', payload: { learner: row.learner, minutes: 20 } });
    expect([r.statusCode, r.json()]).toEqual([200, { affected: 1 }]);
    expect(t.workshop.expiresAt).toBe(room);
    const anaMe = (await ana.as({ url: '/api/workshop/me' })).json().workshop;
    const boMe = (await bo.as({ url: '/api/workshop/me' })).json().workshop;
    expect(Date.parse(anaMe.expiresAt) - room).toBe(20 * MIN);
    expect(Date.parse(boMe.expiresAt)).toBe(room);
    // The instructor's grid shows each learner's own end.
    const after = (await t.instructor({ url: '/api/instructor/snapshot' })).json().labs[0].rows;
    expect(Object.fromEntries(after.map((x: { name: string; expiresAt: string }) => [x.name, Date.parse(x.expiresAt) - room]))).toEqual({ Ana: 20 * MIN, Bo: 0 });
    // Extending again adds to their own end.
    await t.instructor({ method: 'POST', url: '/api/instructor/extend', payload: { learner: a!.id, minutes: 10 } });
    expect(Date.parse(t.workshop.times(a!.id).expiresAt) - room).toBe(30 * MIN);

    // Past the room's end: Bo's pass stops and his session ends in the sweep; Ana works on.
    t.clock.advance(room - t.clock.now() + MIN);
    expect((await bo.as({ url: '/api/workshop/me' })).json().error.code).toBe('WORKSHOP_ENDED');
    const anaNow = (await ana.as({ url: '/api/workshop/me' })).json();
    expect(anaNow.workshop).toMatchObject({ ended: false, endingSoon: false });
    const ended = await endExpiredSessions(t.workshop, t.sessions);
    expect(ended).toHaveLength(1);
    expect(t.sessions.list().map((s) => s.learner)).toEqual([a!.id]);
    // Five minutes before her own end, her page is warned.
    t.clock.advance(26 * MIN);
    expect((await ana.as({ url: '/api/workshop/me' })).json().workshop).toMatchObject({ endingSoon: true, ended: false });
  });

  it('an unknown learner is a 400 with the hint; `svclab workshop end` ends an extended learner too', async () => {
    t = await workshopApp();
    const ana = await t.join('Ana');
    await ana.startLab();
    const bad = await t.instructor({ method: 'POST', url: '/api/instructor/extend', payload: { learner: 'nobody', minutes: 5 } });
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'BAD_REQUEST']);
    expect(bad.json().error.message).toContain('nobody');
    const id = (await t.workshop.learners())[0]!.id;
    await t.instructor({ method: 'POST', url: '/api/instructor/extend', payload: { learner: id, minutes: 60 } });
    await t.instructor({ method: 'POST', url: '/api/workshop/end' });
    expect((await ana.as({ url: '/api/workshop/me' })).json().error.code).toBe('WORKSHOP_ENDED');
    const again = await t.instructor({ method: 'POST', url: '/api/instructor/extend', payload: { learner: id, minutes: 5 } });
    expect([again.statusCode, again.json().error.code]).toEqual([410, 'WORKSHOP_ENDED']);
  });
});
