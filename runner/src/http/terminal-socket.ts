// One WebSocket ↔ one Terminal. Bad frames get an error frame and the connection
// stays; only an oversized frame closes it (1009), as RFC 6455 suggests.
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { RunnerError, catalogueEntry } from '../errors.ts';
import { MAX_FRAME_BYTES, parseClientFrame, type ServerFrame } from '../api/terminal-protocol.ts';
import type { AttachableTerminal, TerminalAttachment } from '../sessions/terminal.ts';

/** Bytes a socket may hold before replies to its client are dropped (twice the terminal's default highWater). */
export const REPLY_LIMIT = 512 * 1024;

/** Where a session's terminal comes from (SessionManager locally; a kube-mode session store in a cluster). */
export interface TerminalSource {
  terminal(id: string, name: string, opts: { lang?: 'en' | 'zh' }): Promise<AttachableTerminal>;
}

export interface TerminalSocketDeps {
  sessions: TerminalSource;
  sessionId: string;
  terminalName: string;
  /** The page's language, for the workstation's greeting. */
  lang?: 'en' | 'zh';
  logger: FastifyBaseLogger;
}

export function handleTerminalSocket(socket: WebSocket, deps: TerminalSocketDeps): void {
  let terminal: AttachableTerminal | undefined;
  // The socket's callback fires once ws has handed the frame to the kernel: the
  // terminal re-measures bufferedAmount then, so a paused shell resumes.
  const onFlushed = () => terminal?.drained();
  const send = (frame: ServerFrame) => {
    if (socket.readyState !== socket.OPEN) return;
    // Output is flow-controlled by the terminal; replies (pongs, error frames) are not, so a
    // client that keeps sending but never reads would pile them up here: past REPLY_LIMIT
    // buffered bytes they are dropped (it isn't reading them anyway).
    if ((frame.type === 'pong' || (frame.type === 'error' && !frame.fatal)) && socket.bufferedAmount > REPLY_LIMIT) return;
    socket.send(JSON.stringify(frame), onFlushed);
  };
  const client = {
    send,
    bufferedBytes: () => socket.bufferedAmount,
    // 1012 (service restart): the page reconnects and asks for what it missed.
    close: (code: number, reason: string) => socket.close(code, reason),
  };
  const sendError = (code: Parameters<typeof catalogueEntry>[0], message: string, fatal: boolean) => {
    send({ type: 'error', code, message, hint: catalogueEntry(code).hint, fatal });
  };

  // Frames that arrive while the terminal is looked up are handled in order after it.
  const early: { raw: Buffer; isBinary: boolean }[] = [];
  deps.sessions.terminal(deps.sessionId, deps.terminalName, deps.lang ? { lang: deps.lang } : {}).then(
    (t) => {
      terminal = t;
      for (const m of early.splice(0)) onMessage(m.raw, m.isBinary);
    },
    (e: unknown) => {
      const re = e instanceof RunnerError ? e : new RunnerError('INTERNAL', { cause: e });
      send({ type: 'error', code: re.code, message: re.message, hint: re.hint, fatal: true });
      socket.close(4404, re.code);
    },
  );

  let attached: TerminalAttachment | undefined;
  const onMessage = (raw: Buffer, isBinary: boolean) => {
    if (raw.length > MAX_FRAME_BYTES) {
      sendError('FRAME_TOO_LARGE', `Frame of ${raw.length} bytes is over the ${MAX_FRAME_BYTES}-byte limit.`, true);
      socket.close(1009, 'frame too large');
      return;
    }
    if (!terminal) { early.push({ raw, isBinary }); return; }
    const parsed = parseClientFrame(isBinary ? raw : raw.toString('utf8'));
    if (!parsed.ok) {
      sendError(parsed.code, parsed.message, false);
      return;
    }
    const f = parsed.frame;
    if (f.type === 'hello') {
      if (attached) terminal.detach(attached);
      try {
        attached = terminal.attach(client, f.since, f.cols, f.rows, f.client ? { clientId: f.client } : {});
      } catch (e) {
        deps.logger.error({ err: e }, 'terminal attach failed');
        sendError('WORKSTATION_FAILED', 'The terminal could not be started in the workstation container.', true);
        socket.close(1011, 'attach failed');
      }
      return;
    }
    if (!attached) {
      sendError('FRAME_INVALID', `A "${f.type}" frame came before "hello"; send hello first.`, false);
      return;
    }
    switch (f.type) {
      case 'data': terminal.write(f.data, { entry: attached, ...(f.at === undefined ? {} : { at: f.at }) }); break;
      case 'resize': terminal.resize(f.cols, f.rows); break;
      case 'ping': send({ type: 'pong', t: f.t }); break;
      case 'ack': {
        const r = terminal.ack(attached, f.seq);
        if (!r.ok) sendError('FRAME_INVALID', `ack ${f.seq} is beyond the last chunk sent (${r.lastSent}); acks may only confirm output that arrived.`, false);
        break;
      }
    }
  };
  socket.on('message', onMessage);
  socket.on('close', () => {
    if (attached) terminal?.detach(attached);
  });
}
