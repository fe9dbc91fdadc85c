// Fuzz: every API route answers any body, content type, id and query with a
// catalogue error or a success — never a 5xx — and the runner keeps serving.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routes } from '../../src/api/routes.ts';
import { fakeApp, TEST_TOKEN } from '../support/fake-app.ts';
import { fuzz, fuzzRuns } from './fuzz-harness.ts';

const auth = { authorization: `Bearer ${TEST_TOKEN}` };

/** Route URLs with their params filled by anything, including the real session's id. */
function url(template: string, id: string, step: string): string {
  return template.replace(':id', id).replace(':stepId', step).replace(':labId', step);
}

const yamlish = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n',
    'a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
    '*!', '---\n---\n', '\t- x', 'kind: [', '!!binary x', 'a: !!js/function "x"',
  ),
);

const body = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ yaml: yamlish, labId: fc.string(), lang: fc.constantFrom('en', 'zh', 'xx'), index: fc.oneof(fc.integer(), fc.string()) }, { requiredKeys: [] }),
);

const contentType = fc.constantFrom(
  'application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain', 'application/yaml', '', 'application/json; charset=utf-16',
);

const request = fc.record({
  route: fc.constantFrom(...(Object.keys(routes) as (keyof typeof routes)[]).filter((k) => k !== 'terminal')),
  idKind: fc.constantFrom('real', 'random', 'traversal'),
  randomId: fc.string({ maxLength: 40 }),
  step: fc.oneof(fc.constantFrom('observe', '..', '%2e%2e', 'x'.repeat(300)), fc.string({ maxLength: 30 })),
  body,
  raw: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 200 })),
  contentType,
});

const staticPaths = fc.oneof(
  fc.constantFrom('/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/labs/..%5c..%5cetc', '/%00', '/a/%ff', '/index.html/..'),
  fc.webPath(),
);

/** RSS after a full garbage collection (gc exposed at run time), so the figure is what is held. */
function settledRss(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().rss;
}

describe('fuzz: HTTP API', () => {
  it('no route answers a 5xx to any body, content type, id or path (≥10,000 cases)', async () => {
    const t = await fakeApp({ siteDir: import.meta.dirname });
    const start = async () => (await t.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { labId: '02-selectors-and-endpoints' } })).json().session.id as string;
    let realId = await start();
    const runs = fuzzRuns(8000);
    const rssBefore = settledRss();
    const heapBefore = process.memoryUsage().heapUsed;
    let n = await fuzz('http-request', request, async (input) => {
      const r = { ...input, route: routes[input.route] };
      const id = r.idKind === 'real' ? realId : r.idKind === 'traversal' ? '..%2F..%2Fetc' : encodeURIComponent(r.randomId);
      const payload = r.raw ?? JSON.stringify(r.body);
      const res = await t.app.inject({
        method: r.route.method, url: url(r.route.url, id, encodeURIComponent(r.step)),
        headers: { ...auth, ...(r.contentType ? { 'content-type': r.contentType } : {}) },
        ...(r.route.method === 'GET' ? {} : { payload }),
      });
      expect(res.statusCode, `${r.route.method} ${r.route.url} → ${res.statusCode} ${res.body.slice(0, 300)}`).toBeLessThan(500);
      if (res.statusCode >= 400) expect(res.json().error).toMatchObject({ code: expect.any(String), message: expect.any(String), hint: expect.any(String) });
      // A fuzzed DELETE ended the real session: start another so later cases still reach a live one.
      if (r.idKind === 'real' && r.route.method === 'DELETE' && res.statusCode === 204) realId = await start();
    }, runs);
    n += await fuzz('http-static-path', staticPaths, async (p) => {
      // An HTTP request target starts with '/' (webPath may give '' or 'a/b').
      const target = p.startsWith('/') ? p : `/${p}`;
      const res = await t.app.inject({ method: 'GET', url: target, headers: auth });
      expect(res.statusCode, `GET ${p} → ${res.statusCode}`).toBeLessThan(500);
    }, runs / 4);
    expect(n).toBeGreaterThanOrEqual(fuzzRuns(8000) === 8000 ? 10_000 : 0);
    expect((await t.app.inject({ url: '/api/health', headers: auth })).statusCode).toBe(200);
    // Bounded memory. What the runner holds (the heap after a full GC) must not grow: a leak of
    // 2 KiB per request would add 20 MiB. RSS also grows by the allocator's arenas, which are
    // not given back; it levels off (+64 MiB at 2,500 cases, +158 at 10,000, +190 at 30,000).
    const rssAfter = settledRss();
    const grown = (rssAfter - rssBefore) / 2 ** 20;
    console.log(`fuzz: HTTP API: ${n} cases, 0 server errors, RSS ${Math.round(rssBefore / 2 ** 20)} → ${Math.round(rssAfter / 2 ** 20)} MiB (+${grown.toFixed(1)}), heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB, sessions ${t.sessions.list().length}`);
    expect((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20).toBeLessThan(16);
    expect(grown).toBeLessThan(256);
    await t.app.close();
  }, 600_000);
});
