// buildApp wires routes to the objects it is given; main.ts decides where it listens.
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { RunnerError } from '../errors.ts';
import type { LiveObject } from '../sessions/lab-cluster.ts';
import type { Session, SessionManager } from '../sessions/session-manager.ts';
import { viewSession } from '../sessions/session-manager.ts';
import { randomBytes } from 'node:crypto';
import { checkOrigin, checkToken, TOKEN_COOKIE, tokenFrom } from './auth.ts';

export const LEARNER_COOKIE = 'svclab_learner';
import { parseManifests, type ParsedManifest } from './yaml-input.ts';
import { handleTerminalSocket } from './terminal-socket.ts';

export interface LabsPort {
  list(): unknown[];
  /** The public view of a lab (no solutions); throws RunnerError LAB_UNKNOWN. */
  get(labId: string): unknown;
  /** Throws LAB_UNKNOWN / STEP_UNKNOWN; `index` past the last hint is BAD_REQUEST. */
  hint(labId: string, stepId: string, index: number): { en: string; zh: string };
}

export interface ChecksPort {
  run(session: Session, stepId: string, signal: AbortSignal, lang?: 'en' | 'zh'): Promise<{ results: unknown[]; passed: boolean }>;
}

export interface ApplyPort {
  apply(session: Session, yaml: string, manifests: ParsedManifest[]): Promise<{ dryRun: string; applied: string }>;
  /** The live object behind each document, for the editor's diff (null: not created yet). */
  live?(session: Session, yaml: string, manifests: ParsedManifest[]): Promise<LiveObject[]>;
}

/** Solve a step and reset a lab; both need the session's cluster. */
export interface LabActionsPort {
  solve(session: Session, stepId: string): Promise<void>;
  reset(session: Session): Promise<void>;
}

export const noClusterActions: LabActionsPort = {
  async solve() { throw new RunnerError('NO_CLUSTER'); },
  async reset() { throw new RunnerError('NO_CLUSTER'); },
};

export interface AppDeps {
  logger: Logger;
  token: string;
  /** Origins allowed to open WebSockets (known once the server listens). */
  allowedOrigins: () => readonly string[];
  sessions: SessionManager;
  labs: LabsPort;
  checks: ChecksPort;
  apply: ApplyPort;
  actions?: LabActionsPort;
  /** The pool and sessions at a glance (GET /api/status), for instructors and `svclab status`. */
  status?: () => unknown;
  /** How long POST /api/sessions waits for a session to be ready before answering 202 (default 8 s). */
  startWaitMs?: number;
  /** Directory of the built site; omitted in API-only tests. */
  siteDir?: string;
  version: string;
}

/** Apply without a cluster: the YAML is checked, then a clear NO_CLUSTER error. */
export const noClusterApply: ApplyPort = {
  async apply() {
    throw new RunnerError('NO_CLUSTER');
  },
};

const sessionParams = z.object({ id: z.string().regex(/^[a-z0-9]{1,32}$/) });

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path.join('.') || what;
  throw new RunnerError('BAD_REQUEST', { message: `The ${what} is not valid: ${field}: ${issue?.message ?? 'invalid'}.`, details: r.error.issues });
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, bodyLimit: 2 * 1024 * 1024 });
  await app.register(fastifyCookie);
  await app.register(fastifyWebsocket, { options: { maxPayload: 4 * 1024 * 1024 } });

  app.setErrorHandler((err, req, reply) => {
    const re = err instanceof RunnerError ? err
      : (err as { validation?: unknown }).validation ? new RunnerError('BAD_REQUEST', { message: `The request is not valid: ${(err as Error).message}` })
      : (err as { statusCode?: number }).statusCode === 413 ? new RunnerError('BAD_REQUEST', { message: 'The request body is too large (2 MiB at most).' })
      : (err as { statusCode?: number }).statusCode === 400 ? new RunnerError('BAD_REQUEST', { message: `The request is not valid: ${(err as Error).message}` })
      : new RunnerError('INTERNAL', { cause: err });
    if (re.code === 'INTERNAL') req.log.error({ err }, 'unexpected error');
    void reply.code(re.httpStatus).send({ error: re.toJSON() });
  });

  app.addHook('onRequest', async (req, reply) => {
    const query = (req.query ?? {}) as Record<string, unknown>;
    const fromQuery = typeof query.token === 'string' ? query.token : undefined;
    checkToken(deps.token, tokenFrom({ authorization: req.headers.authorization, cookie: req.cookies[TOKEN_COOKIE], query: fromQuery }));
    if (req.headers.upgrade?.toLowerCase() === 'websocket') checkOrigin(deps.allowedOrigins(), req.headers.origin);
    // A page opened with ?token= gets the cookie, so assets, API calls and the
    // WebSocket carry the token without page code handling it.
    if (fromQuery && !req.url.startsWith('/api/')) {
      void reply.setCookie(TOKEN_COOKIE, fromQuery, { path: '/', httpOnly: true, sameSite: 'strict' });
    }
  });

  app.get('/api/health', async () => ({ ok: true, version: deps.version }));
  app.get('/api/labs', async () => ({ labs: deps.labs.list() }));
  app.get('/api/labs/:labId', async (req) => deps.labs.get((req.params as { labId: string }).labId));

  app.get('/api/status', async () => deps.status?.() ?? { pool: null, sessions: deps.sessions.list().map(viewSession) });

  // A learner is a browser: the cookie ties one learner's sessions (and pooled cluster) together.
  app.post('/api/sessions', async (req, reply) => {
    const body = parse(z.object({ labId: z.string().min(1) }), req.body, 'session request');
    deps.labs.get(body.labId);
    let learner = req.cookies[LEARNER_COOKIE];
    if (!learner || !/^[A-Za-z0-9_-]{8,64}$/.test(learner)) {
      learner = randomBytes(12).toString('base64url');
      void reply.setCookie(LEARNER_COOKIE, learner, { path: '/', httpOnly: true, sameSite: 'strict', maxAge: 30 * 24 * 3600 });
    }
    const s = deps.sessions.begin(body.labId, learner);
    // Ready soon (a cluster was free): answer 201 with a ready session. Else 202 and the page polls.
    let timer: NodeJS.Timeout | undefined;
    const soon = new Promise<'pending'>((r) => { timer = setTimeout(() => r('pending'), deps.startWaitMs ?? 8_000); });
    try {
      const outcome = await Promise.race([s.ready.then(() => 'ready' as const), soon]);
      return reply.code(outcome === 'ready' ? 201 : 202).send({ session: viewSession(s) });
    } catch (e) {
      deps.sessions.forget(s.id);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  });

  const session = (req: FastifyRequest): Session => {
    const id = parse(sessionParams, req.params, 'session id').id;
    deps.sessions.touch(id);
    return deps.sessions.get(id);
  };
  /** Work on a session's workstation or cluster needs it ready. */
  const readySession = (req: FastifyRequest): Session => {
    const s = session(req);
    if (s.state !== 'ready') {
      throw new RunnerError('SESSION_STARTING', s.state === 'failed' && s.error ? { message: s.error.message, hint: s.error.hint } : { message: `This lab session is still starting (${s.state}).` });
    }
    return s;
  };

  app.get('/api/sessions/:id', async (req) => {
    const s = session(req);
    const view = viewSession(s);
    if (s.state === 'failed') deps.sessions.forget(s.id);
    return { session: view };
  });
  app.delete('/api/sessions/:id', async (req, reply) => {
    await deps.sessions.remove(session(req).id);
    return reply.code(204).send();
  });

  app.post('/api/sessions/:id/apply', async (req) => {
    const s = readySession(req);
    const body = parse(z.object({ yaml: z.string().max(1024 * 1024), stepId: z.string().optional() }), req.body, 'apply request');
    const manifests = parseManifests(body.yaml);
    return deps.apply.apply(s, body.yaml, manifests);
  });

  app.post('/api/sessions/:id/live', async (req) => {
    const s = readySession(req);
    const body = parse(z.object({ yaml: z.string().max(1024 * 1024) }), req.body, 'live request');
    const manifests = parseManifests(body.yaml);
    if (!deps.apply.live) throw new RunnerError('NO_CLUSTER');
    return { objects: await deps.apply.live(s, body.yaml, manifests) };
  });

  app.post('/api/sessions/:id/steps/:stepId/check', async (req, reply) => {
    const s = readySession(req);
    const { stepId } = req.params as { stepId: string };
    const body = parse(z.object({ lang: z.enum(['en', 'zh']).optional() }).optional(), req.body ?? undefined, 'check request');
    const abort = new AbortController();
    // The learner left (closed the tab, pressed Check again): stop polling.
    reply.raw.on('close', () => { if (!reply.raw.writableFinished) abort.abort(); });
    const result = await deps.checks.run(s, stepId, abort.signal, body?.lang);
    if (result.passed) deps.sessions.recordProgress(s.id, stepId, 'passed');
    return result;
  });

  app.post('/api/sessions/:id/steps/:stepId/solve', async (req) => {
    const s = readySession(req);
    const { stepId } = req.params as { stepId: string };
    await (deps.actions ?? noClusterActions).solve(s, stepId);
    deps.sessions.recordProgress(s.id, stepId, 'solved-with-help');
    return { solved: true };
  });

  app.post('/api/sessions/:id/reset', async (req) => {
    const s = readySession(req);
    await (deps.actions ?? noClusterActions).reset(s);
    s.progress.clear();
    return { session: viewSession(s) };
  });

  app.get('/api/sessions/:id/progress', async (req) => {
    const s = session(req);
    return { labId: s.labId, steps: Object.fromEntries(s.progress) };
  });

  app.get('/api/sessions/:id/terminals', async (req) => {
    const s = session(req);
    const terminals = await deps.sessions.terminalList(s.id);
    return { terminals, nodeShells: terminals.length > 1 };
  });

  app.post('/api/sessions/:id/steps/:stepId/hint', async (req) => {
    const s = session(req);
    const { stepId } = req.params as { stepId: string };
    const body = parse(z.object({ index: z.number().int().min(0) }), req.body, 'hint request');
    return { hint: deps.labs.hint(s.labId, stepId, body.index) };
  });

  app.get('/api/sessions/:id/terminal', { websocket: true }, (socket, req) => {
    const name = (req.query as Record<string, unknown>).name;
    handleTerminalSocket(socket, {
      sessions: deps.sessions,
      sessionId: (req.params as { id: string }).id,
      terminalName: typeof name === 'string' ? name : 'workstation',
      logger: req.log,
    });
  });

  app.setNotFoundHandler((req, reply) => {
    const e = new RunnerError('BAD_REQUEST', { message: `There is no route ${req.method} ${req.url.split('?')[0]}.`, hint: 'See runner/API.md for the routes.' });
    void reply.code(404).send({ error: { ...e.toJSON(), code: 'NOT_FOUND' } });
  });

  if (deps.siteDir) {
    await app.register(fastifyStatic, { root: deps.siteDir, prefix: '/', index: ['index.html'], redirect: true });
  }
  return app;
}
