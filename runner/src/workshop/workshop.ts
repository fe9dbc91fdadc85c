// A workshop for a room: the labs it offers, how many may join, when it ends, the event
// code learners type and the instructor's own secret. Joining checks the code (constant
// time, rate-limited per address) and the capacity, and hands out a signed learner pass.
// Built by main/ and passed down; everything it knows is in its WorkshopStore.
import { randomBytes, randomUUID } from 'node:crypto';
import { RunnerError } from '../errors.ts';
import { JoinLimiter, type JoinLimiterOptions } from './join-limiter.ts';
import { safeEqual, signLearnerCredential, verifyLearnerCredential } from './learner-credential.ts';
import type { LearnerRecord, SavedStepStatus, SavedWork, WorkshopRecord, WorkshopStore } from './workshop-store.ts';

/** A learner is warned this long before the workshop ends. */
export const EXPIRY_WARNING_MS = 5 * 60_000;
/** A learner pass works this long after joining (the workshop's end stops it sooner). */
export const CREDENTIAL_TTL_MS = 24 * 3600_000;
const NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._'-]{0,39}$/u;

export interface WorkshopOptions {
  labs: readonly string[];
  capacity: number;
  reserve: number;
  /** How long from now. */
  durationMs: number;
  /** The event code; random (8 characters, no look-alikes) when not given. */
  code?: string;
  limiter?: JoinLimiterOptions;
  now?: () => number;
}

export interface WorkshopDeps {
  store: WorkshopStore;
  now?: () => number;
  limiter?: JoinLimiterOptions;
}

export interface JoinResult {
  learner: LearnerRecord;
  /** The cookie value (learner pass). */
  credential: string;
  /** When the pass stops working (ms since epoch). */
  credentialExpiresAt: number;
}

export interface WorkshopTimes {
  expiresAt: string;
  secondsLeft: number;
  /** Within the last five minutes. */
  endingSoon: boolean;
  ended: boolean;
}

/** A learner's live session moved to a new cluster because theirs stopped answering. */
export interface SessionMove {
  from: string;
  to: string;
  labId: string;
  /** ISO time of the move. */
  at: string;
  /** The cluster that stopped answering. */
  cluster: string;
}

/** Moves remembered per learner (the page needs only the latest). */
const MOVES_KEPT = 10;

const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function randomCode(length = 8): string {
  const bytes = randomBytes(length);
  return [...bytes].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('');
}

/** "2h", "90m", "1h30m", "45s" → ms. */
export function parseDuration(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  const ms = m && m[0] ? ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000 : NaN;
  if (!(ms > 0)) throw new RunnerError('INVALID_ARGUMENT', { message: `"${text}" is not a duration.`, hint: 'Use hours and minutes, e.g. 2h, 90m or 1h30m.' });
  return ms;
}

export function validateEventCode(code: string): string {
  if (!/^[A-Za-z0-9]{4,32}$/.test(code)) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `--code "${code}" is not a usable event code.`, hint: 'Use 4 to 32 letters and digits (learners type it); leave it out for a random one.' });
  }
  return code;
}

export class Workshop {
  readonly store: WorkshopStore;
  private readonly now: () => number;
  private readonly limiter: JoinLimiter;
  /** The record, cached: it changes only through this object (extend, end). */
  private record: WorkshopRecord;
  /** Learners' own ends (extended alone), by learner id: read without the store (instructor grid, sweep). */
  private readonly ownEnds = new Map<string, number>();
  private readonly movesByLearner = new Map<string, SessionMove[]>();

  private constructor(deps: WorkshopDeps, record: WorkshopRecord) {
    this.store = deps.store;
    this.now = deps.now ?? Date.now;
    this.limiter = new JoinLimiter(deps.limiter);
    this.record = record;
  }

  /** A new workshop in `store` (its code and secrets are made here). */
  static async create(deps: WorkshopDeps, o: Omit<WorkshopOptions, 'now' | 'limiter'>): Promise<Workshop> {
    if (!o.labs.length) throw new RunnerError('INVALID_ARGUMENT', { message: 'A workshop needs at least one lab.', hint: 'Example: --labs 02,06,11' });
    if (!Number.isInteger(o.capacity) || o.capacity < 1) throw new RunnerError('INVALID_ARGUMENT', { message: `--capacity ${o.capacity}: expected a whole number of learners ≥ 1.`, hint: 'Example: --capacity 20' });
    if (!Number.isInteger(o.reserve) || o.reserve < 0 || o.reserve > o.capacity) {
      throw new RunnerError('INVALID_ARGUMENT', { message: `--reserve ${o.reserve}: expected a whole number from 0 to the capacity (${o.capacity}).`, hint: 'The reserve is how many clusters are kept warm ahead of joins.' });
    }
    const now = (deps.now ?? Date.now)();
    const record: WorkshopRecord = {
      id: randomUUID(), labs: [...o.labs], capacity: o.capacity, reserve: o.reserve, createdAt: now, expiresAt: now + o.durationMs,
      code: o.code ? validateEventCode(o.code) : randomCode(),
      instructorSecret: randomBytes(32).toString('base64url'),
      credentialKey: randomBytes(32).toString('base64url'),
    };
    await deps.store.putWorkshop(record);
    return new Workshop(deps, record);
  }

  /** The workshop already in `store` (a runner that restarted, or another process). */
  static async open(deps: WorkshopDeps): Promise<Workshop | undefined> {
    const r = await deps.store.getWorkshop();
    if (!r) return undefined;
    const w = new Workshop(deps, r);
    for (const l of await deps.store.listLearners()) if (l.expiresAt !== undefined) w.ownEnds.set(l.id, l.expiresAt);
    return w;
  }

  get id(): string { return this.record.id; }
  get code(): string { return this.record.code; }
  get instructorSecret(): string { return this.record.instructorSecret; }
  get labs(): readonly string[] { return this.record.labs; }
  get capacity(): number { return this.record.capacity; }
  get reserve(): number { return this.record.reserve; }
  get expiresAt(): number { return this.record.expiresAt; }

  /** Values the logger must never write. */
  secrets(): string[] {
    return [this.record.code, this.record.instructorSecret, this.record.credentialKey];
  }

  /**
   * When a learner's place ends: the workshop's end, or later when the instructor extended them
   * alone. `svclab workshop end` ends everyone at once, extended or not.
   */
  endOf(learnerId: string): number {
    if (this.record.endedAt !== undefined) return this.record.expiresAt;
    return Math.max(this.record.expiresAt, this.ownEnds.get(learnerId) ?? 0);
  }

  /** The workshop's times, or one learner's (their own end). */
  times(learnerId?: string): WorkshopTimes {
    const now = this.now();
    const end = learnerId === undefined ? this.record.expiresAt : this.endOf(learnerId);
    const left = end - now;
    return {
      expiresAt: new Date(end).toISOString(),
      secondsLeft: Math.max(0, Math.round(left / 1000)),
      endingSoon: left > 0 && left <= EXPIRY_WARNING_MS,
      ended: left <= 0,
    };
  }

  isInstructor(secret: string | undefined): boolean {
    return secret !== undefined && safeEqual(secret, this.record.instructorSecret);
  }

  /** Throws LAB_NOT_IN_WORKSHOP. */
  allowLab(labId: string): void {
    if (!this.record.labs.includes(labId)) {
      throw new RunnerError('LAB_NOT_IN_WORKSHOP', { message: `Lab ${labId} is not part of this workshop.`, details: { labs: this.record.labs } });
    }
  }

  private assertOpen(learnerId?: string): void {
    const end = learnerId === undefined ? this.record.expiresAt : this.endOf(learnerId);
    if (this.now() >= end) throw new RunnerError('WORKSHOP_ENDED', { details: { endedAt: new Date(end).toISOString() } });
  }

  /** Of these learners, those whose place has ended (their sessions end, their clusters go back). */
  ended(learnerIds: Iterable<string>): string[] {
    const now = this.now();
    return [...new Set(learnerIds)].filter((id) => now >= this.endOf(id));
  }

  /**
   * Join with the event code and a display name, from `address`. Wrong codes are counted per
   * address (JOIN_RATE_LIMITED states the wait); the right code from a locked address waits too.
   * `existing`: the learner's current pass, so joining again keeps their place and work.
   */
  async join(input: { code: string; name: string; address: string; existing?: string | undefined }): Promise<JoinResult> {
    this.assertOpen();
    const now = this.now();
    const wait = this.limiter.waitMs(input.address, now);
    if (wait > 0) throw rateLimited(wait);
    if (!safeEqual(input.code.trim().toUpperCase(), this.record.code.toUpperCase())) {
      const w = this.limiter.failed(input.address, now);
      if (w > 0) throw rateLimited(w);
      throw new RunnerError('CODE_WRONG');
    }
    this.limiter.succeeded(input.address);
    const name = input.name.trim().replace(/\s+/g, ' ');
    if (!NAME.test(name)) {
      throw new RunnerError('BAD_REQUEST', { message: 'Your display name must be 1 to 40 letters, digits, spaces, dots, dashes or apostrophes.', hint: 'Example: Ana, 李雷, or Ana P.' });
    }
    const current = input.existing ? await this.learnerFrom(input.existing).catch(() => undefined) : undefined;
    let learner: LearnerRecord;
    if (current) {
      learner = { ...current, name };
      await this.store.putLearner(learner);
    } else {
      learner = { id: randomBytes(12).toString('base64url'), name, joinedAt: now, nodeShells: false };
      if (!(await this.store.addLearner(learner, this.record.capacity))) {
        throw new RunnerError('WORKSHOP_FULL', { message: `This workshop is full: all ${this.record.capacity} places are taken.`, details: { capacity: this.record.capacity } });
      }
    }
    const credentialExpiresAt = now + CREDENTIAL_TTL_MS;
    return { learner, credential: signLearnerCredential(this.record.credentialKey, { w: this.record.id, l: learner.id, e: credentialExpiresAt }), credentialExpiresAt };
  }

  /** The learner a pass names; throws CREDENTIAL_INVALID (forged, other workshop, expired, unknown) or WORKSHOP_ENDED. */
  async learnerFrom(credential: string): Promise<LearnerRecord> {
    const r = verifyLearnerCredential(this.record.credentialKey, this.record.id, credential, this.now());
    if (!r.ok) throw new RunnerError('CREDENTIAL_INVALID', { details: { reason: r.reason } });
    const learner = await this.store.getLearner(r.claims.l);
    if (!learner) throw new RunnerError('CREDENTIAL_INVALID', { details: { reason: 'unknown-learner' } });
    this.assertOpen(learner.id);
    return learner;
  }

  async learners(): Promise<LearnerRecord[]> {
    return this.store.listLearners();
  }

  /** Throws BAD_REQUEST when there is no such learner. */
  async learner(id: string): Promise<LearnerRecord> {
    const l = await this.store.getLearner(id);
    if (!l) throw new RunnerError('BAD_REQUEST', { message: `There is no learner "${id}" in this workshop.`, hint: 'See `svclab workshop status` for the learners.' });
    return l;
  }

  /** The instructor lets one learner open node shells (root on their cluster's nodes), or takes it back. */
  async setNodeShells(learnerId: string, on: boolean): Promise<LearnerRecord> {
    const l = { ...(await this.learner(learnerId)), nodeShells: on };
    await this.store.putLearner(l);
    return l;
  }

  /**
   * One learner gets `byMs` more (from their end, or from now when it has passed); the room's
   * end stays. A workshop ended with `svclab workshop end` is over for everyone.
   */
  async extendLearner(learnerId: string, byMs: number): Promise<WorkshopTimes> {
    if (!(byMs > 0)) throw new RunnerError('INVALID_ARGUMENT', { message: 'Extend by a positive duration.', hint: 'Example: {"learner": "…", "minutes": 15}' });
    if (this.record.endedAt !== undefined) {
      throw new RunnerError('WORKSHOP_ENDED', { message: 'This workshop was ended, so no learner can be given more time.', hint: 'Extend the whole workshop (svclab workshop extend 30m) to open it again.', details: { endedAt: new Date(this.record.endedAt).toISOString() } });
    }
    const l = await this.learner(learnerId);
    const expiresAt = Math.max(this.now(), this.endOf(l.id)) + byMs;
    await this.store.putLearner({ ...l, expiresAt });
    this.ownEnds.set(l.id, expiresAt);
    return this.times(l.id);
  }

  /** The learner a short id (as the instructor page lists it: the first six characters) or a full id names. */
  async learnerByKey(key: string): Promise<LearnerRecord> {
    const all = await this.learners();
    const hits = all.filter((l) => l.id === key || l.id.slice(0, 6) === key);
    if (hits.length !== 1) {
      throw new RunnerError('BAD_REQUEST', { message: hits.length ? `"${key}" names more than one learner.` : `There is no learner "${key}" in this workshop.`, hint: 'Use a learner id as the instructor page or `svclab workshop status` lists it.' });
    }
    return hits[0]!;
  }

  /** Remember that a learner's session moved to a new cluster (the lab page follows it and says why). */
  recordMove(learnerId: string, move: SessionMove): void {
    const list = this.movesByLearner.get(learnerId) ?? [];
    list.push(move);
    if (list.length > MOVES_KEPT) list.splice(0, list.length - MOVES_KEPT);
    this.movesByLearner.set(learnerId, list);
  }

  moves(learnerId: string): SessionMove[] {
    return [...(this.movesByLearner.get(learnerId) ?? [])];
  }

  /** Moves the end `byMs` later (from now when it had already ended). */
  async extend(byMs: number): Promise<WorkshopTimes> {
    if (!(byMs > 0)) throw new RunnerError('INVALID_ARGUMENT', { message: 'Extend by a positive duration.', hint: 'Example: svclab workshop extend 30m' });
    const from = Math.max(this.now(), this.record.expiresAt);
    this.record = { ...this.record, expiresAt: from + byMs };
    delete this.record.endedAt;
    await this.store.putWorkshop(this.record);
    return this.times();
  }

  /** Ends it now: joins and learner passes stop working. */
  async end(): Promise<WorkshopTimes> {
    const now = this.now();
    this.record = { ...this.record, expiresAt: Math.min(now, this.record.expiresAt), endedAt: now };
    await this.store.putWorkshop(this.record);
    return this.times();
  }

  // Saved work: what survives a lost cluster or an expired session.

  async work(learnerId: string, labId: string): Promise<SavedWork> {
    return this.store.getWork(learnerId, labId);
  }

  async recordProgress(learnerId: string, labId: string, stepId: string, status: SavedStepStatus): Promise<void> {
    const w = await this.store.getWork(learnerId, labId);
    if (w.progress[stepId]?.status === 'solved-with-help' && status === 'passed') return;
    w.progress[stepId] = { status, at: new Date(this.now()).toISOString() };
    await this.store.putWork(learnerId, labId, w);
  }

  async clearProgress(learnerId: string, labId: string): Promise<void> {
    const w = await this.store.getWork(learnerId, labId);
    await this.store.putWork(learnerId, labId, { ...w, progress: {}, applied: [] });
  }

  async saveEditor(learnerId: string, labId: string, file: string, text: string): Promise<void> {
    const w = await this.store.getWork(learnerId, labId);
    w.editor[file] = text;
    await this.store.putWork(learnerId, labId, w);
  }

  /** A successful Apply: its YAML is re-applied on a new cluster, after what came before. */
  async recordApplied(learnerId: string, labId: string, yaml: string): Promise<void> {
    const w = await this.store.getWork(learnerId, labId);
    if (w.applied.at(-1) !== yaml) w.applied.push(yaml);
    // Bounded: the last 50 applies (each at most 1 MiB by the contract).
    if (w.applied.length > 50) w.applied.splice(0, w.applied.length - 50);
    await this.store.putWork(learnerId, labId, w);
  }
}

function rateLimited(waitMs: number): RunnerError {
  const s = Math.ceil(waitMs / 1000);
  const wait = s >= 120 ? `${Math.ceil(s / 60)} minutes` : `${s} seconds`;
  return new RunnerError('JOIN_RATE_LIMITED', { message: `Too many wrong event codes from this address: wait ${wait} before trying again.`, details: { retryAfterSeconds: s } });
}
