// What the instructor board shows, computed from a status without touching the DOM: the
// pool's summary lines and rows, the learners' rows in order, and the sentence the live
// region may announce. instructor-room.ts renders the pool with it.
import { fill, type BoardLang, type BoardStrings } from './instructor-strings.ts';
import { CLUSTER_STATES, type RunnerStatus, type StatusFailure } from './instructor-status.ts';

/** One table cell: text, optionally a link and a second, quieter line. */
export type Cell = { text: string; href?: string; sub?: string; state?: string };
export type Row = { key: string; cells: Cell[] };

export type PoolView = {
  size: string;
  counts: { state: string; label: string; count: number }[];
  clusters: Row[];
  waiting: string;
  provision: string;
};

export type BoardView = {
  /** null: the runner shares one cluster (no --pool). */
  pool: PoolView | null;
  learners: Row[];
  learnersSummary: string;
  /** A sentence that changes only when counts change (never with idle times). */
  announcement: string;
};

/** 42 s, 3 min 5 s, 1 h 12 min (or in Chinese). */
export function formatDuration(totalSeconds: number, t: BoardStrings): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return fill(t.seconds, { s });
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const rest = s % 60;
    return rest ? fill(t.minutesSeconds, { m, s: rest }) : fill(t.minutes, { m });
  }
  return fill(t.hoursMinutes, { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

export function labHref(labId: string, lang: BoardLang): string {
  return `${lang === 'zh' ? '/zh-cn' : ''}/labs/${encodeURIComponent(labId)}/`;
}

const byText = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

export function boardView(status: RunnerStatus, t: BoardStrings, lang: BoardLang, labTitles: Record<string, string> = {}): BoardView {
  const sessions = [...status.sessions].sort((a, b) => byText(a.labId, b.labId) || byText(a.learner, b.learner) || byText(a.id, b.id));
  const learners: Row[] = sessions.map((s) => {
    const stateText = t.sessionStates[s.state] ?? s.state;
    const wait = s.state === 'waiting' && s.wait
      ? s.wait.etaSeconds !== undefined
        ? fill(t.waitLineEta, { position: s.wait.position, t: formatDuration(s.wait.etaSeconds, t) })
        : fill(t.waitLine, { position: s.wait.position })
      : undefined;
    const steps = s.stepsDone === undefined ? t.unknown : s.solvedWithHelp ? fill(t.stepsWithHelp, { n: s.stepsDone, help: s.solvedWithHelp }) : fill(t.steps, { n: s.stepsDone });
    return {
      key: s.id,
      cells: [
        { text: s.learner || t.unknown },
        { text: labTitles[s.labId] ?? s.labId, href: labHref(s.labId, lang) },
        { text: stateText, state: s.state, sub: wait ?? (s.cluster ? fill(t.onCluster, { cluster: s.cluster }) : undefined) },
        { text: steps },
        { text: s.idleSeconds === undefined ? t.unknown : formatDuration(s.idleSeconds, t) },
      ],
    };
  });
  const count = (st: string) => status.sessions.filter((s) => s.state === st).length;
  const learnersSummary = fill(t.learnersSummary, { n: status.sessions.length, ready: count('ready'), waiting: count('waiting') });

  const pool = status.pool;
  if (!pool) {
    return { pool: null, learners, learnersSummary, announcement: fill(t.announceNoPool, { n: status.sessions.length }) };
  }
  const inState = (st: string) => pool.clusters.filter((c) => c.state === st).length;
  const extra = [...new Set(pool.clusters.map((c) => c.state))].filter((st) => !CLUSTER_STATES.includes(st as never));
  // Ready and claimed always (0 ready is news); the passing states only when some are in them.
  const counts = [...CLUSTER_STATES, ...extra]
    .map((st) => ({ state: st, label: t.clusterStates[st] ?? st, count: inState(st) }))
    .filter((c) => c.count > 0 || c.state === 'ready' || c.state === 'claimed');
  const provisionSeconds = pool.provisionMs.average / 1000;
  return {
    pool: {
      size: pool.clusters.length === pool.size ? fill(t.poolSize, { size: pool.size, clusters: pool.size === 1 ? 'cluster' : 'clusters' }) : fill(t.poolSizeNow, { size: pool.size, n: pool.clusters.length, clusters: pool.size === 1 ? 'cluster' : 'clusters' }),
      counts,
      clusters: pool.clusters.map((c) => ({
        key: c.name,
        cells: [{ text: c.name }, { text: t.clusterStates[c.state] ?? c.state, state: c.state }, { text: formatDuration(c.forSeconds, t) }, { text: c.owner ?? t.nobody }],
      })),
      waiting: pool.waiting === 0 ? t.waitingNone : pool.waiting === 1 ? t.waitingOne : fill(t.waitingMany, { n: pool.waiting }),
      provision: pool.provisionMs.count > 0
        ? fill(t.provisionMeasured, { t: formatDuration(provisionSeconds, t), n: pool.provisionMs.count, nclusters: pool.provisionMs.count === 1 ? 'cluster' : 'clusters' })
        : fill(t.provisionEstimate, { t: formatDuration(provisionSeconds, t) }),
    },
    learners,
    learnersSummary,
    announcement: fill(t.announce, { ready: inState('ready'), claimed: inState('claimed'), provisioning: inState('provisioning'), n: status.sessions.length, waiting: count('waiting') }),
  };
}

/** The message and hint for a failure, in the page's language; never the raw error. */
export function failureText(f: StatusFailure, t: BoardStrings): { message: string; hint: string; code?: string } {
  const e = t.errors[f.kind];
  return { message: e.message, hint: e.hint, ...(f.kind === 'failed' && f.code ? { code: fill(t.errorCode, { code: f.code }) } : {}) };
}

/** Every 5 s while healthy; after n failures in a row 10, 20, 40 s, then every 60 s. */
export function nextDelayMs(failures: number): number {
  return failures <= 0 ? 5_000 : Math.min(60_000, 5_000 * 2 ** failures);
}

/**
 * Announce sparingly: only a sentence that differs from the last one announced, and at most
 * once every `gapMs` (a change that comes sooner waits for a later refresh).
 */
export function shouldAnnounce(next: string, last: { text: string; at: number }, now: number, gapMs = 20_000): boolean {
  return next !== last.text && (last.at === 0 || now - last.at >= gapMs);
}
