// Who may ask what, in the one hook every request passes (API, pages, WebSocket upgrades):
//   1. Host must be a name the runner serves (DNS rebinding: another site's name resolving
//      to this machine must not reach it);
//   2. the credential says who is asking: the instructor (the runner token — single-learner
//      `npm start` — or, in a workshop, the instructor secret) or a learner (a signed pass);
//   3. anything that changes state, and every WebSocket, must come from the site's own pages
//      (Origin, or Sec-Fetch-Site), unless it carries the token in an Authorization header,
//      which another site cannot make a browser send;
//   4. the instructor's scope (status, workshop controls, /instructor/) is the instructor's.
// Cookies are named per port, so a page on another port of 127.0.0.1 (a learner's NodePort)
// never receives them; a secret in a page URL is moved into its cookie and the URL reloaded
// without it.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RunnerError } from '../errors.ts';
import type { Workshop } from '../workshop/workshop.ts';
import type { LearnerRecord } from '../workshop/workshop-store.ts';

/**
 * Who is asking. The instructor holds the runner token (single-learner `npm start`: the one
 * person at the machine) or, in a workshop, the instructor secret; a learner holds a signed
 * learner pass and reaches only their own sessions.
 */
export type Principal = { kind: 'instructor' } | { kind: 'learner'; learner: LearnerRecord };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook before any handler runs; null only on public routes (health, join). */
    principal: Principal | null;
  }
}

/** The learner asking, or undefined for the instructor. */
export function learnerOf(req: FastifyRequest): LearnerRecord | undefined {
  return req.principal?.kind === 'learner' ? req.principal.learner : undefined;
}

/** preHandler for instructor-only routes: a learner (or nobody) gets 403 INSTRUCTOR_ONLY. */
export async function requireInstructor(req: FastifyRequest): Promise<void> {
  if (req.principal?.kind !== 'instructor') throw new RunnerError('INSTRUCTOR_ONLY');
}

/** A learner may touch only sessions they started; the instructor any. */
export function assertSessionAccess(req: FastifyRequest, session: { learner: string }): void {
  const learner = learnerOf(req);
  if (learner && session.learner !== learner.id) throw new RunnerError('SESSION_FORBIDDEN');
  if (!req.principal) throw new RunnerError('TOKEN_MISSING');
}

/** Cookie names, per port (cookies are shared by every port of a host otherwise). */
export const cookieNames = (port: string) => ({ token: `svclab_token_${port}`, pass: `svclab_pass_${port}`, code: `svclab_code_${port}` });

export interface TokenSources {
  authorization?: string | undefined;
  cookie?: string | undefined;
  query?: string | undefined;
}

export function tokenFrom(src: TokenSources): string | undefined {
  const auth = src.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return src.query ?? src.cookie ?? undefined;
}

/** Throws TOKEN_MISSING or TOKEN_WRONG. */
export function checkToken(expected: string, presented: string | undefined): void {
  if (!presented) throw new RunnerError('TOKEN_MISSING');
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new RunnerError('TOKEN_WRONG');
}

function tokenMatches(expected: string, presented: string): boolean {
  try {
    checkToken(expected, presented);
    return true;
  } catch {
    return false;
  }
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Origins the site is served from: the runner's own address under the names a browser may
 * use. On loopback: 127.0.0.1, localhost and [::1]; on another address: that address and
 * the extra names (a certificate's DNS names), over `scheme`.
 */
export function siteOrigins(host: string, port: number, scheme: 'http' | 'https' = 'http', extraNames: readonly string[] = []): string[] {
  const bracket = (n: string) => (n.includes(':') && !n.startsWith('[') ? `[${n}]` : n);
  const names = LOOPBACK_NAMES.has(host) ? ['127.0.0.1', 'localhost', '[::1]'] : [bracket(host)];
  for (const n of extraNames) if (!names.includes(bracket(n))) names.push(bracket(n));
  return names.map((n) => `${scheme}://${n}:${port}`);
}

/**
 * An origin the site is reached at through something in front of the runner — an
 * Ingress (https://labs.example.org) or a Service name (http://svclab.svclab.svc) — as
 * a browser writes it: scheme, host, optional port; nothing else. Its host becomes a
 * served name (no 421) and the origin an allowed Origin.
 */
export function parsePublicOrigin(text: string, where = '--public-origin'): string {
  let u: URL | undefined;
  try {
    u = new URL(text);
  } catch {
    u = undefined;
  }
  const clean = u && (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && u.pathname === '/' && !u.search && !u.hash && !/[/?#]$/.test(text.trim()) && text.includes('//');
  if (!u || !clean) {
    throw new RunnerError('INVALID_ARGUMENT', {
      message: `${where} ${JSON.stringify(text)} is not an origin (http or https, a host, an optional port, nothing after it).`,
      hint: 'For example --public-origin https://labs.example.org or --public-origin http://svclab.svclab.svc',
      details: { field: where, value: text },
    });
  }
  return u.origin;
}

export function checkOrigin(allowed: readonly string[], origin: string | undefined): void {
  if (!origin || !allowed.includes(origin)) {
    throw new RunnerError('ORIGIN_FORBIDDEN', { details: { origin: origin ?? null, allowed } });
  }
}

/** The served origin this Host names (Host as a browser sends it: no port for a scheme's default). */
export function servedOrigin(allowed: readonly string[], host: string | undefined): URL | undefined {
  const h = (host ?? '').toLowerCase();
  if (!h) return undefined;
  for (const o of allowed) {
    const u = new URL(o);
    let named: string;
    try {
      named = new URL(`${u.protocol}//${h}`).host; // "localhost:80" over http is "localhost"
    } catch {
      return undefined;
    }
    if (u.host === named && !/[/?#@]/.test(h)) return u;
  }
  return undefined;
}

export interface AuthOptions {
  /** The instructor's credential: the runner token, or a workshop's instructor secret. */
  token: string;
  /** Origins the site is served from (known once the server listens); their hosts are the served names. */
  allowedOrigins: () => readonly string[];
  workshop?: Workshop | undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Paths only the instructor may reach (learners get 403 INSTRUCTOR_ONLY). */
export function instructorScope(method: string, path: string): boolean {
  if (path === '/api/status' || path.startsWith('/api/instructor/')) return true;
  if (path === '/api/workshop' || path === '/api/workshop/') return true;
  if (/^\/api\/workshop\/(extend|end|learners)(\/|$)/.test(path)) return true;
  if (/^\/(zh-cn\/)?instructor(\/|$)/.test(path)) return method === 'GET' || method === 'HEAD';
  return false;
}

/** What a workshop serves to someone who has not joined yet: the join page, its assets, health, join. */
function publicInWorkshop(method: string, path: string): boolean {
  if (path === '/api/health' || (method === 'POST' && path === '/api/workshop/join')) return true;
  if (!SAFE_METHODS.has(method)) return false;
  return /^\/(zh-cn\/)?join(\/|\/index\.html)?$/.test(path) || path.startsWith('/_astro/') || /^\/favicon\.(svg|ico)$/.test(path);
}

const joinPage = (path: string) => (path.startsWith('/zh-cn/') ? '/zh-cn/join/' : '/join/');

/** The same URL without one query parameter. */
function without(url: URL, param: string): string {
  url.searchParams.delete(param);
  const q = url.searchParams.toString();
  // One leading slash: "//host/…" in Location would send the browser to another site.
  return `${url.pathname.replace(/^\/+/, '/')}${q ? `?${q}` : ''}`;
}

export function addAuthHooks(app: FastifyInstance, opts: AuthOptions): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req, reply) => {
    const allowed = opts.allowedOrigins();
    const served = servedOrigin(allowed, req.headers.host);
    if (!served) {
      throw new RunnerError('HOST_FORBIDDEN', { message: `This runner does not serve the host "${req.headers.host ?? ''}".`, details: { served: allowed.map((o) => new URL(o).host) } });
    }
    const https = served.protocol === 'https:';
    const names = cookieNames(served.port || (https ? '443' : '80'));
    const cookieOpts = { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: https };
    // Prefixed, not resolved against a base: a path like //x is a path here, never a host.
    const url = new URL(`http://runner${req.url.startsWith('/') ? '' : '/'}${req.url}`);
    const path = url.pathname;
    const isApi = path.startsWith('/api/');
    const upgrade = req.headers.upgrade?.toLowerCase() === 'websocket';
    const page = !isApi && !upgrade && (req.method === 'GET' || req.method === 'HEAD');
    const ws = opts.workshop;

    // 2. The credential. A bearer token (scripts, `svclab workshop status`) or a query token is
    // not ambient: a cross-site page can't attach it, so it needs no Origin.
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    const queryToken = url.searchParams.get('token') ?? undefined;
    const tokenCookie = req.cookies[names.token];
    const pass = req.cookies[names.pass];
    let ambient = false;
    if (bearer !== undefined || queryToken !== undefined) {
      checkToken(opts.token, bearer ?? queryToken);
      req.principal = { kind: 'instructor' };
      if (bearer === undefined && page) {
        // The token leaves the address bar (and history, and Referer) after this first use.
        void reply.setCookie(names.token, queryToken!, cookieOpts);
        return reply.redirect(without(url, 'token'), 302);
      }
    } else if (tokenCookie !== undefined && tokenMatches(opts.token, tokenCookie)) {
      req.principal = { kind: 'instructor' };
      ambient = true;
    } else if (ws && pass !== undefined) {
      try {
        req.principal = { kind: 'learner', learner: await ws.learnerFrom(pass) };
      } catch (e) {
        if (page && e instanceof RunnerError && e.code === 'CREDENTIAL_INVALID') {
          void reply.clearCookie(names.pass, { path: '/' });
          return reply.redirect(joinPage(path), 302);
        }
        throw e;
      }
      ambient = true;
    } else if (ws && publicInWorkshop(req.method, path)) {
      req.principal = null;
      ambient = true; // joining sets a pass: only from the site's own join page
      const code = url.searchParams.get('code');
      if (page && code !== null) {
        void reply.setCookie(names.code, code, { ...cookieOpts, maxAge: 24 * 3600 });
        return reply.redirect(without(url, 'code'), 302);
      }
    } else if (ws) {
      if (page) return reply.redirect(joinPage(path), 302);
      throw new RunnerError('JOIN_REQUIRED');
    } else {
      checkToken(opts.token, tokenCookie);
    }

    // 3. Cross-site requests.
    if (upgrade) checkOrigin(allowed, req.headers.origin);
    else if (ambient && !SAFE_METHODS.has(req.method)) checkSameSite(req, allowed);

    // 4. The instructor's scope.
    if (req.principal?.kind === 'learner' && instructorScope(req.method, path)) throw new RunnerError('INSTRUCTOR_ONLY');
  });
}

/** A state-changing request carrying a cookie must come from the site's own pages. */
function checkSameSite(req: FastifyRequest, allowed: readonly string[]): void {
  const origin = req.headers.origin || undefined;
  const site = req.headers['sec-fetch-site'];
  const ok = origin !== undefined ? allowed.includes(origin) : site === 'same-origin';
  if (!ok) throw new RunnerError('CROSS_SITE_FORBIDDEN', { details: { origin: origin ?? null, secFetchSite: site ?? null } });
}

/** The cookie names for a request that passed the hook (its Host is a served one). */
export function requestCookieNames(req: FastifyRequest, allowed: readonly string[]): ReturnType<typeof cookieNames> & { secure: boolean } {
  const served = servedOrigin(allowed, req.headers.host);
  const https = served?.protocol === 'https:';
  return { ...cookieNames(served?.port || (https ? '443' : '80')), secure: https };
}
