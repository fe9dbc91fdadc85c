// Kept while callers move to main/wiring.ts (build one Wiring, pass it down): the old
// signatures, each building a Wiring of its own. Used by cli/validate.ts, the real-tier
// test support and scripts/bench.

import type { Logger } from 'pino';
import type { ClusterCommandDeps } from '../cluster/cluster-commands.ts';
import type { IngressMode } from '../addons/manifests.ts';
import { formatStepEvent } from '../cluster/bring-up-steps.ts';
import { defaultCacheDir } from '../images/images.ts';
import type { PoolDeps } from '../pool/cluster-pool.ts';
import { loadLabImage, provisionDeps } from '../main/provision.ts';
import * as main from '../main/wiring.ts';

export { DEFAULT_CLUSTER_NAME } from '../cluster/cluster-driver.ts';
export { poolStateDir, runnerStatusFile } from '../main/wiring.ts';

/** @deprecated buildWiring (main/wiring.ts) */
export const realDeps = (cacheDir = defaultCacheDir()): main.Wiring => main.buildWiring(cacheDir);

/** @deprecated main/wiring.ts clusterCommandDeps(wiring, out, signal) */
export async function clusterCommandDeps(out: (line: string) => void, cacheDir = defaultCacheDir()): Promise<ClusterCommandDeps> {
  return main.clusterCommandDeps(main.buildWiring(cacheDir), out, main.interruptSignal(out));
}

/** @deprecated workstationImageOf (main/wiring.ts) */
export function workstationImage(cacheDir = defaultCacheDir()): () => Promise<string> {
  return main.workstationImageOf(main.buildWiring(cacheDir));
}

/** @deprecated the lab-image step of provisionCluster (main/provision.ts) */
export async function loadLabImages(cluster: string, cacheDir = defaultCacheDir(), out: (l: string) => void = () => undefined): Promise<void> {
  await loadLabImage(provisionDeps(main.buildWiring(cacheDir)), cluster, out);
}

/** @deprecated the add-ons step of provisionCluster (main/provision.ts) */
export async function installClusterComponents(cluster: string, out: (l: string) => void, cacheDir = defaultCacheDir(), ingressMode: IngressMode = 'nodeport'): Promise<void> {
  const r = await provisionDeps(main.buildWiring(cacheDir)).addons(cluster, { ingressMode, onStep: (e) => out(formatStepEvent(e)) });
  out(`✓ Traefik (${r.ingressMode}) and MetalLB (pool ${r.pool.first}-${r.pool.last}) installed in ${(r.totalMs / 1000).toFixed(1)} s`);
}

/** @deprecated provisionPoolCluster(wiring, …) (main/wiring.ts) */
export function provisionPoolCluster(name: string, signal: AbortSignal, out: (l: string) => void = () => undefined, cacheDir = defaultCacheDir()): Promise<void> {
  return main.provisionPoolCluster(main.buildWiring(cacheDir), name, signal, out);
}

/** @deprecated realPoolDeps(wiring, logger) (main/wiring.ts) */
export function realPoolDeps(logger: Logger, cacheDir = defaultCacheDir()): PoolDeps {
  return main.realPoolDeps(main.buildWiring(cacheDir), logger);
}
