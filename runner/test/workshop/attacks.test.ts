// Issue 13's attack list, HTTP part: each case is a request a curious learner (or another web
// page in their browser) can make. Each answer is a catalogue error, and the runner keeps serving.
import { afterEach, describe, expect, it } from 'vitest';
import { CREDENTIAL_TTL_MS } from '../../src/workshop/workshop.ts';
import { signLearnerCredential } from '../../src/workshop/learner-credential.ts';
import { CODE, LAB, workshopApp } from './workshop-app.ts';
import { fakeApp, TEST_TOKEN } from '../support/fake-app.ts';

let t: Awaited<ReturnType<typeof workshopApp>> | undefined;
afterEach(async () => { await t?.close(); t = undefined; });

async function twoLearners() {
  t = await workshopApp();
  const a = await t.join('Ana', '10.0.0.2');
  const b = await t.join('Bo', '10.0.0.3');
  const aSession = await a.startLab();
  return { t, a, b, aSession };
}

async function stillServing(w: NonNullable<typeof t>) {
  expect((await w.send({ url: '/api/health' })).json()).toMatchObject({ ok: true });
}

describe('a learner reaches only their own sessions', () => {
  it("another learner's session, progress, terminals, apply, check, reset and end: 403 SESSION_FORBIDDEN, and A's session is intact", async () => {
    const { t, a, b, aSession } = await twoLearners();
    const tries = [
      { method: 'GET', url: `/api/sessions/${aSession}` },
      { method: 'GET', url: `/api/sessions/${aSession}/progress` },
      { method: 'GET', url: `/api/sessions/${aSession}/terminals` },
      { method: 'POST', url: `/api/sessions/${aSession}/apply`, payload: { yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n' } },
      { method: 'POST', url: `/api/sessions/${aSession}/steps/observe/check`, payload: {} },
      { method: 'POST', url: `/api/sessions/${aSession}/steps/observe/hint`, payload: { index: 0 } },
      { method: 'POST', url: `/api/sessions/${aSession}/reset` },
      { method: 'DELETE', url: `/api/sessions/${aSession}` },
    ] as const;
    for (const r of tries) {
      const res = await b.as({ ...r });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
      expect(res.json().error, `${r.method} ${r.url}`).toMatchObject({ code: 'SESSION_FORBIDDEN', hint: expect.stringContaining('own') });
    }
    expect(t.sessions.get(aSession).state).toBe('ready');
    expect((await a.as({ url: `/api/sessions/${aSession}` })).statusCode).toBe(200);
    await stillServing(t);
  });

  it("another learner's terminal WebSocket: the upgrade is refused with 403; the owner's opens", async () => {
    const { t, a, b, aSession } = await twoLearners();
    await expect(t.terminal(aSession, `${t.passCookie}=${b.pass}`).opened).rejects.toThrow('HTTP 403');
    const own = t.terminal(aSession, `${t.passCookie}=${a.pass}`);
    await own.opened;
    own.ws.close();
  });

  it("GET /api/status (every learner's session id) is the instructor's: 403 for a learner, 200 for the instructor", async () => {
    const { t, b, aSession } = await twoLearners();
    const r = await b.as({ url: '/api/status' });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe('INSTRUCTOR_ONLY');
    expect(r.body).not.toContain(aSession);
    const i = await t.instructor({ url: '/api/status' });
    expect(i.statusCode).toBe(200);
    expect(i.body).toContain(aSession);
  });
});

describe('instructor routes', () => {
  it('a learner calling the workshop admin routes or the instructor page gets 403 INSTRUCTOR_ONLY, and nothing changes', async () => {
    t = await workshopApp();
    const b = await t.join('Bo');
    const before = t.workshop.expiresAt;
    for (const r of [
      { method: 'GET', url: '/api/workshop' },
      { method: 'POST', url: '/api/workshop/extend', payload: { minutes: 60 } },
      { method: 'POST', url: '/api/workshop/end' },
      { method: 'POST', url: `/api/workshop/learners/${(await t.workshop.learners())[0]!.id}/node-shells`, payload: { enabled: true } },
      { method: 'GET', url: '/instructor/' },
      { method: 'GET', url: '/zh-cn/instructor/' },
    ] as const) {
      const res = await b.as({ ...r });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
      expect(res.json().error.code, `${r.method} ${r.url}`).toBe('INSTRUCTOR_ONLY');
    }
    expect(t.workshop.expiresAt).toBe(before);
    expect((await t.workshop.learners())[0]!.nodeShells).toBe(false);
    expect((await t.instructor({ url: '/api/workshop' })).statusCode).toBe(200);
  });

  it("the event code is not the instructor's credential", async () => {
    t = await workshopApp();
    const r = await t.send({ url: '/api/status', headers: { authorization: `Bearer ${CODE}` } });
    expect(r.statusCode).toBe(401);
  });
});

describe('joining', () => {
  it('a wrong code 20 times from one address: CODE_WRONG, then 429 JOIN_RATE_LIMITED stating the wait (Retry-After too); other addresses still join', async () => {
    t = await workshopApp();
    const codes: number[] = [];
    let last: Awaited<ReturnType<typeof t.send>> | undefined;
    for (let i = 0; i < 20; i++) {
      last = await t.send({ method: 'POST', url: '/api/workshop/join', payload: { code: `WRONG${i}`, name: 'Mallory' }, remoteAddress: '10.9.9.9' });
      codes.push(last.statusCode);
    }
    expect(codes.slice(0, 4)).toEqual([403, 403, 403, 403]);
    expect(codes.slice(4).every((c) => c === 429)).toBe(true);
    expect(last!.json().error).toMatchObject({ code: 'JOIN_RATE_LIMITED', message: expect.stringMatching(/wait \d+ (seconds|minutes)/) });
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    // The right code from the locked address waits as well; another address joins.
    const right = await t.send({ method: 'POST', url: '/api/workshop/join', payload: { code: CODE, name: 'Mallory' }, remoteAddress: '10.9.9.9' });
    expect(right.statusCode).toBe(429);
    await t.join('Ana', '10.0.0.2');
    await stillServing(t);
  });

  it('capacity reached: 409 WORKSHOP_FULL', async () => {
    t = await workshopApp({ capacity: 1 });
    await t.join('Ana');
    const r = await t.send({ method: 'POST', url: '/api/workshop/join', payload: { code: CODE, name: 'Bo' } });
    expect(r.statusCode).toBe(409);
    expect(r.json().error).toMatchObject({ code: 'WORKSHOP_FULL', message: expect.stringContaining('full') });
  });

  it('the learner pass is HttpOnly, SameSite=Strict, per port, and says nothing a page script can read', async () => {
    t = await workshopApp();
    const { reply } = await t.join('Ana');
    const c = reply.cookies.find((x) => x.name === t!.passCookie);
    expect(c).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
  });
});

describe('learner passes', () => {
  it('a forged pass (edited learner id, self-signed, garbage) is 401 CREDENTIAL_INVALID', async () => {
    t = await workshopApp();
    const a = await t.join('Ana');
    const [payload, mac] = a.pass.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const edited = `${Buffer.from(JSON.stringify({ ...claims, l: 'admin' })).toString('base64url')}.${mac}`;
    const selfSigned = signLearnerCredential('guessed-key', { ...claims });
    for (const pass of [edited, selfSigned, 'garbage', `${payload}.`]) {
      const r = await t.send({ url: '/api/labs', cookies: { [t.passCookie]: pass } });
      expect(r.statusCode, pass).toBe(401);
      expect(r.json().error.code, pass).toBe('CREDENTIAL_INVALID');
    }
    await stillServing(t);
  });

  it('an expired pass is 401 CREDENTIAL_INVALID; a pass after the workshop ended is 410 WORKSHOP_ENDED', async () => {
    t = await workshopApp();
    const a = await t.join('Ana');
    await t.workshop.extend(2 * CREDENTIAL_TTL_MS);
    t.clock.advance(CREDENTIAL_TTL_MS + 1000);
    const expired = await a.as({ url: '/api/labs' });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('CREDENTIAL_INVALID');
    const b = await t.join('Bo');
    await t.workshop.end();
    const ended = await b.as({ url: '/api/labs' });
    expect(ended.statusCode).toBe(410);
    expect(ended.json().error.code).toBe('WORKSHOP_ENDED');
  });

  it('without any credential the API says to join (401 JOIN_REQUIRED) and a page goes to the join page', async () => {
    t = await workshopApp();
    const api = await t.send({ url: '/api/labs' });
    expect(api.statusCode).toBe(401);
    expect(api.json().error.code).toBe('JOIN_REQUIRED');
    const page = await t.send({ url: '/labs/02-selectors-and-endpoints/' });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe('/join/');
  });
});

describe('foreign Host (DNS rebinding)', () => {
  it('a Host the runner does not serve is 421 HOST_FORBIDDEN, with or without credentials', async () => {
    t = await workshopApp();
    const a = await t.join('Ana');
    for (const host of ['evil.example', `evil.example:${t.port}`, `127.0.0.1:${t.port + 1}`, 'localhost']) {
      const r = await t.send({ url: '/api/labs', headers: { host }, cookies: { [t.passCookie]: a.pass } });
      expect(r.statusCode, host).toBe(421);
      expect(r.json().error.code, host).toBe('HOST_FORBIDDEN');
      const i = await t.instructor({ url: '/api/status', headers: { host } });
      expect(i.statusCode, host).toBe(421);
    }
    await stillServing(t);
  });
});

describe('cross-site requests (CSRF)', () => {
  it("a cross-site form POST with the learner's cookie is 403 CROSS_SITE_FORBIDDEN and starts nothing", async () => {
    t = await workshopApp();
    const a = await t.join('Ana');
    const form = await a.as({
      method: 'POST', url: '/api/sessions', payload: `labId=${LAB}`,
      headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
    });
    expect(form.statusCode).toBe(403);
    expect(form.json().error.code).toBe('CROSS_SITE_FORBIDDEN');
    // No Origin, but the browser says cross-site: refused as well.
    const noOrigin = await a.as({ method: 'POST', url: '/api/sessions', payload: { labId: LAB }, headers: { origin: '', 'sec-fetch-site': 'cross-site' } });
    expect(noOrigin.statusCode).toBe(403);
    // A cross-site join cannot plant a pass either.
    const join = await t.send({ method: 'POST', url: '/api/workshop/join', payload: { code: CODE, name: 'X' }, headers: { origin: 'http://evil.example' } });
    expect(join.statusCode).toBe(403);
    expect(t.sessions.list()).toHaveLength(0);
  });

  it("a cross-site POST with the instructor's cookie (single-learner npm start) is refused too", async () => {
    t = await workshopApp();
    const r = await t.send({ method: 'POST', url: '/api/workshop/end', cookies: { [t.tokenCookie]: t.token }, headers: { origin: 'http://evil.example' } });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe('CROSS_SITE_FORBIDDEN');
    expect(t.workshop.times().ended).toBe(false);
  });
});

describe('secrets in URLs', () => {
  it('a page opened with ?token= gets a per-port cookie and is sent to the same URL without the token', async () => {
    t = await workshopApp();
    const r = await t.send({ url: `/labs/02/?lang=zh&token=${t.token}` });
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('/labs/02/?lang=zh');
    expect(r.cookies.find((c) => c.name === t!.tokenCookie)).toMatchObject({ value: t.token, httpOnly: true, sameSite: 'Strict' });
    // The unscoped cookie name of before (shared with every port of 127.0.0.1) is not accepted.
    expect((await t.send({ url: '/api/status', cookies: { svclab_token: t.token } })).statusCode).toBe(401);
    expect((await t.send({ url: '/api/status', cookies: { [t.tokenCookie]: t.token } })).statusCode).toBe(200);
  });

  it('the learner URL ?code= is kept in an HttpOnly cookie and removed from the address bar', async () => {
    t = await workshopApp();
    const r = await t.send({ url: `/join/?code=${CODE}` });
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('/join/');
    const code = r.cookies.find((c) => c.name === `svclab_code_${t!.port}`);
    expect(code).toMatchObject({ value: CODE, httpOnly: true, sameSite: 'Strict' });
    // Joining with that cookie and only a name works.
    const j = await t.send({ method: 'POST', url: '/api/workshop/join', payload: { name: 'Ana' }, cookies: { [code!.name]: code!.value } });
    expect(j.statusCode).toBe(200);
  });
});

describe('single-learner npm start (the token) on loopback', () => {
  async function single() {
    const f = await fakeApp();
    await f.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (f.app.server.address() as { port: number }).port;
    const origin = `http://127.0.0.1:${port}`;
    f.setOrigins([origin]);
    closeSingle = () => f.app.close();
    return { ...f, port, origin, host: `127.0.0.1:${port}`, cookie: `svclab_token_${port}` };
  }
  let closeSingle: (() => Promise<void>) | undefined;
  afterEach(async () => { await closeSingle?.(); closeSingle = undefined; });

  it('keeps working with the token: its cookie starts a lab from the site, Bearer from a script', async () => {
    const s = await single();
    const page = await s.app.inject({ method: 'POST', url: '/api/sessions', headers: { host: s.host, origin: s.origin }, cookies: { [s.cookie]: TEST_TOKEN }, payload: { labId: LAB } });
    expect(page.statusCode).toBe(201);
    const id = page.json().session.id as string;
    expect((await s.app.inject({ url: `/api/sessions/${id}/progress`, headers: { host: s.host, authorization: `Bearer ${TEST_TOKEN}` } })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/api/status', headers: { host: s.host }, cookies: { [s.cookie]: TEST_TOKEN } })).statusCode).toBe(200);
  });

  it('a foreign Host is 421 even with the token; a cross-site form POST with the token cookie is 403 and starts nothing', async () => {
    const s = await single();
    for (const auth of [{ headers: { authorization: `Bearer ${TEST_TOKEN}` } }, { cookies: { [s.cookie]: TEST_TOKEN } }] as { headers?: Record<string, string>; cookies?: Record<string, string> }[]) {
      const rebound = await s.app.inject({ url: '/api/status', ...auth, headers: { host: `attacker.example:${s.port}`, ...auth.headers } });
      expect(rebound.statusCode).toBe(421);
      expect(rebound.json().error.code).toBe('HOST_FORBIDDEN');
    }
    const csrf = await s.app.inject({
      // Both cookie names: the port's, and the unscoped one of before.
      method: 'POST', url: '/api/sessions', payload: `labId=${LAB}`, cookies: { [s.cookie]: TEST_TOKEN, svclab_token: TEST_TOKEN },
      headers: { host: s.host, origin: 'http://127.0.0.1:30080', 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(csrf.statusCode).toBe(403);
    expect(csrf.json().error.code).toBe('CROSS_SITE_FORBIDDEN');
    expect(s.sessions.list()).toHaveLength(0);
  });
});

describe('odd paths', () => {
  it('"//" and "//evil.example/?token=" are paths: no 500, and no redirect to another site', async () => {
    t = await workshopApp();
    expect((await t.send({ url: '//' })).statusCode).toBeLessThan(500);
    const r = await t.send({ url: `//evil.example/x?token=${t.token}` });
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('/evil.example/x');
  });
});
