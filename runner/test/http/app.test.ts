import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ServerFrame } from '../../src/api/terminal-protocol.ts';
import { fakeApp, TEST_TOKEN } from '../support/fake-app.ts';

const auth = { authorization: `Bearer ${TEST_TOKEN}` };
let close: (() => Promise<void>) | undefined;
afterEach(async () => { await close?.(); close = undefined; });

async function startSession(t: Awaited<ReturnType<typeof fakeApp>>) {
  const r = await t.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { labId: '02-selectors-and-endpoints' } });
  expect(r.statusCode).toBe(201);
  return r.json().session.id as string;
}

describe('HTTP auth', () => {
  it('answers with the token in the header, query or cookie', async () => {
    const { app } = await fakeApp();
    expect((await app.inject({ url: '/api/health', headers: auth })).json()).toEqual({ ok: true, version: '0.0.0-test' });
    expect((await app.inject({ url: `/api/health?token=${TEST_TOKEN}` })).statusCode).toBe(200);
    // The cookie is named for the port (inject's Host is localhost:80): other local ports never get it.
    expect((await app.inject({ url: '/api/health', cookies: { svclab_token_80: TEST_TOKEN } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/health', cookies: { svclab_token: TEST_TOKEN } })).statusCode).toBe(401);
  });

  it('refuses a missing or wrong token with a catalogue error', async () => {
    const { app } = await fakeApp();
    const missing = await app.inject({ url: '/api/labs' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error).toMatchObject({ code: 'TOKEN_MISSING', hint: expect.stringContaining('npm start') });
    const wrong = await app.inject({ url: '/api/labs', headers: { authorization: 'Bearer nope' } });
    expect(wrong.json().error.code).toBe('TOKEN_WRONG');
    // Also for pages and unknown routes: nothing is served without the token.
    expect((await app.inject({ url: '/labs/02/' })).statusCode).toBe(401);
  });

  it('sets an HttpOnly SameSite cookie when a page is opened with ?token=, and reloads it without the token', async () => {
    const { app } = await fakeApp();
    const r = await app.inject({ url: `/some/page?token=${TEST_TOKEN}` });
    const cookie = r.cookies.find((c) => c.name === 'svclab_token_80');
    expect(cookie).toMatchObject({ value: TEST_TOKEN, httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('/some/page');
  });
});

describe('sessions', () => {
  it('starts a labelled, non-root, limited workstation container', async () => {
    const t = await fakeApp();
    const id = await startSession(t);
    const c = [...t.engine.containers.values()][0]!;
    expect(c.spec).toMatchObject({
      name: `svclab-ws-${id}`, image: 'svclab/workstation:abc', user: 'learner', memory: '512m', pidsLimit: 256,
      labels: { 'svclab.session': id, 'svclab.role': 'workstation', 'svclab.lab': '02-selectors-and-endpoints' },
    });
    expect(JSON.stringify(c.spec)).not.toMatch(/privileged/);
    const got = await t.app.inject({ url: `/api/sessions/${id}`, headers: auth });
    expect(got.json().session).toMatchObject({ id, state: 'ready', cluster: null });
    expect((await t.app.inject({ method: 'DELETE', url: `/api/sessions/${id}`, headers: auth })).statusCode).toBe(204);
    expect(t.engine.containers.size).toBe(0);
  });

  it('answers an unknown session, lab or body with the right error', async () => {
    const t = await fakeApp();
    const unknown = await t.app.inject({ url: '/api/sessions/doesnotexist', headers: auth });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('SESSION_UNKNOWN');
    const badId = await t.app.inject({ url: '/api/sessions/..%2Fetc', headers: auth });
    expect(badId.json().error.code).toBe('BAD_REQUEST');
    const lab = await t.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { labId: '99-nope' } });
    expect(lab.json().error.code).toBe('LAB_UNKNOWN');
    const body = await t.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { lab: 1 } });
    expect(body.statusCode).toBe(400);
    expect(body.json().error.message).toMatch(/labId/);
    expect(t.engine.containers.size).toBe(0);
  });

  it('reports a missing workstation image and leaves nothing behind', async () => {
    const t = await fakeApp();
    t.engine.images.clear();
    const r = await t.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { labId: '02-selectors-and-endpoints' } });
    expect(r.statusCode).toBeGreaterThanOrEqual(500);
    expect(r.json().error.hint).toBeTruthy();
    expect(t.sessions.list()).toHaveLength(0);
  });
});

describe('starting with a warm pool', () => {
  it('answers 202 while the learner waits in line, reports place and estimate, then ready', async () => {
    let give: ((net: string | undefined) => void) | undefined;
    const t = await fakeApp({ startWaitMs: 30 }, {
      workstationNetwork: (_s, onWait) => new Promise((resolve) => { onWait({ position: 2, etaSeconds: 75 }); give = resolve; }),
    });
    const r = await t.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { labId: '02-selectors-and-endpoints' } });
    expect(r.statusCode).toBe(202);
    const learner = r.cookies.find((c) => c.name === 'svclab_learner');
    expect(learner).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const s = r.json().session;
    expect(s).toMatchObject({ state: 'waiting', wait: { position: 2, etaSeconds: 75 }, steps: [{ id: 'claiming', state: 'pending' }, { id: 'starting', state: 'pending' }, { id: 'applying', state: 'pending' }] });
    expect(t.sessions.get(s.id).learner).toBe(learner!.value);
    // Nothing can run in a session that is not ready yet: a clear error, not a docker failure.
    const apply = await t.app.inject({ method: 'POST', url: `/api/sessions/${s.id}/apply`, headers: auth, payload: { yaml: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n' } });
    expect(apply.statusCode).toBe(409);
    expect(apply.json().error).toMatchObject({ code: 'SESSION_STARTING', message: expect.stringContaining('waiting') });
    give!(undefined);
    await t.sessions.get(s.id).ready;
    const got = (await t.app.inject({ url: `/api/sessions/${s.id}`, headers: auth })).json().session;
    expect(got).toMatchObject({ state: 'ready', steps: [{ state: 'done' }, { state: 'done' }, { state: 'done' }] });
    expect(got.wait).toBeUndefined();
    // The same browser's next lab keeps its learner id.
    const again = await t.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, cookies: { svclab_learner: learner!.value }, payload: { labId: '02-selectors-and-endpoints' } });
    expect(again.cookies.find((c) => c.name === 'svclab_learner')).toBeUndefined();
    expect(t.sessions.get(again.json().session.id).learner).toBe(learner!.value);
  });

  it('shows a late failure once, with its message and hint, then forgets the session', async () => {
    let fail: ((e: unknown) => void) | undefined;
    const { RunnerError } = await import('../../src/errors.ts');
    const t = await fakeApp({ startWaitMs: 30 }, { workstationNetwork: () => new Promise((_r, reject) => { fail = reject; }) });
    const r = await t.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { labId: '02-selectors-and-endpoints' } });
    expect(r.json().session.state).toBe('claiming');
    fail!(new RunnerError('POOL_TIMEOUT'));
    await t.sessions.get(r.json().session.id).ready.catch(() => undefined);
    const got = await t.app.inject({ url: `/api/sessions/${r.json().session.id}`, headers: auth });
    expect(got.json().session).toMatchObject({ state: 'failed', error: { code: 'POOL_TIMEOUT', hint: expect.stringContaining('Start lab') } });
    expect((await t.app.inject({ url: `/api/sessions/${r.json().session.id}`, headers: auth })).statusCode).toBe(404);
    expect(t.engine.containers.size).toBe(0);
  });
});

describe('apply', () => {
  it('marks tab indentation and duplicate keys with their line, before any cluster is involved', async () => {
    const t = await fakeApp();
    const id = await startSession(t);
    const tab = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/apply`, headers: auth, payload: { yaml: 'apiVersion: v1\nkind: Service\nmetadata:\n\tname: x\n' } });
    expect(tab.statusCode).toBe(400);
    expect(tab.json().error).toMatchObject({ code: 'YAML_INVALID', details: { line: 4 } });
    expect(tab.json().error.hint).toMatch(/tabs/);
    const dup = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/apply`, headers: auth, payload: { yaml: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  name: y\n' } });
    expect(dup.json().error).toMatchObject({ code: 'YAML_INVALID', details: { line: 5 } });
    const noKind = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/apply`, headers: auth, payload: { yaml: 'apiVersion: v1\nmetadata:\n  name: x\n' } });
    expect(noKind.json().error.message).toMatch(/kind/);
  });

  it('answers valid YAML with NO_CLUSTER while there is no cluster', async () => {
    const t = await fakeApp();
    const id = await startSession(t);
    const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/apply`, headers: auth, payload: { yaml: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n' } });
    expect(r.statusCode).toBe(409);
    expect(r.json().error).toMatchObject({ code: 'NO_CLUSTER', hint: expect.stringContaining('svclab up') });
  });
});

describe('live objects (editor diff)', () => {
  it('checks the YAML first, then needs a cluster', async () => {
    const t = await fakeApp();
    const id = await startSession(t);
    const bad = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/live`, headers: auth, payload: { yaml: 'apiVersion: v1\nkind: Service\nmetadata:\n\tname: x\n' } });
    expect(bad.json().error).toMatchObject({ code: 'YAML_INVALID', details: { line: 4 } });
    const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/live`, headers: auth, payload: { yaml: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n' } });
    expect(r.statusCode).toBe(409);
    expect(r.json().error.code).toBe('NO_CLUSTER');
  });
});

describe('terminal WebSocket', () => {
  async function listen() {
    const t = await fakeApp();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (t.app.server.address() as { port: number }).port;
    const origin = `http://127.0.0.1:${port}`;
    t.setOrigins([origin, 'http://localhost:80']); // the WebSocket's, and inject()'s
    close = () => t.app.close();
    const id = await startSession(t);
    return { ...t, port, origin, id };
  }

  function connect(port: number, id: string, opts: { origin?: string; token?: string } = {}) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/sessions/${id}/terminal?token=${opts.token ?? TEST_TOKEN}`, { origin: opts.origin });
    const frames: ServerFrame[] = [];
    ws.on('message', (m) => frames.push(JSON.parse(m.toString()) as ServerFrame));
    const opened = new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('unexpected-response', (_req, r) => rej(new Error(`HTTP ${r.statusCode}`))); ws.once('error', rej); });
    const closed = new Promise<number>((res) => ws.once('close', (code) => res(code)));
    return { ws, frames, opened, closed, send: (f: unknown) => ws.send(typeof f === 'string' ? f : JSON.stringify(f)) };
  }

  async function until(cond: () => boolean) {
    const end = Date.now() + 3000;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  const text = (frames: ServerFrame[]) => frames.flatMap((f) => (f.type === 'data' ? [f.data] : [])).join('');

  it('refuses an upgrade from another origin with 403 and without a token with 401', async () => {
    const { port, id, origin } = await listen();
    await expect(connect(port, id, { origin: 'http://evil.example' }).opened).rejects.toThrow('HTTP 403');
    await expect(connect(port, id, { origin, token: 'wrong' }).opened).rejects.toThrow('HTTP 401');
  });

  it('runs `docker exec` into the session workstation and echoes what is typed', async () => {
    const { port, id, origin, ptys } = await listen();
    const c = connect(port, id, { origin });
    await c.opened;
    c.send({ type: 'hello', since: 0, cols: 100, rows: 30 });
    c.send({ type: 'data', data: 'echo hello\r' });
    await until(() => text(c.frames).includes('hello\r\n'));
    expect(ptys.spawned[0]?.spawnedArgv).toEqual(expect.arrayContaining(['exec', `svclab-ws-${id}`, 'bash', '-l']));
    expect(ptys.spawned[0]?.spawnedArgv).toEqual(expect.arrayContaining(['--user', 'learner']));
  });

  it('answers bad frames with error frames and keeps the connection', async () => {
    const { port, id, origin } = await listen();
    const c = connect(port, id, { origin });
    await c.opened;
    c.send({ type: 'data', data: 'x' });
    c.send('not json');
    c.send({ type: 'launch' });
    c.send({ type: 'hello', since: 0, cols: 100000, rows: 30 });
    c.send({ type: 'hello', since: 0, cols: 80, rows: 24 });
    c.send({ type: 'resize', cols: 0, rows: 24 });
    c.send({ type: 'ping', t: 42 });
    await until(() => c.frames.some((f) => f.type === 'pong'));
    const errors = c.frames.filter((f) => f.type === 'error');
    expect(errors.map((e) => e.type === 'error' && e.code)).toEqual(['FRAME_INVALID', 'FRAME_INVALID', 'FRAME_INVALID', 'RESIZE_INVALID', 'RESIZE_INVALID']);
    expect(errors.every((e) => e.type === 'error' && !e.fatal && e.hint.length > 0)).toBe(true);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes with 1009 on a frame over 1 MiB, and the runner keeps serving', async () => {
    const { port, id, origin, app } = await listen();
    const c = connect(port, id, { origin });
    await c.opened;
    c.send({ type: 'data', data: 'x'.repeat(1024 * 1024 + 10) });
    expect(await c.closed).toBe(1009);
    expect(c.frames.find((f) => f.type === 'error')).toMatchObject({ code: 'FRAME_TOO_LARGE', fatal: true });
    expect((await app.inject({ url: '/api/health', headers: { authorization: `Bearer ${TEST_TOKEN}` } })).statusCode).toBe(200);
  });

  it('gives an unknown session a fatal error frame', async () => {
    const { port, origin } = await listen();
    const c = connect(port, 'nosuchsession', { origin });
    await c.opened;
    await c.closed;
    expect(c.frames[0]).toMatchObject({ type: 'error', code: 'SESSION_UNKNOWN', fatal: true });
  });

  it('replays exactly what a dropped connection missed', async () => {
    const { port, id, origin, ptys } = await listen();
    const a = connect(port, id, { origin });
    await a.opened;
    a.send({ type: 'hello', since: 0, cols: 80, rows: 24 });
    await until(() => ptys.spawned.length === 1);
    const pty = ptys.spawned[0]!;
    for (let i = 1; i <= 100; i++) pty.emit(`${i}\n`);
    await until(() => a.frames.filter((f) => f.type === 'data').length === 100);
    a.ws.terminate();
    await a.closed;
    for (let i = 101; i <= 150; i++) pty.emit(`${i}\n`);
    const b = connect(port, id, { origin });
    await b.opened;
    b.send({ type: 'hello', since: 100, cols: 80, rows: 24 });
    await until(() => b.frames.filter((f) => f.type === 'data').length === 50);
    expect(b.frames[0]).toMatchObject({ type: 'hello', replayed: 50, missed: false });
    const all = text(a.frames) + text(b.frames);
    expect(all).toBe(Array.from({ length: 150 }, (_, i) => `${i + 1}\n`).join(''));
  });
});

describe('progress, solve, reset and terminals', () => {
  it('records a step as passed when its Check passes, and keeps solved-with-help', async () => {
    const solved: string[] = [];
    const t = await fakeApp({ actions: { solve: async (_s, step) => { solved.push(step); }, reset: async () => undefined } });
    const id = await startSession(t);
    const progress = async () => (await t.app.inject({ url: `/api/sessions/${id}/progress`, headers: auth })).json();
    expect(await progress()).toEqual({ labId: '02-selectors-and-endpoints', steps: {} });
    await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/steps/observe/check`, headers: auth, payload: {} });
    expect((await progress()).steps.observe.status).toBe('passed');
    const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/steps/label/solve`, headers: auth });
    expect(r.json()).toEqual({ solved: true });
    expect(solved).toEqual(['label']);
    await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/steps/label/check`, headers: auth, payload: {} });
    expect((await progress()).steps.label.status).toBe('solved-with-help');
    expect((await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/reset`, headers: auth })).statusCode).toBe(200);
    expect((await progress()).steps).toEqual({});
  });

  it('does not record a failing Check, and Solve without a cluster says so', async () => {
    const t = await fakeApp({ checks: { run: async () => ({ results: [{ checkId: 'c1', kind: 'command', status: 'fail', message: 'not yet' }], passed: false }) } });
    const id = await startSession(t);
    await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/steps/observe/check`, headers: auth, payload: {} });
    expect((await t.app.inject({ url: `/api/sessions/${id}/progress`, headers: auth })).json().steps).toEqual({});
    const solve = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/steps/observe/solve`, headers: auth });
    expect(solve.statusCode).toBe(409);
    expect(solve.json().error.code).toBe('NO_CLUSTER');
  });

  it('lists only the workstation terminal when node shells are not offered', async () => {
    const t = await fakeApp();
    const id = await startSession(t);
    const r = await t.app.inject({ url: `/api/sessions/${id}/terminals`, headers: auth });
    expect(r.json()).toEqual({ terminals: [{ name: 'workstation', title: 'workstation' }], nodeShells: false });
    await expect(t.sessions.terminal(id, 'node:svclab-main-worker')).rejects.toMatchObject({ code: 'BAD_REQUEST', hint: expect.stringMatching(/loopback/) });
  });
});
