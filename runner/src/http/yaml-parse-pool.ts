// Parses the editor's YAML without stalling the runner: a small text inline, a large one
// (over 64 KiB: a second or more for ~1 MiB) on a small pool of worker threads, so
// /api/health, terminals and other learners keep being served meanwhile.
import { Worker } from 'node:worker_threads';
import { RunnerError, type ErrorCode } from '../errors.ts';
import type { ParseAnswer } from './yaml-parse-worker.ts';
import { parseManifests, type ParsedManifest } from './yaml-input.ts';

export interface ManifestParserOptions {
  /** Texts longer than this (in characters) go to a worker. */
  inlineLimit?: number;
  /** Worker threads at most (started when first needed). */
  workers?: number;
  /** A parse taking longer than this stops its worker and is refused. */
  timeoutMs?: number;
  /** Jobs waiting for a worker at most; more is refused as busy. */
  maxQueued?: number;
}

interface Job {
  id: number;
  text: string;
  resolve: (m: ParsedManifest[]) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
  timer?: NodeJS.Timeout;
}

export class ManifestParser {
  readonly inlineLimit: number;
  readonly #workers: number;
  readonly #timeoutMs: number;
  readonly #maxQueued: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 0;
  #closed = false;

  constructor(opts: ManifestParserOptions = {}) {
    this.inlineLimit = opts.inlineLimit ?? 64 * 1024;
    this.#workers = opts.workers ?? 2;
    this.#timeoutMs = opts.timeoutMs ?? 20_000;
    this.#maxQueued = opts.maxQueued ?? 16;
  }

  /** Parses like parseManifests; the same RunnerErrors (YAML_INVALID …). */
  async parse(text: string): Promise<ParsedManifest[]> {
    if (text.length <= this.inlineLimit) return parseManifests(text);
    if (this.#closed) throw new RunnerError('POOL_CLOSED', { message: 'The runner is stopping.', hint: 'Start the runner again and apply once more; your editor text is kept.' });
    if (this.#queue.length >= this.#maxQueued) {
      throw new RunnerError('SERVER_BUSY', { message: `${this.#queue.length} large manifests are already waiting to be parsed.` });
    }
    return new Promise<ParsedManifest[]>((resolve, reject) => {
      this.#queue.push({ id: ++this.#nextId, text, resolve, reject });
      this.#pump();
    });
  }

  /** How many large texts are being parsed or waiting. */
  get pending(): number {
    return this.#queue.length + this.#slots.filter((s) => s.job).length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new RunnerError('POOL_CLOSED'));
    await Promise.all(this.#slots.splice(0).map(async (s) => {
      clearTimeout(s.timer);
      s.job?.reject(new RunnerError('POOL_CLOSED'));
      await s.worker.terminate();
    }));
  }

  #pump(): void {
    while (this.#queue.length) {
      let slot = this.#slots.find((s) => !s.job);
      if (!slot && this.#slots.length < this.#workers) slot = this.#spawn();
      if (!slot) return;
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.timer = setTimeout(() => this.#timedOut(slot), this.#timeoutMs);
      slot.worker.postMessage({ id: job.id, text: job.text });
    }
  }

  #spawn(): Slot {
    const worker = new Worker(new URL('./yaml-parse-worker.ts', import.meta.url));
    worker.unref(); // an idle parser never keeps the process alive
    const slot: Slot = { worker };
    worker.on('message', (a: ParseAnswer) => {
      const job = slot.job;
      if (!job || job.id !== a.id) return;
      this.#finish(slot);
      if ('manifests' in a) job.resolve(a.manifests);
      else if ('error' in a) job.reject(new RunnerError(a.error.code as ErrorCode, { message: a.error.message, hint: a.error.hint, details: a.error.details }));
      else job.reject(new RunnerError('INTERNAL', { cause: new Error(a.crash) }));
    });
    worker.on('error', (e) => this.#lose(slot, new RunnerError('INTERNAL', { cause: e })));
    worker.on('exit', () => this.#lose(slot, new RunnerError('INTERNAL', { cause: new Error('the YAML parser thread exited') })));
    this.#slots.push(slot);
    return slot;
  }

  #finish(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.job = undefined;
    slot.timer = undefined;
    queueMicrotask(() => this.#pump());
  }

  /** A worker that died or was stopped: its job fails, the slot is dropped, the queue goes on. */
  #lose(slot: Slot, err: unknown): void {
    const i = this.#slots.indexOf(slot);
    if (i < 0) return;
    this.#slots.splice(i, 1);
    const job = slot.job;
    clearTimeout(slot.timer);
    slot.job = undefined;
    job?.reject(err);
    if (!this.#closed) this.#pump();
  }

  #timedOut(slot: Slot): void {
    const seconds = Math.round(this.#timeoutMs / 1000);
    this.#lose(slot, new RunnerError('YAML_INVALID', {
      message: `The YAML took longer than ${seconds} s to parse and was not applied.`,
      hint: 'Apply fewer or smaller objects at a time.',
      details: { line: 1, column: 1 },
    }));
    void slot.worker.terminate();
  }
}
