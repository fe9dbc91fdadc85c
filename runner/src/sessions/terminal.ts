// One terminal of a session: a pty (docker exec into a container), its replay
// buffer, and the clients attached to it. Flow control: when more than
// `highWater` bytes have been produced past what every client has acknowledged
// (or nobody is attached), or a client's socket holds more than `highWater`
// bytes it has not written out yet, the pty is paused; it resumes under
// `lowWater`. Acks are only believed up to what was sent, and the socket's own
// buffer is measured rather than trusted, so a client that lies (acks far
// ahead, then stops reading) still holds the runner to about highWater bytes
// per client plus the bounded replay buffer.
import type { ServerFrame } from '../api/terminal-protocol.ts';
import type { PtyFactory, PtyProcess } from '../pty/pty-factory.ts';
import { ReplayBuffer } from './replay-buffer.ts';
import type { TerminalHistory } from './session-store.ts';

export interface TerminalClient {
  send(frame: ServerFrame): void;
  /** Bytes sent to this client that its transport still holds (a WebSocket's bufferedAmount). */
  bufferedBytes?(): number;
  /** Hang up, so the client reconnects and asks again from its last seq (a backend's stream broke). */
  close?(code: number, reason: string): void;
}

/** What a client holds while attached; only the terminal that made it looks inside. */
export interface TerminalAttachment {
  readonly client: TerminalClient;
}

/**
 * What the terminal socket talks to: this pty-backed Terminal (a local runner: docker exec
 * into a workstation container), or a KubeExecTerminal (terminals/: a shell kept in a pod,
 * attached through the Kubernetes API). Seqs only grow; `since` is the last one rendered.
 */
export interface AttachableTerminal {
  readonly name: string;
  readonly clientCount: number;
  /** Output this runner holds for replays (a kept-elsewhere backend holds none). */
  readonly bufferedBytes: number;
  /** Write pending history now (tests; a graceful stop). */
  flushHistory(): Promise<void>;
  /**
   * Attach a client that has rendered everything up to `since`: hello, then the rest.
   * `clientId` (the page's hello `client`): its input may come with offsets (`write`'s `at`).
   */
  attach(client: TerminalClient, since: number, cols: number, rows: number, opts?: { clientId?: string }): TerminalAttachment;
  detach(entry: TerminalAttachment): void;
  ack(entry: TerminalAttachment, seq: number): { ok: true } | { ok: false; lastSent: number };
  drained(): void;
  /** Keystrokes; `from`: which attachment typed them and where they start in its input (bytes). */
  write(data: string, from?: { entry: TerminalAttachment; at?: number }): void;
  resize(cols: number, rows: number): void;
  close(): void;
}

export interface TerminalOptions {
  name: string;
  argv: readonly string[];
  ptys: PtyFactory;
  highWater?: number;
  lowWater?: number;
  replayBytes?: number;
  replayAgeMs?: number;
  now?: () => number;
  /** Where the replay buffer is persisted (throttled) and restored from after a runner restart. */
  history?: TerminalHistory;
}

interface Attached extends TerminalAttachment {
  client: TerminalClient;
  acked: number;
}

export class Terminal implements AttachableTerminal {
  readonly name: string;
  private readonly opts: TerminalOptions;
  private readonly buffer: ReplayBuffer;
  private readonly clients = new Set<Attached>();
  private pty: PtyProcess | undefined;
  private paused = false;
  private acked = 0; // highest seq any client has rendered
  private cols = 80;
  private rows = 24;
  private readonly highWater: number;
  private readonly lowWater: number;
  /** Output came back from a restarted runner's history: the next shell starts on a fresh line, said so. */
  private restored = false;

  constructor(opts: TerminalOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.highWater = opts.highWater ?? 256 * 1024;
    this.lowWater = opts.lowWater ?? 64 * 1024;
    this.buffer = new ReplayBuffer({
      maxBytes: Math.max(opts.replayBytes ?? 1024 * 1024, this.highWater * 2),
      maxAgeMs: opts.replayAgeMs ?? 30 * 60 * 1000,
      now: opts.now,
    });
    const saved = opts.history?.load();
    if (saved) {
      this.buffer.restore(saved);
      this.restored = saved.chunks.length > 0;
    }
  }

  get isPaused(): boolean { return this.paused; }
  get bufferedBytes(): number { return this.buffer.bytes; }
  get clientCount(): number { return this.clients.size; }
  get running(): boolean { return this.pty !== undefined; }

  /** Attach a client that has rendered everything up to `since`; replays the rest. */
  attach(client: TerminalClient, since: number, cols: number, rows: number): Attached {
    const entry: Attached = { client, acked: since };
    this.clients.add(entry);
    this.acked = Math.max(this.acked, Math.min(since, this.buffer.nextSeq - 1));
    const { chunks, missed } = this.buffer.since(since);
    client.send({ type: 'hello', terminal: this.name, nextSeq: this.buffer.nextSeq, replayed: chunks.length, missed });
    for (const c of chunks) client.send({ type: 'data', seq: c.seq, data: c.data });
    this.resize(cols, rows);
    if (!this.pty) this.spawn();
    this.updateFlow();
    return entry;
  }

  detach(entry: TerminalAttachment): void {
    this.clients.delete(entry as Attached);
    this.updateFlow();
  }

  /**
   * A client rendered everything up to `seq`. An ack beyond the last chunk sent is
   * a protocol error: it is refused (the caller tells the client) and changes nothing.
   */
  ack(attachment: TerminalAttachment, seq: number): { ok: true } | { ok: false; lastSent: number } {
    const entry = attachment as Attached;
    const lastSent = this.buffer.nextSeq - 1;
    if (seq > lastSent) return { ok: false, lastSent };
    entry.acked = Math.max(entry.acked, seq);
    this.acked = Math.max(this.acked, entry.acked);
    this.updateFlow();
    return { ok: true };
  }

  /** The transport wrote some of what it held: maybe time to resume. */
  drained(): void {
    this.updateFlow();
  }

  write(data: string): void {
    this.pty?.write(data);
  }

  resize(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
    this.pty?.resize(cols, rows);
  }

  /** Write the pending history now (tests; a graceful stop). */
  async flushHistory(): Promise<void> {
    await this.opts.history?.flush();
  }

  close(): void {
    this.opts.history?.close();
    const p = this.pty;
    this.pty = undefined;
    p?.kill();
  }

  private spawn(): void {
    if (this.restored) {
      this.restored = false;
      const data = '\r\n\x1b[2m[svclab] the runner restarted: a new shell in the same workstation (your files are kept)\x1b[0m\r\n';
      const chunk = this.buffer.push(data);
      for (const c of this.clients) c.client.send({ type: 'data', seq: chunk.seq, data });
    }
    const p = this.opts.ptys.spawn(this.opts.argv, { cols: this.cols, rows: this.rows });
    this.pty = p;
    this.paused = false;
    p.onData((data) => {
      if (this.pty !== p) return;
      const chunk = this.buffer.push(data);
      this.opts.history?.changed(() => this.buffer.snapshot());
      for (const c of this.clients) c.client.send({ type: 'data', seq: chunk.seq, data });
      this.updateFlow();
    });
    p.onExit(({ exitCode }) => {
      if (this.pty !== p) return;
      this.pty = undefined;
      for (const c of this.clients) c.client.send({ type: 'exit', exitCode });
    });
  }

  private updateFlow(): void {
    const p = this.pty;
    if (!p) return;
    // The slowest attached client sets the pace; with nobody attached, the last ack does.
    let floor = this.acked;
    for (const c of this.clients) floor = Math.min(floor, c.acked);
    if (this.clients.size === 0) floor = this.acked;
    let unacked = this.buffer.bytesAfter(floor);
    for (const c of this.clients) unacked = Math.max(unacked, c.client.bufferedBytes?.() ?? 0);
    if (!this.paused && unacked > this.highWater) {
      this.paused = true;
      p.pause();
    } else if (this.paused && unacked < this.lowWater) {
      this.paused = false;
      p.resume();
    }
  }
}
