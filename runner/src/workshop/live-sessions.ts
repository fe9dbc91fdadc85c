// What keeps a workshop's live sessions in step with the room, run by the runner's sweep and
// watch: sessions of learners whose place has ended are closed (their clusters go back to the
// pool), and a learner whose cluster stops answering is moved to a new one (SessionMover).
import type { Logger } from 'pino';
import { ClusterWatch, type ClusterWatchOptions } from '../pool/cluster-watch.ts';
import type { SessionManager } from '../sessions/session-manager.ts';
import { SessionMover } from './session-mover.ts';
import type { Workshop } from './workshop.ts';

/** Ends the sessions of learners whose place has ended; returns their ids. */
export async function endExpiredSessions(workshop: Pick<Workshop, 'ended'>, sessions: Pick<SessionManager, 'list' | 'remove'>): Promise<string[]> {
  const all = sessions.list();
  if (!all.length) return [];
  const over = new Set(workshop.ended(all.map((s) => s.learner)));
  const gone = all.filter((s) => over.has(s.learner));
  await Promise.all(gone.map((s) => sessions.remove(s.id, { ended: true }).catch(() => undefined)));
  return gone.map((s) => s.id);
}

export interface ClusterMovesDeps {
  pool: { claimed(): { name: string; owner: string }[]; discard(owner: string): string | undefined };
  sessions: Pick<SessionManager, 'list' | 'remove' | 'begin'>;
  workshop: Workshop;
  probe: (cluster: string, signal: AbortSignal) => Promise<boolean>;
  logger: Logger;
}

/** The watch over learners' clusters, moving a learner off one that fails its probes. Call start(). */
export function watchLearnerClusters(d: ClusterMovesDeps, o: ClusterWatchOptions = {}): ClusterWatch {
  const mover = new SessionMover({ sessions: d.sessions, pool: d.pool, workshop: d.workshop, logger: d.logger });
  return new ClusterWatch({
    // Only clusters whose learner's sessions are all ready: a cluster still being set up for a
    // lab is busy (and a start that fails says so itself); a false alarm there costs the start.
    clusters: () => {
      const live = d.sessions.list().filter((s) => s.state !== 'failed');
      return d.pool.claimed().filter((c) => {
        const mine = live.filter((s) => s.learner === c.owner);
        return mine.length > 0 && mine.every((s) => s.state === 'ready');
      });
    },
    probe: d.probe,
    onFailed: async (owner, cluster) => { await mover.move(owner, cluster); },
    logger: d.logger,
  }, o);
}
