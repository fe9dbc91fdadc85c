// The one place a CheckContext is built: the session's workstation, the cluster's
// API (from the driver's host kubeconfig) and the vantage points, with the clock.
// LabActions (play/) asks for it once per use; HTTP checks, Solve/Reset and
// `svclab validate` all get theirs here.
import type { ClusterDriver } from '../cluster/cluster-driver.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import type { CommandRunner } from '../exec/command-runner.ts';
import { systemClock, type CheckContext } from './check.ts';
import { ClientNodeKubeApi } from './kube-api.ts';
import { ClusterVantageExec } from './vantage.ts';

export interface CheckTarget {
  /** The cluster the checks look at; without one, API and vantage checks report `error`. */
  cluster?: string;
  workstation: string;
  /** The workstation's learner user, so files the learner wrote (~/answers) are where checks look. */
  user?: string;
}

/**
 * Check contexts for sessions and validate, with each cluster's API client kept
 * for `ttlMs` (a Check press then costs no `kind get kubeconfig`); a cluster
 * re-created under the same name is picked up once the entry expires.
 */
export class ClusterCheckContexts {
  private readonly opts: { driver: ClusterDriver; engine: ContainerEngine; host?: CommandRunner; ttlMs: number; now: () => number; clock: Pick<CheckContext, 'now' | 'sleep'> };
  private readonly apis = new Map<string, { api: ClientNodeKubeApi; at: number }>();

  constructor(opts: { driver: ClusterDriver; engine: ContainerEngine; host?: CommandRunner; ttlMs?: number; now?: () => number; clock?: Pick<CheckContext, 'now' | 'sleep'> }) {
    this.opts = { ...opts, ttlMs: opts.ttlMs ?? 60_000, now: opts.now ?? Date.now, clock: opts.clock ?? systemClock };
  }

  /** The whole context a check runs with (language and signal are the caller's). */
  async context(t: CheckTarget): Promise<CheckContext> {
    const base: CheckContext = { engine: this.opts.engine, workstation: t.workstation, ...(t.user ? { user: t.user } : {}), ...this.opts.clock };
    return t.cluster ? { ...base, ...(await this.forSession({ ...t, cluster: t.cluster })) } : base;
  }

  /** What a cluster adds to the context: its API and the vantage points. */
  async forSession(s: { cluster: string; workstation: string; user?: string }): Promise<Pick<CheckContext, 'kube' | 'vantage'>> {
    const hit = this.apis.get(s.cluster);
    let api = hit && this.opts.now() - hit.at < this.opts.ttlMs ? hit.api : undefined;
    if (!api) {
      api = new ClientNodeKubeApi(await this.opts.driver.kubeconfig(s.cluster, 'host'));
      this.apis.set(s.cluster, { api, at: this.opts.now() });
    }
    const vantage = new ClusterVantageExec({
      engine: this.opts.engine,
      workstation: s.workstation,
      cluster: { driver: this.opts.driver, name: s.cluster },
      ...(s.user ? { user: s.user } : {}),
      ...(this.opts.host ? { host: this.opts.host } : {}),
    });
    return { kube: api, vantage };
  }
}
