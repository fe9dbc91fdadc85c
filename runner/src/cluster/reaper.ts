// Finds svclab's docker objects that nothing owns any more and removes them.
// Ownership is read from labels only, so this works after the runner was
// killed with -9 in the middle of `svclab up`: the cluster's network (ours,
// labelled first) and kind's node containers are found and removed.

import { isRunnerError } from '../errors.ts';
import type { ContainerEngine, NetworkDetails } from '../engine/container-engine.ts';
import { CLUSTER_LABEL, CLUSTER_NAME_PREFIX, KIND_CLUSTER_LABEL, SESSION_LABEL, type ClusterDriver } from './cluster-driver.ts';

export interface ReaperDeps {
  engine: ContainerEngine;
  driver: ClusterDriver;
  out?: (line: string) => void;
  /** Wait between sweeps of downAll (an orphaned kind may still be starting a node). */
  sleep?: (ms: number) => Promise<void>;
}

export interface ReapReport {
  clusters: string[];
  containers: string[];
  networks: string[];
  /** Learners' home volumes (svclab-home-<session>); `down --all` only. */
  volumes?: string[];
}

/**
 * On runner start: remove broken clusters (left by a failed or killed `up`), and
 * svclab-labelled containers and networks of clusters that no longer exist.
 * Running clusters, and clusters a live `up` is still creating, are kept.
 * Workstations are the session manager's (SessionManager.reapOrphans).
 */
export async function reapLeftoverClusters(deps: ReaperDeps): Promise<ReapReport> {
  const report: ReapReport = { clusters: [], containers: [], networks: [] };
  const clusters = await deps.driver.list();
  for (const c of clusters.filter((c) => c.state === 'broken')) {
    await deleteQuietly(deps.driver, c.name);
    report.clusters.push(c.name);
    deps.out?.(`reaped broken cluster ${c.name}`);
  }
  const kept = new Set(clusters.filter((c) => c.state !== 'broken').map((c) => c.name));
  const clusterContainers = await deps.engine.inspectContainers([CLUSTER_LABEL]);
  const orphans = clusterContainers.filter((c) => !kept.has(c.labels[CLUSTER_LABEL] ?? '') && c.labels[SESSION_LABEL] === undefined);
  const ids = [...new Map(orphans.map((c) => [c.id, c.name])).entries()];
  await deps.engine.removeContainers(ids.map(([id]) => id));
  report.containers.push(...ids.map(([, name]) => name));
  await removeNetworks(deps.engine, (await deps.engine.inspectNetworks([CLUSTER_LABEL])).filter((n) => !kept.has(n.labels[CLUSTER_LABEL] ?? '')), report);
  if (report.containers.length || report.networks.length) deps.out?.(`reaped ${report.containers.length} containers, ${report.networks.length} networks`);
  return report;
}

/**
 * `svclab down --all`: every svclab cluster, workstation container (svclab.session),
 * network and home volume (svclab.session). Sweeps again while a sweep still found something, because a kind
 * orphaned by kill -9 can create a node container just after a sweep listed them.
 */
export async function downAll(
  deps: ReaperDeps,
  opts: { maxSweeps?: number; settleMs?: number; /** Limit to these clusters (tests on a shared machine); default all. */ only?: (cluster: string) => boolean } = {},
): Promise<ReapReport> {
  const only = opts.only;
  const mine = (cluster: string | undefined) => (only ? cluster !== undefined && only(cluster) : true);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const report: ReapReport = { clusters: [], containers: [], networks: [] };
  const maxSweeps = opts.maxSweeps ?? 4;
  for (let sweep = 1; sweep <= maxSweeps; sweep++) {
    let found = 0;
    for (const c of (await deps.driver.list()).filter((c) => mine(c.name))) {
      await deleteQuietly(deps.driver, c.name);
      if (!report.clusters.includes(c.name)) report.clusters.push(c.name);
      deps.out?.(`removed cluster ${c.name}`);
      found++;
    }
    const containers = [
      ...(await deps.engine.inspectContainers([SESSION_LABEL])).filter((c) => mine(c.labels[CLUSTER_LABEL])),
      ...(await deps.engine.inspectContainers([CLUSTER_LABEL])).filter((c) => mine(c.labels[CLUSTER_LABEL])),
      ...(await deps.engine.inspectContainers([KIND_CLUSTER_LABEL])).filter((c) => c.labels[KIND_CLUSTER_LABEL]?.startsWith(CLUSTER_NAME_PREFIX) && mine(c.labels[KIND_CLUSTER_LABEL])),
    ];
    const byId = new Map(containers.map((c) => [c.id, c.name]));
    if (byId.size > 0) {
      await deps.engine.removeContainers([...byId.keys()]);
      report.containers.push(...byId.values());
      found += byId.size;
    }
    found += await removeNetworks(deps.engine, (await deps.engine.inspectNetworks([CLUSTER_LABEL])).filter((n) => mine(n.labels[CLUSTER_LABEL])), report);
    // Learners' home volumes outlive their workstations (a restarted runner re-adopts them); down --all ends them.
    for (const v of (await deps.engine.inspectVolumes([SESSION_LABEL])).filter((v) => mine(v.labels[CLUSTER_LABEL]))) {
      if (!(await deps.engine.removeVolume(v.name))) continue;
      report.volumes = [...(report.volumes ?? []), v.name];
      found++;
    }
    if (found === 0) break;
    if (sweep < maxSweeps) await sleep(opts.settleMs ?? 2000);
  }
  return report;
}

/** Networks with whatever is still attached (it would block removal); returns how many. */
async function removeNetworks(engine: ContainerEngine, networks: readonly NetworkDetails[], report: ReapReport): Promise<number> {
  for (const n of networks) {
    await engine.removeContainers(n.containers);
    await engine.removeNetwork(n.id);
    report.networks.push(n.name);
  }
  return networks.length;
}

async function deleteQuietly(driver: ClusterDriver, name: string): Promise<void> {
  try {
    await driver.delete(name);
  } catch (e) {
    if (!(isRunnerError(e) && e.code === 'CLUSTER_UNKNOWN')) throw e;
  }
}
