// GET /api/status as the instructor page reads it (the runner's contract, runner/src/api/status.ts),
// and what went wrong when it could not be read. Tolerant: whatever cannot be read becomes
// 'unknown' or is left out, so an older or newer runner still gives a board.
import type { PoolClusterState, PoolStatus as ContractPool, SessionStatus as ContractSession } from '../../../runner/src/api/status.ts';

export type { PoolClusterState };
export const CLUSTER_STATES = ['ready', 'claimed', 'provisioning', 'recycling', 'deleting'] as const satisfies readonly PoolClusterState[];

/** The contract's types, read tolerantly: a state this page does not know yet stays a string. */
export type PoolCluster = Omit<ContractPool['clusters'][number], 'state'> & { state: string };
export type PoolStatus = Omit<ContractPool, 'clusters'> & { clusters: PoolCluster[] };
export type SessionStatus = Omit<ContractSession, 'state' | 'stepsDone' | 'solvedWithHelp' | 'idleSeconds'> &
  Partial<Pick<ContractSession, 'stepsDone' | 'solvedWithHelp' | 'idleSeconds'>> & {
    /** 'unknown' when the runner does not say. */
    state: string;
  };
export type RunnerStatus = { at?: string; pool: PoolStatus | null; sessions: SessionStatus[] };

const rec = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The status, or undefined when the body is not a runner's status at all. */
export function normalizeStatus(raw: unknown): RunnerStatus | undefined {
  const o = rec(raw);
  if (!Array.isArray(o.sessions) || !('pool' in o)) return undefined;
  const p = o.pool === null ? null : rec(o.pool);
  let pool: PoolStatus | null = null;
  if (p) {
    const pm = rec(p.provisionMs);
    const last = num(pm.last);
    pool = {
      size: num(p.size) ?? 0,
      clusters: (Array.isArray(p.clusters) ? p.clusters : []).map(rec).filter((c) => str(c.name)).map((c) => ({
        name: str(c.name),
        state: str(c.state) || 'unknown',
        forSeconds: Math.max(0, num(c.forSeconds) ?? 0),
        ...(str(c.owner) ? { owner: str(c.owner).slice(0, 6) } : {}),
      })),
      waiting: Math.max(0, num(p.waiting) ?? 0),
      provisionMs: { ...(last !== undefined ? { last } : {}), average: Math.max(0, num(pm.average) ?? 0), count: Math.max(0, num(pm.count) ?? 0) },
    };
  }
  const sessions = o.sessions.map(rec).filter((s) => str(s.id)).map((s): SessionStatus => {
    const w = rec(s.wait);
    const position = num(w.position);
    const eta = num(w.etaSeconds);
    const stepsDone = num(s.stepsDone);
    const help = num(s.solvedWithHelp);
    const idle = num(s.idleSeconds);
    return {
      id: str(s.id),
      learner: str(s.learner).slice(0, 6),
      labId: str(s.labId),
      state: str(s.state) || 'unknown',
      cluster: str(s.cluster) || null,
      ...(stepsDone !== undefined ? { stepsDone } : {}),
      ...(help !== undefined ? { solvedWithHelp: help } : {}),
      ...(idle !== undefined ? { idleSeconds: Math.max(0, idle) } : {}),
      ...(position !== undefined ? { wait: { position, ...(eta !== undefined ? { etaSeconds: Math.max(0, eta) } : {}) } } : {}),
    };
  });
  return { ...(str(o.at) ? { at: str(o.at) } : {}), pool, sessions };
}

/**
 * Why the status could not be shown. `unreachable`: no answer (network, timeout);
 * `not-runner`: something answered but not the runner's API (a static preview, an old runner);
 * `token`: the runner refused the page's token; `failed`: the runner answered with an error.
 */
export type StatusFailure = { kind: 'unreachable' | 'not-runner' | 'token' | 'failed'; code?: string };

/** Classify a finished HTTP answer (status and parsed body, undefined when not JSON). */
export function classifyAnswer(httpStatus: number, body: unknown): { status: RunnerStatus } | { failure: StatusFailure } {
  const code = str(rec(rec(body).error).code);
  if (httpStatus === 401 || code.startsWith('TOKEN_')) return { failure: { kind: 'token', ...(code ? { code } : {}) } };
  if (httpStatus >= 200 && httpStatus < 300) {
    const status = normalizeStatus(body);
    return status ? { status } : { failure: { kind: 'not-runner' } };
  }
  if (httpStatus === 404 || (!code && body === undefined)) return { failure: { kind: 'not-runner' } };
  return { failure: { kind: 'failed', code: code || `HTTP_${httpStatus}` } };
}
