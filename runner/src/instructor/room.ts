// The room as the instructor sees and steers it: made once per app from the runner's own
// objects (sessions, labs, the pool, a workshop when there is one). It listens to their changes
// and hands subscribers a snapshot after each burst (at most every 250 ms), holds the step gates
// and the broadcast, and carries out the controls.
import type { BroadcastMessage, InstructorSnapshot, LabGrid } from '../api/instructor.ts';
import type { PublicLab } from '../api/labs.ts';
import type { PoolStatus } from '../api/status.ts';
import { RunnerError } from '../errors.ts';
import type { LabActionsPort } from '../play/ports.ts';
import type { Session, SessionManager } from '../sessions/session-manager.ts';
import { Coalescer } from './coalescer.ts';
import { failingChecks, labGrid } from './grid.ts';

/** What the room needs of a workshop (runner/src/workshop adapts to it: workshop-room.ts). */
export interface RoomWorkshop {
  /** The workshop's labs, shown even before anyone starts them. */
  readonly labs: readonly string[];
  /** The names learners joined with, by learner id. */
  names(): Promise<Map<string, string>>;
  /** When this learner's place ends (ISO). */
  expiresAt(learner: string): string | undefined;
  /** Adds minutes to one learner's place or everyone's; returns how many learners that moved. */
  extend(target: Target, minutes: number): Promise<number>;
}

export type Target = { learner: string } | { all: true };

export interface InstructorDeps {
  /** The warm pool's changes (ClusterPool.onChange); its state comes from `status`. */
  pool?: { onChange(listener: () => void): () => void };
  workshop?: RoomWorkshop;
  /** Coalescing gap for live updates (default 250 ms). */
  gapMs?: number;
  /** A full snapshot this often even when nothing changed (idle times; default 15 s). */
  heartbeatMs?: number;
}

export interface RoomDeps extends InstructorDeps {
  sessions: SessionManager;
  labs: { get(labId: string): PublicLab };
  actions?: LabActionsPort;
  /** The pool at a glance (GET /api/status's pool). */
  poolStatus?: () => PoolStatus | null;
  now?: () => number;
}

type Listener<T> = (value: T) => void;

export class InstructorRoom {
  private readonly deps: RoomDeps;
  private readonly now: () => number;
  /** Steps open per lab (absent: no gate). */
  private readonly gates = new Map<string, number>();
  private broadcastMsg: BroadcastMessage | null = null;
  private names = new Map<string, string>();
  private seq = 0;
  private readonly watchers = new Set<Listener<InstructorSnapshot>>();
  private readonly readers = new Set<Listener<BroadcastMessage | null>>();
  private readonly coalescer: Coalescer;
  private readonly unsubscribe: (() => void)[] = [];
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(deps: RoomDeps) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    this.coalescer = new Coalescer(() => this.publish(), { gapMs: deps.gapMs ?? 250, now: this.now });
    this.unsubscribe.push(deps.sessions.onChange((c) => {
      if (c.kind === 'added' && deps.workshop) void this.refreshNames();
      this.changed();
    }));
    if (deps.pool) this.unsubscribe.push(deps.pool.onChange(() => this.changed()));
    deps.sessions.setStepGate((s, stepId) => this.assertOpen(s, stepId));
    if (deps.workshop) void this.refreshNames();
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.deps.sessions.setStepGate(undefined);
    this.coalescer.stop();
    clearInterval(this.heartbeat);
    this.watchers.clear();
    this.readers.clear();
  }

  private changed(): void {
    if (this.watchers.size) this.coalescer.poke();
  }

  private async refreshNames(): Promise<void> {
    try {
      this.names = (await this.deps.workshop?.names()) ?? this.names;
      this.changed();
    } catch {
      // Names are a nicety: the short id stays until the next refresh.
    }
  }

  private publish(): void {
    if (!this.watchers.size) return;
    const snap = this.snapshot();
    for (const w of this.watchers) w(snap);
  }

  /** Receive a snapshot now and after every change; returns the unsubscribe. */
  watch(listener: Listener<InstructorSnapshot>): () => void {
    this.watchers.add(listener);
    listener(this.snapshot());
    const beat = this.deps.heartbeatMs ?? 15_000;
    if (!this.heartbeat && beat > 0) {
      this.heartbeat = setInterval(() => this.publish(), beat);
      this.heartbeat.unref?.();
    }
    return () => {
      this.watchers.delete(listener);
      if (!this.watchers.size) {
        clearInterval(this.heartbeat);
        this.heartbeat = undefined;
      }
    };
  }

  /** Learners' pages: the broadcast now and on each change; returns the unsubscribe. */
  readBroadcast(listener: Listener<BroadcastMessage | null>): () => void {
    this.readers.add(listener);
    listener(this.broadcastMsg);
    return () => this.readers.delete(listener);
  }

  private lab(labId: string): PublicLab | undefined {
    try {
      return this.deps.labs.get(labId);
    } catch {
      return undefined;
    }
  }

  grids(): LabGrid[] {
    const sessions = this.deps.sessions.list();
    const ids = [...new Set([...(this.deps.workshop?.labs ?? []), ...sessions.map((s) => s.labId)])].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const now = this.now();
    const ws = this.deps.workshop;
    return ids.flatMap((id) => {
      const lab = this.lab(id);
      if (!lab) return [];
      return [labGrid(lab, sessions, {
        now, open: this.gates.get(id) ?? null,
        learnerName: (l) => this.names.get(l),
        ...(ws ? { expiresAt: (l: string) => ws.expiresAt(l) } : {}),
      })];
    });
  }

  snapshot(): InstructorSnapshot {
    return {
      seq: ++this.seq,
      at: new Date(this.now()).toISOString(),
      workshop: Boolean(this.deps.workshop),
      pool: this.deps.poolStatus?.() ?? null,
      labs: this.grids(),
      failing: failingChecks(this.deps.sessions.list()),
      broadcast: this.broadcastMsg,
    };
  }

  /** Gating: the session may Check or Solve only the steps open in its lab. */
  assertOpen(s: Session, stepId: string): void {
    const open = this.gates.get(s.labId);
    if (open === undefined) return;
    const lab = this.lab(s.labId);
    const i = lab?.steps.findIndex((st) => st.id === stepId) ?? -1;
    if (!lab || i < 0 || i < open) return; // unknown steps are the check route's to refuse
    const title = lab.steps[i]!.title;
    throw new RunnerError('STEP_LOCKED', {
      message: `Step ${i + 1} (“${title.en}”) is not open yet: the instructor has opened ${open === 1 ? 'step 1' : `steps 1–${open}`} of this lab.`,
      details: { labId: s.labId, stepId, step: i + 1, open, title, refusal: { en: `Step ${i + 1} is not open yet; the instructor opens it for the room.`, zh: `第 ${i + 1} 步尚未开放；讲师会为全体学员开放它。` } },
    });
  }

  /** Open the first `open` steps of a lab (null: all, no gate). */
  setGate(labId: string, open: number | null): number {
    const lab = this.deps.labs.get(labId); // LAB_UNKNOWN
    if (open !== null && open > lab.steps.length) {
      throw new RunnerError('BAD_REQUEST', { message: `Lab ${labId} has ${lab.steps.length} steps; it cannot open ${open}.`, hint: 'Send "open": null to open every step.' });
    }
    if (open === null || open === lab.steps.length) this.gates.delete(labId);
    else this.gates.set(labId, open);
    this.changed();
    return this.deps.sessions.list().filter((s) => s.labId === labId).length;
  }

  /** An empty message clears it. */
  setBroadcast(message: string): number {
    this.broadcastMsg = message ? { message, at: new Date(this.now()).toISOString() } : null;
    for (const r of this.readers) r(this.broadcastMsg);
    this.changed();
    return this.readers.size;
  }

  private sessionsOf(target: Target): Session[] {
    const all = this.deps.sessions.list();
    if ('all' in target) return all;
    const mine = all.filter((s) => s.learner === target.learner || s.learner.slice(0, 6) === target.learner);
    if (!mine.length) throw new RunnerError('BAD_REQUEST', { message: `No learner "${target.learner}" has a lab session.`, hint: 'Use a learner id as the instructor page lists it.' });
    return mine;
  }

  async extend(target: Target, minutes: number): Promise<number> {
    if (!this.deps.workshop) throw new RunnerError('NOT_A_WORKSHOP');
    const n = await this.deps.workshop.extend(target, minutes);
    this.changed();
    return n;
  }

  /** End one learner's sessions or everyone's (their clusters go back to the pool). The workshop
   * itself goes on (`svclab workshop end` ends it): learners may start again. */
  async end(target: Target): Promise<number> {
    const ended = this.sessionsOf(target);
    await Promise.all(ended.map((s) => this.deps.sessions.remove(s.id, { ended: true }).catch(() => undefined)));
    this.changed();
    return ended.length;
  }

  /** Reset a learner's lab as their own Reset lab does: starting objects back, progress cleared. */
  async reset(sessionId: string): Promise<number> {
    const s = this.deps.sessions.get(sessionId);
    if (s.state !== 'ready') throw new RunnerError('SESSION_STARTING', { message: `This learner's session is ${s.state}; it can be reset once it is ready.` });
    if (!this.deps.actions) throw new RunnerError('NO_CLUSTER');
    await this.deps.actions.reset(s);
    this.deps.sessions.clearProgress(s.id);
    return 1;
  }
}
