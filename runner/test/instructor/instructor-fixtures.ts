// A three-step lab, a Check whose outcome the test decides per step, and an app with the
// instructor routes wired to fakes (no docker, no cluster).
import { RunnerError } from '../../src/errors.ts';
import type { CheckReply } from '../../src/api/sessions.ts';
import { noClusterApply, type AppDeps, type LabsPort } from '../../src/http/app.ts';
import { pino } from 'pino';
import type { InstructorDeps } from '../../src/instructor/room.ts';
import type { Session } from '../../src/sessions/session-manager.ts';
import Fastify from 'fastify';
import type { InjectOptions } from 'light-my-request';
import { instructorRoutes } from '../../src/http/instructor-routes.ts';
import { zodSerializerCompiler, zodValidatorCompiler } from '../../src/http/zod-type-provider.ts';
import { fakeApp, TEST_TOKEN } from '../support/fake-app.ts';

export const LAB = '02-selectors-and-endpoints';
export const STEPS = ['observe', 'label-the-pods', 'fix-the-port'] as const;
export const auth = { authorization: `Bearer ${TEST_TOKEN}` };

const t = (en: string) => ({ en, zh: `${en}（中文）` });
export const threeStepLabs: LabsPort = {
  list: () => [{ id: LAB, title: t('Selectors'), summary: t('Labels pick pods'), steps: 3 }],
  get(id) {
    if (id !== LAB) throw new RunnerError('LAB_UNKNOWN', { details: { id } });
    return {
      id, title: t('Selectors'), summary: t('Labels pick pods'),
      steps: STEPS.map((s) => ({ id: s, title: t(s.replace(/-/g, ' ')), checks: [{ id: 'c1', kind: 'command', description: t('c1') }], hintCount: 0 })),
    };
  },
  hint() { throw new RunnerError('BAD_REQUEST'); },
};

/** What the next Check of a step answers (default: passes). */
export function scriptedChecks() {
  const answers = new Map<string, CheckReply>();
  const resets: string[] = [];
  return {
    answers,
    resets,
    checks: { run: async (_s: Session, stepId: string) => answers.get(stepId) ?? { passed: true, results: [{ checkId: 'c1', kind: 'command', status: 'pass' as const, message: 'ok' }] } },
    actions: { solve: async () => undefined, reset: async (s: { workstation: string }) => { resets.push(s.workstation); } },
  };
}

export const failing = (message: string, checkId = 'c1'): CheckReply => ({ passed: false, results: [{ checkId, kind: 'command', status: 'fail', message }] });

export async function instructorApp(instructor: InstructorDeps = {}) {
  const scripted = scriptedChecks();
  const app = await fakeApp({ labs: threeStepLabs, checks: scripted.checks, actions: scripted.actions, instructor: { heartbeatMs: 0, ...instructor } });
  // Every request names the listening address as its Host (the runner refuses other names).
  await app.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.app.server.address() as { port: number }).port;
  const host = `127.0.0.1:${port}`;
  app.setOrigins([`http://${host}`]);
  const inject = (r: InjectOptions) => app.app.inject({ ...r, headers: { host, ...(r.headers ?? {}) } });
  const listen = async () => port;
  const start = async (learner: string): Promise<string> => {
    const r = await inject({ method: 'POST', url: '/api/sessions', headers: auth, cookies: { svclab_learner: learner }, payload: { labId: LAB } });
    if (r.statusCode !== 201) throw new Error(`start: ${r.statusCode} ${r.body}`);
    return r.json().session.id as string;
  };
  const check = (id: string, step: string) => inject({ method: 'POST', url: `/api/sessions/${id}/steps/${step}/check`, headers: auth, payload: {} });
  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => inject({ method: 'POST', url, headers: { ...auth, ...headers }, payload: payload as object });
  const snapshot = async () => (await inject({ url: '/api/instructor/snapshot', headers: auth })).json();
  return { ...app, ...scripted, start, check, post, snapshot, listen, inject };
}

/**
 * The instructor plugin alone on a bare fastify whose first hook makes a request with
 * x-test-learner a learner (as a workshop pass does), so the plugin's own guard is what answers.
 */
export async function pluginWithLearners() {
  const t = await fakeApp({ labs: threeStepLabs, instructor: { heartbeatMs: 0 } });
  const app = Fastify();
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(zodSerializerCompiler);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const who = req.headers['x-test-learner'];
    req.principal = typeof who === 'string' ? { kind: 'learner', learner: { id: who, name: who, joinedAt: 0, nodeShells: false } } : { kind: 'instructor' };
  });
  app.setErrorHandler((err, _req, reply) => {
    const e = err instanceof RunnerError ? err : new RunnerError('BAD_REQUEST', { message: String(err) });
    void reply.code(e.httpStatus).send({ error: e.toJSON() });
  });
  const deps: AppDeps = {
    logger: pino({ level: 'silent' }), token: TEST_TOKEN, allowedOrigins: () => [], sessions: t.sessions, labs: threeStepLabs,
    checks: scriptedChecks().checks, apply: noClusterApply, version: '0', instructor: { heartbeatMs: 0 },
  };
  await app.register((a) => instructorRoutes(a, deps), { prefix: '/api' });
  return { app, close: async () => { await app.close(); await t.app.close(); } };
}
