// The real objects behind the CLI and the runner, made in one place.
import { mkdirSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { RunnerError } from '../errors.ts';
import { makeLogger } from '../logger.ts';
import type { Logger } from 'pino';
import { ClusterPool, type PoolDeps } from '../pool/cluster-pool.ts';
import { poolSizing, type PoolSizing } from '../pool/pool-size.ts';
import { clusterHealthy, forgetBaseline, recycleCluster, takeBaseline } from '../pool/recycle.ts';
import type { ClusterCommandDeps } from '../cluster/cluster-commands.ts';
import { makeClusterCommandDeps } from '../cluster/cluster-wiring.ts';
import { formatStepEvent } from '../cluster/bring-up-steps.ts';
import { componentsDeps, installComponents } from '../addons/install.ts';
import { DEFAULT_CLUSTER_NAME } from '../cluster/cluster-driver.ts';
import { kindBinary, nodeImageRef, nodeImageStatus } from '../cluster/cluster-tools.ts';
import { KindDriver } from '../cluster/kind-driver.ts';
import { DockerEngine } from '../engine/docker-engine.ts';
import { ExecaRunner } from '../exec/execa-runner.ts';
import { defaultCacheDir, defaultImagesDir, imageRef, type ImagesDeps } from '../images/images.ts';

export function realDeps(cacheDir = defaultCacheDir()) {
  const runner = new ExecaRunner();
  const engine = new DockerEngine({ runner });
  const images: ImagesDeps = { runner, engine, imagesDir: defaultImagesDir(), cacheDir };
  const stateDir = join(cacheDir, 'clusters');
  const driver = new KindDriver({ runner, engine, kindPath: () => kindBinary(images), stateDir, imageStatus: nodeImageStatus(images) });
  return { runner, engine, images, cacheDir, driver, stateDir };
}

/** Deps of up/down/status/kubectl; Ctrl-C aborts a running `up`, which then removes what it made. */
export async function clusterCommandDeps(out: (line: string) => void, cacheDir = defaultCacheDir()): Promise<ClusterCommandDeps> {
  const abort = new AbortController();
  process.once('SIGINT', () => { out('interrupted: cleaning up…'); abort.abort(); });
  return makeClusterCommandDeps({ cacheDir, out, signal: abort.signal });
}

/** The current workstation image; throws IMAGE_MISSING / IMAGE_STALE with the fix. */
export function workstationImage(cacheDir = defaultCacheDir()): () => Promise<string> {
  const { images } = realDeps(cacheDir);
  return () => imageRef(images, 'workstation');
}

/** The lab pods' image under the name lab manifests use, loaded into a cluster's nodes. */
export async function loadLabImages(cluster: string, cacheDir = defaultCacheDir(), out: (l: string) => void = () => undefined): Promise<void> {
  const d = realDeps(cacheDir);
  const web = await imageRef(d.images, 'web');
  await d.engine.tagImage(web, 'svclab/web:latest');
  const started = performance.now();
  const r = await d.driver.loadImage(cluster, 'svclab/web:latest');
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  out(r.loaded.length === 0
    ? `✓ svclab/web:latest (${web}) is already in every node of ${cluster} (node image; ${secs}s)`
    : `✓ loaded svclab/web:latest (${web}) into ${r.loaded.join(', ')} (${secs}s)`);
}

export { DEFAULT_CLUSTER_NAME };

/** Traefik (default IngressClass, NodePort 30080/30443) and MetalLB (L2, a pool from the kind network) in a cluster. */
export async function installClusterComponents(cluster: string, out: (l: string) => void, cacheDir = defaultCacheDir(), ingressMode: 'nodeport' | 'daemonset' = 'nodeport'): Promise<void> {
  const d = realDeps(cacheDir);
  const r = await installComponents(cluster, componentsDeps(d.images, d.driver), { ingressMode, onStep: (e) => out(formatStepEvent(e)) });
  out(`✓ Traefik (${r.ingressMode}) and MetalLB (pool ${r.pool.first}-${r.pool.last}) installed in ${(r.totalMs / 1000).toFixed(1)} s`);
}

export function runnerStatusFile(cacheDir = defaultCacheDir()): string {
  return join(cacheDir, 'runner-status.json');
}

/** Everything a pooled cluster gets: the cluster, the lab image, Traefik and MetalLB, then its baseline. Removed again on failure. */
export async function provisionPoolCluster(name: string, signal: AbortSignal, out: (l: string) => void = () => undefined, cacheDir = defaultCacheDir()): Promise<void> {
  const d = realDeps(cacheDir);
  await d.driver.create({ name, nodeImage: await nodeImageRef(d.images) }, { signal });
  try {
    await loadLabImages(name, cacheDir, out);
    if (signal.aborted) throw new Error('aborted');
    await installClusterComponents(name, out, cacheDir);
    await takeBaseline({ driver: d.driver, dir: poolStateDir(cacheDir) }, name);
  } catch (e) {
    await d.driver.delete(name).catch(() => undefined);
    throw e;
  }
}

export function poolStateDir(cacheDir = defaultCacheDir()): string {
  return join(cacheDir, 'pool');
}

/** The warm pool of `svclab start --pool`, sized from the memory budget (refused with the numbers when too big). */
export function makePool(requested: string, memoryGiB: string | undefined, cacheDir = defaultCacheDir()): { pool: ClusterPool; sizing: PoolSizing } {
  const n = requested === 'auto' || requested === '' ? 'auto' : Number(requested);
  const budget = memoryGiB === undefined ? undefined : Number(memoryGiB);
  if (budget !== undefined && !Number.isFinite(budget)) throw new RunnerError('INVALID_ARGUMENT', { message: `--pool-memory ${memoryGiB}: expected a number of GiB.`, hint: 'Example: --pool-memory 12' });
  const sizing = poolSizing({ requested: n, totalMemBytes: totalmem(), cpus: availableParallelism(), ...(budget !== undefined ? { budgetGiB: budget } : {}) });
  mkdirSync(join(cacheDir, 'logs'), { recursive: true });
  const logger = makeLogger({ destination: join(cacheDir, 'logs', 'pool.log') });
  const pool = new ClusterPool(realPoolDeps(logger, cacheDir), { size: sizing.size });
  return { pool, sizing };
}

/** The real pool's dependencies: kind clusters provisioned with every component, recycled against their baseline. */
export function realPoolDeps(logger: Logger, cacheDir = defaultCacheDir()): PoolDeps {
  const d = realDeps(cacheDir);
  const rdeps = { driver: d.driver, dir: poolStateDir(cacheDir) };
  return {
    // A deleted cluster's baseline goes with it.
    driver: { list: () => d.driver.list(), delete: async (name) => { await d.driver.delete(name); await forgetBaseline(rdeps, name); } },
    provision: (name, signal) => provisionPoolCluster(name, signal, (l) => logger.info({ cluster: name }, l), cacheDir),
    recycle: async (name) => {
      const r = await recycleCluster(rdeps, name);
      logger.info({ cluster: name, ...r }, r.trusted ? 'recycled' : 'not trusted after use: deleting');
      if (!r.trusted) await forgetBaseline(rdeps, name);
      return r.trusted;
    },
    healthy: (name) => clusterHealthy(rdeps, name),
    logger,
  };
}
