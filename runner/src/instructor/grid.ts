// The instructor's view of the room computed from the sessions, without I/O: each learner's
// state per step (not started / working / passed / solved with help, time on step) and the
// checks that most learners' latest Check fails, with the messages they read.
import type { FailingCheck, GridCell, GridRow, LabGrid } from '../api/instructor.ts';
import type { PublicLab } from '../api/labs.ts';
import type { Session } from '../sessions/session-manager.ts';

export interface GridOptions {
  now: number;
  /** Steps open from the first (null: all). */
  open: number | null;
  /** A learner's display name and place deadline (workshops); the short id otherwise. */
  learnerName?: (learner: string) => string | undefined;
  expiresAt?: (learner: string) => string | undefined;
}

const ms = (iso: string): number => Date.parse(iso);
const seconds = (from: number, to: number): number => Math.max(0, Math.round((to - from) / 1000));

/** One learner's cells for the lab's steps, in the lab's order. */
export function gridCells(lab: Pick<PublicLab, 'steps'>, s: Session, now: number): GridCell[] {
  // A step begins when the latest earlier step was finished (or when the session began).
  let begun = ms(s.createdAt);
  let currentFound = false;
  return lab.steps.map((step) => {
    const done = s.progress.get(step.id);
    const check = s.lastChecks?.get(step.id);
    const attempts = check?.attempts ?? 0;
    const failing = check && !check.passed ? check.results.filter((r) => r.status !== 'pass').length : 0;
    const since = new Date(begun).toISOString();
    if (done) {
      const at = ms(done.at);
      const cell: GridCell = { state: done.status, since, doneAt: done.at, seconds: seconds(begun, at), attempts, failing: 0 };
      begun = Math.max(begun, at);
      return cell;
    }
    // The first unfinished step of a ready session is the one being worked on; a later one
    // only when the learner has pressed Check on it.
    const current = !currentFound && s.state === 'ready';
    currentFound = true;
    if (current) return { state: 'working', since, seconds: seconds(begun, now), attempts, failing };
    if (check) return { state: 'working', since: check.firstAt, seconds: seconds(ms(check.firstAt), now), attempts, failing };
    return { state: 'not-started', attempts, failing };
  });
}

const byName = (a: GridRow, b: GridRow) => a.name.localeCompare(b.name, 'en', { numeric: true }) || a.session.localeCompare(b.session);

/** The lab's learner × step grid. */
export function labGrid(lab: PublicLab, sessions: readonly Session[], opts: GridOptions): LabGrid {
  const rows = sessions.filter((s) => s.labId === lab.id).map((s): GridRow => {
    const expires = opts.expiresAt?.(s.learner);
    return {
      session: s.id,
      learner: s.learner.slice(0, 6),
      name: opts.learnerName?.(s.learner) ?? s.learner.slice(0, 6),
      state: s.state,
      lastActivity: new Date(s.lastSeen).toISOString(),
      ...(expires ? { expiresAt: expires } : {}),
      cells: gridCells(lab, s, opts.now),
    };
  });
  return {
    labId: lab.id,
    title: lab.title,
    steps: lab.steps.map((st) => ({ id: st.id, title: st.title })),
    open: opts.open,
    rows: rows.sort(byName),
  };
}

/**
 * The checks failing in learners' latest Check of steps they have not finished, most learners
 * first; each with its messages, most learners first (at most `maxMessages`).
 */
export function failingChecks(sessions: readonly Session[], limit = 10, maxMessages = 3): FailingCheck[] {
  type Acc = { labId: string; stepId: string; checkId: string; kind: string; learners: Set<string>; messages: Map<string, Set<string>> };
  const acc = new Map<string, Acc>();
  const checkedBy = new Map<string, Set<string>>();
  for (const s of sessions) {
    for (const [stepId, rec] of s.lastChecks ?? []) {
      if (s.progress.has(stepId)) continue;
      const stepKey = `${s.labId}\u0000${stepId}`;
      let who = checkedBy.get(stepKey);
      if (!who) checkedBy.set(stepKey, (who = new Set()));
      who.add(s.learner);
      for (const r of rec.results) {
        if (r.status === 'pass') continue;
        const key = `${stepKey}\u0000${r.checkId}`;
        let a = acc.get(key);
        if (!a) acc.set(key, (a = { labId: s.labId, stepId, checkId: r.checkId, kind: r.kind, learners: new Set(), messages: new Map() }));
        a.learners.add(s.learner);
        let m = a.messages.get(r.message);
        if (!m) a.messages.set(r.message, (m = new Set()));
        m.add(s.learner);
      }
    }
  }
  return [...acc.values()]
    .map((a) => ({
      labId: a.labId, stepId: a.stepId, checkId: a.checkId, kind: a.kind,
      learners: a.learners.size,
      of: checkedBy.get(`${a.labId}\u0000${a.stepId}`)?.size ?? a.learners.size,
      messages: [...a.messages].map(([message, who]) => ({ message, learners: who.size })).sort((x, y) => y.learners - x.learners || x.message.localeCompare(y.message)).slice(0, maxMessages),
    }))
    .sort((x, y) => y.learners - x.learners || x.labId.localeCompare(y.labId) || x.stepId.localeCompare(y.stepId) || x.checkId.localeCompare(y.checkId))
    .slice(0, limit);
}
