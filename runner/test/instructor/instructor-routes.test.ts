// The instructor routes through app.inject (and one real socket for the event stream): the
// grid and failing checks follow learners' Checks, the gate refuses steps past it on the
// server, controls act, exports hold the rows, and a learner gets 403 on every instructor route.
import { afterEach, describe, expect, it } from 'vitest';
import { instructorSnapshot, type InstructorSnapshot } from '../../src/api/instructor.ts';
import { routes } from '../../src/api/routes.ts';
import type { RoomWorkshop } from '../../src/instructor/room.ts';
import { auth, failing, instructorApp, LAB, pluginWithLearners } from './instructor-fixtures.ts';

let close: (() => Promise<void>) | undefined;
afterEach(async () => { await close?.(); close = undefined; });
async function app(...args: Parameters<typeof instructorApp>) {
  const a = await instructorApp(...args);
  close = () => a.app.close();
  return a;
}

describe('instructor snapshot', () => {
  it('shows each learner × step as not started / working / passed / solved with help, and the failing checks with their messages', async () => {
    const t = await app();
    const ada = await t.start('ada-learner-1');
    const bob = await t.start('bob-learner-2');
    const cyd = await t.start('cyd-learner-3');
    expect((await t.check(ada, 'observe')).json().passed).toBe(true);
    expect((await t.post(`/api/sessions/${bob}/steps/observe/solve`, undefined)).statusCode).toBe(200);
    t.answers.set('observe', failing('Service web selects app=web; no pod has that label'));
    await t.check(cyd, 'observe');
    t.answers.set('label-the-pods', failing('pod web-1 has no label role'));
    await t.check(ada, 'label-the-pods');

    const snap = instructorSnapshot.parse(await t.snapshot());
    const grid = snap.labs.find((g) => g.labId === LAB)!;
    expect(grid.steps.map((s) => s.id)).toEqual(['observe', 'label-the-pods', 'fix-the-port']);
    const states = Object.fromEntries(grid.rows.map((r) => [r.name, r.cells.map((c) => c.state)]));
    expect(states).toEqual({
      'ada-le': ['passed', 'working', 'not-started'],
      'bob-le': ['solved-with-help', 'working', 'not-started'],
      'cyd-le': ['working', 'not-started', 'not-started'],
    });
    const ada1 = grid.rows.find((r) => r.name === 'ada-le')!.cells[1]!;
    expect(ada1).toMatchObject({ attempts: 1, failing: 1 });
    expect(snap.failing.map((f) => [f.stepId, f.learners, f.of, f.messages[0]!.message])).toEqual([
      ['label-the-pods', 1, 1, 'pod web-1 has no label role'],
      ['observe', 1, 1, 'Service web selects app=web; no pod has that label'],
    ]);
    // A learner who fixes it drops out of the failing list.
    t.answers.delete('observe');
    await t.check(cyd, 'observe');
    expect(instructorSnapshot.parse(await t.snapshot()).failing.map((f) => f.stepId)).toEqual(['label-the-pods']);
  });
});

describe('gating', () => {
  it('refuses a Check or Solve past the gate on the server with a clear error, and opens it on unlock', async () => {
    const t = await app();
    const id = await t.start('ada-learner-1');
    expect((await t.post('/api/instructor/gate', { labId: LAB, open: 1 })).json()).toEqual({ affected: 1 });
    expect((await t.check(id, 'observe')).statusCode).toBe(200);
    const locked = await t.check(id, 'label-the-pods');
    expect(locked.statusCode).toBe(403);
    expect(locked.json().error).toMatchObject({ code: 'STEP_LOCKED', message: expect.stringContaining('Step 2 (“label the pods”) is not open yet'), hint: expect.stringContaining('instructor') });
    const solve = await t.post(`/api/sessions/${id}/steps/fix-the-port/solve`, undefined);
    expect(solve.json().error.code).toBe('STEP_LOCKED');
    expect(instructorSnapshot.parse(await t.snapshot()).labs[0]!.open).toBe(1);
    // Unlock the next step for everyone.
    await t.post('/api/instructor/gate', { labId: LAB, open: 2 });
    expect((await t.check(id, 'label-the-pods')).statusCode).toBe(200);
    expect((await t.check(id, 'fix-the-port')).json().error.code).toBe('STEP_LOCKED');
    await t.post('/api/instructor/gate', { labId: LAB, open: null });
    expect((await t.check(id, 'fix-the-port')).statusCode).toBe(200);
    expect(instructorSnapshot.parse(await t.snapshot()).labs[0]!.open).toBeNull();
  });

  it('refuses a gate past the last step or on an unknown lab', async () => {
    const t = await app();
    expect((await t.post('/api/instructor/gate', { labId: LAB, open: 4 })).json().error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('has 3 steps') });
    expect((await t.post('/api/instructor/gate', { labId: '99-nope', open: 1 })).json().error.code).toBe('LAB_UNKNOWN');
  });
});

describe('who may call the instructor routes', () => {
  it('answers a learner 403 INSTRUCTOR_ONLY on every /api/instructor route (before reading the body), and lets them read the broadcast', async () => {
    const t = await pluginWithLearners();
    close = t.close;
    const learner = { 'x-test-learner': 'ada-learner-1' };
    const instructorRoutes = Object.values(routes).filter((r) => r.url.startsWith('/api/instructor/'));
    expect(instructorRoutes.length).toBeGreaterThanOrEqual(8);
    for (const r of instructorRoutes) {
      const res = await t.app.inject({ method: r.method, url: r.url, headers: learner, ...(r.method === 'POST' ? { payload: {} } : {}) });
      expect([r.url, res.statusCode, res.json().error.code]).toEqual([r.url, 403, 'INSTRUCTOR_ONLY']);
    }
    // The instructor passes the same guard.
    expect((await t.app.inject({ url: '/api/instructor/snapshot' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/api/instructor/broadcast', payload: { message: 'Break until 11:00' } })).json()).toEqual({ affected: 0 });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (t.app.server.address() as { port: number }).port;
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/api/broadcast`, { headers: { ...learner, accept: 'text/event-stream' }, signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    while (!/event: broadcast\ndata: .*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    expect(text).toMatch(/event: broadcast\ndata: \{"message":"Break until 11:00","at":"[^"]+"\}/);
  });
});

describe('controls', () => {
  it('ends one learner (their sessions) or everyone, and refuses a body that names nobody', async () => {
    const t = await app();
    await t.start('ada-learner-1');
    await t.start('bob-learner-2');
    expect((await t.post('/api/instructor/end', {})).json().error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('name one learner') });
    expect((await t.post('/api/instructor/end', { learner: 'ada-le' })).json()).toEqual({ affected: 1 });
    expect(t.sessions.list().map((s) => s.learner)).toEqual(['bob-learner-2']);
    expect((await t.post('/api/instructor/end', { learner: 'nobody1' })).json().error.code).toBe('BAD_REQUEST');
    expect((await t.post('/api/instructor/end', { all: true })).json()).toEqual({ affected: 1 });
    expect(t.sessions.list()).toEqual([]);
  });

  it('extends only in a workshop (NOT_A_WORKSHOP otherwise), through the workshop', async () => {
    const plain = await app();
    const r = await plain.post('/api/instructor/extend', { all: true, minutes: 15 });
    expect([r.statusCode, r.json().error.code]).toEqual([409, 'NOT_A_WORKSHOP']);
    await plain.app.close();
    const calls: unknown[] = [];
    const workshop: RoomWorkshop = {
      labs: [LAB], names: async () => new Map([['ada-learner-1', 'Ada']]), expiresAt: () => '2026-12-02T05:00:00.000Z',
      extend: async (target, minutes) => { calls.push([target, minutes]); return 3; },
    };
    const t = await app({ workshop });
    await t.start('ada-learner-1');
    expect((await t.post('/api/instructor/extend', { learner: 'ada-learner-1', minutes: 10 })).json()).toEqual({ affected: 3 });
    expect(calls).toEqual([[{ learner: 'ada-learner-1' }, 10]]);
    const snap = instructorSnapshot.parse(await t.snapshot());
    expect(snap.workshop).toBe(true);
    expect(snap.labs[0]!.rows[0]).toMatchObject({ name: 'Ada', expiresAt: '2026-12-02T05:00:00.000Z' });
    expect((await t.post('/api/instructor/extend', { all: true, minutes: 0 })).statusCode).toBe(400);
  });

  it("resets a learner's lab: the lab's reset runs and their progress starts over", async () => {
    const t = await app();
    const id = await t.start('ada-learner-1');
    await t.check(id, 'observe');
    expect(t.sessions.get(id).progress.size).toBe(1);
    expect((await t.post('/api/instructor/reset', { session: id })).json()).toEqual({ affected: 1 });
    expect(t.resets).toEqual([`svclab-ws-${id}`]);
    expect(t.sessions.get(id).progress.size).toBe(0);
    expect((await t.post('/api/instructor/reset', { session: 'nope1' })).json().error.code).toBe('SESSION_UNKNOWN');
  });

  it('exports the results as JSON and as CSV, one line per learner and step', async () => {
    const t = await app();
    const id = await t.start('ada-learner-1');
    await t.check(id, 'observe');
    const json = await t.inject({ url: '/api/instructor/export?format=json', headers: auth });
    expect(json.headers['content-disposition']).toMatch(/attachment; filename="svclab-results-\d{4}-\d\d-\d\d\.json"/);
    expect(json.json().labs[0].learners[0]).toMatchObject({ learner: 'ada-le', steps: { observe: { state: 'passed', attempts: 1 }, 'label-the-pods': { state: 'working' } } });
    const csv = await t.inject({ url: '/api/instructor/export?format=csv', headers: auth });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('lab,step_number,step,learner,name,session,state,done_at,seconds_on_step,check_attempts');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(new RegExp(`^${LAB},1,observe,ada-le,ada-le,${id},passed,\\d{4}-[^,]+,\\d+,1$`));
    expect((await t.inject({ url: '/api/instructor/export?format=xml', headers: auth })).statusCode).toBe(400);
  });

  it('refuses a broadcast over 280 characters', async () => {
    const t = await app();
    const r = await t.post('/api/instructor/broadcast', { message: 'x'.repeat(281) });
    expect([r.statusCode, r.json().error.message]).toEqual([400, expect.stringContaining('280 characters')]);
  });
});

describe('GET /api/instructor/events', () => {
  async function stream(t: Awaited<ReturnType<typeof app>>) {
    const port = await t.listen();
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/api/instructor/events`, { headers: { ...auth, accept: 'text/event-stream' }, signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    const got: InstructorSnapshot[] = [];
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const ev = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = ev.split('\n').find((l) => l.startsWith('data: '));
            if (ev.includes('event: snapshot') && data) got.push(instructorSnapshot.parse(JSON.parse(data.slice(6))));
          }
        }
      } catch { /* aborted */ }
    })();
    const until = async (ok: () => boolean, ms = 3000) => {
      const end = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > end) throw new Error(`no snapshot in ${ms} ms (got ${got.length})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    return { got, until, stop: () => ac.abort() };
  }

  it('sends a snapshot on connect, then one after a change, and coalesces a burst', async () => {
    const t = await app();
    const s = await stream(t);
    await s.until(() => s.got.length === 1);
    expect(s.got[0]!.labs).toEqual([]);
    const id = await t.start('ada-learner-1');
    await s.until(() => s.got.at(-1)!.labs[0]?.rows[0]?.state === 'ready');
    const before = s.got.length;
    // A burst: 30 Checks as fast as the app takes them.
    t.answers.set('observe', failing('not yet'));
    await Promise.all(Array.from({ length: 30 }, () => t.check(id, 'observe')));
    await s.until(() => s.got.at(-1)!.labs[0]?.rows[0]?.cells[0]?.attempts === 30);
    expect(s.got.length - before).toBeLessThan(10);
    // Snapshots are at least ~250 ms apart after the first of a burst.
    const seqs = s.got.map((g) => g.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    s.stop();
  });
});

describe('event stream routes asked without Accept: text/event-stream', () => {
  it('answer 400 saying what to send instead of hanging', async () => {
    const t = await app();
    for (const url of ['/api/instructor/events', '/api/broadcast']) {
      const r = await t.inject({ url, headers: auth });
      expect([r.statusCode, r.json().error.code, r.json().error.hint]).toEqual([400, 'BAD_REQUEST', expect.stringContaining('Accept: text/event-stream')]);
    }
  });
});
