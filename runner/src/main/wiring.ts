// The one place that builds svclab's real objects: the host shell, the container
// engine, the image builder's deps and the kind driver. cli.ts builds one Wiring per
// process and passes it down; everything below receives what it needs from it.

import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { installLearnerAccess } from '../access/index.ts';
import type { ClusterCommandDeps } from '../cluster/cluster-commands.ts';
import type { ClusterDriver } from '../cluster/cluster-driver.ts';
import { kindBinary, nodeImageStatus } from '../cluster/cluster-tools.ts';
import { KindDriver } from '../cluster/kind-driver.ts';
import { controlPlaneNode, nodeShell } from '../cluster/node-shell.ts';
import { DockerEngine } from '../engine/docker-engine.ts';
import { KUBECTL } from '../kube/kubectl.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import { RunnerError } from '../errors.ts';
import { ExecaRunner } from '../exec/execa-runner.ts';
import type { Shell } from '../exec/shell.ts';
import { defaultCacheDir, defaultImagesDir, imageRef, imagesStatus, type ImagesDeps } from '../images/images.ts';
import { makeLogger } from '../logger.ts';
import { ClusterPool, type PoolDeps } from '../pool/cluster-pool.ts';
import { poolSizing, type PoolSizing } from '../pool/pool-size.ts';
import { clusterHealthy, forgetBaseline, recycleCluster } from '../pool/recycle.ts';
import { provisionCluster, type LearnerAccessStep, type ProvisionRequest } from './provision.ts';

export interface Wiring {
  /** $SVCLAB_CACHE (~/.cache/svclab). */
  cacheDir: string;
  /** The host shell: every process svclab starts on this machine. */
  runner: Shell;
  engine: ContainerEngine;
  images: ImagesDeps;
  driver: ClusterDriver;
  /** Per-cluster files (kind's kubeconfig, the "creating" marker): <cache>/clusters. */
  stateDir: string;
}

export function buildWiring(cacheDir = defaultCacheDir(), imagesDir = defaultImagesDir()): Wiring {
  const runner = new ExecaRunner();
  const engine = new DockerEngine({ runner });
  const images: ImagesDeps = { runner, engine, imagesDir, cacheDir };
  const stateDir = join(cacheDir, 'clusters');
  const driver = new KindDriver({ runner, engine, kindPath: () => kindBinary(images), stateDir, imageStatus: nodeImageStatus(images) });
  return { cacheDir, runner, engine, images, driver, stateDir };
}

/** Deps of up/down/status/kubectl; `signal` aborts a running `up`, which then removes what it made. */
export async function clusterCommandDeps(w: Wiring, out: (line: string) => void, signal?: AbortSignal): Promise<ClusterCommandDeps> {
  const kubectlPath = await hostKubectl(w.images);
  return {
    runner: w.runner, engine: w.engine, driver: w.driver, out, stateDir: w.stateDir,
    nodeImage: () => imageRef(w.images, 'node'),
    ...(kubectlPath ? { kubectlPath } : {}),
    ...(signal ? { signal } : {}),
  };
}

/** Ctrl-C aborts what listens to this signal (a running `up` removes what it made). */
export function interruptSignal(out: (line: string) => void): AbortSignal {
  const abort = new AbortController();
  // Ctrl-C, and SIGTERM as `timeout`, CI runners and service managers send it: either one
  // cancels (a half-made cluster is deleted, kind's own process stopped); a second one kills.
  const stop = (sig: NodeJS.Signals) => () => {
    if (abort.signal.aborted) return;
    out(`${sig === 'SIGTERM' ? 'terminated' : 'interrupted'}: cleaning up…`);
    abort.abort();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, stop(sig));
  return abort.signal;
}

/** The kubectl svclab built (same version as the cluster), when it is built; else undefined (kubectl then runs in the node). */
async function hostKubectl(images: ImagesDeps): Promise<string | undefined> {
  try {
    const st = (await imagesStatus(images)).find((s) => s.kind === 'artifact' && s.name === 'kubernetes');
    const path = st && st.state === 'current' ? join(st.location, 'bin', KUBECTL) : undefined;
    return path && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** The current workstation image; throws IMAGE_MISSING / IMAGE_STALE with the fix. */
export function workstationImageOf(w: Wiring): () => Promise<string> {
  return () => imageRef(w.images, 'workstation');
}

/**
 * Whether `svclab up` and the pool run the learner-access step. On since the access
 * policies passed on a real cluster (2026-12-02: `svclab up --workers 0` → step 4/4
 * "Learner access: RBAC, admission policies, certificate ok", 31.8 s).
 */
export const LEARNER_ACCESS_ON_PROVISION = true;

/** The learner-access step of the provisioning pipeline: runner/src/access's installer on the control-plane node. */
export const learnerAccessStep: LearnerAccessStep = async (cluster, deps, signal) => {
  const r = await installLearnerAccess({ controlPlane: nodeShell(deps.driver, cluster, controlPlaneNode(cluster)) }, signal ? { signal } : {});
  return { kubeconfig: r.kubeconfig, detail: `${r.user} (group ${r.group}), certificate ${r.reused ? 'kept' : 'issued'}` };
};

export function runnerStatusFile(cacheDir = defaultCacheDir()): string {
  return join(cacheDir, 'runner-status.json');
}

export function poolStateDir(cacheDir = defaultCacheDir()): string {
  return join(cacheDir, 'pool');
}

/** What a pooled cluster gets: the whole pipeline, its baseline recorded, removed again on failure. */
export function poolProvisionRequest(w: Wiring, name: string, signal: AbortSignal, out: (l: string) => void = () => undefined): ProvisionRequest {
  return { name, signal, out, ...(LEARNER_ACCESS_ON_PROVISION ? { learnerAccess: learnerAccessStep } : {}), baseline: { dir: poolStateDir(w.cacheDir) }, deleteOnFailure: true };
}

/** Where `svclab validate` keeps its cluster's baseline. */
export function validateStateDir(cacheDir = defaultCacheDir()): string {
  return join(cacheDir, 'validate');
}

/**
 * What `svclab validate` provisions: its own cluster (a running one is reused, as with
 * --keep), add-ons, learner access (the result's learnerKubeconfig is the workstation's),
 * and a baseline kept across reuse.
 */
export function validateProvisionRequest(w: Wiring, name: string, out: (l: string) => void, signal?: AbortSignal): ProvisionRequest {
  return {
    name, out, reuseRunning: true, learnerAccess: learnerAccessStep,
    baseline: { dir: validateStateDir(w.cacheDir), keepExisting: true },
    ...(signal ? { signal } : {}),
  };
}

/** Everything a pooled cluster gets: the cluster, the lab image, Traefik and MetalLB, learner access (when on), then its baseline. */
export async function provisionPoolCluster(w: Wiring, name: string, signal: AbortSignal, out: (l: string) => void = () => undefined): Promise<void> {
  await provisionCluster(w, poolProvisionRequest(w, name, signal, out));
}

/** The warm pool of `svclab start --pool`, sized from the memory budget (refused with the numbers when too big). */
export function makePool(w: Wiring, requested: string, memoryGiB: string | undefined): { pool: ClusterPool; sizing: PoolSizing } {
  const n = requested === 'auto' || requested === '' ? 'auto' : Number(requested);
  const budget = memoryGiB === undefined ? undefined : Number(memoryGiB);
  if (budget !== undefined && !Number.isFinite(budget)) throw new RunnerError('INVALID_ARGUMENT', { message: `--pool-memory ${memoryGiB}: expected a number of GiB.`, hint: 'Example: --pool-memory 12' });
  const sizing = poolSizing({ requested: n, totalMemBytes: totalmem(), cpus: availableParallelism(), ...(budget !== undefined ? { budgetGiB: budget } : {}) });
  mkdirSync(join(w.cacheDir, 'logs'), { recursive: true });
  const logger = makeLogger({ destination: join(w.cacheDir, 'logs', 'pool.log') });
  const pool = new ClusterPool(realPoolDeps(w, logger), { size: sizing.size });
  return { pool, sizing };
}

/** The real pool's dependencies: kind clusters provisioned by the pipeline, recycled against their baseline. */
export function realPoolDeps(w: Wiring, logger: Logger): PoolDeps {
  const rdeps = { driver: w.driver, dir: poolStateDir(w.cacheDir) };
  return {
    // A deleted cluster's baseline goes with it.
    driver: { list: () => w.driver.list(), delete: async (name) => { await w.driver.delete(name); await forgetBaseline(rdeps, name); } },
    provision: (name, signal) => provisionPoolCluster(w, name, signal, (l) => logger.info({ cluster: name }, l)),
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
