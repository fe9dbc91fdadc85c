// What the runner's check port adds to a session's CheckContext once the session
// has a cluster: the API (from the driver's host kubeconfig) and the vantage points.
import type { ClusterDriver } from '../cluster/cluster-driver.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import type { CommandRunner } from '../exec/command-runner.ts';
import type { CheckContext } from './check.ts';
import { ClientNodeKubeApi } from './kube-api.ts';
import { ClusterVantageExec } from './vantage.ts';

/**
 * The runner's check port: a session's API client and vantage points, with each cluster's API client
 * kept for `ttlMs` (a Check press then costs no `kind get kubeconfig`); a cluster
 * re-created under the same name is picked up once the entry expires.
 */
export class ClusterCheckContexts {
  private readonly opts: { driver: ClusterDriver; engine: ContainerEngine; host?: CommandRunner; ttlMs: number; now: () => number };
  private readonly apis = new Map<string, { api: ClientNodeKubeApi; at: number }>();

  constructor(opts: { driver: ClusterDriver; engine: ContainerEngine; host?: CommandRunner; ttlMs?: number; now?: () => number }) {
    this.opts = { ...opts, ttlMs: opts.ttlMs ?? 60_000, now: opts.now ?? Date.now };
  }

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
