// Moves a learner's live sessions to a new cluster when theirs stops answering (the cluster
// watch's verdict): the failed cluster is discarded, each of the learner's sessions on it ends
// and starts again on a new cluster — same learner, same lab — with their progress, and their
// applied objects re-applied by the session's own preparation (start.ts replays the workshop's
// saved applies). The move is recorded so the learner's lab page follows it and says why.
import type { Logger } from 'pino';
import type { Session, SessionManager } from '../sessions/session-manager.ts';
import type { SessionMove, Workshop } from './workshop.ts';

export interface SessionMoverDeps {
  sessions: Pick<SessionManager, 'list' | 'remove' | 'begin'>;
  /** Drops the learner's failed cluster (ClusterPool.discard): deleted, replaced, and the learner first in line. */
  pool: { discard(owner: string): string | undefined };
  /** Saved progress to restore, and where moves are recorded for the lab page. */
  workshop?: Pick<Workshop, 'work' | 'recordMove'>;
  logger: Logger;
  now?: () => number;
}

export class SessionMover {
  private readonly deps: SessionMoverDeps;

  constructor(deps: SessionMoverDeps) {
    this.deps = deps;
  }

  /** The learner `owner`'s cluster `cluster` failed: their sessions on it move. Returns the moves made. */
  async move(owner: string, cluster: string): Promise<SessionMove[]> {
    const { sessions, logger } = this.deps;
    const on = sessions.list().filter((s) => s.learner === owner && s.state !== 'failed' && (s.cluster?.name === cluster || s.cluster === undefined));
    const live = on.filter((s) => s.state === 'ready');
    // Discard first: ending the sessions below must not hand the dead cluster to recycling.
    this.deps.pool.discard(owner);
    if (!live.length) {
      // Sessions still starting on it fail on their own and the learner presses Start lab again.
      logger.warn({ cluster, learner: owner.slice(0, 6) }, 'a failed cluster had no ready session to move');
      return [];
    }
    const carried = live.map((s) => ({ id: s.id, labId: s.labId, progress: new Map(s.progress), mine: true }));
    for (const c of carried) {
      const r = await sessions.remove(c.id, { ended: true }).catch((e: unknown) => logger.warn({ session: c.id, err: String(e) }, 'ending a session on a failed cluster failed'));
      // Another runner replica held it too and moved it first: one move, not two.
      if (r && r.shared === 'gone') c.mine = false;
    }
    const moves: SessionMove[] = [];
    for (const c of carried.filter((x) => x.mine)) {
      const next: Session = sessions.begin(c.labId, owner);
      // Progress: what the workshop saved, and what the old session held (one runner, no workshop).
      const saved = this.deps.workshop ? (await this.deps.workshop.work(owner, c.labId)).progress : {};
      for (const [step, p] of Object.entries(saved)) next.progress.set(step, p);
      for (const [step, p] of c.progress) if (!next.progress.has(step)) next.progress.set(step, p);
      const move: SessionMove = { from: c.id, to: next.id, labId: c.labId, at: new Date(this.deps.now?.() ?? Date.now()).toISOString(), cluster };
      this.deps.workshop?.recordMove(owner, move);
      moves.push(move);
      logger.info({ from: c.id, to: next.id, cluster, labId: c.labId }, 'moved a session off a failed cluster');
    }
    return moves;
  }
}
