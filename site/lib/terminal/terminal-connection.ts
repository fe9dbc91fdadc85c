// Client side of the terminal protocol (runner/src/api/terminal-protocol.ts).
// Knows nothing about xterm: output goes to a TerminalSink, so the protocol logic can be
// tested with a fake socket. Every output chunk has a seq; we remember the last one handed
// to the sink, ask for everything after it on reconnect, and drop anything at or below it,
// so a dropped connection loses nothing and shows nothing twice.
import type { ClientFrame, ServerFrame } from '../../../runner/src/api/terminal-protocol.ts';

export type TerminalSink = {
  /** Render output; call `rendered` once it is on screen (drives flow-control acks). */
  write(data: string, rendered: () => void): void;
  size(): { cols: number; rows: number };
};

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'exited' | 'stale' | 'closed';

export type SocketLike = Pick<WebSocket, 'send' | 'close' | 'readyState'> & {
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
};

export type TerminalConnectionOptions = {
  url: string;
  sink: TerminalSink;
  onState?: (state: ConnectionState, detail?: { exitCode?: number; error?: Extract<ServerFrame, { type: 'error' }> }) => void;
  onNotice?: (kind: 'missed' | 'error', text: string) => void;
  /** Asked after repeated failed reconnects: false means the session is gone, so stop trying. */
  sessionAlive?: () => Promise<boolean>;
  createSocket?: (url: string) => SocketLike;
  /** Back-off before reconnect attempt n (0-based), in ms. */
  backoff?: (attempt: number) => number;
  pingIntervalMs?: number;
};

/** Send an ack at least this often (in UTF-16 units; ≤ 3 bytes each, so well under 64 KiB). */
export const ACK_EVERY_CHARS = 16 * 1024;
const ACK_IDLE_MS = 150;
const INPUT_BUFFER_MAX = 8 * 1024;
const OPEN = 1;

export const defaultBackoff = (attempt: number): number => {
  const base = Math.min(8000, 250 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
};

export class TerminalConnection {
  #opts: TerminalConnectionOptions;
  #socket: SocketLike | undefined;
  #state: ConnectionState = 'closed';
  /** Highest seq handed to the sink. */
  #lastQueued = 0;
  /** Highest seq the sink reports as rendered. */
  #lastRendered = 0;
  #lastAcked = 0;
  #charsSinceAck = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #lastHeard = 0;
  #attempt = 0;
  #greeted = false;
  #pendingInput = '';
  /** This page's id for its keystrokes, and where the next one starts in its input (UTF-8 bytes). */
  readonly #clientId = newClientId();
  #inputAt = 0;
  /** Keystrokes sent but not yet counted by a hello (bounded): sent again after a reconnect. */
  #unconfirmed: { at: number; data: string; bytes: number }[] = [];
  #size: { cols: number; rows: number } | undefined;
  rttMs: number | undefined;

  constructor(opts: TerminalConnectionOptions) {
    this.#opts = opts;
  }

  get state(): ConnectionState {
    return this.#state;
  }
  get lastSeq(): number {
    return this.#lastQueued;
  }

  start(): void {
    if (this.#state !== 'closed') return;
    this.#connect('connecting');
  }

  /** Keystrokes. Held briefly (bounded) while reconnecting, then sent after the hello. */
  send(data: string): void {
    if (this.#state === 'exited' || this.#state === 'stale') return;
    if (this.#socket?.readyState === OPEN && this.#greeted) this.#sendInput(data);
    else this.#pendingInput = (this.#pendingInput + data).slice(-INPUT_BUFFER_MAX);
  }

  resize(cols: number, rows: number): void {
    if (this.#size && this.#size.cols === cols && this.#size.rows === rows) return;
    this.#size = { cols, rows };
    if (this.#socket?.readyState === OPEN && this.#greeted) this.#sendFrame({ type: 'resize', cols, rows });
  }

  /** Skip the rest of the back-off wait (the learner pressed "Reconnect now"). */
  reconnectNow(): void {
    if (this.#state !== 'reconnecting' || this.#socket) return;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#connect('reconnecting');
  }

  /** Close the socket as if the network dropped it (used by tests and the "reconnect" path). */
  drop(): void {
    this.#socket?.close();
  }

  dispose(): void {
    this.#setState('closed');
    this.#clearTimers();
    const s = this.#socket;
    this.#socket = undefined;
    if (s) {
      s.onclose = null;
      s.close(1000, 'page closed');
    }
  }

  #connect(state: 'connecting' | 'reconnecting'): void {
    this.#setState(state);
    this.#greeted = false;
    const create = this.#opts.createSocket ?? ((url: string) => new WebSocket(url) as SocketLike);
    const socket = create(this.#opts.url);
    this.#socket = socket;
    socket.onopen = () => {
      const { cols, rows } = this.#size ?? this.#opts.sink.size();
      this.#size = { cols, rows };
      this.#sendFrame({ type: 'hello', since: this.#lastQueued, cols, rows, client: this.#clientId });
    };
    socket.onmessage = (ev) => this.#onMessage(ev.data);
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#stopPing();
      if (this.#state === 'exited' || this.#state === 'stale' || this.#state === 'closed') return;
      this.#scheduleReconnect();
    };
  }

  async #scheduleReconnect(): Promise<void> {
    this.#setState('reconnecting');
    const attempt = this.#attempt++;
    if (attempt >= 3 && attempt % 3 === 0 && this.#opts.sessionAlive) {
      const alive = await this.#opts.sessionAlive().catch(() => true);
      if (!alive) {
        this.#setState('stale');
        return;
      }
    }
    if (this.#state !== 'reconnecting' || this.#socket) return; // stopped, or "Reconnect now" won the race
    const delay = (this.#opts.backoff ?? defaultBackoff)(Math.min(attempt, 10));
    this.#reconnectTimer = setTimeout(() => {
      if (this.#state === 'reconnecting' && !this.#socket) this.#connect('reconnecting');
    }, delay);
  }

  #onMessage(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(raw) as ServerFrame;
    } catch {
      return;
    }
    this.#lastHeard = Date.now();
    switch (frame.type) {
      case 'hello':
        this.#greeted = true;
        this.#attempt = 0;
        // The runner was restarted under the same session id: its seq starts over.
        if (frame.nextSeq - 1 < this.#lastQueued) this.#lastQueued = this.#lastRendered = this.#lastAcked = frame.nextSeq - 1;
        if (frame.missed) this.#opts.onNotice?.('missed', '');
        this.#setState('open');
        this.#startPing();
        // What the shell got of our keystrokes: the rest may have died with the old connection,
        // so it goes again (the runner skips what arrived). Without a count, nothing goes again.
        if (frame.input === undefined) this.#unconfirmed = [];
        else {
          const got = frame.input;
          this.#unconfirmed = this.#unconfirmed.filter((u) => u.at + u.bytes > got);
          for (const u of this.#unconfirmed) this.#sendFrame({ type: 'data', data: u.data, at: u.at });
        }
        if (this.#pendingInput) {
          this.#sendInput(this.#pendingInput);
          this.#pendingInput = '';
        }
        break;
      case 'data': {
        if (frame.seq <= this.#lastQueued) return; // already shown (replay overlap)
        this.#lastQueued = frame.seq;
        const seq = frame.seq;
        const len = frame.data.length;
        this.#opts.sink.write(frame.data, () => this.#rendered(seq, len));
        break;
      }
      case 'pong':
        this.rttMs = Date.now() - frame.t;
        break;
      case 'exit':
        this.#setState('exited', { exitCode: frame.exitCode });
        this.#clearTimers();
        break;
      case 'error':
        if (frame.fatal) {
          this.#setState(frame.code === 'SESSION_UNKNOWN' ? 'stale' : 'exited', { error: frame });
          this.#clearTimers();
          this.#socket?.close();
        } else {
          this.#opts.onNotice?.('error', `${frame.message} ${frame.hint}`.trim());
        }
        break;
    }
  }

  #rendered(seq: number, len: number): void {
    if (seq > this.#lastRendered) this.#lastRendered = seq;
    this.#charsSinceAck += len;
    if (this.#charsSinceAck >= ACK_EVERY_CHARS) this.#ack();
    else if (!this.#ackTimer) this.#ackTimer = setTimeout(() => this.#ack(), ACK_IDLE_MS);
  }

  #ack(): void {
    if (this.#ackTimer) clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    if (this.#lastRendered <= this.#lastAcked || !this.#greeted || this.#socket?.readyState !== OPEN) return;
    this.#charsSinceAck = 0;
    this.#lastAcked = this.#lastRendered;
    this.#sendFrame({ type: 'ack', seq: this.#lastRendered });
  }

  #startPing(): void {
    this.#stopPing();
    const every = this.#opts.pingIntervalMs ?? 15_000;
    this.#pingTimer = setInterval(() => {
      // Nothing heard for two intervals: the connection is dead even if the socket says open.
      if (Date.now() - this.#lastHeard > 2 * every + 1000) {
        this.#socket?.close();
        return;
      }
      this.#sendFrame({ type: 'ping', t: Date.now() });
    }, every);
  }

  #stopPing(): void {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  #clearTimers(): void {
    this.#stopPing();
    if (this.#ackTimer) clearTimeout(this.#ackTimer);
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#ackTimer = this.#reconnectTimer = undefined;
  }

  #sendInput(data: string): void {
    const at = this.#inputAt;
    const bytes = new TextEncoder().encode(data).length;
    this.#inputAt += bytes;
    this.#unconfirmed.push({ at, data, bytes });
    let held = this.#unconfirmed.reduce((n, u) => n + u.bytes, 0);
    while (held > INPUT_BUFFER_MAX && this.#unconfirmed.length > 1) held -= this.#unconfirmed.shift()!.bytes;
    this.#sendFrame({ type: 'data', data, at });
  }

  #sendFrame(frame: ClientFrame): void {
    if (this.#socket?.readyState === OPEN) this.#socket.send(JSON.stringify(frame));
  }

  #setState(state: ConnectionState, detail?: Parameters<NonNullable<TerminalConnectionOptions['onState']>>[1]): void {
    if (this.#state === state && !detail) return;
    this.#state = state;
    this.#opts.onState?.(state, detail);
  }
}

function newClientId(): string {
  const b = new Uint8Array(12);
  globalThis.crypto.getRandomValues(b);
  return `p${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

/** ws(s)://<this origin>/api/sessions/<id>/terminal?name=workstation, with &lang=zh on Chinese pages (the workstation's greeting). */
export function terminalUrl(loc: Pick<Location, 'protocol' | 'host'>, sessionId: string, name = 'workstation', lang: 'en' | 'zh' = 'en'): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/api/sessions/${encodeURIComponent(sessionId)}/terminal?name=${encodeURIComponent(name)}${lang === 'zh' ? '&lang=zh' : ''}`;
}
