// /api/workshop: join (public, from the site's join page), me (whoever is asking), and the
// instructor's controls behind requireInstructor. Without a workshop (single-learner
// `npm start`) join and the controls answer WORKSHOP_NOT_RUNNING; `me` says "instructor".
import type { FastifyInstance } from 'fastify';
import { routeSchema } from '../api/routes.ts';
import type { LearnerView, WorkshopTimes } from '../api/workshop.ts';
import { RunnerError } from '../errors.ts';
import type { Session } from '../sessions/session-manager.ts';
import type { Workshop } from '../workshop/workshop.ts';
import type { LearnerRecord } from '../workshop/workshop-store.ts';
import { learnerOf, requestCookieNames, requireInstructor } from './auth.ts';
import type { AppDeps } from './ports.ts';
import type { ZodTypeProvider } from './zod-type-provider.ts';

const view = (l: LearnerRecord): LearnerView => ({ id: l.id, name: l.name, nodeShells: l.nodeShells });
const mine = (sessions: Session[], learner: string) => sessions.filter((s) => s.learner === learner).map((s) => ({ id: s.id, labId: s.labId, state: s.state }));

function running(deps: AppDeps): Workshop {
  if (!deps.workshop) throw new RunnerError('WORKSHOP_NOT_RUNNING', { message: 'This runner is not running a workshop.', hint: 'Single-learner `npm start` has no join step; `svclab workshop start` runs one.' });
  return deps.workshop;
}

export async function workshopRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/join', { schema: routeSchema('join') }, async (req, reply) => {
    const w = running(deps);
    const names = requestCookieNames(req, deps.allowedOrigins());
    const code = req.body.code ?? req.cookies[names.code] ?? '';
    try {
      const joined = await w.join({ code, name: req.body.name, address: req.ip, existing: req.cookies[names.pass] });
      void reply.setCookie(names.pass, joined.credential, { path: '/', httpOnly: true, sameSite: 'strict', secure: names.secure, expires: new Date(joined.credentialExpiresAt) });
      void reply.clearCookie(names.code, { path: '/' });
      req.log.info({ learner: joined.learner.id.slice(0, 6) }, 'learner joined');
      return { learner: view(joined.learner), next: req.body.lang === 'zh' ? '/zh-cn/' : '/' };
    } catch (e) {
      if (e instanceof RunnerError && e.code === 'JOIN_RATE_LIMITED') {
        void reply.header('retry-after', String((e.details as { retryAfterSeconds: number }).retryAfterSeconds));
      }
      throw e;
    }
  });

  r.get('/me', { schema: routeSchema('me') }, async (req) => {
    const learner = learnerOf(req);
    const w = deps.workshop;
    const sessions = deps.sessions.list();
    return {
      role: learner ? ('learner' as const) : ('instructor' as const),
      learner: learner ? view(learner) : null,
      workshop: w ? { ...w.times(learner?.id), labs: [...w.labs] } : null,
      sessions: learner ? mine(sessions, learner.id) : sessions.map((s) => ({ id: s.id, labId: s.labId, state: s.state })),
      moves: learner && w ? w.moves(learner.id) : [],
    };
  });

  await app.register(async (a) => {
    a.addHook('preHandler', requireInstructor);
    const i = a.withTypeProvider<ZodTypeProvider>();
    i.get('/', { schema: routeSchema('workshop') }, async () => {
      const w = running(deps);
      const sessions = deps.sessions.list();
      return {
        id: w.id, labs: [...w.labs], capacity: w.capacity, reserve: w.reserve, ...w.times(),
        learners: (await w.learners()).map((l) => ({ ...view(l), joinedAt: new Date(l.joinedAt).toISOString(), sessions: mine(sessions, l.id) })),
      };
    });
    i.post('/extend', { schema: routeSchema('extendWorkshop') }, async (req): Promise<WorkshopTimes> => running(deps).extend(req.body.minutes * 60_000));
    i.post('/end', { schema: routeSchema('endWorkshop') }, async (): Promise<WorkshopTimes> => running(deps).end());
    i.post('/learners/:learnerId/node-shells', { schema: routeSchema('learnerNodeShells') }, async (req) => ({
      learner: view(await running(deps).setNodeShells(req.params.learnerId, req.body.enabled)),
    }));
  });
}
