// ClusterDriver on kind: the kind CLI through the injected host Shell, docker
// objects (node containers, the network) through the ContainerEngine. Each
// cluster gets its own docker network, created by us first and labelled svclab.cluster=<name> with the spec we used, then kind
// puts the nodes on it (KIND_EXPERIMENTAL_DOCKER_NETWORK). Node containers
// carry kind's label io.x-k8s.kind.cluster=<name>: docker can't add labels to
// an existing container and kind can't be told to add ours, so for node
// containers kind's label (always with an svclab- name) is the svclab label.

import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RunnerError, isRunnerError } from '../errors.ts';
import { outputTail, type CommandResult, type RunOptions, type Shell } from '../exec/shell.ts';
import type { ContainerDetails, ContainerEngine, NetworkDetails } from '../engine/container-engine.ts';
import {
  CLUSTER_LABEL, CLUSTER_NAME_PREFIX, EDGE_NODE_LABEL, KIND_CLUSTER_LABEL, KIND_ROLE_LABEL, SESSION_LABEL,
  clusterSpecSchema, edgeNodeName, nodeNames, parseClusterSpec,
  type ClusterDriver, type ClusterInfo, type ClusterSpec, type ClusterSpecInput, type CreateOptions, type CreateResult,
  type KubeconfigVariant, type LoadImageResult, type NodeInfo, type PortMapping,
} from './cluster-driver.ts';
import { nodeAdminKubectl } from './node-shell.ts';
import { SVCLAB_FIELD_MANAGER, applyArgs } from '../kube/kubectl.ts';
import { BRING_UP_STEP_TITLES, runSteps, type BringUpStep, type BringUpStepId } from './bring-up-steps.ts';
import { choosePorts, NetPortProbe, type PortProbe } from './host-ports.ts';
import { CLUSTER_DOMAIN, corednsConfigMap } from './cluster-dns.ts';
import { kindClusterConfig, renderKindConfig } from './kind-config.ts';
import { HostKernelModuleProbe, assertProxyModeSupported, type KernelModuleProbe } from './proxy-mode-support.ts';
import { assertInotifyRoom, hostInotifyUsage, type InotifyUsage } from './inotify-limits.ts';
import { pidAlive as defaultPidAlive } from '../exec/process-util.ts';

/** Network label holding the JSON spec (with the chosen host ports) the cluster was made from. */
export const SPEC_LABEL = 'svclab.spec';
export const GIB = 1024 ** 3;

export interface ImageStatus {
  state: 'current' | 'stale' | 'missing';
  detail?: string;
}

export interface KindDriverOptions {
  /** The host shell kind runs in. */
  runner: Shell;
  engine: ContainerEngine;
  /** Path to the kind binary, or how to find it (cluster-tools.ts kindBinary: the image builder's artifact). */
  kindPath: string | (() => Promise<string>);
  /** Per-cluster files: kind's kubeconfig, the "creating" marker. e.g. ~/.cache/svclab/clusters */
  stateDir: string;
  kernelModules?: KernelModuleProbe;
  portProbe?: PortProbe;
  /** Free bytes where docker keeps images and containers. */
  freeDiskBytes?: () => Promise<number>;
  minFreeDiskBytes?: number;
  /** The host's inotify instance limit and use (shared by every node of every cluster). */
  inotifyUsage?: () => Promise<InotifyUsage>;
  /** Node image status from the image builder; default: present means current. */
  imageStatus?: (ref: string) => Promise<ImageStatus>;
  createTimeoutMs?: number;
  readyTimeoutMs?: number;
  pollIntervalMs?: number;
  now?: () => number;
  /** Is this pid alive? Used to tell a cluster another live `up` is making from a leftover. */
  pidAlive?: (pid: number) => boolean;
}

export class KindDriver implements ClusterDriver {
  private readonly o: Required<Omit<KindDriverOptions, 'imageStatus'>> & Pick<KindDriverOptions, 'imageStatus'>;
  private kindBinary: string | undefined;
  private readonly engine: ContainerEngine;

  constructor(opts: KindDriverOptions) {
    this.o = {
      kernelModules: new HostKernelModuleProbe(),
      portProbe: new NetPortProbe(),
      freeDiskBytes: defaultFreeDiskBytes,
      inotifyUsage: () => hostInotifyUsage(),
      minFreeDiskBytes: 10 * GIB,
      createTimeoutMs: 15 * 60_000,
      readyTimeoutMs: 5 * 60_000,
      pollIntervalMs: 2000,
      now: () => performance.now(),
      pidAlive: defaultPidAlive,
      ...definedOnly(opts),
    };
    this.engine = this.o.engine;
  }

  async create(input: ClusterSpecInput, opts: CreateOptions = {}): Promise<CreateResult> {
    const spec = parseClusterSpec(input);
    const started = this.o.now();
    let firstNodeReadyMs: number | undefined;
    let ports: PortMapping[] = [];
    let reservedPorts = new Set<number>();
    let madeObjects = false;
    const step = (id: BringUpStepId, run: BringUpStep['run']): BringUpStep => ({ id, title: BRING_UP_STEP_TITLES[id], run });
    const steps: BringUpStep[] = [
      step('preflight-proxy-mode', () => assertProxyModeSupported(spec.proxyMode, this.o.kernelModules)),
      step('preflight-docker', async () => {
        const info = await this.o.engine.info();
        return `docker ${info.serverVersion}, runtime ${info.defaultRuntime}, cgroup v${info.cgroupVersion}`;
      }),
      step('preflight-disk', async () => {
        const free = await this.o.freeDiskBytes();
        const gib = (b: number) => `${(b / GIB).toFixed(1)} GiB`;
        if (free < this.o.minFreeDiskBytes) {
          throw new RunnerError('DISK_LOW', {
            message: `Only ${gib(free)} of disk is free where docker keeps its data; a cluster needs ${gib(this.o.minFreeDiskBytes)}.`,
            details: { freeBytes: free, neededBytes: this.o.minFreeDiskBytes },
          });
        }
        return `${gib(free)} free`;
      }),
      step('preflight-inotify', async () => assertInotifyRoom(await this.o.inotifyUsage(), spec.workers + 1)),
      step('preflight-image', async () => {
        const status = this.o.imageStatus ? await this.o.imageStatus(spec.nodeImage) : { state: (await this.o.engine.imageExists(spec.nodeImage)) ? 'current' as const : 'missing' as const };
        if (status.state === 'missing') throw new RunnerError('IMAGE_MISSING', { message: `The node image ${spec.nodeImage} has not been built.`, details: { image: spec.nodeImage, detail: status.detail } });
        if (status.state === 'stale') throw new RunnerError('IMAGE_STALE', { message: `The node image ${spec.nodeImage} is older than its recipe${status.detail ? ` (${status.detail})` : ''}.`, details: { image: spec.nodeImage } });
        const kind = await this.kind();
        return `${spec.nodeImage}, kind at ${kind}`;
      }),
      step('preflight-name', async () => {
        const clusters = await this.list();
        const same = clusters.find((c) => c.name === spec.name);
        if (same) {
          throw new RunnerError('CLUSTER_EXISTS', {
            message: same.state === 'running' ? `A cluster named ${spec.name} already exists.` : `Objects of a cluster named ${spec.name} are still there (state: ${same.state}).`,
            hint: `Pick another --name, or run \`svclab down --name ${spec.name}\` first.`,
            details: { name: spec.name, state: same.state },
          });
        }
        reservedPorts = new Set(clusters.flatMap((c) => c.ports.map((p) => p.hostPort)));
        ports = await choosePorts(spec.ports, reservedPorts, this.o.portProbe);
        return ports.map((p) => `127.0.0.1:${p.hostPort}→${p.containerPort}`).join(', ');
      }),
      step('create-nodes', async (signal) => {
        madeObjects = true;
        await this.writeCreatingMarker(spec.name);
        for (let attempt = 1; ; attempt++) {
          const recorded: ClusterSpec = { ...spec, ports: ports.map((p) => ({ containerPort: p.containerPort, hostPort: p.hostPort })) };
          await this.engine.createNetwork(spec.name, { [CLUSTER_LABEL]: spec.name, [SPEC_LABEL]: JSON.stringify(recorded) });
          const argv = [await this.kind(), 'create', 'cluster', '--name', spec.name, '--config', '-', '--kubeconfig', this.kubeconfigPath(spec.name)];
          const r = await this.o.runner.run(argv, {
            timeoutMs: this.o.createTimeoutMs,
            input: renderKindConfig(kindClusterConfig(spec, ports)),
            env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: spec.name, KIND_EXPERIMENTAL_PROVIDER: this.engine.kindProvider },
            ...(signal ? { signal } : {}),
          });
          if (r.exitCode === 0) return `${spec.workers + 1} nodes${attempt > 1 ? ` (host ports moved to ${ports.map((p) => p.hostPort).join(', ')})` : ''}`;
          if (r.exitCode < 0 && /ENOENT/.test(r.stderr)) throw this.kindError(r, 'kind create');
          // Another cluster can take a host port between our check and kind's `docker run`
          // (tests and `up`s running side by side): drop what kind left, pick new ports, try again.
          const clash = /port is already allocated|address already in use/i.test(r.stderr) && spec.ports.every((p) => p.hostPort === undefined);
          if (clash && attempt < 3 && !r.aborted && !r.timedOut) {
            await this.removeNodesAndNetwork(spec.name);
            ports = await choosePorts(spec.ports, new Set([...reservedPorts, ...ports.map((p) => p.hostPort)]), this.o.portProbe);
            reservedPorts = new Set([...reservedPorts, ...ports.map((p) => p.hostPort)]);
            continue;
          }
          throw new RunnerError(r.timedOut ? 'COMMAND_TIMEOUT' : 'CLUSTER_FAILED', {
            message: r.aborted ? 'Cluster creation was cancelled.' : `kind could not create the cluster ${spec.name}: ${lastMeaningfulLine(r.stderr || r.stdout)}`,
            details: { step: 'create-nodes', argv: r.argv, exitCode: r.exitCode, output: outputTail(r, 40) },
          });
        }
      }),
      step('dns-cluster-only', async () => {
        // Before the nodes are Ready: CoreDNS's pods are then still unscheduled and start with our Corefile.
        const admin = nodeAdminKubectl(this, spec.name);
        const kubectl = async (args: string[], input?: string) => {
          const r = await admin.run(args, { timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
          if (r.exitCode !== 0) {
            throw new RunnerError('CLUSTER_FAILED', { message: `Could not configure CoreDNS: \`kubectl ${args.join(' ')}\` failed: ${lastMeaningfulLine(r.stderr || r.stdout)}`, details: { step: 'dns-cluster-only', argv: args, output: outputTail(r) } });
          }
          return r.stdout;
        };
        await kubectl(applyArgs({ serverSide: true, forceConflicts: true, fieldManager: SVCLAB_FIELD_MANAGER }), corednsConfigMap(spec));
        // A pod already placed on a node may have mounted kubeadm's Corefile: restart them (`reload` would take a minute or more).
        const placed = (await kubectl(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-dns', '-o', 'jsonpath={.items[*].spec.nodeName}'])).trim();
        if (placed !== '') await kubectl(['-n', 'kube-system', 'rollout', 'restart', 'deployment/coredns']);
        return `zones ${CLUSTER_DOMAIN}, ${spec.serviceSubnet}, ${spec.podSubnet}; other names REFUSED${placed !== '' ? '; CoreDNS restarted' : ''}`;
      }),
      step('wait-ready', async (signal) => {
        const expected = nodeNames(spec.name, spec.workers).map((n) => n.name);
        const deadline = this.o.now() + this.o.readyTimeoutMs;
        let last = '';
        for (;;) {
          const ready = await this.readyNodes(spec.name);
          if (ready.length > 0 && firstNodeReadyMs === undefined) firstNodeReadyMs = this.o.now() - started;
          last = `${ready.length}/${expected.length} nodes Ready`;
          if (expected.every((n) => ready.includes(n))) return last;
          if (this.o.now() > deadline) {
            throw new RunnerError('CLUSTER_FAILED', {
              message: `Nodes did not become Ready within ${Math.round(this.o.readyTimeoutMs / 1000)} s (${last}).`,
              details: { step: 'wait-ready', ready, expected },
            });
          }
          await sleep(this.o.pollIntervalMs, signal);
        }
      }),
      step('label-nodes', async () => {
        const edge = edgeNodeName(spec.name, spec.workers);
        // kind passes node labels to the kubelet; we set it again so the step fails loudly if it did not stick.
        const r = await nodeAdminKubectl(this, spec.name).run(['label', 'node', edge, `${EDGE_NODE_LABEL}=true`, '--overwrite']);
        if (r.exitCode !== 0) throw new RunnerError('CLUSTER_FAILED', { message: `Could not label node ${edge}: ${lastMeaningfulLine(r.stderr)}`, details: { step: 'label-nodes', output: outputTail(r) } });
        return `${edge}: ${EDGE_NODE_LABEL}=true`;
      }),
      step('done', async () => {
        await this.removeCreatingMarker(spec.name);
        return spec.name;
      }),
    ];

    try {
      const outcome = await runSteps(steps, { ...opts, now: this.o.now });
      const info = (await this.list()).find((c) => c.name === spec.name);
      if (!info) throw new RunnerError('CLUSTER_FAILED', { message: `The cluster ${spec.name} vanished right after it was created.` });
      return { ...info, timings: { ...outcome, ...(firstNodeReadyMs !== undefined ? { firstNodeReadyMs } : {}) } };
    } catch (e) {
      if (madeObjects) {
        // Nothing half-created is left behind: remove whatever this call made.
        try { await this.removeAll(spec.name); } catch (cleanupError) {
          if (isRunnerError(e)) throw new RunnerError(e.code, { message: `${e.message} Cleaning up also failed: ${(cleanupError as Error).message}`, hint: 'Run `svclab down --all`.', details: e.details, cause: e });
        }
      }
      throw e;
    }
  }

  async delete(name: string): Promise<void> {
    const found = await this.removeAll(name);
    if (!found) throw new RunnerError('CLUSTER_UNKNOWN', { message: `There is no cluster named ${name}.`, details: { name } });
  }

  async list(): Promise<ClusterInfo[]> {
    const [networks, containers] = await Promise.all([this.engine.inspectNetworks([CLUSTER_LABEL]), this.engine.inspectContainers([KIND_CLUSTER_LABEL])]);
    const names = new Set<string>();
    for (const n of networks) if (n.labels[CLUSTER_LABEL]?.startsWith(CLUSTER_NAME_PREFIX)) names.add(n.labels[CLUSTER_LABEL]);
    for (const c of containers) if (c.labels[KIND_CLUSTER_LABEL]?.startsWith(CLUSTER_NAME_PREFIX)) names.add(c.labels[KIND_CLUSTER_LABEL]);
    const out: ClusterInfo[] = [];
    for (const name of [...names].sort()) {
      const network = networks.find((n) => n.labels[CLUSTER_LABEL] === name);
      const nodes = containers.filter((c) => c.labels[KIND_CLUSTER_LABEL] === name);
      out.push(await this.describe(name, network, nodes));
    }
    return out;
  }

  async kubeconfig(name: string, variant: KubeconfigVariant = 'host'): Promise<string> {
    const argv = [await this.kind(), 'get', 'kubeconfig', '--name', name, ...(variant === 'internal' ? ['--internal'] : [])];
    const r = await this.o.runner.run(argv, { timeoutMs: 60_000, env: { KIND_EXPERIMENTAL_PROVIDER: this.engine.kindProvider } });
    if (r.exitCode === 0) return r.stdout;
    if (/could not locate any control plane nodes|no nodes found/i.test(r.stderr)) throw new RunnerError('CLUSTER_UNKNOWN', { message: `There is no cluster named ${name}.`, details: { name } });
    throw this.kindError(r, `Reading the kubeconfig of ${name}`);
  }

  async nodes(name: string): Promise<NodeInfo[]> {
    const containers = await this.engine.inspectContainers([`${KIND_CLUSTER_LABEL}=${name}`]);
    if (containers.length === 0) throw new RunnerError('CLUSTER_UNKNOWN', { message: `There is no cluster named ${name}.`, details: { name } });
    return toNodes(name, containers);
  }

  async execOnNode(cluster: string, node: string, argv: readonly string[], opts: Omit<RunOptions, 'user'>): Promise<CommandResult> {
    if (!node.startsWith(`${cluster}-`)) throw new RunnerError('INVALID_ARGUMENT', { message: `Node ${node} is not a node of cluster ${cluster}.` });
    try {
      return await this.engine.exec(node, argv, opts);
    } catch (e) {
      // The engine could not exec at all: no such node is the caller's business, the rest (docker down, timeout) keeps its code.
      if (isRunnerError(e) && /No such container/i.test(String((e.details as { output?: unknown } | undefined)?.output ?? ''))) {
        throw new RunnerError('CLUSTER_UNKNOWN', { message: `Cluster ${cluster} has no node ${node}.`, details: { cluster, node } });
      }
      throw e;
    }
  }

  async loadImage(cluster: string, imageRef: string, opts: { imageId?: string } = {}): Promise<LoadImageResult> {
    const missingImage = () => new RunnerError('IMAGE_MISSING', { message: `The image ${imageRef} is not in docker, so it can't be loaded into ${cluster}.`, details: { image: imageRef } });
    let id = opts.imageId;
    if (id === undefined) {
      id = await this.engine.imageId(imageRef);
      if (id === undefined) throw missingImage();
    }
    const all = (await this.nodes(cluster)).map((n) => n.name);
    const missing = await this.nodesWithoutImage(cluster, imageRef, id);
    const present = all.filter((n) => !missing.includes(n));
    if (missing.length === 0) return { loaded: [], present };
    const argv = [await this.kind(), 'load', 'docker-image', imageRef, '--name', cluster, ...(present.length > 0 ? ['--nodes', missing.join(',')] : [])];
    const r = await this.o.runner.run(argv, { timeoutMs: 10 * 60_000, env: { KIND_EXPERIMENTAL_PROVIDER: this.engine.kindProvider } });
    if (r.exitCode === 0) return { loaded: missing, present };
    if (/no nodes found for cluster/i.test(r.stderr)) throw new RunnerError('CLUSTER_UNKNOWN', { message: `There is no cluster named ${cluster}.`, details: { cluster } });
    if (/not present locally|No such image/i.test(r.stderr)) throw missingImage();
    throw this.kindError(r, `Loading ${imageRef} into ${cluster}`);
  }

  /** Asks each node's CRI (`crictl inspecti`, as kind load does) which image id it has under that name. */
  async nodesWithoutImage(cluster: string, imageRef: string, imageId: string): Promise<string[]> {
    const nodes = await this.nodes(cluster);
    const ids = await Promise.all(nodes.map(async (n) => {
      const r = await this.execOnNode(cluster, n.name, ['crictl', 'inspecti', '-o', 'json', imageRef], { timeoutMs: 30_000 });
      if (r.exitCode !== 0) return undefined;
      try {
        return (JSON.parse(r.stdout) as { status?: { id?: string } }).status?.id;
      } catch {
        return undefined;
      }
    }));
    return nodes.filter((_, i) => ids[i] !== imageId).map((n) => n.name);
  }

  /** The kubeconfig file kind keeps for this cluster (kind writes it; svclab never touches ~/.kube/config). */
  kubeconfigPath(name: string): string {
    return join(this.o.stateDir, name, 'kubeconfig');
  }

  // ---- internals ----

  /** The kind binary; a resolved path is looked up again when it vanished (the image builder replaced the artifact). */
  private async kind(): Promise<string> {
    if (typeof this.o.kindPath === 'string') return this.o.kindPath;
    if (this.kindBinary === undefined || !existsSync(this.kindBinary)) this.kindBinary = await this.o.kindPath();
    return this.kindBinary;
  }

  /** A kind command that failed: a kind binary that could not start is IMAGE_MISSING, docker's own failures keep their codes. */
  private kindError(r: CommandResult, what: string): RunnerError {
    if (r.exitCode < 0 && /ENOENT/.test(r.stderr)) {
      return new RunnerError('IMAGE_MISSING', { message: `The kind binary ${r.argv[0]} is missing.`, hint: 'Run `svclab images build`.', details: { argv: r.argv } });
    }
    if (/Cannot connect to the Docker daemon/i.test(r.stderr)) return new RunnerError('DOCKER_DOWN', { details: { argv: r.argv, exitCode: r.exitCode, output: outputTail(r) } });
    return new RunnerError('COMMAND_FAILED', { message: `${what} failed: ${lastMeaningfulLine(r.stderr || r.stdout)}`, details: { argv: r.argv, exitCode: r.exitCode, output: outputTail(r) } });
  }

  /**
   * Remove every docker object of the cluster: kind's node containers, containers
   * labelled svclab.cluster=<name>, workstations sharing a node's namespace, and
   * the network. Returns whether anything existed.
   */
  private async removeAll(name: string): Promise<boolean> {
    const [kindNodes, labelled, networks] = await Promise.all([
      this.engine.inspectContainers([`${KIND_CLUSTER_LABEL}=${name}`]),
      this.engine.inspectContainers([`${CLUSTER_LABEL}=${name}`]),
      this.engine.inspectNetworks([`${CLUSTER_LABEL}=${name}`]),
    ]);
    const stateExists = await readFile(join(this.o.stateDir, name, 'creating'), 'utf8').then(() => true, () => false);
    if (kindNodes.length === 0 && labelled.length === 0 && networks.length === 0 && !stateExists) return false;
    const nodeIds = new Set(kindNodes.flatMap((c) => [c.id, c.name]));
    const sessions = await this.engine.inspectContainers([SESSION_LABEL]);
    const joined = sessions.filter((c) => nodeIds.has(c.networkMode.replace(/^container:/, '')));
    // Workstations first: a container sharing a node's namespace keeps nothing alive, but would be left with a dead one.
    await this.engine.removeContainers([...new Set([...labelled, ...joined].map((c) => c.id))]);
    if (kindNodes.length > 0) {
      // kind first (it also drops the cluster from its kubeconfig file); a kind that is
      // missing or fails is not fatal, docker removes what is left directly.
      const kind = await this.kind().catch(() => undefined);
      if (kind) await this.o.runner.run([kind, 'delete', 'cluster', '--name', name, '--kubeconfig', this.kubeconfigPath(name)], { timeoutMs: 5 * 60_000, env: { KIND_EXPERIMENTAL_PROVIDER: this.engine.kindProvider } });
      const left = await this.engine.inspectContainers([`${KIND_CLUSTER_LABEL}=${name}`]);
      await this.engine.removeContainers(left.map((c) => c.id));
    }
    for (const n of networks) {
      // Anything else still attached (a container someone ran by hand) would block removal.
      if (n.containers.length > 0) await this.engine.removeContainers(n.containers);
      await this.engine.removeNetwork(n.id);
    }
    await rm(join(this.o.stateDir, name), { recursive: true, force: true });
    return true;
  }

  /** Node containers and network only (a retry of create-nodes keeps the marker and state dir). */
  private async removeNodesAndNetwork(name: string): Promise<void> {
    await this.engine.removeContainers((await this.engine.inspectContainers([`${KIND_CLUSTER_LABEL}=${name}`])).map((c) => c.id));
    for (const n of await this.engine.inspectNetworks([`${CLUSTER_LABEL}=${name}`])) await this.engine.removeNetwork(n.id);
  }

  private async describe(name: string, network: NetworkDetails | undefined, nodes: ContainerDetails[]): Promise<ClusterInfo> {
    const recorded = network?.labels[SPEC_LABEL];
    let spec: ClusterSpec | undefined;
    if (recorded) {
      try {
        const parsed = clusterSpecSchema.safeParse(JSON.parse(recorded));
        if (parsed.success) spec = parsed.data;
      } catch { /* an unreadable record makes the cluster broken, not the listing */ }
    }
    const ports: PortMapping[] = [];
    let apiServer: ClusterInfo['apiServer'];
    // Most ports are on the control plane; 80/443 on the edge node (kind-config.ts EDGE_NODE_PORTS).
    for (const node of nodes) {
      const isCp = node.labels[KIND_ROLE_LABEL] === 'control-plane';
      for (const [key, bindings] of Object.entries(node.ports)) {
        const containerPort = Number(key.split('/')[0]);
        const b = bindings[0];
        if (!b || ports.some((p) => p.containerPort === containerPort)) continue;
        if (containerPort === 6443) { if (isCp) apiServer = { host: b.hostIp || '127.0.0.1', port: b.hostPort }; }
        else ports.push({ containerPort, hostPort: b.hostPort, listenAddress: '127.0.0.1' });
      }
    }
    if (ports.length === 0 && spec) for (const p of spec.ports) if (p.hostPort) ports.push({ containerPort: p.containerPort, hostPort: p.hostPort, listenAddress: '127.0.0.1' });
    // The marker stays until the last step, so a marker whose `up` died means a half-made cluster,
    // however complete its containers look.
    const marker = await this.creatingMarker(name);
    const complete = marker === undefined && spec !== undefined && network !== undefined && nodes.length === spec.workers + 1 && nodes.every((n) => n.running);
    return {
      name,
      state: marker?.alive ? 'creating' : complete ? 'running' : 'broken',
      ...(spec ? { spec } : {}),
      ports: ports.sort((a, b) => a.containerPort - b.containerPort),
      ...(apiServer ? { apiServer } : {}),
      dockerLabels: { containers: { [KIND_CLUSTER_LABEL]: name }, networks: { [CLUSTER_LABEL]: name } },
      ...(network ? { network: network.name } : {}),
    };
  }

  private async readyNodes(name: string): Promise<string[]> {
    let r: CommandResult;
    try {
      r = await nodeAdminKubectl(this, name).get(['nodes'], { output: 'json' }, { timeoutMs: 30_000 });
    } catch (e) {
      if (isRunnerError(e) && e.code === 'COMMAND_TIMEOUT') return [];
      throw e;
    }
    if (r.exitCode !== 0) return [];
    try {
      const list = JSON.parse(r.stdout) as { items?: { metadata?: { name?: string }; status?: { conditions?: { type?: string; status?: string }[] } }[] };
      return (list.items ?? [])
        .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        .map((n) => n.metadata?.name ?? '');
    } catch {
      return [];
    }
  }

  private async writeCreatingMarker(name: string): Promise<void> {
    await mkdir(join(this.o.stateDir, name), { recursive: true });
    await writeFile(join(this.o.stateDir, name, 'creating'), JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
  }

  private async removeCreatingMarker(name: string): Promise<void> {
    await rm(join(this.o.stateDir, name, 'creating'), { force: true });
  }

  /** The "creating" marker of an `up` in progress; alive tells whether that `up` still runs (a dead one was killed). */
  private async creatingMarker(name: string): Promise<{ alive: boolean } | undefined> {
    const text = await readFile(join(this.o.stateDir, name, 'creating'), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const pid = (JSON.parse(text) as { pid?: unknown }).pid;
      return { alive: typeof pid === 'number' && this.o.pidAlive(pid) };
    } catch {
      return { alive: false };
    }
  }
}

export function toNodes(cluster: string, containers: readonly ContainerDetails[]): NodeInfo[] {
  const order = (n: string) => (n.endsWith('-control-plane') ? 0 : Number(/-worker(\d*)$/.exec(n)?.[1] || 1));
  return containers
    .filter((c) => c.labels[KIND_ROLE_LABEL] === 'control-plane' || c.labels[KIND_ROLE_LABEL] === 'worker')
    .map((c) => ({
      name: c.name,
      role: c.labels[KIND_ROLE_LABEL] as NodeInfo['role'],
      container: c.name,
      internalIP: c.networks[cluster] ?? Object.values(c.networks)[0] ?? '',
    }))
    .sort((a, b) => order(a.name) - order(b.name));
}

function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function lastMeaningfulLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.findLast((l) => /error|failed|ERROR/i.test(l)) ?? lines.at(-1) ?? '(no output)';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new RunnerError('CLUSTER_FAILED', { message: 'Cluster creation was cancelled.' }));
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(new RunnerError('CLUSTER_FAILED', { message: 'Cluster creation was cancelled.' })); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function defaultFreeDiskBytes(): Promise<number> {
  for (const path of ['/var/lib/docker', '/']) {
    try {
      const s = await statfs(path);
      return s.bavail * s.bsize;
    } catch { /* try the next */ }
  }
  return Number.POSITIVE_INFINITY;
}
