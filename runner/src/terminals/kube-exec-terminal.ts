// A learner's terminal when svclab runs on Kubernetes: the shell lives in the learner's
// environment pod (container `workstation`), kept by svclab-term (images/workstation/files),
// and every attached client gets its own exec through the Kubernetes API:
//
//   svclab-term attach NAME SINCE COLS ROWS LANG
//     stdout: "svclab-term base=B from=F end=E missed=0|1\n", then the shell's output from offset F on
//     stdin:  keystrokes           stderr: "svclab-term exit=N" once the shell ended
//
// Seqs are byte offsets in the keeper's log, so any replica — this one, or another after
// this one died — replays exactly what a client has not rendered: the client's `since` is
// where the next exec starts reading. Chunks end on UTF-8 character boundaries, so a seq
// never splits a character. Nothing here is kept across replicas: the log in the pod is
// the one copy, and a KubeExecTerminal can be dropped and made again at any moment.
import type { ServerFrame } from '../api/terminal-protocol.ts';
import { catalogueEntry } from '../errors.ts';
import type { AttachableTerminal, TerminalAttachment, TerminalClient } from '../sessions/terminal.ts';
import type { ExecEnd, ExecStream, PodExec, PodTarget } from './pod-exec.ts';

/** The keeper's program in the workstation image. */
export const KEEPER = 'svclab-term';
const HEADER = /^svclab-term base=(\d+) from=(\d+) end=(\d+) missed=([01])(?: input=(\d+|-))?$/;
const EXIT = /svclab-term exit=(\d+)/;
const MAX_HEADER_BYTES = 256;
/** Keystrokes held while no exec is open yet (as the page holds them while reconnecting). */
const INPUT_HOLD_BYTES = 64 * 1024;

export interface KubeExecTerminalOptions {
  /** The terminal's name; also the keeper's session name in the pod. */
  name: string;
  target: PodTarget;
  exec: PodExec;
  /** The shell's greeting language, when this call starts the shell. */
  lang?: 'en' | 'zh';
  highWater?: number;
  lowWater?: number;
  resizeTimeoutMs?: number;
  /** How long an attach may take to answer (the API server or the pod stuck): then the page is hung up to retry. Default 30 s. */
  attachTimeoutMs?: number;
  /** Problems worth a log line (a resize that failed, a stream that broke). */
  log?: (message: string, fields: Record<string, unknown>) => void;
}

interface Attached extends TerminalAttachment {
  client: TerminalClient;
  /** Highest seq the client confirmed rendered. */
  acked: number;
  /** Offset of the next byte from the exec: the seq of the last data frame sent. */
  sent: number;
  stream: ExecStream | undefined;
  greeted: boolean;
  /** Bytes before the header's end, or a character's first bytes waiting for the rest. */
  held: Buffer;
  stderr: string;
  paused: boolean;
  detached: boolean;
  /** The page's id for its keystrokes: its input goes through this client's own exec, framed with offsets. */
  clientId: string | undefined;
  /** Framed keystrokes typed before this client's exec was up. */
  framed: Buffer[];
  /** Output held while the keeper is asked whether NUL bytes were a trimmed-away stretch. */
  checking: Buffer[] | undefined;
  /** The stream's end, when it came during such a check (it is handled after the output). */
  ended: (() => void) | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class KubeExecTerminal implements AttachableTerminal {
  readonly name: string;
  private readonly opts: KubeExecTerminalOptions;
  private readonly clients = new Set<Attached>();
  private readonly highWater: number;
  private readonly lowWater: number;
  private input: Buffer[] = [];
  private inputBytes = 0;
  private size = { cols: 80, rows: 24 };
  private resizing: Promise<void> | undefined;
  private resizeWanted: { cols: number; rows: number } | undefined;

  constructor(opts: KubeExecTerminalOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.highWater = opts.highWater ?? 256 * 1024;
    this.lowWater = opts.lowWater ?? 64 * 1024;
  }

  get clientCount(): number { return this.clients.size; }
  /** Nothing is held here: the log in the pod is the one copy. */
  get bufferedBytes(): number { return 0; }
  async flushHistory(): Promise<void> { /* the keeper writes its log as output comes */ }
  /** Execs open now (one per attached client whose stream is up). */
  get streamCount(): number { return [...this.clients].filter((c) => c.stream).length; }

  attach(client: TerminalClient, since: number, cols: number, rows: number, opts: { clientId?: string } = {}): TerminalAttachment {
    const entry: Attached = { client, acked: since, sent: since, stream: undefined, greeted: false, held: Buffer.alloc(0), stderr: '', paused: false, detached: false, checking: undefined, ended: undefined, clientId: opts.clientId, framed: [], timer: undefined };
    this.clients.add(entry);
    this.size = { cols, rows };
    const argv = [KEEPER, 'attach', this.name, String(since), String(cols), String(rows), this.opts.lang ?? 'en', ...(opts.clientId ? [opts.clientId] : [])];
    entry.timer = setTimeout(() => {
      if (entry.greeted || entry.detached) return;
      this.opts.log?.('terminal attach timed out', { terminal: this.name, pod: this.opts.target.pod, ms: this.opts.attachTimeoutMs ?? 30_000 });
      entry.stream?.abort();
      this.hangUp(entry, 1012, 'terminal attach timed out');
    }, this.opts.attachTimeoutMs ?? 30_000);
    entry.timer.unref?.();
    this.opts.exec.open(this.opts.target, argv, { stdout: (b) => this.onStdout(entry, b), stderr: (b) => { entry.stderr = (entry.stderr + b.toString('utf8')).slice(-4096); } }).then(
      (stream) => {
        if (entry.detached) { stream.close(); return; }
        entry.stream = stream;
        if (entry.paused) stream.pause();
        if (entry.greeted && this.input.length) this.flushInput(entry);
        if (entry.greeted && entry.framed.length) for (const f of entry.framed.splice(0)) stream.write(f);
        void stream.done.then((end) => {
          if (entry.checking) entry.ended = () => this.onEnd(entry, stream, end);
          else this.onEnd(entry, stream, end);
        });
      },
      (e: unknown) => {
        if (entry.detached) return;
        this.opts.log?.('terminal exec could not start', { terminal: this.name, pod: this.opts.target.pod, err: String(e) });
        const status = (e as { httpStatus?: number }).httpStatus;
        // No such pod, container not running, no right to exec: the page says so and stops.
        // Anything else (the API server unreachable for a moment): hang up, the page retries.
        if (status !== undefined && status < 500 && status !== 429) this.fail(entry, e instanceof Error ? e.message : String(e));
        else this.hangUp(entry, 1012, 'terminal stream unavailable');
      },
    );
    return entry;
  }

  detach(attachment: TerminalAttachment): void {
    const entry = attachment as Attached;
    if (!this.clients.delete(entry)) return;
    entry.detached = true;
    clearTimeout(entry.timer);
    entry.stream?.close();
    entry.stream = undefined;
  }

  ack(attachment: TerminalAttachment, seq: number): { ok: true } | { ok: false; lastSent: number } {
    const entry = attachment as Attached;
    if (seq > entry.sent) return { ok: false, lastSent: entry.sent };
    entry.acked = Math.max(entry.acked, seq);
    this.updateFlow(entry);
    return { ok: true };
  }

  drained(): void {
    for (const c of this.clients) this.updateFlow(c);
  }

  /**
   * Keystrokes. A page that says where they start in its input (`at`, with its hello's client
   * id) types through its own exec, and the keeper skips what the shell already got — so what
   * the page sends again after a reconnect arrives once. Other input goes through any open
   * exec: every exec feeds the same shell.
   */
  write(data: string, from?: { entry: TerminalAttachment; at?: number }): void {
    const bytes = Buffer.from(data, 'utf8');
    const entry = from?.entry as Attached | undefined;
    if (entry?.clientId && from?.at !== undefined) {
      if (entry.detached) return;
      const frame = framed(from.at, bytes);
      if (entry.stream && entry.greeted) {
        entry.stream.write(frame);
      } else {
        entry.framed.push(frame);
        let held = entry.framed.reduce((n, f) => n + f.length, 0);
        while (held > INPUT_HOLD_BYTES && entry.framed.length > 1) held -= entry.framed.shift()!.length;
      }
      return;
    }
    const via = this.inputEntry();
    // A framed exec takes unnumbered input as "-" frames (written as they come).
    if (via?.stream) { via.stream.write(via.clientId ? framed('-', bytes) : bytes); return; }
    this.input.push(bytes);
    this.inputBytes += bytes.length;
    while (this.inputBytes > INPUT_HOLD_BYTES && this.input.length > 1) this.inputBytes -= this.input.shift()!.length;
  }

  resize(cols: number, rows: number): void {
    if (cols === this.size.cols && rows === this.size.rows && !this.resizeWanted) return;
    this.size = { cols, rows };
    this.resizeWanted = { cols, rows };
    // One resize exec at a time; a burst of resizes (a window dragged) ends in its last size.
    this.resizing ??= this.resizeLoop().finally(() => { this.resizing = undefined; });
  }

  /** Hang up every client's exec. The shell stays in the pod (that is the point): it ends with the pod. */
  close(): void {
    for (const c of [...this.clients]) this.detach(c);
    this.input = [];
    this.inputBytes = 0;
  }

  private inputEntry(): Attached | undefined {
    for (const c of this.clients) if (c.stream && c.greeted) return c;
    return undefined;
  }

  private async resizeLoop(): Promise<void> {
    while (this.resizeWanted) {
      const { cols, rows } = this.resizeWanted;
      this.resizeWanted = undefined;
      const r = await this.opts.exec.run(this.opts.target, [KEEPER, 'resize', this.name, String(cols), String(rows)], this.opts.resizeTimeoutMs ?? 10_000)
        .catch((e: unknown) => ({ exitCode: undefined, stderr: String(e), message: undefined }));
      if (r.exitCode !== 0) this.opts.log?.('terminal resize failed', { terminal: this.name, pod: this.opts.target.pod, cols, rows, stderr: r.stderr.trim(), message: r.message });
    }
  }

  private onStdout(entry: Attached, data: Buffer): void {
    if (entry.detached) return;
    if (entry.checking) { entry.checking.push(data); return; }
    let bytes = entry.held.length ? Buffer.concat([entry.held, data]) : data;
    entry.held = Buffer.alloc(0);
    if (!entry.greeted) {
      const nl = bytes.indexOf(0x0a);
      if (nl < 0) {
        if (bytes.length > MAX_HEADER_BYTES) this.fail(entry, `The workstation's ${KEEPER} answered something else than its header: ${JSON.stringify(bytes.subarray(0, 80).toString('utf8'))}.`);
        else entry.held = bytes;
        return;
      }
      const m = HEADER.exec(bytes.subarray(0, nl).toString('utf8'));
      if (!m) {
        this.fail(entry, `The workstation's ${KEEPER} answered something else than its header: ${JSON.stringify(bytes.subarray(0, Math.min(nl, 80)).toString('utf8'))}.`);
        return;
      }
      const [from, end, missed] = [Number(m[2]), Number(m[3]), m[4] === '1'];
      // With a client id: how much of that page's input the shell got (a number), or none yet ("-").
      const input = entry.clientId && m[5] !== undefined && m[5] !== '-' ? Number(m[5]) : undefined;
      entry.greeted = true;
      clearTimeout(entry.timer);
      // Nothing before `from` is owed to this client (it has it, or it is gone: `missed`).
      entry.sent = from;
      entry.acked = from;
      // nextSeq − 1 is the last seq there is now: a page ahead of it (a shell that started over) starts over too.
      this.send(entry, { type: 'hello', terminal: this.name, nextSeq: Math.max(end, from) + 1, replayed: 0, missed, ...(input === undefined ? {} : { input }) });
      bytes = bytes.subarray(nl + 1);
      if (this.input.length && entry.stream) this.flushInput(entry);
      if (entry.framed.length && entry.stream) for (const f of entry.framed.splice(0)) entry.stream.write(f);
    }
    // The keeper punches the log's head out under a reader that fell more than its KEEP
    // bytes behind (a page that stopped reading during a flood): that reads as NUL bytes.
    const nul = bytes.indexOf(0);
    if (nul >= 0) {
      this.checkTrimmed(entry, bytes, nul);
      return;
    }
    this.forward(entry, bytes);
  }

  private forward(entry: Attached, data: Buffer): void {
    const bytes = entry.held.length ? Buffer.concat([entry.held, data]) : data;
    entry.held = Buffer.alloc(0);
    const whole = completeUtf8(bytes);
    if (whole < bytes.length) entry.held = Buffer.from(bytes.subarray(whole));
    if (whole === 0) return;
    entry.sent += whole;
    this.send(entry, { type: 'data', seq: entry.sent, data: bytes.subarray(0, whole).toString('utf8') });
    this.updateFlow(entry);
  }

  /**
   * NUL bytes at `nul` in `bytes` (which start at entry.sent): ask the keeper from where its
   * log is whole. Before that offset they are a trimmed stretch, not output: what came before
   * them is sent, and the page is hung up so it reconnects and is told it missed some.
   * Otherwise they are output (printf '\0'): sent on. The stream waits meanwhile.
   */
  private checkTrimmed(entry: Attached, bytes: Buffer, nul: number): void {
    entry.checking = [];
    entry.stream?.pause();
    const at = entry.sent + nul;
    void this.opts.exec.run(this.opts.target, [KEEPER, 'oldest', this.name], this.opts.resizeTimeoutMs ?? 10_000)
      .catch(() => ({ exitCode: undefined, stdout: '' }))
      .then((r) => {
        if (entry.detached) return;
        const oldest = r.exitCode === 0 ? Number(r.stdout.trim()) : NaN;
        const queued = entry.checking ?? [];
        entry.checking = undefined;
        if (Number.isFinite(oldest) && oldest > at) {
          entry.ended = undefined;
          if (nul > 0) this.forward(entry, bytes.subarray(0, nul));
          this.opts.log?.('terminal reader fell behind the kept log', { terminal: this.name, pod: this.opts.target.pod, at, oldest });
          this.hangUp(entry, 1012, 'output trimmed before it was read');
          return;
        }
        // Whatever was read before the answer was whole when read (the keeper announces a
        // trim before it punches), so it goes on unchecked.
        this.forward(entry, bytes);
        for (const q of queued) this.forward(entry, q);
        if (!entry.paused) entry.stream?.resume();
        const ended = entry.ended;
        entry.ended = undefined;
        ended?.();
      });
  }

  private flushInput(entry: Attached): void {
    const held = this.input;
    this.input = [];
    this.inputBytes = 0;
    for (const b of held) entry.stream?.write(entry.clientId ? framed('-', b) : b);
  }

  private onEnd(entry: Attached, stream: ExecStream, end: ExecEnd): void {
    if (entry.stream === stream) entry.stream = undefined;
    if (entry.detached) return;
    const exit = EXIT.exec(entry.stderr);
    if (exit) {
      // The shell ended; the page shows it, and a new attach (a reload) starts a new shell.
      this.send(entry, { type: 'exit', exitCode: Number(exit[1]) });
      return;
    }
    if (!entry.greeted && !end.dropped) {
      // The keeper refused or is missing (an old workstation image): say what it said.
      const said = entry.stderr.trim() || end.message || `exit code ${end.exitCode}`;
      const missing = end.exitCode === 127 || /not found/i.test(said);
      this.fail(entry, missing
        ? `The workstation container has no ${KEEPER} (its image predates terminals through the Kubernetes API): ${said}`
        : `The terminal could not attach in the workstation container: ${said}`);
      return;
    }
    // The stream broke under a living shell (API server, node, network): the page reconnects
    // from its last seq — to this replica or another — and loses nothing.
    this.opts.log?.('terminal stream ended', { terminal: this.name, pod: this.opts.target.pod, exitCode: end.exitCode, message: end.message, dropped: end.dropped });
    this.hangUp(entry);
  }

  private fail(entry: Attached, message: string): void {
    this.send(entry, { type: 'error', code: 'WORKSTATION_FAILED', message, hint: catalogueEntry('WORKSTATION_FAILED').hint, fatal: true });
    this.hangUp(entry, 1011, 'terminal failed');
  }

  /** 1012 (service restart): the page reconnects and asks for what it has not rendered. */
  private hangUp(entry: Attached, code = 1012, reason = 'terminal stream ended'): void {
    this.detach(entry);
    entry.client.close?.(code, reason);
  }

  private send(entry: Attached, frame: ServerFrame): void {
    entry.client.send(frame);
  }

  /** A client's exec is paused while it has more than highWater bytes unacked or unsent; resumed under lowWater. */
  private updateFlow(entry: Attached): void {
    const backlog = Math.max(entry.sent - entry.acked, entry.client.bufferedBytes?.() ?? 0);
    if (!entry.paused && backlog > this.highWater) {
      entry.paused = true;
      entry.stream?.pause();
    } else if (entry.paused && backlog < this.lowWater) {
      entry.paused = false;
      entry.stream?.resume();
    }
  }
}

/** One input frame for a keeper attached with a client id: "AT LEN\n" + bytes ("-": no offset, written as it comes). */
function framed(at: number | '-', bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${at} ${bytes.length}\n`), bytes]);
}

/** Length of the longest prefix of `b` that does not end inside a UTF-8 character. */
export function completeUtf8(b: Buffer): number {
  const n = b.length;
  // A character is at most 4 bytes: look at the last 3 for a lead byte whose sequence is cut.
  for (let i = n - 1; i >= Math.max(0, n - 3); i--) {
    const c = b[i]!;
    if (c < 0x80) return n; // ASCII: nothing cut
    if (c >= 0xf8) return n; // never a lead byte: not UTF-8, passed on as it is
    if (c >= 0xc0) {
      const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return i + len > n ? i : n;
    }
    // 0x80–0xbf: a continuation byte, keep looking for its lead
  }
  return n;
}

export interface KubeTerminalRequest {
  /** The learner's environment pod and its shell's container (`workstation`). */
  target: PodTarget;
  name: string;
  lang?: 'en' | 'zh';
}

/** What kube-mode wiring holds: one PodExec (the runner's service account), terminals made on demand. */
export type KubeTerminalFactory = (req: KubeTerminalRequest) => KubeExecTerminal;

export function kubeTerminalFactory(deps: { exec: PodExec; log?: KubeExecTerminalOptions['log'] }): KubeTerminalFactory {
  return (req) => new KubeExecTerminal({ name: req.name, target: req.target, exec: deps.exec, ...(req.lang ? { lang: req.lang } : {}), ...(deps.log ? { log: deps.log } : {}) });
}
