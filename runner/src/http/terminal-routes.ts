// WS /api/sessions/:id/terminal: the terminal protocol (api/terminal-protocol.ts). An unknown
// session still gets its WebSocket, and then a fatal error frame the page can show.
import type { FastifyInstance } from 'fastify';
import { routeSchema } from '../api/routes.ts';
import type { AppDeps } from './ports.ts';
import { handleTerminalSocket } from './terminal-socket.ts';
import type { ZodTypeProvider } from './zod-type-provider.ts';

export async function terminalRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/terminal', { websocket: true, schema: routeSchema('terminal') }, (socket, req) => {
    handleTerminalSocket(socket, { sessions: deps.sessions, sessionId: req.params.id, terminalName: req.query.name, logger: req.log });
  });
}
