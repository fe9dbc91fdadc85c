// Installs svclab's bundled components into a running cluster, right after
// `svclab up`: MetalLB (L2, a pool from the top of the cluster's docker network) and
// Traefik as the default IngressClass `traefik`, in one of two controller modes.
// Ordered named steps with elapsed time, like the bring-up; every image comes from an
// artifact built by `svclab images build`; the node image preloads them, and an image a
// node lacks (an older node image) is loaded into it. Nothing is pulled.
// Running it again on the same cluster converges (server-side apply); switching to
// daemonset mode removes the Deployment and its Service. The hostNetwork DaemonSet is
// there in both modes: on the edge node in daemonset mode, on standby in nodeport mode
// (it runs on a node only once someone labels it svclab.io/ingress=hostnetwork).

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { RunnerError, isRunnerError } from '../errors.ts';
import { lastLine, outputTail, type CommandResult } from '../exec/shell.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import { EDGE_NODE_LABEL, type ClusterDriver, type NodeInfo, type StepEvent } from '../cluster/cluster-driver.ts';
import { nodeAdminKubectl } from '../cluster/node-shell.ts';
import { SVCLAB_FIELD_MANAGER, type Kubectl } from '../kube/kubectl.ts';
import { runSteps, type BringUpStep, type StepsOutcome } from '../cluster/bring-up-steps.ts';
import { imagesStatus, type ImagesDeps } from '../images/images.ts';
import { carveAddressPool, networkAddressing, type AddressPool } from './address-pool.ts';
import {
  COMPONENT_IMAGE_NAMES, METALLB_NAMESPACE, TRAEFIK_NAMESPACE, TRAEFIK_WORKLOADS, hostNetworkNodeLabel, parseIngressMode, readAddonFiles, renderComponentManifests,
  type ComponentImages, type IngressMode,
} from './manifests.ts';

export const COMPONENT_ARTIFACTS = ['traefik', 'metallb'] as const;
/**
 * The Gateway API CRDs (lab 14). Optional: a cluster comes up without them when the
 * artifact is not built yet, Traefik then runs its Ingress provider only, and the
 * step says how to add them (lab 14's checks say it too).
 */
export const GATEWAY_API_ARTIFACT = 'gateway-api';
/** The API server (not kubectl) gave up on a request: worth another try of an idempotent apply. */
const SERVER_TIMEOUT = /Error from server \(Timeout\)|context deadline exceeded|etcdserver: request timed out/;
/** The taint that keeps ordinary pods off the edge node in daemonset mode. */
export const EDGE_TAINT = `${EDGE_NODE_LABEL}=true:NoSchedule`;

export interface ComponentsDeps {
  driver: ClusterDriver;
  engine: ContainerEngine;
  /** images/addons: the manifests. */
  addonsDir: string;
  /** Output folder of a current artifact; throws IMAGE_MISSING / IMAGE_STALE. */
  artifactDir: (name: string) => Promise<string>;
  /** Per rollout wait. */
  readyTimeoutMs?: number;
  now?: () => number;
}

export interface InstallOptions {
  ingressMode: IngressMode;
  onStep?: (e: StepEvent) => void;
  signal?: AbortSignal;
}

export interface InstallResult extends StepsOutcome {
  ingressMode: IngressMode;
  pool: AddressPool;
  images: ComponentImages;
  /** Nodes the DaemonSet-mode controller runs on (daemonset mode only). */
  edgeNodes: string[];
  /** The Gateway API CRDs' version (the artifact's VERSION) when installed; else why not. */
  gatewayApi: { installed: true; version: string } | { installed: false; reason: string };
}

/** ComponentsDeps from the image builder's deps and a driver: artifacts found through the builder's status. */
export function componentsDeps(images: ImagesDeps, driver: ClusterDriver, extra: Partial<ComponentsDeps> = {}): ComponentsDeps {
  return {
    driver,
    engine: images.engine,
    addonsDir: join(images.imagesDir, 'addons'),
    artifactDir: async (name) => {
      const st = (await imagesStatus(images)).find((s) => s.kind === 'artifact' && s.name === name);
      if (!st) throw new RunnerError('INTERNAL', { message: `There is no recipe images/artifacts/${name}.` });
      if (st.state !== 'current') {
        throw new RunnerError(st.state === 'stale' ? 'IMAGE_STALE' : 'IMAGE_MISSING', {
          message: st.state === 'stale' ? `The ${name} component is older than its recipe.` : `The ${name} component has not been built.`,
          hint: `Run \`svclab images build ${name}\`.`,
          details: { need: st.location, have: st.older },
        });
      }
      return st.location;
    },
    ...extra,
  };
}

/** One image an artifact built: its tar, the ref the manifests use, and docker's id for it. */
interface ArtifactImage { ref: string; id: string; tar: string }

/**
 * Install MetalLB and Traefik into `cluster`. Throws INVALID_ARGUMENT for an unknown
 * mode before touching anything; any later failure is a RunnerError naming the step,
 * with the command and its output tail in `details`.
 */
export async function installComponents(cluster: string, deps: ComponentsDeps, opts: InstallOptions): Promise<InstallResult> {
  const mode = parseIngressMode(opts.ingressMode);
  const admin: Kubectl = nodeAdminKubectl(deps.driver, cluster);
  const timeoutS = Math.round((deps.readyTimeoutMs ?? 180_000) / 1000);
  let nodes: NodeInfo[] = [];
  let images: ArtifactImage[] = [];
  let crdFiles: string[] = [];
  let gatewayApi: InstallResult['gatewayApi'] = { installed: false, reason: 'not looked for' };
  let pool: AddressPool | undefined;
  let edgeNodes: string[] = [];

  const must = (step: string, r: CommandResult): CommandResult => {
    if (r.exitCode === 0 && !r.timedOut) return r;
    const args = r.argv.slice(2);
    throw new RunnerError(r.timedOut ? 'COMMAND_TIMEOUT' : 'CLUSTER_FAILED', {
      message: `Installing add-ons, step "${step}": \`kubectl ${args.join(' ')}\` failed: ${lastLine(r.stderr || r.stdout)}`,
      details: { step, argv: [...r.argv], exitCode: r.exitCode, output: outputTail(r, 30) },
    });
  };
  const apply = async (step: string, yaml: string) =>
    must(step, await admin.apply(yaml, { serverSide: true, forceConflicts: true, fieldManager: SVCLAB_FIELD_MANAGER }, { timeoutMs: 120_000 }));
  const rollout = async (step: string, ns: string, kind: string, name: string) => {
    try {
      must(step, await admin.rolloutStatus(ns, kind, name, timeoutS));
    } catch (e) {
      // Say why: the pods' own state is what a learner (or we) can act on.
      const pods = await admin.get(['pods'], { namespace: ns, output: 'wide' }, { timeoutMs: 30_000 }).catch(() => undefined);
      if (isRunnerError(e)) throw new RunnerError(e.code, { message: e.message, hint: `Look at \`svclab kubectl --name ${cluster} -n ${ns} describe ${kind}/${name}\` and its pods' events.`, details: { ...(e.details as object), pods: pods?.stdout } });
      throw e;
    }
  };

  const step = (id: string, title: string, fn: () => Promise<string | void>): BringUpStep => ({ id, title, run: fn });
  const steps: BringUpStep[] = [
    step('components-artifacts', 'Components: Traefik and MetalLB are built', async () => {
      const [traefikDir, metallbDir] = await Promise.all(COMPONENT_ARTIFACTS.map((a) => deps.artifactDir(a)));
      images = [...(await artifactImages(traefikDir!)), ...(await artifactImages(metallbDir!))];
      crdFiles = (await readdir(join(metallbDir!, 'crds')).catch(() => [])).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(metallbDir!, 'crds', f));
      if (crdFiles.length === 0) throw new RunnerError('IMAGE_STALE', { message: `The metallb artifact at ${metallbDir} lists no CRDs.`, hint: 'Run `svclab images build metallb`.' });
      gatewayApi = await gatewayApiArtifact(deps);
      if (gatewayApi.installed) {
        const dir = await deps.artifactDir(GATEWAY_API_ARTIFACT);
        crdFiles.push(...(await readdir(join(dir, 'crds'))).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, 'crds', f)));
      }
      return `${images.map((i) => i.ref).join(', ')}; Gateway API ${gatewayApi.installed ? `CRDs ${gatewayApi.version}` : `skipped: ${gatewayApi.reason}`}`;
    }),
    step('components-nodes', 'Components: find the nodes and the edge node', async () => {
      nodes = await deps.driver.nodes(cluster);
      if (!nodes.some((n) => n.role === 'control-plane')) throw new RunnerError('CLUSTER_FAILED', { message: `Cluster ${cluster} has no control-plane node.` });
      const r = must('components-nodes', await admin.get(['nodes'], { selector: `${EDGE_NODE_LABEL}=true`, output: 'jsonpath={.items[*].metadata.name}' }, { timeoutMs: 120_000 }));
      edgeNodes = r.stdout.trim().split(/\s+/).filter(Boolean);
      if (mode === 'daemonset') {
        if (edgeNodes.length === 0) {
          throw new RunnerError('CLUSTER_FAILED', { message: `No node of ${cluster} carries the label ${EDGE_NODE_LABEL}=true, so the DaemonSet-mode controller has nowhere to run.`, hint: `Label one: svclab kubectl --name ${cluster} label node NODE ${EDGE_NODE_LABEL}=true` });
        }
        // The taint reserves the edge node; ordinary pods need somewhere else to go.
        const workers = nodes.filter((n) => n.role === 'worker' && !edgeNodes.includes(n.name));
        if (workers.length === 0) {
          throw new RunnerError('INVALID_ARGUMENT', {
            message: `The DaemonSet ingress mode taints the edge node (${edgeNodes.join(', ')}); ${cluster} has no other worker, so lab pods could run nowhere.`,
            hint: 'Use a cluster with 2 workers (`svclab up --workers 2`), or the nodeport mode.',
            details: { nodes: nodes.map((n) => n.name), edgeNodes },
          });
        }
      }
      return `${nodes.length} nodes; edge: ${edgeNodes.join(', ') || 'none'}`;
    }),
    step('components-pool', 'Components: carve the MetalLB pool from the docker network', async () => {
      const network = (await deps.driver.list()).find((c) => c.name === cluster)?.network;
      if (!network) throw new RunnerError('CLUSTER_UNKNOWN', { message: `Cluster ${cluster} has no docker network svclab knows of.`, details: { cluster } });
      const net = await deps.engine.inspectNetwork(network);
      if (!net) throw new RunnerError('CLUSTER_FAILED', { message: `Installing add-ons, step "components-pool": the docker network ${network} of ${cluster} is gone.`, hint: `Run \`svclab down --name ${cluster}\` and \`svclab up\` again.` });
      pool = carveAddressPool(networkAddressing(net));
      return `${pool.range} (${pool.size} addresses, top of ${pool.subnet})`;
    }),
    step('components-images', 'Components: images in every node (preloaded by the node image, else loaded)', async () => {
      const loaded: string[] = [];
      for (const img of images) {
        // The node image preloads them: then there is nothing to copy (14–29 s per cluster saved).
        const missing = await deps.driver.nodesWithoutImage(cluster, img.ref, img.id);
        if (missing.length === 0) continue;
        if ((await deps.engine.imageId(img.ref)) !== img.id) await deps.engine.loadImage(img.tar, { timeoutMs: 10 * 60_000, ...(opts.signal ? { signal: opts.signal } : {}) });
        // One at a time: loading them side by side measured no faster here (17–29 s vs 14–25 s) and costs more CPU.
        const r = await deps.driver.loadImage(cluster, img.ref, { imageId: img.id });
        // Pinned, like the preloaded images: kubelet's image GC must never remove what can't be pulled back.
        await Promise.all(r.loaded.map((node) =>
          deps.driver.execOnNode(cluster, node, ['ctr', '--namespace=k8s.io', 'images', 'label', containerdName(img.ref), 'io.cri-containerd.pinned=pinned'], { timeoutMs: 30_000 })));
        loaded.push(img.ref);
      }
      if (loaded.length === 0) return `${images.length} images already in all ${nodes.length} nodes (node image)`;
      return `loaded ${loaded.join(', ')} into ${nodes.length} nodes; ${images.length - loaded.length} already there`;
    }),
    step('components-crds', 'Components: MetalLB (and Gateway API) CRDs established', async () => {
      const texts = await Promise.all(crdFiles.map((f) => readFile(f, 'utf8')));
      // The Gateway API CRDs are large (HTTPRoute alone 344 KB of schema and CEL rules): on a
      // loaded machine the API server's own 60 s request timeout was seen to cut one off.
      // Server-side apply converges, so such a timeout is retried (twice) rather than fatal.
      const yaml = texts.map((t) => t.trimEnd()).join('\n---\n');
      let tries = 0;
      for (;;) {
        const r = await admin.apply(yaml, { serverSide: true, forceConflicts: true, fieldManager: SVCLAB_FIELD_MANAGER }, { timeoutMs: 180_000 });
        tries++;
        if (tries < 3 && r.exitCode !== 0 && !r.timedOut && SERVER_TIMEOUT.test(`${r.stderr}\n${r.stdout}`)) continue;
        must('components-crds', r);
        break;
      }
      must('components-crds', await admin.wait(crdNames(texts), 'condition=Established', 60));
      return `${crdFiles.length} CRDs${tries > 1 ? ` (applied on try ${tries}: the API server timed out before)` : ''}`;
    }),
    step('components-apply', `Components: apply MetalLB and Traefik (${mode} mode)`, async () => {
      const m = renderComponentManifests(await readAddonFiles(deps.addonsDir), {
        ingressMode: mode,
        images: imagesByName(images),
        pool: pool!,
        gatewayApi: gatewayApi.installed,
      });
      await apply('components-apply', m.metallb);
      await apply('components-apply', m.pool);
      // Taint before the DaemonSet exists, so nothing else lands on the edge node meanwhile; untaint in nodeport mode.
      for (const n of edgeNodes) {
        const argv = mode === 'daemonset' ? ['taint', 'nodes', n, EDGE_TAINT, '--overwrite'] : ['taint', 'nodes', n, `${EDGE_TAINT}-`];
        const r = await admin.run(argv, { timeoutMs: 60_000 });
        if (r.exitCode !== 0 && !(mode === 'nodeport' && /not found/i.test(r.stderr))) {
          throw new RunnerError('CLUSTER_FAILED', { message: `Could not ${mode === 'daemonset' ? 'taint' : 'untaint'} the edge node ${n}: ${lastLine(r.stderr)}`, details: { argv, output: outputTail(r) } });
        }
      }
      await apply('components-apply', m.traefik);
      // The DaemonSet is in both modes (on standby in nodeport mode); only daemonset mode drops the Deployment and its Service.
      if (mode === 'daemonset') {
        const gone = { namespace: TRAEFIK_NAMESPACE, ignoreNotFound: true, wait: false };
        must('components-apply', await admin.delete([TRAEFIK_WORKLOADS.nodeport.kind, TRAEFIK_WORKLOADS.nodeport.name], gone, { timeoutMs: 120_000 }));
        must('components-apply', await admin.delete(['service', 'traefik'], gone, { timeoutMs: 120_000 }));
      }
    }),
    step('components-metallb-ready', 'Components: MetalLB controller and speakers ready', async () => {
      await rollout('components-metallb-ready', METALLB_NAMESPACE, 'deployment', 'controller');
      await rollout('components-metallb-ready', METALLB_NAMESPACE, 'daemonset', 'speaker');
    }),
    step('components-traefik-ready', 'Components: Traefik ready', async () => {
      const w = TRAEFIK_WORKLOADS[mode];
      await rollout('components-traefik-ready', TRAEFIK_NAMESPACE, w.kind, w.name);
      if (mode === 'daemonset') return `hostNetwork :80/:443 on ${edgeNodes.join(', ')}`;
      const standby = hostNetworkNodeLabel('nodeport');
      return `NodePort 30080 → 80, 30443 → 443; hostNetwork DaemonSet ${TRAEFIK_WORKLOADS.daemonset.name} on standby for nodes labelled ${standby.key}=${standby.value}`;
    }),
  ];

  const outcome = await runSteps(steps, { ...(opts.onStep ? { onStep: opts.onStep } : {}), ...(opts.signal ? { signal: opts.signal } : {}), ...(deps.now ? { now: deps.now } : {}) });
  return { ...outcome, ingressMode: mode, pool: pool!, images: imagesByName(images), edgeNodes: mode === 'daemonset' ? edgeNodes : [], gatewayApi };
}

/** The gateway-api artifact when it is built and current; otherwise why the cluster goes without it. */
async function gatewayApiArtifact(deps: ComponentsDeps): Promise<InstallResult['gatewayApi']> {
  let dir: string;
  try {
    dir = await deps.artifactDir(GATEWAY_API_ARTIFACT);
  } catch (e) {
    if (isRunnerError(e) && (e.code === 'IMAGE_MISSING' || e.code === 'IMAGE_STALE')) {
      return { installed: false, reason: `${e.message} Run \`svclab images build ${GATEWAY_API_ARTIFACT}\`, then \`svclab up\` again (lab 14 needs it).` };
    }
    throw e;
  }
  const files = (await readdir(join(dir, 'crds')).catch(() => [] as string[])).filter((f) => f.endsWith('.yaml'));
  if (files.length === 0) throw new RunnerError('IMAGE_STALE', { message: `The gateway-api artifact at ${dir} has no CRDs.`, hint: `Run \`svclab images build ${GATEWAY_API_ARTIFACT}\`.` });
  const version = (await readFile(join(dir, 'VERSION'), 'utf8').catch(() => '?')).trim();
  return { installed: true, version };
}

/** images.txt of an addon artifact: "<ref> <image id>" per line, tars in images/ named after the ref's repository. */
async function artifactImages(dir: string): Promise<ArtifactImage[]> {
  const text = await readFile(join(dir, 'images.txt'), 'utf8').catch(() => {
    throw new RunnerError('IMAGE_STALE', { message: `The artifact at ${dir} has no images.txt.`, hint: 'Run `svclab images build traefik metallb`.' });
  });
  return text.split('\n').filter(Boolean).map((line) => {
    const [ref = '', id = ''] = line.trim().split(/\s+/);
    const repo = ref.replace(/:[^:/]+$/, '').split('/').pop()!;
    return { ref, id, tar: join(dir, 'images', `${repo}.tar`) };
  });
}

function imagesByName(images: readonly ArtifactImage[]): ComponentImages {
  const out: Partial<ComponentImages> = {};
  for (const name of COMPONENT_IMAGE_NAMES) {
    const img = images.find((i) => i.ref.replace(/:[^:/]+$/, '').endsWith(`/${name}`));
    if (img) out[name] = img.ref;
  }
  const missing = COMPONENT_IMAGE_NAMES.filter((n) => !out[n]);
  if (missing.length > 0) throw new RunnerError('IMAGE_STALE', { message: `The component artifacts build no image for ${missing.join(', ')}.`, hint: 'Run `svclab images build traefik metallb`.' });
  return out as ComponentImages;
}

/** What containerd calls an image docker names svclab/x:tag. */
export function containerdName(ref: string): string {
  const first = ref.split('/')[0]!;
  const hasRegistry = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return hasRegistry ? ref : `docker.io/${ref.includes('/') ? ref : `library/${ref}`}`;
}

/** `crd/<metadata.name>` of each CRD document, for `kubectl wait`. */
export function crdNames(texts: readonly string[]): string[] {
  return texts.flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null))
    .filter((o) => o?.kind === 'CustomResourceDefinition' && o.metadata?.name)
    .map((o) => `crd/${o!.metadata!.name}`);
}
