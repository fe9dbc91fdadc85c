// What a restarted runner needs to take its sessions back: one record per session
// (<dir>/<id>.json, 0600 in a 0700 dir) and each terminal's recent output
// (<dir>/<id>.<terminal>.history). The record holds the SHA-256 of the secret the
// session's workstation carries as a label, so a restarted runner re-adopts only
// workstations it made; the secret itself is never written here.
import { createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { ReplaySnapshot } from './replay-buffer.ts';

const ID = /^[A-Za-z0-9_-]{1,64}$/;

const recordSchema = z.object({
  version: z.literal(1),
  id: z.string().regex(ID),
  labId: z.string().min(1),
  learner: z.string().min(1),
  createdAt: z.string(),
  workstation: z.string().min(1),
  volume: z.string().min(1),
  cluster: z.string().optional(),
  /** 'starting' until the lab's starting state is applied: such a session is not taken back. */
  state: z.enum(['starting', 'ready']),
  secretSha256: z.string().regex(/^[0-9a-f]{64}$/),
  ownerPid: z.number().int(),
  progress: z.array(z.tuple([z.string(), z.object({ status: z.enum(['passed', 'solved-with-help']), at: z.string() })])),
});
export type SessionRecord = z.infer<typeof recordSchema>;

export function secretSha256(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Whether `secret` (a workstation's label) is the one whose hash the record keeps; constant time. */
export function secretMatches(record: Pick<SessionRecord, 'secretSha256'>, secret: string | undefined): boolean {
  if (!secret) return false;
  const a = Buffer.from(secretSha256(secret), 'hex');
  const b = Buffer.from(record.secretSha256, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A terminal's recent output, persisted so a restarted runner replays it. */
export interface TerminalHistory {
  load(): ReplaySnapshot | undefined;
  /** The output changed; `snapshot` is read when the (throttled) write happens. */
  changed(snapshot: () => ReplaySnapshot): void;
  /** Write what is pending now. */
  flush(): Promise<void>;
  /** Stop writing (the terminal is gone for good). */
  close(): void;
}

export interface SessionStore {
  /** The absolute directory: workstations carry it as a label, so runners with other directories leave them alone. */
  readonly dir: string;
  save(r: SessionRecord): void;
  load(id: string): SessionRecord | undefined;
  /** Ids of every record file, valid or not. */
  ids(): string[];
  /** The record and the session's terminal histories. */
  forget(id: string): void;
  history(id: string, terminal: string): TerminalHistory;
}

export interface FileSessionStoreOptions {
  /** Time between a change and its write (default 250 ms): what a kill -9 may lose of the screen, never of the shell. */
  throttleMs?: number;
}

export class FileSessionStore implements SessionStore {
  readonly dir: string;
  private readonly throttleMs: number;
  private readonly histories = new Map<string, FileTerminalHistory>();

  constructor(dir: string, opts: FileSessionStoreOptions = {}) {
    this.dir = resolve(dir);
    this.throttleMs = opts.throttleMs ?? 250;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
  }

  save(r: SessionRecord): void {
    const file = this.recordFile(r.id);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(recordSchema.parse(r))}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  }

  load(id: string): SessionRecord | undefined {
    if (!ID.test(id)) return undefined;
    try {
      const r = recordSchema.safeParse(JSON.parse(readFileSync(this.recordFile(id), 'utf8')));
      return r.success && r.data.id === id ? r.data : undefined;
    } catch {
      return undefined;
    }
  }

  ids(): string[] {
    try {
      return readdirSync(this.dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).filter((id) => ID.test(id));
    } catch {
      return [];
    }
  }

  forget(id: string): void {
    if (!ID.test(id)) return;
    for (const [key, h] of this.histories) {
      if (key.startsWith(`${id}\n`)) {
        h.close();
        this.histories.delete(key);
      }
    }
    for (const f of this.filesOf(id)) rmSync(join(this.dir, f), { force: true });
  }

  history(id: string, terminal: string): TerminalHistory {
    const key = `${id}\n${terminal}`;
    let h = this.histories.get(key);
    if (!h) {
      // Terminal names ("node:svclab-x-worker") are encoded so they stay one file name.
      h = new FileTerminalHistory(join(this.dir, `${id}.${Buffer.from(terminal).toString('base64url')}.history`), this.throttleMs);
      this.histories.set(key, h);
    }
    return h;
  }

  private recordFile(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private filesOf(id: string): string[] {
    try {
      return readdirSync(this.dir).filter((f) => f === `${id}.json` || (f.startsWith(`${id}.`) && (f.endsWith('.history') || f.endsWith('.tmp'))));
    } catch {
      return [];
    }
  }
}

/**
 * One file: a JSON header line ({v, nextSeq, chunks: [[seq, at, bytes]…]}) and then the
 * chunks' bytes as they are, so the file is the replay buffer's bytes plus ~30 bytes a chunk.
 */
export class FileTerminalHistory implements TerminalHistory {
  private readonly file: string;
  private readonly throttleMs: number;
  private timer: NodeJS.Timeout | undefined;
  private pending: (() => ReplaySnapshot) | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(file: string, throttleMs: number) {
    this.file = file;
    this.throttleMs = throttleMs;
  }

  load(): ReplaySnapshot | undefined {
    try {
      return decodeHistory(readFileSync(this.file));
    } catch {
      return undefined;
    }
  }

  changed(snapshot: () => ReplaySnapshot): void {
    if (this.closed) return;
    this.pending = snapshot;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.throttleMs);
    this.timer.unref?.();
  }

  async flush(): Promise<void> {
    const take = this.pending;
    this.pending = undefined;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!take || this.closed) return this.writing;
    const body = encodeHistory(take());
    // One write at a time, each whole (tmp then rename): a crash leaves the old or the new file.
    this.writing = this.writing.then(async () => {
      if (this.closed) return;
      const tmp = `${this.file}.tmp`;
      try {
        await writeFile(tmp, body, { mode: 0o600 });
        await rename(tmp, this.file);
        if (this.closed) await rm(this.file, { force: true });
      } catch {
        // The directory went away (session forgotten): nothing to keep.
      }
    });
    return this.writing;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }
}

export function encodeHistory(snap: ReplaySnapshot): Buffer {
  const bodies = snap.chunks.map((c) => Buffer.from(c.data, 'utf8'));
  const header = JSON.stringify({ v: 1, nextSeq: snap.nextSeq, chunks: snap.chunks.map((c, i) => [c.seq, c.at, bodies[i]!.length]) });
  return Buffer.concat([Buffer.from(`${header}\n`), ...bodies]);
}

const headerSchema = z.object({ v: z.literal(1), nextSeq: z.number().int().positive(), chunks: z.array(z.tuple([z.number().int().positive(), z.number(), z.number().int().nonnegative()])) });

/** Undefined for anything that is not a whole history file (truncated, foreign, corrupt). */
export function decodeHistory(buf: Buffer): ReplaySnapshot | undefined {
  const nl = buf.indexOf(0x0a);
  if (nl < 0) return undefined;
  let header: z.infer<typeof headerSchema>;
  try {
    const h = headerSchema.safeParse(JSON.parse(buf.subarray(0, nl).toString('utf8')));
    if (!h.success) return undefined;
    header = h.data;
  } catch {
    return undefined;
  }
  let at = nl + 1;
  const chunks: ReplaySnapshot['chunks'] = [];
  for (const [seq, time, bytes] of header.chunks) {
    if (at + bytes > buf.length) return undefined;
    chunks.push({ seq, at: time, data: buf.subarray(at, at + bytes).toString('utf8') });
    at += bytes;
  }
  return at === buf.length ? { nextSeq: header.nextSeq, chunks } : undefined;
}
