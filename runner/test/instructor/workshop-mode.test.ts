// The instructor routes in a workshop, through the real auth: a joined learner (signed pass)
// gets 403 INSTRUCTOR_ONLY on the instructor's routes yet reads the broadcast; the instructor
// (the workshop's secret) sees learners by the names they joined with and the workshop's end.
import { afterEach, describe, expect, it } from 'vitest';
import { instructorSnapshot } from '../../src/api/instructor.ts';
import { workshopApp } from '../workshop/workshop-app.ts';

let close: (() => Promise<void>) | undefined;
afterEach(async () => { await close?.(); close = undefined; });

describe('instructor routes in a workshop', () => {
  it("refuses a learner's pass, shows the instructor the learners by name, extends everyone", async () => {
    const t = await workshopApp();
    close = t.close;
    const ada = await t.join('Ada Lovelace');
    await ada.startLab();
    for (const r of [{ method: 'GET' as const, url: '/api/instructor/snapshot' }, { method: 'POST' as const, url: '/api/instructor/gate', payload: { labId: '02-selectors-and-endpoints', open: 1 } }, { method: 'GET' as const, url: '/api/instructor/export?format=csv' }]) {
      const res = await ada.as(r);
      expect([r.url, res.statusCode, res.json().error.code]).toEqual([r.url, 403, 'INSTRUCTOR_ONLY']);
    }
    // The learner may read the broadcast (asked without the stream's Accept, it says so instead of hanging).
    expect((await ada.as({ method: 'GET', url: '/api/broadcast' })).json().error.hint).toContain('Accept: text/event-stream');

    const snap = instructorSnapshot.parse((await t.instructor({ method: 'GET', url: '/api/instructor/snapshot' })).json());
    expect(snap.workshop).toBe(true);
    await new Promise((r) => setTimeout(r, 20)); // the names are read from the workshop's store
    const again = instructorSnapshot.parse((await t.instructor({ method: 'GET', url: '/api/instructor/snapshot' })).json());
    expect(again.labs[0]!.rows.map((r) => [r.name, r.expiresAt])).toEqual([['Ada Lovelace', t.workshop.times().expiresAt]]);
    const before = t.workshop.expiresAt;
    const ext = await t.instructor({ method: 'POST', url: '/api/instructor/extend', payload: { all: true, minutes: 30 } });
    expect(ext.json()).toEqual({ affected: 1 });
    expect(t.workshop.expiresAt - before).toBe(30 * 60_000);
  });
});
