// The Kubernetes cluster seen by svclab: kind in production (KindDriver), an
// in-memory stand-in in tests (FakeClusterDriver). Everything a lab needs from a
// cluster goes through this interface.

import { z } from 'zod';
import { RunnerError } from '../errors.ts';
import type { CommandResult, RunOptions } from '../exec/shell.ts';
import { ADMIN_KUBECONFIG, kubectlArgv } from '../kube/kubectl.ts';

export const CLUSTER_NAME_PREFIX = 'svclab-';
export const DEFAULT_CLUSTER_NAME = 'svclab-main';
export const PROXY_MODES = ['iptables', 'nftables', 'ipvs'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];
export const MAX_WORKERS = 4;

/** Docker label every svclab object carries: the cluster it belongs to. */
export const CLUSTER_LABEL = 'svclab.cluster';
/** Docker label of workstation containers: the session that owns them. */
export const SESSION_LABEL = 'svclab.session';
/** kind's own label on node containers; docker can't add labels after creation and kind can't be told to add ours. */
export const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';
export const KIND_ROLE_LABEL = 'io.x-k8s.kind.role';
/** Node label that marks the worker that will carry ingress traffic in later labs. */
export const EDGE_NODE_LABEL = 'svclab.io/edge';

// Node container names are `<name>-control-plane`, `<name>-worker4`: they must stay DNS labels (≤63).
export const clusterNameSchema = z
  .string()
  .max(40, 'a cluster name has at most 40 characters')
  .regex(/^svclab-[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a cluster name is a DNS label that starts with "svclab-" (lowercase letters, digits, dashes)');

const ipv4Cidr = z
  .string()
  .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/, 'expected an IPv4 CIDR such as 10.244.0.0/16')
  .refine((s) => {
    const [addr = '', bits = ''] = s.split('/');
    return addr.split('.').every((o) => Number(o) <= 255) && Number(bits) <= 32;
  }, 'octets are 0–255 and the prefix length 0–32');

export const portRequestSchema = z.object({
  containerPort: z.number().int().min(1).max(65535),
  /** Omitted: the container port if it is free on 127.0.0.1, else a free port the driver picks. */
  hostPort: z.number().int().min(1).max(65535).optional(),
});
export type PortRequest = z.infer<typeof portRequestSchema>;

// 30080: the ingress controller's NodePort (labs 11, 12); 30007: lab 07's own NodePort, so the two never collide.
export const DEFAULT_PORTS: PortRequest[] = [{ containerPort: 30080 }, { containerPort: 30007 }, { containerPort: 80 }, { containerPort: 443 }];

export const clusterSpecSchema = z.object({
  name: clusterNameSchema.default(DEFAULT_CLUSTER_NAME),
  workers: z.number().int().min(0, 'workers must be 0–4').max(MAX_WORKERS, 'workers must be 0–4').default(2),
  proxyMode: z.enum(PROXY_MODES).default('iptables'),
  podSubnet: ipv4Cidr.default('10.244.0.0/16'),
  serviceSubnet: ipv4Cidr.default('10.96.0.0/12'),
  /** e.g. svclab/node:<hash16>, as the image builder tags it. */
  nodeImage: z.string().min(1),
  /** Mapped on the control-plane node, bound to 127.0.0.1 only. */
  ports: z.array(portRequestSchema).default(DEFAULT_PORTS),
});
export type ClusterSpec = z.infer<typeof clusterSpecSchema>;
export type ClusterSpecInput = z.input<typeof clusterSpecSchema>;

export interface PortMapping {
  containerPort: number;
  hostPort: number;
  listenAddress: '127.0.0.1';
}

export type NodeRole = 'control-plane' | 'worker';

export interface NodeInfo {
  /** Kubernetes node name; equals the container's name and hostname. */
  name: string;
  role: NodeRole;
  container: string;
  /** Address on the cluster's docker network (the node's InternalIP). */
  internalIP: string;
}

/**
 * running: every node container runs. creating: a live `up` is still making it.
 * broken: something is left from a failed or killed `up`, or a node stopped; `svclab down` removes it.
 */
export type ClusterState = 'running' | 'creating' | 'broken';

export interface ClusterInfo {
  name: string;
  state: ClusterState;
  /** Unknown (undefined) only for a broken cluster whose record is gone. */
  spec?: ClusterSpec;
  /** Host ports actually bound (127.0.0.1). */
  ports: PortMapping[];
  /** The API server as reached from the host. */
  apiServer?: { host: string; port: number };
  /** Labels that mark this cluster's docker objects, per object kind. */
  dockerLabels: { containers: Record<string, string>; networks: Record<string, string> };
  /** The docker network the nodes are on. */
  network?: string;
}

export interface StepEvent {
  id: string;
  title: string;
  /** 1-based position and count, for "[3/9]" progress. */
  index: number;
  total: number;
  state: 'running' | 'ok' | 'failed';
  /** Time spent in this step so far (ok/failed: its duration). */
  elapsedMs: number;
  /** Time since create() began. */
  totalElapsedMs: number;
  /** A short result ("3/3 nodes Ready", "30080→30080") or the failure message. */
  detail?: string;
}

export interface CreateOptions {
  onStep?: (event: StepEvent) => void;
  signal?: AbortSignal;
}

export interface CreateResult extends ClusterInfo {
  timings: {
    totalMs: number;
    steps: { id: string; ms: number }[];
    /** From the start of create() until the first node reported Ready. */
    firstNodeReadyMs?: number;
  };
}

export type KubeconfigVariant = 'host' | 'internal';

/** What a fake's responder says a node command did; execOnNode fills in the rest of a CommandResult. */
export type ExecResult = Pick<CommandResult, 'exitCode' | 'stdout' | 'stderr'>;

export interface ClusterDriver {
  /**
   * Bring a cluster up as ordered named steps. On any failure everything this call
   * made is removed before the error (a RunnerError) is thrown.
   */
  create(spec: ClusterSpecInput, opts?: CreateOptions): Promise<CreateResult>;
  /** Remove every object of the cluster. Throws CLUSTER_UNKNOWN when nothing of it exists. */
  delete(name: string): Promise<void>;
  /** svclab clusters only, in name order, including broken leftovers. */
  list(): Promise<ClusterInfo[]>;
  /**
   * Kubeconfig text. 'host': server https://127.0.0.1:<port>, for the host.
   * 'internal': server https://<name>-control-plane:6443, for containers on the
   * cluster's docker network or sharing the control-plane node's network namespace.
   */
  kubeconfig(name: string, variant?: KubeconfigVariant): Promise<string>;
  /** Control plane first, then workers in order (worker, worker2, …). */
  nodes(name: string): Promise<NodeInfo[]>;
  /** Run argv inside a node container, as root; a non-zero exit is data, not an exception. nodeShell() makes a Shell of it. */
  execOnNode(cluster: string, node: string, argv: readonly string[], opts: Omit<RunOptions, 'user'>): Promise<CommandResult>;
  /**
   * Copy a local docker image into every node's containerd. A node whose containerd
   * already holds the image under that name with the same image id (preloaded by the
   * node image, or loaded before) is skipped; when every node has it, nothing is loaded
   * and docker needs no copy of it if `imageId` is given.
   */
  loadImage(cluster: string, imageRef: string, opts?: { imageId?: string }): Promise<LoadImageResult>;
  /** Nodes whose containerd lacks `imageRef` with image id `imageId` (sha256:…, docker's id of it). */
  nodesWithoutImage(cluster: string, imageRef: string, imageId: string): Promise<string[]>;
}

export interface LoadImageResult {
  /** Nodes the image was copied into. */
  loaded: string[];
  /** Nodes that already held it (same name, same id). */
  present: string[];
}

/** Kind names the nodes after the cluster; worker 1 is `<name>-worker`, worker n>1 `<name>-worker<n>`. */
export function nodeNames(name: string, workers: number): { name: string; role: NodeRole }[] {
  const out: { name: string; role: NodeRole }[] = [{ name: `${name}-control-plane`, role: 'control-plane' }];
  for (let i = 1; i <= workers; i++) out.push({ name: `${name}-worker${i === 1 ? '' : i}`, role: 'worker' });
  return out;
}

/** The node that carries EDGE_NODE_LABEL: worker 1, or the control plane when there are no workers. */
export function edgeNodeName(name: string, workers: number): string {
  return workers > 0 ? `${name}-worker` : `${name}-control-plane`;
}

/**
 * The argv that runs kubectl as cluster admin inside the control-plane node.
 * @deprecated Use nodeAdminKubectl() (cluster/node-shell.ts); kept while callers move.
 */
export function nodeKubectl(args: readonly string[]): string[] {
  return kubectlArgv(args, { kubeconfig: ADMIN_KUBECONFIG });
}

/** Validate a spec; a bad field becomes INVALID_ARGUMENT naming the field and what is allowed. */
export function parseClusterSpec(input: ClusterSpecInput): ClusterSpec {
  const r = clusterSpecSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || 'spec';
  if (field === 'proxyMode') {
    throw new RunnerError('INVALID_ARGUMENT', {
      message: `Unknown kube-proxy mode ${JSON.stringify((input as { proxyMode?: unknown }).proxyMode)}.`,
      hint: `Use one of: ${PROXY_MODES.join(', ')}.`,
      details: { field, issues: r.error.issues },
    });
  }
  throw new RunnerError('INVALID_ARGUMENT', {
    message: `Cluster ${field}: ${issue.message}.`,
    hint: field === 'workers' ? 'Use --workers 0, 1, 2, 3 or 4.' : field === 'name' ? 'Use --name svclab-SOMETHING (lowercase letters, digits and dashes).' : undefined,
    details: { field, issues: r.error.issues },
  });
}
