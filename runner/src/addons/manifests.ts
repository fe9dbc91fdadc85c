// The addon manifests svclab applies, from images/addons/: ours, plain YAML, with
// three things filled in here — the image references the artifacts built, Traefik's
// shared static configuration (args.txt) and MetalLB's address range. With the
// Gateway API CRDs installed, Traefik also gets gateway-api/args.txt and the
// GatewayClass and rights of gateway-api/gateway.yaml. The hostNetwork DaemonSet
// (daemonset.yaml) is rendered in both modes, with the node label of its nodeSelector
// filled in: the edge label in daemonset mode, the standby label in nodeport mode.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, type Document } from 'yaml';
import { RunnerError } from '../errors.ts';
import type { AddressPool } from './address-pool.ts';
import { EDGE_NODE_LABEL } from '../cluster/cluster-driver.ts';

export const INGRESS_MODES = ['nodeport', 'daemonset'] as const;
export type IngressMode = (typeof INGRESS_MODES)[number];

/** Image names the manifests refer to as `@image:NAME@`. */
export const COMPONENT_IMAGE_NAMES = ['traefik', 'metallb-controller', 'metallb-speaker'] as const;
export type ComponentImageName = (typeof COMPONENT_IMAGE_NAMES)[number];
export type ComponentImages = Record<ComponentImageName, string>;

export const TRAEFIK_NAMESPACE = 'traefik';
export const METALLB_NAMESPACE = 'metallb-system';
/** Workloads per mode, for rollout waits and for removing the other mode's objects. */
export const TRAEFIK_WORKLOADS: Record<IngressMode, { kind: 'deployment' | 'daemonset'; name: string }> = {
  nodeport: { kind: 'deployment', name: 'traefik' },
  daemonset: { kind: 'daemonset', name: 'traefik-edge' },
};

/**
 * The node label the hostNetwork DaemonSet `traefik-edge` selects in nodeport mode, where
 * it stands by beside the Deployment. No node carries it when svclab installs; lab 11's
 * learner sets it on the edge node (the one node change the access policy allows them)
 * and a Traefik pod then runs in that node's network. Reset and the pool's recycle remove it.
 */
export const HOSTNETWORK_INGRESS_LABEL = { key: 'svclab.io/ingress', value: 'hostnetwork' } as const;

/** The label traefik-edge's nodeSelector names in each mode. */
export function hostNetworkNodeLabel(mode: IngressMode): { key: string; value: string } {
  return mode === 'daemonset' ? { key: EDGE_NODE_LABEL, value: 'true' } : { ...HOSTNETWORK_INGRESS_LABEL };
}

export interface AddonFiles {
  traefikCommon: string;
  traefikDeployment: string;
  traefikDaemonset: string;
  /** One flag per line, # comments. */
  traefikArgs: string;
  metallb: string;
  metallbPool: string;
  /** Traefik's Gateway API rights and GatewayClass `traefik`. */
  gatewayApi: string;
  /** The kubernetesgateway provider's flags, one per line. */
  gatewayArgs: string;
}

export interface RenderedManifests {
  /**
   * Namespace, RBAC, IngressClass and the chosen mode's workloads: nodeport, the Deployment,
   * its Service and the standby DaemonSet; daemonset, the DaemonSet on the edge label. With
   * the Gateway API, its RBAC and GatewayClass too.
   */
  traefik: string;
  /** Namespace, RBAC, controller, speaker (CRDs are applied from the artifact first). */
  metallb: string;
  /** IPAddressPool + L2Advertisement; needs the CRDs established. */
  pool: string;
}

/** The ingress mode asked for, or INVALID_ARGUMENT naming what exists. */
export function parseIngressMode(mode: unknown): IngressMode {
  if (typeof mode === 'string' && (INGRESS_MODES as readonly string[]).includes(mode)) return mode as IngressMode;
  throw new RunnerError('INVALID_ARGUMENT', {
    message: `Unknown ingress controller mode ${JSON.stringify(mode)}.`,
    hint: `Use one of: ${INGRESS_MODES.join(' (Deployment + NodePort 30080/30443), ')} (DaemonSet + hostNetwork on the edge node).`,
    details: { field: 'ingressMode', allowed: INGRESS_MODES },
  });
}

export async function readAddonFiles(addonsDir: string): Promise<AddonFiles> {
  const read = (...p: string[]) => readFile(join(addonsDir, ...p), 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new RunnerError('INTERNAL', { message: `The addon manifest images/addons/${p.join('/')} can't be read (${e.code ?? e.message}).`, details: { path: join(addonsDir, ...p) } });
  });
  const [traefikCommon, traefikDeployment, traefikDaemonset, traefikArgs, metallb, metallbPool, gatewayApi, gatewayArgs] = await Promise.all([
    read('traefik', 'common.yaml'), read('traefik', 'deployment.yaml'), read('traefik', 'daemonset.yaml'), read('traefik', 'args.txt'),
    read('metallb', 'metallb.yaml'), read('metallb', 'pool.yaml'), read('gateway-api', 'gateway.yaml'), read('gateway-api', 'args.txt'),
  ]);
  return { traefikCommon, traefikDeployment, traefikDaemonset, traefikArgs, metallb, metallbPool, gatewayApi, gatewayArgs };
}

/** args.txt: one flag per line; blank lines and # comments skipped. */
export function parseArgsFile(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * `gatewayApi`: the Gateway API CRDs are (or are about to be) installed, so Traefik
 * runs its kubernetesgateway provider too. Without the CRDs that provider's informers
 * never sync, so it stays off (the Ingress provider works either way).
 */
export function renderComponentManifests(files: AddonFiles, opts: { ingressMode: IngressMode; images: ComponentImages; pool: Pick<AddressPool, 'range'>; gatewayApi?: boolean }): RenderedManifests {
  const mode = parseIngressMode(opts.ingressMode);
  const common = [...parseArgsFile(files.traefikArgs), ...(opts.gatewayApi ? parseArgsFile(files.gatewayArgs) : [])];
  const label = hostNetworkNodeLabel(mode);
  // On standby (nodeport mode) the DaemonSet serves Ingresses only: a second Gateway API
  // controller would write the Gateways' and routes' status against the Deployment's.
  const daemonSetArgs = mode === 'nodeport' ? parseArgsFile(files.traefikArgs) : common;
  const daemonSet = withTraefikArgs(fill(files.traefikDaemonset, opts.images, { 'node-label-key': label.key, 'node-label-value': label.value }), daemonSetArgs);
  const workloads = mode === 'nodeport' ? [withTraefikArgs(fill(files.traefikDeployment, opts.images, {}), common), daemonSet] : [daemonSet];
  const gateway = opts.gatewayApi ? `\n---\n${fill(files.gatewayApi, opts.images, {}).trimEnd()}` : '';
  return {
    traefik: [`${fill(files.traefikCommon, opts.images, {}).trimEnd()}${gateway}`, ...workloads.map((w) => w.trimEnd())].join('\n---\n') + '\n',
    metallb: fill(files.metallb, opts.images, {}),
    pool: fill(files.metallbPool, opts.images, { 'pool-range': opts.pool.range }),
  };
}

/** Replace `@image:NAME@` and `@KEY@` placeholders; any left over is a bug in the manifests. */
function fill(text: string, images: ComponentImages, values: Record<string, string>): string {
  const out = text.replace(/@([a-z][a-z0-9-]*(?::[a-z0-9-]+)?)@/g, (whole, key: string) => {
    if (key.startsWith('image:')) {
      const name = key.slice('image:'.length);
      const ref = (images as Record<string, string>)[name];
      if (!ref) throw new RunnerError('INTERNAL', { message: `An addon manifest asks for image "${name}", which no component artifact builds.`, details: { known: Object.keys(images) } });
      return ref;
    }
    const v = values[key];
    if (v === undefined) throw new RunnerError('INTERNAL', { message: `An addon manifest has the placeholder ${whole}, which the installer does not fill.` });
    return v;
  });
  return out;
}

/** Prepend the shared flags to the traefik container's args of the one workload in `text`. */
function withTraefikArgs(text: string, common: readonly string[]): string {
  const docs = parseAllDocuments(text) as Document.Parsed[];
  let done = 0;
  for (const doc of docs) {
    const kind = doc.get('kind');
    if (kind !== 'Deployment' && kind !== 'DaemonSet') continue;
    const containers = doc.getIn(['spec', 'template', 'spec', 'containers']) as { items: { get(k: string): unknown }[] } | undefined;
    const i = containers?.items.findIndex((c) => c.get('name') === 'traefik') ?? -1;
    if (i < 0) continue;
    const path = ['spec', 'template', 'spec', 'containers', i, 'args'];
    const own = (doc.getIn(path) as { toJSON(): unknown } | undefined)?.toJSON();
    doc.setIn(path, doc.createNode([...common, ...(Array.isArray(own) ? own.map(String) : [])]));
    done++;
  }
  if (done !== 1) throw new RunnerError('INTERNAL', { message: `A Traefik mode manifest must hold exactly one workload with a container named traefik; found ${done}.` });
  return docs.map((d) => d.toString()).join('---\n');
}
