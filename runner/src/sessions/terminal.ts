// One terminal of a session: a pty (docker exec into a container), its replay
// buffer, and the clients attached to it. Flow control: when more than
// `highWater` bytes have been produced past what every client has acknowledged
// (or nobody is attached), the pty is paused; it resumes under `lowWater`.
// So `yes` in the terminal holds at most about highWater bytes in the runner.
import type { ServerFrame } from '../protocol/terminal-protocol.ts';
import type { PtyFactory, PtyProcess } from '../pty/pty-factory.ts';
import { ReplayBuffer } from './replay-buffer.ts';

export interface TerminalClient {
  send(frame: ServerFrame): void;
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
}

interface Attached {
  client: TerminalClient;
  acked: number;
}

export class Terminal {
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

  detach(entry: Attached): void {
    this.clients.delete(entry);
    this.updateFlow();
  }

  ack(entry: Attached, seq: number): void {
    entry.acked = Math.max(entry.acked, Math.min(seq, this.buffer.nextSeq - 1));
    this.acked = Math.max(this.acked, entry.acked);
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

  close(): void {
    const p = this.pty;
    this.pty = undefined;
    p?.kill();
  }

  private spawn(): void {
    const p = this.opts.ptys.spawn(this.opts.argv, { cols: this.cols, rows: this.rows });
    this.pty = p;
    this.paused = false;
    p.onData((data) => {
      if (this.pty !== p) return;
      const chunk = this.buffer.push(data);
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
    const unacked = this.buffer.bytesAfter(floor);
    if (!this.paused && unacked > this.highWater) {
      this.paused = true;
      p.pause();
    } else if (this.paused && unacked < this.lowWater) {
      this.paused = false;
      p.resume();
    }
  }
}
