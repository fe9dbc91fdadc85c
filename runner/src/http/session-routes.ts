// /api/sessions: start one (POST), and everything under /api/sessions/:id. The session is
// looked up once per request (a preHandler: 404 SESSION_UNKNOWN, and the idle clock reset);
// work on its workstation or cluster needs it ready.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { routeSchema } from '../api/routes.ts';
import { RunnerError } from '../errors.ts';
import type { Session } from '../sessions/session-manager.ts';
import { viewSession } from '../sessions/session-manager.ts';
import { assertSessionAccess, learnerOf } from './auth.ts';
import { noClusterActions, type AppDeps } from './ports.ts';
import { parseManifests } from './yaml-input.ts';
import type { ZodTypeProvider } from './zod-type-provider.ts';

export const LEARNER_COOKIE = 'svclab_learner';
const LEARNER_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Live sessions one workshop learner may hold at once (each is a workstation container). */
export const SESSIONS_PER_LEARNER = 3;

/** POST /api/sessions. A learner is a browser: the cookie ties one learner's sessions (and pooled cluster) together. */
export async function startSessionRoute(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/', { schema: routeSchema('startSession') }, async (req, reply) => {
    deps.labs.get(req.body.labId);
    const joined = learnerOf(req);
    let learner = joined?.id ?? req.cookies[LEARNER_COOKIE];
    if (joined) {
      deps.workshop?.allowLab(req.body.labId);
    } else if (!learner || !LEARNER_ID.test(learner)) {
      learner = randomBytes(12).toString('base64url');
      void reply.setCookie(LEARNER_COOKIE, learner, { path: '/', httpOnly: true, sameSite: 'strict', maxAge: 30 * 24 * 3600 });
    }
    let s: Session;
    const own = joined ? deps.sessions.list().filter((o) => o.learner === learner && o.state !== 'failed') : [];
    const same = own.find((o) => o.labId === req.body.labId);
    if (same) {
      // A workshop learner's Start lab again (another tab, a reload): their session, not a new one.
      s = same;
    } else {
      if (own.length >= SESSIONS_PER_LEARNER) {
        throw new RunnerError('LEARNER_SESSION_LIMIT', { message: `You already have ${own.length} lab sessions (${own.map((o) => o.labId).join(', ')}); a learner may hold ${SESSIONS_PER_LEARNER}.`, details: { sessions: own.map((o) => o.id) } });
      }
      s = deps.sessions.begin(req.body.labId, learner);
      // Progress saved for this learner and lab (a lost cluster, an expired session) comes back.
      if (joined && deps.workshop) {
        const work = await deps.workshop.work(joined.id, req.body.labId);
        for (const [step, p] of Object.entries(work.progress)) s.progress.set(step, p);
      }
    }
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
}

/** Work on a session's workstation or cluster needs it ready. */
function ready(s: Session): Session {
  if (s.state !== 'ready') {
    throw new RunnerError('SESSION_STARTING', s.state === 'failed' && s.error ? { message: s.error.message, hint: s.error.hint } : { message: `This lab session is still starting (${s.state}).` });
  }
  return s;
}

/** Everything under /api/sessions/:id except the terminal WebSocket (terminal-routes.ts). */
export async function sessionRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const found = new WeakMap<FastifyRequest, Session>();
  // Runs after the params schema: the id is well-formed here.
  app.addHook('preHandler', async (req) => {
    const { id } = req.params as { id: string };
    // Another runner replica's session is taken over here (a Kubernetes install).
    const s = await deps.sessions.find(id);
    assertSessionAccess(req, s);
    deps.sessions.touch(id);
    found.set(req, s);
  });
  /** The workshop learner who owns this request's session, when there is a workshop (their work is saved). */
  const saver = (req: FastifyRequest, s: Session) => {
    const l = learnerOf(req);
    return deps.workshop && l && l.id === s.learner ? { workshop: deps.workshop, learner: l.id } : undefined;
  };
  const session = (req: FastifyRequest): Session => found.get(req)!;
  const r = app.withTypeProvider<ZodTypeProvider>();
  const manifests = deps.manifests ?? { parse: async (text: string) => parseManifests(text) };

  r.get('/', { schema: routeSchema('session') }, async (req) => {
    const s = session(req);
    const view = viewSession(s);
    if (s.state === 'failed') deps.sessions.forget(s.id); // a failure is shown once
    return { session: view };
  });

  r.delete('/', { schema: routeSchema('endSession') }, async (req, reply) => {
    await deps.sessions.remove(session(req).id, { ended: true });
    return reply.code(204).send();
  });

  r.post('/apply', { schema: routeSchema('apply') }, async (req) => {
    const s = ready(session(req));
    const applied = await deps.apply.apply(s, req.body.yaml, await manifests.parse(req.body.yaml));
    const save = saver(req, s);
    await save?.workshop.recordApplied(save.learner, s.labId, req.body.yaml);
    return applied;
  });

  r.post('/live', { schema: routeSchema('live') }, async (req) => {
    const s = ready(session(req));
    const parsed = await manifests.parse(req.body.yaml);
    if (!deps.apply.live) throw new RunnerError('NO_CLUSTER');
    return { objects: await deps.apply.live(s, req.body.yaml, parsed) };
  });

  r.post('/steps/:stepId/check', { schema: routeSchema('check') }, async (req, reply) => {
    const s = ready(session(req));
    deps.sessions.assertStepOpen(s, req.params.stepId);
    const abort = new AbortController();
    // The learner left (closed the tab, pressed Check again): stop polling.
    reply.raw.on('close', () => { if (!reply.raw.writableFinished) abort.abort(); });
    const result = await deps.checks.run(s, req.params.stepId, abort.signal, req.body?.lang);
    if (deps.sessions.has(s.id)) deps.sessions.recordCheck(s.id, req.params.stepId, result);
    if (result.passed) {
      deps.sessions.recordProgress(s.id, req.params.stepId, 'passed');
      const save = saver(req, s);
      await save?.workshop.recordProgress(save.learner, s.labId, req.params.stepId, 'passed');
    }
    return result;
  });

  r.post('/steps/:stepId/solve', { schema: routeSchema('solve') }, async (req) => {
    const s = ready(session(req));
    deps.sessions.assertStepOpen(s, req.params.stepId);
    await (deps.actions ?? noClusterActions).solve(s, req.params.stepId);
    deps.sessions.recordProgress(s.id, req.params.stepId, 'solved-with-help');
    const save = saver(req, s);
    await save?.workshop.recordProgress(save.learner, s.labId, req.params.stepId, 'solved-with-help');
    return { solved: true as const };
  });

  r.post('/steps/:stepId/hint', { schema: routeSchema('hint') }, async (req) => {
    const s = session(req);
    return { hint: deps.labs.hint(s.labId, req.params.stepId, req.body.index) };
  });

  r.post('/reset', { schema: routeSchema('reset') }, async (req) => {
    const s = ready(session(req));
    await (deps.actions ?? noClusterActions).reset(s);
    deps.sessions.clearProgress(s.id);
    const save = saver(req, s);
    await save?.workshop.clearProgress(save.learner, s.labId);
    return { session: viewSession(s) };
  });

  r.post('/editor', { schema: routeSchema('saveEditor') }, async (req) => {
    const s = session(req);
    const save = saver(req, s);
    if (!save) throw new RunnerError('WORKSHOP_NOT_RUNNING', { message: 'The runner keeps editor text only for a workshop\'s learners.', hint: 'Your browser keeps the editor\'s text on this machine.' });
    await save.workshop.saveEditor(save.learner, s.labId, req.body.file, req.body.text);
    return { saved: true as const };
  });

  r.get('/progress', { schema: routeSchema('progress') }, async (req) => {
    const s = session(req);
    return { labId: s.labId, steps: Object.fromEntries(s.progress) };
  });

  r.get('/terminals', { schema: routeSchema('terminals') }, async (req) => {
    const terminals = await deps.sessions.terminalList(session(req).id);
    return { terminals, nodeShells: terminals.length > 1 };
  });
}
