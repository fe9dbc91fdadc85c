// Two runner replicas sharing their sessions (a Kubernetes install): a session started on
// replica A is served by replica B — its page's requests and its terminal — as if B had
// started it; B never serves an unknown id, and End lab forgets the session everywhere.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ServerFrame } from '../../src/api/terminal-protocol.ts';
import type { SharedSessionRecord, SharedSessions } from '../../src/sessions/session-manager.ts';
import { SessionMover } from '../../src/workshop/session-mover.ts';
import { pino } from 'pino';
import { fakeApp, TEST_TOKEN } from '../support/fake-app.ts';

const auth = { authorization: `Bearer ${TEST_TOKEN}` };
const LAB = '02-selectors-and-endpoints';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** The shared records as the API server would keep them (one map), and how often each replica looked. */
function sharedRecords() {
  const records = new Map<string, SharedSessionRecord>();
  const loads: string[] = [];
  const shared: SharedSessions = {
    save: async (s) => { records.set(s.id, { id: s.id, labId: s.labId, learner: s.learner, createdAt: s.createdAt, workstation: s.workstation, cluster: 'env-1', progress: [...s.progress] }); },
    load: async (id) => {
      loads.push(id);
      await new Promise((r) => setTimeout(r, 5));
      return records.get(id);
    },
    drop: async (s) => records.delete(s.id),
  };
  return { records, loads, shared };
}

describe('sessions shared by runner replicas', () => {
  it("replica B serves a session replica A started: same id, same cluster, progress kept; an unknown id is still 404", async () => {
    const { records, loads, shared } = sharedRecords();
    const a = await fakeApp({}, { shared, newId: () => 'abc123' });
    const b = await fakeApp({}, { shared, newId: () => 'zzz999' });
    const started = await a.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { labId: LAB } });
    expect(started.statusCode).toBe(201);
    expect(records.get('abc123')).toMatchObject({ labId: LAB, cluster: 'env-1' });
    await a.app.inject({ method: 'POST', url: '/api/sessions/abc123/steps/observe/check', headers: auth, payload: {} });
    await shared.save(a.sessions.get('abc123')); // as the replica records progress with the learner's work

    // Two requests at once on B: one lookup, one session.
    const [r1, r2] = await Promise.all([0, 1].map(() => b.app.inject({ url: '/api/sessions/abc123', headers: auth })));
    expect(r1!.statusCode).toBe(200);
    expect(r2!.json()).toEqual(r1!.json());
    expect(r1!.json().session).toMatchObject({ id: 'abc123', state: 'ready', cluster: 'env-1' });
    expect(loads).toEqual(['abc123']);
    expect([...b.sessions.get('abc123').progress.keys()]).toEqual(['observe']);
    // B made nothing of its own: the session is A's, not a new start.
    expect(b.engine.containers.size).toBe(0);

    const unknown = await b.app.inject({ url: '/api/sessions/nothere1', headers: auth });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('SESSION_UNKNOWN');
  });

  it("replica B's terminal WebSocket opens on A's session (taken over before the upgrade)", async () => {
    const { shared } = sharedRecords();
    const a = await fakeApp({}, { shared, newId: () => 'abc123' });
    const b = await fakeApp({}, { shared });
    await a.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { labId: LAB } });
    await b.app.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => b.app.close());
    const port = (b.app.server.address() as { port: number }).port;
    const origin = `http://127.0.0.1:${port}`;
    b.setOrigins([origin]);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/sessions/abc123/terminal?token=${TEST_TOKEN}`, { origin });
    const frames: ServerFrame[] = [];
    ws.on('message', (m) => frames.push(JSON.parse(m.toString()) as ServerFrame));
    await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
    ws.send(JSON.stringify({ type: 'hello', since: 0, cols: 80, rows: 24 }));
    ws.send(JSON.stringify({ type: 'data', data: 'echo hello\r' }));
    const deadline = Date.now() + 5_000;
    const text = () => frames.filter((f) => f.type === 'data').map((f) => (f as { data: string }).data).join('');
    while (!text().includes('hello\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(frames.filter((f) => f.type === 'error')).toEqual([]);
    expect(text()).toContain('hello\r\n');
    expect(b.ptys.spawned[0]?.spawnedArgv).toEqual(expect.arrayContaining(['exec', 'svclab-ws-abc123']));
    ws.close();
  });

  it('End lab on B forgets the session everywhere; a replica stopping does not', async () => {
    const { records, shared } = sharedRecords();
    const a = await fakeApp({}, { shared, newId: () => 'abc123' });
    const b = await fakeApp({}, { shared });
    await a.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { labId: LAB } });
    // A stops (its pod deleted): its sessions go from its memory, not from the shared records.
    await a.sessions.closeAll();
    expect(records.has('abc123')).toBe(true);
    expect((await b.app.inject({ url: '/api/sessions/abc123', headers: auth })).statusCode).toBe(200);
    expect((await b.app.inject({ method: 'DELETE', url: '/api/sessions/abc123', headers: auth })).statusCode).toBe(204);
    expect(records.has('abc123')).toBe(false);
    const c = await fakeApp({}, { shared });
    expect((await c.app.inject({ url: '/api/sessions/abc123', headers: auth })).statusCode).toBe(404);
  });

  it('a session both replicas hold is moved once when its cluster fails, not twice', async () => {
    const { records, shared } = sharedRecords();
    const a = await fakeApp({}, { shared, newId: () => 'abc123' });
    let n = 0;
    const b = await fakeApp({}, { shared, newId: () => `new${++n}` });
    await a.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { labId: LAB } });
    expect((await b.app.inject({ url: '/api/sessions/abc123', headers: auth })).statusCode).toBe(200);
    const learner = a.sessions.get('abc123').learner;
    const mover = (t: typeof a) => new SessionMover({ sessions: t.sessions, pool: { discard: () => undefined }, logger: pino({ level: 'silent' }) });
    // Both replicas' cluster watches see the failure; B's mover runs first.
    const fromB = await mover(b).move(learner, 'env-1');
    const fromA = await mover(a).move(learner, 'env-1');
    expect(fromB.map((m) => m.from)).toEqual(['abc123']);
    expect(fromA).toEqual([]);
    expect(a.sessions.list().map((x) => x.id)).toEqual([]);
    expect(b.sessions.list().map((x) => x.id)).toEqual(['new1']);
    await b.sessions.get('new1').ready;
    expect([...records.keys()]).toEqual(['new1']);
  });
});
