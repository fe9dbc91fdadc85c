// WS /api/sessions/:id/terminal: the terminal protocol (api/terminal-protocol.ts). An unknown
// session still gets its WebSocket, and then a fatal error frame the page can show; another
// learner's session gets no WebSocket (403).
import type { FastifyInstance } from 'fastify';
import { routeSchema } from '../api/routes.ts';
import { assertSessionAccess } from './auth.ts';
import type { AppDeps } from './ports.ts';
import { handleTerminalSocket } from './terminal-socket.ts';
import type { ZodTypeProvider } from './zod-type-provider.ts';

export async function terminalRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  // Before the upgrade: another learner's session is refused with 403 (no socket at all).
  app.addHook('preHandler', async (req) => {
    const { id } = req.params as { id: string };
    // A session another runner replica started is taken over first, so its terminal reconnects here.
    const s = await deps.sessions.find(id).catch(() => undefined);
    if (s) assertSessionAccess(req, s);
  });
  app.withTypeProvider<ZodTypeProvider>().get('/terminal', { websocket: true, schema: routeSchema('terminal') }, (socket, req) => {
    handleTerminalSocket(socket, { sessions: deps.sessions, sessionId: req.params.id, terminalName: req.query.name, ...(req.query.lang ? { lang: req.query.lang } : {}), logger: req.log });
  });
}
