// /api/instructor/*: the room's live view (server-sent events) and the instructor's controls,
// every one behind requireInstructor; /api/broadcast: the instructor's message for learners'
// pages (any principal). The room is made here, once per app, from the app's own objects.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BROADCAST_EVENT, INSTRUCTOR_EVENT, type ExportReply } from '../api/instructor.ts';
import { routeSchema } from '../api/routes.ts';
import { RunnerError } from '../errors.ts';
import { exportCsv, exportJson } from '../instructor/export.ts';
import { InstructorRoom } from '../instructor/room.ts';
import { workshopRoom } from '../instructor/workshop-room.ts';
import { requireInstructor } from './auth.ts';
import type { AppDeps } from './ports.ts';
import type { ZodTypeProvider } from './zod-type-provider.ts';

/** A slow reader is skipped rather than buffered: the next snapshot replaces what it missed. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** Turn the reply into an event stream; `send` writes one event, `closed` resolves when the client leaves. */
function eventStream(req: FastifyRequest, reply: FastifyReply): { send(event: string, data: unknown, id?: number): void; closed: Promise<void> } {
  // EventSource and the instructor page ask for a stream; anything else would wait forever.
  if (!(req.headers.accept ?? '').includes('text/event-stream')) {
    throw new RunnerError('BAD_REQUEST', {
      message: `${req.url.split('?')[0]} is a server-sent event stream: it answers requests that accept text/event-stream.`,
      hint: 'Send "Accept: text/event-stream" (EventSource does), or GET /api/instructor/snapshot for one snapshot as JSON.',
    });
  }
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    'x-content-type-options': 'nosniff',
    connection: 'keep-alive',
  });
  raw.write(': svclab\n\n');
  const closed = new Promise<void>((resolve) => req.raw.once('close', () => resolve()));
  return {
    send(event, data, id) {
      if (raw.destroyed || raw.writableLength > MAX_BUFFERED_BYTES) return;
      raw.write(`event: ${event}\n${id !== undefined ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
    },
    closed,
  };
}

export async function instructorRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const room = new InstructorRoom({
    sessions: deps.sessions, labs: deps.labs, ...(deps.actions ? { actions: deps.actions } : {}),
    poolStatus: () => deps.status?.().pool ?? null,
    ...(deps.workshop ? { workshop: workshopRoom(deps.workshop) } : {}),
    ...deps.instructor,
  });
  app.addHook('onClose', async () => room.close());

  // Learners' pages: the broadcast, pushed (any principal the auth hook let in may read it).
  app.withTypeProvider<ZodTypeProvider>().get('/broadcast', { schema: routeSchema('broadcast') }, async (req, reply) => {
    const out = eventStream(req, reply);
    const stop = room.readBroadcast((m) => out.send(BROADCAST_EVENT, m));
    await out.closed;
    stop();
  });

  await app.register(async (a) => {
    // Before the body is read: a learner learns nothing about these routes' inputs.
    a.addHook('onRequest', requireInstructor);
    const r = a.withTypeProvider<ZodTypeProvider>();

    r.get('/events', { schema: routeSchema('instructorEvents') }, async (req, reply) => {
      const out = eventStream(req, reply);
      const stop = room.watch((snap) => out.send(INSTRUCTOR_EVENT, snap, snap.seq));
      await out.closed;
      stop();
    });
    r.get('/snapshot', { schema: routeSchema('instructorSnapshot') }, async () => room.snapshot());
    r.post('/gate', { schema: routeSchema('instructorGate') }, async (req) => ({ affected: room.setGate(req.body.labId, req.body.open) }));
    r.post('/broadcast', { schema: routeSchema('instructorBroadcast') }, async (req) => ({ affected: room.setBroadcast(req.body.message) }));
    r.post('/extend', { schema: routeSchema('instructorExtend') }, async (req) => {
      const { minutes, ...target } = req.body;
      return { affected: await room.extend(target, minutes) };
    });
    r.post('/end', { schema: routeSchema('instructorEnd') }, async (req) => ({ affected: await room.end(req.body) }));
    r.post('/reset', { schema: routeSchema('instructorReset') }, async (req) => ({ affected: await room.reset(req.body.session) }));
    r.get('/export', { schema: routeSchema('instructorExport') }, async (req, reply) => {
      const at = new Date().toISOString();
      const grids = room.grids();
      if (req.query.format === 'json') {
        void reply.header('content-disposition', `attachment; filename="svclab-results-${at.slice(0, 10)}.json"`);
        return exportJson(grids, at);
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="svclab-results-${at.slice(0, 10)}.csv"`)
        // A string goes out as is (fastify serializes objects only); the contract types the JSON.
        .send(exportCsv(grids) as unknown as ExportReply);
    });
  }, { prefix: '/instructor' });
}
