// The one provisioning pipeline: what `svclab up`, `svclab validate` and the warm pool
// do to get a cluster a learner can use. Named steps with progress and elapsed time,
// as kind's actions:
//   cluster → lab image → add-ons → learner access → baseline
// The last two are optional: learner access runs when a hook is given (runner/src/access
// installs the learner's RBAC, admission policies and certificate), the baseline when the
// caller keeps one (the pool recycles back to it).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runSteps, type BringUpStep, type StepsOutcome } from '../cluster/bring-up-steps.ts';
import { describeClusterReady, describeCreate } from '../cluster/cluster-commands.ts';
import { nodeImageRef } from '../cluster/cluster-tools.ts';
import type { ClusterDriver, ClusterInfo, CreateResult, ProxyMode, StepEvent } from '../cluster/cluster-driver.ts';
import { formatStepEvent } from '../cluster/bring-up-steps.ts';
import { componentsDeps, installComponents, type InstallResult } from '../addons/install.ts';
import type { IngressMode } from '../addons/manifests.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import { imageRef, type ImagesDeps } from '../images/images.ts';
import { takeBaseline } from '../pool/recycle.ts';

/** The name lab manifests use for the lab pods' image. */
export const LAB_IMAGE = 'svclab/web:latest';

export const PROVISION_STEP_TITLES = {
  cluster: 'Cluster: nodes up and Ready',
  'lab-image': `Lab image: ${LAB_IMAGE} in every node`,
  addons: 'Add-ons: Traefik and MetalLB',
  'learner-access': 'Learner access: RBAC, admission policies, certificate',
  baseline: 'Baseline: record the provisioned state',
} as const;
export type ProvisionStepId = keyof typeof PROVISION_STEP_TITLES;

/** The learner-access step: install it into `cluster`; the learner's kubeconfig for workstations, and a short detail for the progress line. */
export type LearnerAccessStep = (cluster: string, deps: { driver: ClusterDriver; engine: ContainerEngine }, signal?: AbortSignal) => Promise<{ kubeconfig: string; detail: string }>;

/** What each step does, injectable so the pipeline is tested without docker. */
export interface ProvisionDeps {
  driver: ClusterDriver;
  engine: ContainerEngine;
  /** The node image to create clusters from (svclab/node:<hash16>). */
  nodeImage: () => Promise<string>;
  /** The built web image that becomes LAB_IMAGE. */
  labImage: () => Promise<string>;
  addons: (cluster: string, opts: { ingressMode: IngressMode; onStep?: (e: StepEvent) => void; signal?: AbortSignal }) => Promise<InstallResult>;
  /** Record the provisioned state; with keepExisting, one recorded earlier (a reused cluster) stays. */
  baseline: (cluster: string, dir: string, opts: { keepExisting: boolean }) => Promise<'taken' | 'kept'>;
}

/** The real step implementations from the image builder's deps and a driver. */
export function provisionDeps(w: { driver: ClusterDriver; engine: ContainerEngine; images: ImagesDeps }): ProvisionDeps {
  return {
    driver: w.driver,
    engine: w.engine,
    nodeImage: () => nodeImageRef(w.images),
    labImage: () => imageRef(w.images, 'web'),
    addons: (cluster, opts) => installComponents(cluster, componentsDeps(w.images, w.driver), opts),
    baseline: async (cluster, dir, opts) => {
      // recycle.ts keeps a cluster's baseline in <dir>/<cluster>.json.
      if (opts.keepExisting && existsSync(join(dir, `${cluster}.json`))) return 'kept';
      await takeBaseline({ driver: w.driver, dir }, cluster);
      return 'taken';
    },
  };
}

export interface ProvisionRequest {
  name: string;
  workers?: number;
  proxyMode?: ProxyMode;
  /** Default: the image builder's current node image. */
  nodeImage?: string;
  ingressMode?: IngressMode;
  /** A running cluster of this name is used as it is (validate); a broken one is deleted first. Otherwise a new one is made. */
  reuseRunning?: boolean;
  /** Run this as the learner-access step; without it the step is left out. */
  learnerAccess?: LearnerAccessStep;
  /** Record the provisioned state here (the pool's recycle goes back to it); without it the step is left out. keepExisting: a reused cluster keeps the one it has (a cluster made now always gets a new one). */
  baseline?: { dir: string; keepExisting?: boolean };
  /** Delete the cluster when a step after its creation fails (the pool: a half-made cluster is no use). */
  deleteOnFailure?: boolean;
  signal?: AbortSignal;
  /** The pipeline's own steps. */
  onStep?: (e: StepEvent) => void;
  /** Steps inside a step (the cluster's bring-up, the add-ons install); default: one `out` line each. */
  onDetail?: (e: StepEvent) => void;
  /** Human lines: what is being made, what was made. */
  out?: (line: string) => void;
}

export interface ProvisionResult extends StepsOutcome {
  name: string;
  /** False when a running cluster was reused. */
  created: boolean;
  cluster?: CreateResult;
  addons?: InstallResult;
  /** From the learner-access step: the learner's kubeconfig for workstations. */
  learnerKubeconfig?: string;
}

export async function provisionCluster(w: { driver: ClusterDriver; engine: ContainerEngine; images: ImagesDeps } | ProvisionDeps, req: ProvisionRequest): Promise<ProvisionResult> {
  const d: ProvisionDeps = 'addons' in w ? w : provisionDeps(w);
  const out = req.out ?? (() => undefined);
  const onDetail = req.onDetail ?? ((e: StepEvent) => out(formatStepEvent(e)));
  const signal = req.signal ? { signal: req.signal } : {};
  const ingressMode = req.ingressMode ?? 'nodeport';
  let created = false;
  let cluster: CreateResult | undefined;
  let addons: InstallResult | undefined;
  let learnerKubeconfig: string | undefined;

  const step = (id: ProvisionStepId, run: BringUpStep['run']): BringUpStep => ({ id, title: PROVISION_STEP_TITLES[id], run });
  const steps: BringUpStep[] = [
    step('cluster', async () => {
      if (req.reuseRunning) {
        const existing = (await d.driver.list()).find((c: ClusterInfo) => c.name === req.name);
        if (existing?.state === 'running') return `${req.name} is running: reused`;
        if (existing) await d.driver.delete(req.name);
      }
      const nodeImage = req.nodeImage ?? (await d.nodeImage());
      const spec = { name: req.name, workers: req.workers ?? 2, proxyMode: req.proxyMode ?? 'iptables', nodeImage };
      out(describeCreate(spec));
      cluster = await d.driver.create(spec, { onStep: onDetail, ...signal });
      created = true;
      for (const line of describeClusterReady(cluster)) out(line);
      return `${cluster.name} in ${seconds(cluster.timings.totalMs)}`;
    }),
    step('lab-image', () => loadLabImage(d, req.name, out)),
    step('addons', async () => {
      addons = await d.addons(req.name, { ingressMode, onStep: onDetail, ...signal });
      out(`✓ Traefik (${addons.ingressMode}) and MetalLB (pool ${addons.pool.first}-${addons.pool.last}) installed in ${seconds(addons.totalMs)}`);
      return `Traefik ${addons.ingressMode}, MetalLB ${addons.pool.range}`;
    }),
    ...(req.learnerAccess ? [step('learner-access', async () => {
      const access = await req.learnerAccess!(req.name, { driver: d.driver, engine: d.engine }, req.signal);
      learnerKubeconfig = access.kubeconfig;
      return access.detail;
    })] : []),
    // A baseline recorded before belongs to the cluster that had this name then: kept only
    // when that cluster was reused, never for one just made (after `svclab down` of the old one).
    ...(req.baseline ? [step('baseline', async () => (await d.baseline(req.name, req.baseline!.dir, { keepExisting: (req.baseline!.keepExisting ?? false) && !created })) === 'kept' ? 'kept the one recorded before' : undefined)] : []),
  ];

  try {
    const outcome = await runSteps(steps, { ...(req.onStep ? { onStep: req.onStep } : {}), ...signal });
    return { ...outcome, name: req.name, created, ...(cluster ? { cluster } : {}), ...(addons ? { addons } : {}), ...(learnerKubeconfig !== undefined ? { learnerKubeconfig } : {}) };
  } catch (e) {
    // The driver removes what a failed create made; what came after is ours to remove.
    // (runSteps has already made any failure, a cancel included, a RunnerError naming the step.)
    if (created && req.deleteOnFailure) await d.driver.delete(req.name).catch(() => undefined);
    throw e;
  }
}

/** The lab pods' image under the name lab manifests use, in every node of `cluster`. */
export async function loadLabImage(d: Pick<ProvisionDeps, 'driver' | 'engine' | 'labImage'>, cluster: string, out: (line: string) => void = () => undefined): Promise<string> {
  const web = await d.labImage();
  await d.engine.tagImage(web, LAB_IMAGE);
  const started = performance.now();
  const r = await d.driver.loadImage(cluster, LAB_IMAGE);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  out(r.loaded.length === 0
    ? `✓ ${LAB_IMAGE} (${web}) is already in every node of ${cluster} (node image; ${secs}s)`
    : `✓ loaded ${LAB_IMAGE} (${web}) into ${r.loaded.join(', ')} (${secs}s)`);
  return r.loaded.length === 0 ? 'already in every node' : `loaded into ${r.loaded.length} node(s)`;
}

/** One line per finished pipeline step: "── 2/4 Lab image: svclab/web:latest in every node ok (1.2 s, total 97.0 s) loaded into 3 node(s)". */
export function formatProvisionEvent(e: StepEvent): string | undefined {
  if (e.state === 'running') return undefined;
  return `── ${e.index}/${e.total} ${e.title} ${e.state === 'ok' ? 'ok' : 'FAILED'} (${seconds(e.elapsedMs)}, total ${seconds(e.totalElapsedMs)})${e.detail ? ` ${e.detail}` : ''}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
