// Every input error is a 4xx with a message and a hint — never a 500, never fastify's
// raw error shape — and a large manifest is parsed off the event loop.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeApp, TEST_TOKEN } from '../support/fake-app.ts';

const auth = { authorization: `Bearer ${TEST_TOKEN}` };
type T = Awaited<ReturnType<typeof fakeApp>>;
let current: T | undefined;
afterEach(async () => { await current?.app.close(); current = undefined; });

async function withSession(overrides: Parameters<typeof fakeApp>[0] = {}): Promise<{ t: T; id: string }> {
  current = await fakeApp(overrides);
  const r = await current.app.inject({ method: 'POST', url: '/api/sessions', headers: auth, payload: { labId: '02-selectors-and-endpoints' } });
  return { t: current, id: r.json().session.id as string };
}

/** The catalogue's error shape: `{ error: { code, message, hint } }`. */
function expectCatalogue(res: { statusCode: number; json: () => any }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  expect(res.json().error).toMatchObject({ code, message: expect.any(String), hint: expect.any(String) });
  expect(res.json().error.hint.length).toBeGreaterThan(10);
}

const BILLION_LAUGHS = [
  'a: &a [1,1,1,1,1,1,1,1,1]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  '',
].join('\n');

describe('YAML that abuses aliases', () => {
  it('is YAML_INVALID at the line of the alias that goes over the limit, on Apply and Live', async () => {
    const { t, id } = await withSession();
    for (const route of ['apply', 'live']) {
      const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/${route}`, headers: auth, payload: { yaml: BILLION_LAUGHS } });
      expectCatalogue(r, 400, 'YAML_INVALID');
      // *c expands to 9×9×9 values: line 4's aliases go over yaml's limit of 100.
      expect(r.json().error.details).toMatchObject({ line: 4 });
      expect(r.json().error.message).toMatch(/line 4.*alias/i);
    }
  });

  it('still accepts a few ordinary aliases', async () => {
    const { t, id } = await withSession();
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: &l {app: web}\n  annotations: *l\n';
    const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/apply`, headers: auth, payload: { yaml } });
    expect(r.json().error.code).toBe('NO_CLUSTER');
  });
});

describe('bodies in a format the API does not take', () => {
  it.each([
    ['application/x-www-form-urlencoded', 'yaml=apiVersion%3A+v1'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="yaml"\r\n\r\nkind: x\r\n--x--\r\n'],
    ['text/plain', 'apiVersion: v1\nkind: Service\n'],
    ['application/yaml', 'apiVersion: v1\nkind: Service\n'],
  ])('%s is 415 MEDIA_TYPE_UNSUPPORTED with a hint', async (type, payload) => {
    const { t, id } = await withSession();
    const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/apply`, headers: { ...auth, 'content-type': type }, payload });
    expectCatalogue(r, 415, 'MEDIA_TYPE_UNSUPPORTED');
    expect(r.json().error.hint).toMatch(/application\/json/);
  });
});

describe("fastify's own errors", () => {
  it('a path parameter over the length limit is 414 in the catalogue shape', async () => {
    const { t, id } = await withSession();
    const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/steps/${'x'.repeat(300)}/hint`, headers: auth, payload: { index: 0 } });
    expectCatalogue(r, 414, 'URL_TOO_LONG');
  });

  it('a URL that does not decode is 400 in the catalogue shape', async () => {
    const { t } = await withSession();
    for (const url of ['/a/%ff', '/%', '/api/sessions/%zz']) {
      const r = await t.app.inject({ url, headers: auth });
      expectCatalogue(r, 400, 'BAD_REQUEST');
    }
  });

  it('invalid JSON is 400 with a hint about the body', async () => {
    const { t, id } = await withSession();
    const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/apply`, headers: { ...auth, 'content-type': 'application/json' }, payload: '{"yaml":' });
    expectCatalogue(r, 400, 'BAD_REQUEST');
    expect(r.json().error.hint).toMatch(/JSON/);
  });
});

describe('static files', () => {
  it('a path that tries to leave the site directory is 404, never 500', async () => {
    const site = mkdtempSync(join(tmpdir(), 'svclab-site-'));
    writeFileSync(join(site, 'index.html'), '<p>site</p>');
    const { t } = await withSession({ siteDir: site });
    for (const url of ['/labs/..%5c..%5cetc', '/%00', '/a/%00b', '/..%5c', '/x%5c..%5c..%5cetc%5cpasswd', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd']) {
      const r = await t.app.inject({ url, headers: auth });
      expectCatalogue(r, 404, 'NOT_FOUND');
    }
    expect((await t.app.inject({ url: '/', headers: auth })).body).toContain('site');
  });
});

/** `n` small ConfigMaps as one multi-document text. */
function configMaps(n: number): string {
  return Array.from({ length: n }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c${i}\n`).join('---\n');
}

describe('documents per Apply', () => {
  it('200 documents are taken; the 201st is refused at its line', async () => {
    const { t, id } = await withSession();
    const ok = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/apply`, headers: auth, payload: { yaml: configMaps(200) } });
    expect(ok.json().error.code).toBe('NO_CLUSTER');
    const many = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/apply`, headers: auth, payload: { yaml: configMaps(201) } });
    expectCatalogue(many, 400, 'YAML_INVALID');
    expect(many.json().error.message).toMatch(/200 documents/);
    expect(many.json().error.details).toMatchObject({ line: 200 * 5 + 1 });
  });

  it('18,500 documents (~1 MiB) are refused without parsing them all', async () => {
    const { t, id } = await withSession();
    const yaml = Array.from({ length: 18_500 }, (_, i) => `apiVersion: v1\nkind: Secret\nmetadata: {name: s${i}}\n`).join('---\n');
    expect(yaml.length).toBeGreaterThan(1000 * 1000);
    const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/apply`, headers: auth, payload: { yaml } });
    expectCatalogue(r, 400, 'YAML_INVALID');
    expect(r.json().error.message).toMatch(/200 documents/);
  });
});

/** ~1 MiB of YAML in 100 documents (under the document cap): seconds of parsing. */
function bigManifests(): string {
  const doc = (i: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c${i}\ndata:\n${Array.from({ length: 560 }, (_, j) => `  k${j}: value-${j}\n`).join('')}`;
  const text = Array.from({ length: 100 }, (_, i) => doc(i)).join('---\n');
  expect(text.length).toBeGreaterThan(900 * 1024);
  expect(text.length).toBeLessThan(1024 * 1024);
  return text;
}

describe('a large manifest does not stall the runner', () => {
  it('/api/health answers again and again while ~1 MiB of YAML is being parsed', async () => {
    const { t, id } = await withSession();
    const yaml = bigManifests();
    // The session's preHandler touches it just before the Apply handler parses.
    let handling = false;
    const touch = t.sessions.touch.bind(t.sessions);
    t.sessions.touch = (sid: string) => { if (sid === id) handling = true; return touch(sid); };
    let applied = false;
    const apply = t.app.inject({ method: 'POST', url: `/api/sessions/${id}/apply`, headers: auth, payload: { yaml } }).then((r) => { applied = true; return r; });
    // Health answers counted only between "the handler started" and "Apply answered".
    let during = 0;
    while (!applied) {
      const h = await t.app.inject({ url: '/api/health', headers: auth });
      expect(h.statusCode).toBe(200);
      if (handling && !applied) during++;
      await new Promise((r) => setImmediate(r));
    }
    const r = await apply;
    expect(r.json().error.code).toBe('NO_CLUSTER'); // parsed fine, then no cluster
    // Parsing on the event loop answers none in between; a worker answers many.
    expect(during).toBeGreaterThanOrEqual(5);
  }, 60_000);

  it('a large manifest with a mistake is still YAML_INVALID at its line', async () => {
    const { t, id } = await withSession();
    const yaml = `${bigManifests()}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tab\n`;
    const line = yaml.split('\n').length - 1;
    const r = await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/apply`, headers: auth, payload: { yaml } });
    expectCatalogue(r, 400, 'YAML_INVALID');
    expect(r.json().error.details).toMatchObject({ line });
  }, 60_000);
});
