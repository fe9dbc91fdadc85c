// buildApp wires route plugins to the objects it is given; main.ts decides where it listens.
// Inputs and outputs are the API contract's zod schemas (runner/src/api/routes.ts).
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { RunnerError } from '../errors.ts';
import { addAuthHooks } from './auth.ts';
import { catalogueRoutes } from './catalogue-routes.ts';
import type { AppDeps } from './ports.ts';
import { enforceContract } from './route-contract.ts';
import { sessionRoutes, startSessionRoute } from './session-routes.ts';
import { terminalRoutes } from './terminal-routes.ts';
import { zodSerializerCompiler, zodValidatorCompiler } from './zod-type-provider.ts';

export type { AppDeps, ApplyPort, ChecksPort, LabActionsPort, LabsPort } from './ports.ts';
export { noClusterActions, noClusterApply } from './ports.ts';
export { LEARNER_COOKIE } from './session-routes.ts';

/** Any error as the catalogue's RunnerError: fastify's own 4xx become BAD_REQUEST, anything else INTERNAL. */
function asRunnerError(err: Error): RunnerError {
  if (err instanceof RunnerError) return err;
  const status = (err as { statusCode?: number }).statusCode;
  if (status === 413) return new RunnerError('BAD_REQUEST', { message: 'The request body is too large (2 MiB at most).' });
  if ((err as { validation?: unknown }).validation || status === 400 || status === 415) return new RunnerError('BAD_REQUEST', { message: `The request is not valid: ${err.message}` });
  return new RunnerError('INTERNAL', { cause: err });
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, bodyLimit: 2 * 1024 * 1024 });
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(zodSerializerCompiler);
  await app.register(fastifyCookie);
  await app.register(fastifyWebsocket, { options: { maxPayload: 4 * 1024 * 1024 } });

  app.setErrorHandler((err, req, reply) => {
    const re = asRunnerError(err as Error);
    if (re.code === 'INTERNAL') req.log.error({ err }, 'unexpected error');
    void reply.code(re.httpStatus).send({ error: re.toJSON() });
  });
  addAuthHooks(app, deps);
  enforceContract(app);

  await app.register((a) => catalogueRoutes(a, deps), { prefix: '/api' });
  await app.register((a) => startSessionRoute(a, deps), { prefix: '/api/sessions' });
  await app.register((a) => sessionRoutes(a, deps), { prefix: '/api/sessions/:id' });
  await app.register((a) => terminalRoutes(a, deps), { prefix: '/api/sessions/:id' });

  app.setNotFoundHandler((req, reply) => {
    const e = new RunnerError('BAD_REQUEST', { message: `There is no route ${req.method} ${req.url.split('?')[0]}.`, hint: 'See runner/API.md for the routes.' });
    void reply.code(404).send({ error: { ...e.toJSON(), code: 'NOT_FOUND' } });
  });

  if (deps.siteDir) {
    await app.register(fastifyStatic, { root: deps.siteDir, prefix: '/', index: ['index.html'], redirect: true });
  }
  return app;
}
