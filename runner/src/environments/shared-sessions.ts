// A Kubernetes install's sessions, served by every runner replica: a session is recorded on
// its learner's LearnerSession (status.session) once ready, and a replica asked for a session
// it does not have takes it over from there — same id, same environment and workstation,
// nothing reset — so a lost replica costs the learner one reconnect (the page's requests and
// the terminal's WebSocket carry on at the other replica; svclab-term replays the output).
import type { SavedWork } from '../workshop/workshop-store.ts';
import type { KubeWorkshopStore } from '../kube-store/kube-workshop-store.ts';
import type { Session, SharedSessionRecord, SharedSessions } from '../sessions/session-manager.ts';
import type { EnvironmentWorkstationEngine } from './environment-cluster.ts';

export interface KubeSharedSessionsOptions {
  store: Pick<KubeWorkshopStore, 'noteSession' | 'findSession'>;
  engine: Pick<EnvironmentWorkstationEngine, 'adopt'>;
  /** The learner's saved work in a lab (its progress comes back with the session). */
  work?: (learnerId: string, labId: string) => Promise<Pick<SavedWork, 'progress'>>;
}

export function kubeSharedSessions(o: KubeSharedSessionsOptions): SharedSessions {
  return {
    save: async (s: Session) => {
      if (!s.cluster) return; // no environment: nothing another replica could serve
      await o.store.noteSession(s.learner, { id: s.id, lab: s.labId, environment: s.cluster.name, workstation: s.workstation, createdAt: s.createdAt });
    },
    load: async (id: string): Promise<SharedSessionRecord | undefined> => {
      const rec = await o.store.findSession(id);
      if (!rec) return undefined;
      await o.engine.adopt(rec.workstation, rec.environment);
      const progress = o.work ? Object.entries((await o.work(rec.learnerId, rec.lab).catch(() => undefined))?.progress ?? {}) : [];
      return { id, labId: rec.lab, learner: rec.learnerId, createdAt: rec.createdAt, workstation: rec.workstation, cluster: rec.environment, progress };
    },
    // Only if it is still this session's record (a newer session of the learner keeps its own).
    drop: (s: Session) => o.store.noteSession(s.learner, undefined, s.id),
  };
}
