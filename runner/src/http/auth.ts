// Token and Origin checks, and the one hook that applies them to every request (API, pages,
// WebSocket upgrades). The token is random per start; the Origin check stops another web page
// in the learner's browser from opening a shell over WebSocket.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RunnerError } from '../errors.ts';
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

export const TOKEN_COOKIE = 'svclab_token';

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

/** Origins the site is served from: the runner's own address under the names a browser may use. */
export function siteOrigins(host: string, port: number): string[] {
  const names = host === '127.0.0.1' || host === 'localhost' || host === '::1'
    ? ['127.0.0.1', 'localhost', '[::1]']
    : [host.includes(':') ? `[${host}]` : host];
  return names.map((n) => `http://${n}:${port}`);
}

export function checkOrigin(allowed: readonly string[], origin: string | undefined): void {
  if (!origin || !allowed.includes(origin)) {
    throw new RunnerError('ORIGIN_FORBIDDEN', { details: { origin: origin ?? null, allowed } });
  }
}

export interface AuthOptions {
  token: string;
  /** Origins allowed to open WebSockets (known once the server listens). */
  allowedOrigins: () => readonly string[];
}

/** Every request needs the token; a WebSocket upgrade also needs the site's Origin. */
export function addAuthHooks(app: FastifyInstance, opts: AuthOptions): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req, reply) => {
    const query = (req.query ?? {}) as Record<string, unknown>;
    const fromQuery = typeof query.token === 'string' ? query.token : undefined;
    checkToken(opts.token, tokenFrom({ authorization: req.headers.authorization, cookie: req.cookies[TOKEN_COOKIE], query: fromQuery }));
    req.principal = { kind: 'instructor' };
    if (req.headers.upgrade?.toLowerCase() === 'websocket') checkOrigin(opts.allowedOrigins(), req.headers.origin);
    // A page opened with ?token= gets the cookie, so assets, API calls and the
    // WebSocket carry the token without page code handling it.
    if (fromQuery && !req.url.startsWith('/api/')) {
      void reply.setCookie(TOKEN_COOKIE, fromQuery, { path: '/', httpOnly: true, sameSite: 'strict' });
    }
  });
}
