// buildApp wires route plugins to the objects it is given; main.ts decides where it listens.
// Inputs and outputs are the API contract's zod schemas (runner/src/api/routes.ts).
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { RunnerError } from '../errors.ts';
import { addAuthHooks } from './auth.ts';
import { catalogueRoutes } from './catalogue-routes.ts';
import { instructorRoutes } from './instructor-routes.ts';
import type { AppDeps } from './ports.ts';
import { enforceContract } from './route-contract.ts';
import { sessionRoutes, startSessionRoute } from './session-routes.ts';
import { terminalRoutes } from './terminal-routes.ts';
import { workshopRoutes } from './workshop-routes.ts';
import { ManifestParser } from './yaml-parse-pool.ts';
import { zodSerializerCompiler, zodValidatorCompiler } from './zod-type-provider.ts';

export type { AppDeps, ApplyPort, ChecksPort, LabActionsPort, LabsPort } from './ports.ts';
export { noClusterActions, noClusterApply } from './ports.ts';
export { LEARNER_COOKIE } from './session-routes.ts';

/** Any error as the catalogue's RunnerError: fastify's own 4xx get their catalogue code, anything else is INTERNAL. */
export function asRunnerError(err: Error): RunnerError {
  if (err instanceof RunnerError) return err;
  const { statusCode: status, code } = err as { statusCode?: number; code?: string };
  // @fastify/static refuses a path that leaves the site (`..%5c`, `%00` …) with 403: to the
  // learner it is simply not there.
  if (code === 'FST_STATIC_FORBIDDEN_PATH') return new RunnerError('NOT_FOUND', { message: 'There is no page at this address.' });
  if (status === 413) return new RunnerError('BODY_TOO_LARGE');
  if (status === 414 || code === 'FST_ERR_MAX_PARAM_LENGTH') return new RunnerError('URL_TOO_LONG');
  if (status === 415) return new RunnerError('MEDIA_TYPE_UNSUPPORTED', { message: `This route takes a JSON body, not ${contentTypeOf(err)}.` });
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return new RunnerError('BAD_REQUEST', { message: `The request body is not valid JSON: ${err.message}`, hint: 'Send a JSON object (Content-Type: application/json), or no body and no Content-Type.' });
  }
  if (code === 'FST_ERR_BAD_URL') return new RunnerError('BAD_REQUEST', { message: 'The URL is not valid: a %-escape in it does not decode.', hint: 'Encode the URL with encodeURIComponent.' });
  if ((err as { validation?: unknown }).validation || (status !== undefined && status >= 400 && status < 500)) {
    return new RunnerError('BAD_REQUEST', { message: `The request is not valid: ${err.message}` });
  }
  return new RunnerError('INTERNAL', { cause: err });
}

function contentTypeOf(err: Error): string {
  const m = /Unsupported Media Type:?\s*(.*)/i.exec(err.message);
  return m?.[1]?.trim() ? m[1].trim() : 'this content type';
}

/** A catalogue error as the reply. */
function sendError(re: RunnerError, reply: FastifyReply): void {
  void reply.code(re.httpStatus).send({ error: re.toJSON() });
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 2 * 1024 * 1024,
    // A URL that does not decode or a path parameter over 100 characters: answered before
    // routing, in the catalogue's shape like every other error.
    frameworkErrors: (err, _req, reply) => sendError(asRunnerError(err), reply),
    // HTTPS only when given (a workshop on a non-loopback address); the app is the same.
    ...(deps.https ? { https: deps.https } : {}),
  }) as unknown as FastifyInstance;
  // The API takes JSON only: text/plain (fastify parses it by default) is 415 like any other type.
  app.removeContentTypeParser('text/plain');
  let manifests = deps.manifests;
  if (!manifests) {
    const parser = new ManifestParser();
    app.addHook('onClose', async () => { await parser.close(); });
    manifests = parser;
  }
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(zodSerializerCompiler);
  await app.register(fastifyCookie);
  await app.register(fastifyWebsocket, { options: { maxPayload: 4 * 1024 * 1024 } });

  app.setErrorHandler((err, req, reply) => {
    const re = asRunnerError(err as Error);
    if (re.code === 'INTERNAL') req.log.error({ err }, 'unexpected error');
    sendError(re, reply);
  });
  addAuthHooks(app, deps);
  enforceContract(app);

  await app.register((a) => catalogueRoutes(a, deps), { prefix: '/api' });
  await app.register((a) => startSessionRoute(a, deps), { prefix: '/api/sessions' });
  await app.register((a) => sessionRoutes(a, { ...deps, manifests }), { prefix: '/api/sessions/:id' });
  await app.register((a) => terminalRoutes(a, deps), { prefix: '/api/sessions/:id' });
  await app.register((a) => workshopRoutes(a, deps), { prefix: '/api/workshop' });
  await app.register((a) => instructorRoutes(a, deps), { prefix: '/api' });

  app.setNotFoundHandler((req, reply) => {
    sendError(new RunnerError('NOT_FOUND', { message: `There is no route ${req.method} ${req.url.split('?')[0]}.` }), reply);
  });

  if (deps.siteDir) {
    await app.register(fastifyStatic, { root: deps.siteDir, prefix: '/', index: ['index.html'], redirect: true });
  }
  return app;
}
