// The API contract (runner/src/api/routes.ts) against the app: every route is served with its
// schemas, bad input is a 400 in the catalogue's shape, a drifted reply is caught, and the
// /api/sessions/:id preHandler looks the session up once.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { routes, type RouteContract } from '../../src/api/routes.ts';
import { sessionView } from '../../src/api/sessions.ts';
import { contractBreach, enforceContract } from '../../src/http/route-contract.ts';
import { fakeApp, fakeLabs, TEST_TOKEN } from '../support/fake-app.ts';

const auth = { authorization: `Bearer ${TEST_TOKEN}` };

async function withSession() {
  const t = await fakeApp();
  const r = await t.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { labId: '02-selectors-and-endpoints' } });
  return { ...t, id: r.json().session.id as string };
}

describe('route contract', () => {
  it('refuses a route that is not in the contract or does not carry its schemas', async () => {
    expect(contractBreach({ method: 'GET', url: '/api/nope', schema: {} })).toMatch(/GET \/api\/nope is not in the API contract/);
    expect(contractBreach({ method: 'POST', url: '/api/sessions/:id/apply', schema: { params: routes.apply.params, body: z.object({}), response: routes.apply.response } })).toMatch(/body schema is not the contract's/);
    expect(contractBreach({ method: 'POST', url: '/api/sessions/:id/apply', schema: { params: routes.apply.params, body: routes.apply.body } })).toMatch(/200 reply schema/);
    expect(contractBreach({ method: 'POST', url: '/api/sessions/:id/apply', schema: { params: routes.apply.params, body: routes.apply.body, response: routes.apply.response } })).toBeUndefined();
    expect(contractBreach({ method: 'GET', url: '/some/page', schema: {} })).toBeUndefined();
    const app = Fastify();
    enforceContract(app);
    expect(() => app.get('/api/health', async () => ({ ok: true }))).toThrow(/GET \/api\/health: its 200 reply schema is not the contract's/);
    expect(() => app.get('/api/secret', async () => ({ ok: true }))).toThrow(/not in the API contract/);
  });

  it('serves every route of the contract (none answers "no route")', async () => {
    const { app, id } = await withSession();
    for (const r of Object.values(routes) as RouteContract[]) {
      const url = r.url.replace(':labId', '02-selectors-and-endpoints').replace(':id', id).replace(':stepId', 'observe');
      const res = await app.inject({ method: r.method, url, headers: auth, ...(r.method === 'POST' ? { payload: {} } : {}) });
      expect(res.body ? res.json().error?.code : res.statusCode, `${r.method} ${r.url}`).not.toBe('NOT_FOUND');
    }
  });
});

describe('input errors are 400 BAD_REQUEST with what, where and a hint', () => {
  const cases: [string, { method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: unknown; headers?: Record<string, string> }, RegExp][] = [
    ['a body that is a list', { method: 'POST', url: '/api/sessions', payload: [] }, /request body is not valid/],
    ['a labId that is a number', { method: 'POST', url: '/api/sessions', payload: { labId: 2 } }, /labId/],
    ['a lab id with a path in it', { method: 'GET', url: '/api/labs/..%2Fetc' }, /address is not valid: labId/],
    ['a session id with a path in it', { method: 'GET', url: '/api/sessions/..%2Fetc' }, /address is not valid: id/],
    ['a step id with spaces', { method: 'POST', url: '/api/sessions/SID/steps/a%20b/check', payload: {} }, /stepId/],
    ['a check language nobody speaks', { method: 'POST', url: '/api/sessions/SID/steps/observe/check', payload: { lang: 'fr' } }, /lang/],
    ['a negative hint index', { method: 'POST', url: '/api/sessions/SID/steps/observe/hint', payload: { index: -1 } }, /index/],
    ['a hint without an index', { method: 'POST', url: '/api/sessions/SID/steps/observe/hint', payload: {} }, /index/],
    ['YAML that is not a string', { method: 'POST', url: '/api/sessions/SID/apply', payload: { yaml: 42 } }, /yaml/],
    ['YAML over 1 MiB', { method: 'POST', url: '/api/sessions/SID/live', payload: { yaml: 'x'.repeat(1024 * 1024 + 1) } }, /over 1 MiB/],
    ['a body that is not JSON', { method: 'POST', url: '/api/sessions', payload: '{"labId":', headers: { 'content-type': 'application/json' } }, /not valid/],
    ['a terminal name that is no terminal', { method: 'GET', url: '/api/sessions/SID/terminal?name=..%2F..' }, /query string is not valid: name/],
  ];
  it.each(cases)('%s', async (_what, req, message) => {
    const { app, id } = await withSession();
    const res = await app.inject({ ...req, url: req.url.replace('SID', id), headers: { ...auth, ...req.headers } } as never);
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(message), hint: expect.stringMatching(/\S/) });
  });
});

describe('replies', () => {
  it('match the contract on the routes a lab page uses', async () => {
    const { app, id } = await withSession();
    const get = async (url: string) => (await app.inject({ url, headers: auth })).json();
    expect(routes.session.response[200].safeParse(await get(`/api/sessions/${id}`)).success).toBe(true);
    expect(routes.lab.response[200].parse(await get('/api/labs/02-selectors-and-endpoints'))).toEqual(fakeLabs.get('02-selectors-and-endpoints'));
    expect(routes.status.response[200].safeParse(await get('/api/status')).success).toBe(true);
    expect(routes.progress.response[200].safeParse(await get(`/api/sessions/${id}/progress`)).success).toBe(true);
  });

  it('that drift from the contract are a logged INTERNAL error, not a malformed answer', async () => {
    const { app } = await fakeApp({ labs: { ...fakeLabs, get: () => ({ id: 'x', steps: 'many' }) as never } });
    const res = await app.inject({ url: '/api/labs/02-selectors-and-endpoints', headers: auth });
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toMatchObject({ code: 'INTERNAL', hint: expect.stringMatching(/bug/) });
  });

  it('a session the runner sends has only the states the contract names', () => {
    expect(sessionView.shape.state.options).toEqual(['waiting', 'claiming', 'starting', 'applying', 'ready', 'failed']);
  });
});

describe('/api/sessions/:id', () => {
  it('looks the session up once per request, and answers an unknown one 404 on every route', async () => {
    const t = await withSession();
    const realGet = t.sessions.get.bind(t.sessions);
    let lookups = 0;
    t.sessions.get = (id: string) => { lookups++; return realGet(id); };
    const res = await t.app.inject({ url: `/api/sessions/${t.id}/progress`, headers: auth });
    expect(res.statusCode).toBe(200);
    expect(lookups).toBe(1);
    const scoped = (Object.values(routes) as RouteContract[]).filter((r) => r.url.startsWith('/api/sessions/:id') && !r.url.endsWith('/terminal'));
    for (const r of scoped) {
      const url = r.url.replace(':id', 'gone1').replace(':stepId', 'observe');
      const gone = await t.app.inject({ method: r.method, url, headers: auth, ...(r.method === 'POST' ? { payload: r === routes.hint ? { index: 0 } : r === routes.saveEditor ? { file: 'svc.yaml', text: 'a: 1' } : { yaml: 'a: 1' } } : {}) });
      expect([gone.statusCode, gone.json().error.code], `${r.method} ${r.url}`).toEqual([404, 'SESSION_UNKNOWN']);
    }
  });
});
