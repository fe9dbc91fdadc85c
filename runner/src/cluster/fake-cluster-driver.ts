// An in-memory ClusterDriver for tests of code that uses clusters (sessions,
// checks, the CLI). It runs the same named steps and raises the same errors as
// KindDriver; node commands are answered by a settable responder.

import { stringify } from 'yaml';
import { RunnerError } from '../errors.ts';
import { commandResult, type CommandResult, type RunOptions } from '../exec/shell.ts';
import {
  CLUSTER_LABEL, KIND_CLUSTER_LABEL, nodeNames, parseClusterSpec,
  type ClusterDriver, type ClusterInfo, type ClusterSpec, type ClusterSpecInput, type CreateOptions, type CreateResult,
  type ExecResult, type KubeconfigVariant, type LoadImageResult, type NodeInfo, type PortMapping,
} from './cluster-driver.ts';
import { BRING_UP_STEP_IDS, BRING_UP_STEP_TITLES, runSteps, type BringUpStepId } from './bring-up-steps.ts';
import { assertProxyModeSupported } from './proxy-mode-support.ts';

export type FakeExecResponder = (call: { cluster: string; node: string; argv: readonly string[]; input?: string }) => ExecResult;

export interface FakeClusterDriverOptions {
  /** Does the fake kernel have ip_vs? Default false, like these machines. */
  ipvsAvailable?: boolean;
  /** Which node images exist; default: every image. */
  imageExists?: (ref: string) => boolean;
  /** Make this step fail with CLUSTER_FAILED (after anything earlier has been "made"). */
  failAtStep?: BringUpStepId;
  dockerUp?: boolean;
  freeDiskBytes?: number;
  /** Host ports held by something other than svclab. */
  busyHostPorts?: number[];
}

interface FakeCluster {
  spec: ClusterSpec;
  ports: PortMapping[];
  apiPort: number;
  subnet: number;
  nodes: NodeInfo[];
  images: string[];
}

export class FakeClusterDriver implements ClusterDriver {
  readonly clusters = new Map<string, FakeCluster>();
  readonly execCalls: { cluster: string; node: string; argv: readonly string[]; input?: string }[] = [];
  readonly opts: FakeClusterDriverOptions;
  responder: FakeExecResponder = () => ({ exitCode: 0, stdout: '', stderr: '' });
  private nextSubnet = 18;
  private nextPort = 40000;

  constructor(opts: FakeClusterDriverOptions = {}) {
    this.opts = opts;
  }

  async create(input: ClusterSpecInput, opts: CreateOptions = {}): Promise<CreateResult> {
    const spec = parseClusterSpec(input);
    let ports: PortMapping[] = [];
    let made = false;
    const run = async (id: BringUpStepId): Promise<string | void> => {
      if (this.opts.failAtStep === id) throw new RunnerError('CLUSTER_FAILED', { message: `Fake failure at step ${id}.`, details: { step: id } });
      switch (id) {
        case 'preflight-proxy-mode':
          return assertProxyModeSupported(spec.proxyMode, { module: async (name) => ({ available: this.opts.ipvsAvailable ?? false, evidence: `fake kernel ${this.opts.ipvsAvailable ? 'has' : 'lacks'} ${name}` }) });
        case 'preflight-docker':
          if (this.opts.dockerUp === false) throw new RunnerError('DOCKER_DOWN');
          return 'fake docker';
        case 'preflight-disk':
          if ((this.opts.freeDiskBytes ?? Infinity) < 10 * 1024 ** 3) throw new RunnerError('DISK_LOW');
          return;
        case 'preflight-inotify':
          return;
        case 'preflight-image':
          if (!(this.opts.imageExists?.(spec.nodeImage) ?? true)) throw new RunnerError('IMAGE_MISSING', { message: `The node image ${spec.nodeImage} has not been built.` });
          return spec.nodeImage;
        case 'preflight-name': {
          if (this.clusters.has(spec.name)) throw new RunnerError('CLUSTER_EXISTS', { message: `A cluster named ${spec.name} already exists.`, hint: `Pick another --name, or run \`svclab down --name ${spec.name}\` first.` });
          const taken = new Set([...(this.opts.busyHostPorts ?? []), ...[...this.clusters.values()].flatMap((c) => c.ports.map((p) => p.hostPort))]);
          ports = spec.ports.map((p) => {
            if (p.hostPort !== undefined && taken.has(p.hostPort)) throw new RunnerError('INVALID_ARGUMENT', { message: `Host port 127.0.0.1:${p.hostPort} is already in use.` });
            let hostPort = p.hostPort ?? p.containerPort;
            while (taken.has(hostPort)) hostPort = this.nextPort++;
            taken.add(hostPort);
            return { containerPort: p.containerPort, hostPort, listenAddress: '127.0.0.1' as const };
          });
          return;
        }
        case 'create-nodes': {
          made = true;
          const subnet = this.nextSubnet++;
          this.clusters.set(spec.name, {
            spec: { ...spec, ports: ports.map((p) => ({ containerPort: p.containerPort, hostPort: p.hostPort })) },
            ports,
            apiPort: this.nextPort++,
            subnet,
            nodes: nodeNames(spec.name, spec.workers).map((n, i) => ({ name: n.name, role: n.role, container: n.name, internalIP: `172.${subnet}.0.${i + 2}` })),
            images: [],
          });
          return `${spec.workers + 1} nodes`;
        }
        case 'wait-ready':
          return `${spec.workers + 1}/${spec.workers + 1} nodes Ready`;
        default:
          return;
      }
    };
    try {
      const outcome = await runSteps(BRING_UP_STEP_IDS.map((id) => ({ id, title: BRING_UP_STEP_TITLES[id], run: () => run(id) })), opts);
      return { ...this.info(spec.name), timings: { ...outcome, firstNodeReadyMs: outcome.totalMs } };
    } catch (e) {
      // Like KindDriver: remove only what this call made, never an existing cluster of that name.
      if (made) this.clusters.delete(spec.name);
      throw e;
    }
  }

  async delete(name: string): Promise<void> {
    if (!this.clusters.delete(name)) throw new RunnerError('CLUSTER_UNKNOWN', { message: `There is no cluster named ${name}.` });
  }

  async list(): Promise<ClusterInfo[]> {
    return [...this.clusters.keys()].sort().map((n) => this.info(n));
  }

  async kubeconfig(name: string, variant: KubeconfigVariant = 'host'): Promise<string> {
    const c = this.get(name);
    const server = variant === 'internal' ? `https://${name}-control-plane:6443` : `https://127.0.0.1:${c.apiPort}`;
    const ctx = `kind-${name}`;
    return stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: ctx, cluster: { server, 'certificate-authority-data': 'RkFLRQ==' } }],
      contexts: [{ name: ctx, context: { cluster: ctx, user: ctx } }],
      'current-context': ctx,
      users: [{ name: ctx, user: { token: 'fake' } }],
    });
  }

  async nodes(name: string): Promise<NodeInfo[]> {
    return this.get(name).nodes.map((n) => ({ ...n }));
  }

  async execOnNode(cluster: string, node: string, argv: readonly string[], opts: Omit<RunOptions, 'user'>): Promise<CommandResult> {
    const c = this.get(cluster);
    if (!c.nodes.some((n) => n.name === node)) throw new RunnerError('CLUSTER_UNKNOWN', { message: `Cluster ${cluster} has no node ${node}.` });
    const call = { cluster, node, argv, ...(opts.input !== undefined ? { input: opts.input } : {}) };
    this.execCalls.push(call);
    return commandResult(argv, this.responder(call));
  }

  async loadImage(cluster: string, imageRef: string, opts: { imageId?: string } = {}): Promise<LoadImageResult> {
    const c = this.get(cluster);
    const all = c.nodes.map((n) => n.name);
    if (c.images.includes(imageRef)) return { loaded: [], present: all };
    if (opts.imageId === undefined && !(this.opts.imageExists?.(imageRef) ?? true)) throw new RunnerError('IMAGE_MISSING', { message: `The image ${imageRef} is not in docker.` });
    c.images.push(imageRef);
    return { loaded: all, present: [] };
  }

  async nodesWithoutImage(cluster: string, imageRef: string, _imageId: string): Promise<string[]> {
    const c = this.get(cluster);
    return c.images.includes(imageRef) ? [] : c.nodes.map((n) => n.name);
  }

  /** Images loaded into a cluster (test helper). */
  loadedImages(cluster: string): string[] {
    return [...this.get(cluster).images];
  }

  private get(name: string): FakeCluster {
    const c = this.clusters.get(name);
    if (!c) throw new RunnerError('CLUSTER_UNKNOWN', { message: `There is no cluster named ${name}.` });
    return c;
  }

  private info(name: string): ClusterInfo {
    const c = this.get(name);
    return {
      name,
      state: 'running',
      spec: c.spec,
      ports: c.ports.map((p) => ({ ...p })),
      apiServer: { host: '127.0.0.1', port: c.apiPort },
      dockerLabels: { containers: { [KIND_CLUSTER_LABEL]: name }, networks: { [CLUSTER_LABEL]: name } },
      network: name,
    };
  }
}
