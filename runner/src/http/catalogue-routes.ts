// /api: health, the runner's status, and the labs (what a page needs before any session).
import type { FastifyInstance } from 'fastify';
import { routeSchema } from '../api/routes.ts';
import { runnerStatus } from '../pool/runner-status.ts';
import type { AppDeps } from './ports.ts';
import type { ZodTypeProvider } from './zod-type-provider.ts';

export async function catalogueRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/health', { schema: routeSchema('health') }, async () => ({ ok: true as const, version: deps.version, ...(deps.replica ? { replica: deps.replica } : {}) }));
  r.get('/status', { schema: routeSchema('status') }, async () => deps.status?.() ?? runnerStatus(deps.sessions, undefined));
  r.get('/labs', { schema: routeSchema('labs') }, async () => ({ labs: deps.labs.list() }));
  r.get('/labs/:labId', { schema: routeSchema('lab') }, async (req) => deps.labs.get(req.params.labId));
}
