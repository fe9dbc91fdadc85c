// Finds svclab's docker objects that nothing owns any more and removes them.
// Ownership is read from labels only, so this works after the runner was
// killed with -9 in the middle of `svclab up`: the cluster's network (ours,
// labelled first) and kind's node containers are found and removed.

import { isRunnerError } from '../errors.ts';
import type { CommandRunner } from '../exec/command-runner.ts';
import { CLUSTER_LABEL, CLUSTER_NAME_PREFIX, KIND_CLUSTER_LABEL, SESSION_LABEL, type ClusterDriver } from './cluster-driver.ts';
import { DockerObjects } from './docker-objects.ts';

export interface ReaperDeps {
  runner: CommandRunner;
  driver: ClusterDriver;
  dockerPath?: string;
  out?: (line: string) => void;
  /** Wait between sweeps of downAll (an orphaned kind may still be starting a node). */
  sleep?: (ms: number) => Promise<void>;
}

export interface ReapReport {
  clusters: string[];
  containers: string[];
  networks: string[];
}

/**
 * On runner start: remove broken clusters (left by a failed or killed `up`),
 * workstation containers whose session is not live, and svclab-labelled
 * containers and networks of clusters that no longer exist. Running clusters,
 * and clusters a live `up` is still creating, are kept.
 */
export async function reapOrphans(
  deps: ReaperDeps,
  /** liveSessions: remove svclab.session containers not in it; leave it out when another component (SessionManager) reaps workstations. */
  opts: { liveSessions?: ReadonlySet<string> } = {},
): Promise<ReapReport> {
  const docker = new DockerObjects(deps.runner, deps.dockerPath);
  const report: ReapReport = { clusters: [], containers: [], networks: [] };
  const clusters = await deps.driver.list();
  for (const c of clusters.filter((c) => c.state === 'broken')) {
    await deleteQuietly(deps.driver, c.name);
    report.clusters.push(c.name);
    deps.out?.(`reaped broken cluster ${c.name}`);
  }
  const kept = new Set(clusters.filter((c) => c.state !== 'broken').map((c) => c.name));
  const live = opts.liveSessions;
  const sessionContainers = live ? await docker.containers([SESSION_LABEL]) : [];
  const clusterContainers = await docker.containers([CLUSTER_LABEL]);
  const orphans = [
    ...sessionContainers.filter((c) => !live?.has(c.labels[SESSION_LABEL] ?? '')),
    ...clusterContainers.filter((c) => !kept.has(c.labels[CLUSTER_LABEL] ?? '') && c.labels[SESSION_LABEL] === undefined),
  ];
  const ids = [...new Map(orphans.map((c) => [c.id, c.name])).entries()];
  await docker.removeContainers(ids.map(([id]) => id));
  report.containers.push(...ids.map(([, name]) => name));
  for (const n of await docker.networks([CLUSTER_LABEL])) {
    if (kept.has(n.labels[CLUSTER_LABEL] ?? '')) continue;
    await docker.removeContainers(n.containers);
    await docker.removeNetwork(n.id);
    report.networks.push(n.name);
  }
  if (report.containers.length || report.networks.length) deps.out?.(`reaped ${report.containers.length} containers, ${report.networks.length} networks`);
  return report;
}

/**
 * `svclab down --all`: every svclab cluster, workstation container (svclab.session)
 * and network. Sweeps again while a sweep still found something, because a kind
 * orphaned by kill -9 can create a node container just after a sweep listed them.
 */
export async function downAll(
  deps: ReaperDeps,
  opts: { maxSweeps?: number; settleMs?: number; /** Limit to these clusters (tests on a shared machine); default all. */ only?: (cluster: string) => boolean } = {},
): Promise<ReapReport> {
  const only = opts.only;
  const mine = (cluster: string | undefined) => (only ? cluster !== undefined && only(cluster) : true);
  const docker = new DockerObjects(deps.runner, deps.dockerPath);
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
      ...(await docker.containers([SESSION_LABEL])).filter((c) => mine(c.labels[CLUSTER_LABEL])),
      ...(await docker.containers([CLUSTER_LABEL])).filter((c) => mine(c.labels[CLUSTER_LABEL])),
      ...(await docker.containers([KIND_CLUSTER_LABEL])).filter((c) => c.labels[KIND_CLUSTER_LABEL]?.startsWith(CLUSTER_NAME_PREFIX) && mine(c.labels[KIND_CLUSTER_LABEL])),
    ];
    const byId = new Map(containers.map((c) => [c.id, c.name]));
    if (byId.size > 0) {
      await docker.removeContainers([...byId.keys()]);
      report.containers.push(...byId.values());
      found += byId.size;
    }
    for (const n of (await docker.networks([CLUSTER_LABEL])).filter((n) => mine(n.labels[CLUSTER_LABEL]))) {
      await docker.removeContainers(n.containers);
      await docker.removeNetwork(n.id);
      report.networks.push(n.name);
      found++;
    }
    if (found === 0) break;
    if (sweep < maxSweeps) await sleep(opts.settleMs ?? 2000);
  }
  return report;
}

async function deleteQuietly(driver: ClusterDriver, name: string): Promise<void> {
  try {
    await driver.delete(name);
  } catch (e) {
    if (!(isRunnerError(e) && e.code === 'CLUSTER_UNKNOWN')) throw e;
  }
}
