// Output kept for reconnects: bounded by bytes and age, and always dropping whole
// chunks, so a replay never hands the client half an escape sequence.

export interface Chunk {
  seq: number;
  data: string;
  bytes: number;
  at: number;
}

export interface ReplaySnapshot {
  nextSeq: number;
  chunks: { seq: number; data: string; at: number }[];
}

export interface ReplayBufferOptions {
  maxBytes: number;
  maxAgeMs: number;
  now?: () => number;
}

export class ReplayBuffer {
  private chunks: Chunk[] = [];
  private head = 0; // index of the oldest live chunk in `chunks`
  private size = 0;
  private next = 1;
  private readonly now: () => number;
  private readonly opts: ReplayBufferOptions;

  constructor(opts: ReplayBufferOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  /** The seq the next chunk will get. */
  get nextSeq(): number {
    return this.next;
  }

  get bytes(): number {
    return this.size;
  }

  get length(): number {
    return this.chunks.length - this.head;
  }

  push(data: string): Chunk {
    const chunk: Chunk = { seq: this.next++, data, bytes: Buffer.byteLength(data), at: this.now() };
    this.chunks.push(chunk);
    this.size += chunk.bytes;
    this.evict();
    return chunk;
  }

  /**
   * Chunks after `seq`. `missed` is true when some of them were already evicted,
   * so the client knows its screen has a gap rather than silently skipping it.
   */
  since(seq: number): { chunks: Chunk[]; missed: boolean } {
    this.evict();
    const live = this.chunks.slice(this.head);
    const oldest = live[0]?.seq ?? this.next;
    const from = Math.max(seq + 1, oldest);
    return { chunks: live.filter((c) => c.seq >= from), missed: seq + 1 < oldest && seq + 1 < this.next };
  }

  /** What is held now, oldest first (to persist it). */
  snapshot(): ReplaySnapshot {
    this.evict();
    return { nextSeq: this.next, chunks: this.chunks.slice(this.head).map((c) => ({ seq: c.seq, data: c.data, at: c.at })) };
  }

  /**
   * Continue from a snapshot (a restarted runner): the same seqs, so a client that
   * rendered up to N gets what came after N. Chunks out of order or at/after nextSeq
   * are a broken snapshot and are left out; the bounds apply as to new chunks.
   */
  restore(snap: ReplaySnapshot): void {
    this.chunks = [];
    this.head = 0;
    this.size = 0;
    let last = 0;
    for (const c of snap.chunks) {
      if (!(c.seq > last && c.seq < snap.nextSeq)) continue;
      const chunk: Chunk = { seq: c.seq, data: c.data, bytes: Buffer.byteLength(c.data), at: c.at };
      this.chunks.push(chunk);
      this.size += chunk.bytes;
      last = c.seq;
    }
    this.next = Math.max(snap.nextSeq, last + 1, 1);
    this.evict();
  }

  /** Bytes of the chunks after `seq` still held (for flow control). */
  bytesAfter(seq: number): number {
    let n = 0;
    for (let i = this.chunks.length - 1; i >= this.head; i--) {
      const c = this.chunks[i]!;
      if (c.seq <= seq) break;
      n += c.bytes;
    }
    return n;
  }

  private evict(): void {
    const cutoff = this.now() - this.opts.maxAgeMs;
    while (this.head < this.chunks.length) {
      const oldest = this.chunks[this.head]!;
      // Keep at least the newest chunk even if it alone is over the limit.
      const over = this.size > this.opts.maxBytes && this.head < this.chunks.length - 1;
      if (!over && oldest.at >= cutoff) break;
      this.size -= oldest.bytes;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
