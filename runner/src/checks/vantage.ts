// Running an argv at a vantage point: the session's workstation, a node of the
// cluster, a pod, or the host. Checks that look at the network (http, dns, tls,
// proxy-rules) go through this port, so tests answer with recorded output.
import type { ClusterDriver, NodeInfo } from '../cluster/cluster-driver.ts';
import { nodeAdminKubectl, nodeShell } from '../cluster/node-shell.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import { ContainerShell } from '../engine/container-shell.ts';
import { isRunnerError } from '../errors.ts';
import type { CommandRunner } from '../exec/command-runner.ts';
import { Kubectl } from '../kube/kubectl.ts';

export interface VantageResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface VantageNode {
  name: string;
  internalIP: string;
}

export interface VantageExec {
  /**
   * Run argv at `vantage` (workstation | host | node:NAME | pod:NS/NAME). A non-zero
   * exit is data; a vantage point that isn't there throws VantageUnavailable.
   */
  exec(vantage: string, argv: readonly string[], opts: { timeoutMs: number; signal?: AbortSignal }): Promise<VantageResult>;
  /** The cluster's nodes (NodePort targets, the host's allowed addresses). */
  nodes(): Promise<VantageNode[]>;
  /**
   * The 127.0.0.1 port the cluster publishes a node port on (30080 may be mapped
   * elsewhere when it was busy); undefined when it publishes none.
   */
  hostPort(containerPort: number): Promise<number | undefined>;
}

/** The vantage point is missing or unreachable: the check reports `error` with this reason. */
export class VantageUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VantageUnavailable';
  }
}

export type ParsedVantage =
  | { kind: 'workstation' }
  | { kind: 'host' }
  | { kind: 'node'; node: string }
  | { kind: 'pod'; namespace: string; pod: string };

export function parseVantage(v: string): ParsedVantage {
  if (v === 'workstation' || v === 'host') return { kind: v };
  if (v.startsWith('node:')) return { kind: 'node', node: v.slice(5) };
  const m = /^pod:([^/]+)\/(.+)$/.exec(v);
  if (m) return { kind: 'pod', namespace: m[1]!, pod: m[2]! };
  throw new VantageUnavailable(`"${v}" is not a vantage point (workstation, host, node:NAME, pod:NS/NAME)`);
}

/** `node:worker` in cluster svclab-main is node svclab-main-worker; a full name matches as is. */
export function resolveNode(nodes: readonly { name: string }[], cluster: string, wanted: string): string | undefined {
  return nodes.find((n) => n.name === wanted)?.name ?? nodes.find((n) => n.name === `${cluster}-${wanted}`)?.name;
}

export interface ClusterVantageOptions {
  engine: ContainerEngine;
  /** The session's workstation container. */
  workstation: string;
  user?: string;
  /** The cluster the session uses; without it only workstation and host exist. */
  cluster?: { driver: ClusterDriver; name: string };
  /** For the host vantage point; without it `host` is unavailable. */
  host?: CommandRunner;
}

/** Production vantage points over the container engine, the cluster driver and the host runner. */
export class ClusterVantageExec implements VantageExec {
  private readonly opts: ClusterVantageOptions;
  private nodeCache: NodeInfo[] | undefined;

  constructor(opts: ClusterVantageOptions) {
    this.opts = opts;
  }

  async nodes(): Promise<VantageNode[]> {
    const c = this.opts.cluster;
    if (!c) throw new VantageUnavailable('there is no cluster for this session');
    try {
      this.nodeCache ??= await c.driver.nodes(c.name);
    } catch (e) {
      throw new VantageUnavailable(`the nodes of cluster ${c.name} could not be listed: ${errorText(e)}`, { cause: e });
    }
    return this.nodeCache.map((n) => ({ name: n.name, internalIP: n.internalIP }));
  }

  async hostPort(containerPort: number): Promise<number | undefined> {
    const c = this.opts.cluster;
    if (!c) throw new VantageUnavailable('there is no cluster for this session');
    let info;
    try {
      info = (await c.driver.list()).find((x) => x.name === c.name);
    } catch (e) {
      throw new VantageUnavailable(`the ports of cluster ${c.name} could not be read: ${errorText(e)}`, { cause: e });
    }
    if (!info) throw new VantageUnavailable(`there is no cluster ${c.name}`);
    return info.ports.find((p) => p.containerPort === containerPort)?.hostPort;
  }

  async exec(vantage: string, argv: readonly string[], opts: { timeoutMs: number; signal?: AbortSignal }): Promise<VantageResult> {
    const v = parseVantage(vantage);
    switch (v.kind) {
      case 'workstation':
        return this.inWorkstation(argv, opts.timeoutMs);
      case 'host': {
        if (!this.opts.host) throw new VantageUnavailable('checks from the host are not enabled in this runner');
        const r = await this.opts.host.run(argv, { timeoutMs: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
        return { exitCode: r.timedOut ? 124 : r.exitCode, stdout: r.stdout, stderr: r.stderr };
      }
      case 'node':
        return this.onNode(v.node, argv, opts.timeoutMs);
      case 'pod': {
        // kubectl exec as cluster admin from the control plane: it doesn't depend on the learner's kubeconfig.
        const c = this.opts.cluster;
        const kubectl = c
          ? nodeAdminKubectl(c.driver, c.name, { requestTimeout: '10s' })
          : new Kubectl({ shell: this.workstationShell(), requestTimeout: '10s' });
        let r: VantageResult;
        try {
          const done = await kubectl.podShell(v.namespace, v.pod).run(argv, { timeoutMs: opts.timeoutMs });
          r = { exitCode: done.timedOut ? 124 : done.exitCode, stdout: done.stdout, stderr: done.stderr };
        } catch (e) {
          if (isRunnerError(e) && e.code === 'COMMAND_TIMEOUT') return { exitCode: 124, stdout: '', stderr: e.message };
          throw new VantageUnavailable(`pod ${v.namespace}/${v.pod} could not be reached: ${errorText(e)}`, { cause: e });
        }
        const missing = /Error from server \(NotFound\)[^\n]*|error: unable to upgrade connection[^\n]*|container not found[^\n]*|cannot exec into a container in a completed pod[^\n]*/i.exec(r.stderr);
        if (r.exitCode !== 0 && missing) throw new VantageUnavailable(`pod ${v.namespace}/${v.pod} cannot run the check's command: ${missing[0].trim()}`);
        return r;
      }
    }
  }

  /** The session's workstation, as its learner. */
  private workstationShell(): ContainerShell {
    return new ContainerShell(this.opts.engine, this.opts.workstation, this.opts.user ? { user: this.opts.user } : {});
  }

  private async inWorkstation(argv: readonly string[], timeoutMs: number): Promise<VantageResult> {
    try {
      const r = await this.workstationShell().run(argv, { timeoutMs });
      const daemon = /Error response from daemon:[^\n]*|No such container[^\n]*|is not running[^\n]*/i.exec(r.stderr);
      if (daemon) throw new VantageUnavailable(`the workstation ${this.opts.workstation} is not available: ${daemon[0].trim()}`);
      return r;
    } catch (e) {
      if (e instanceof VantageUnavailable) throw e;
      if (isRunnerError(e) && e.code === 'COMMAND_TIMEOUT') return { exitCode: 124, stdout: '', stderr: e.message };
      // The engine's error keeps docker's own words in details.output.
      const output = isRunnerError(e) ? (e.details as { output?: unknown } | undefined)?.output : undefined;
      const said = typeof output === 'string' ? output.trim().split('\n').at(-1) : undefined;
      throw new VantageUnavailable(`the workstation ${this.opts.workstation} is not available: ${errorText(e)}${said ? ` (${said})` : ''}`, { cause: e });
    }
  }

  private async onNode(wanted: string, argv: readonly string[], timeoutMs: number): Promise<VantageResult> {
    const c = this.opts.cluster;
    if (!c) throw new VantageUnavailable('there is no cluster for this session, so there is no node to look from');
    const nodes = await this.nodes();
    const node = resolveNode(nodes, c.name, wanted);
    if (!node) throw new VantageUnavailable(`cluster ${c.name} has no node ${wanted} (its nodes: ${nodes.map((n) => n.name).join(', ')})`);
    try {
      return await nodeShell(c.driver, c.name, node).run(argv, { timeoutMs });
    } catch (e) {
      if (isRunnerError(e) && e.code === 'COMMAND_TIMEOUT') return { exitCode: 124, stdout: '', stderr: e.message };
      throw new VantageUnavailable(`node ${node} could not run the command: ${errorText(e)}`, { cause: e });
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export type FakeVantageResponder = (call: { vantage: string; argv: readonly string[] }) => Partial<VantageResult> | Promise<Partial<VantageResult>>;

/**
 * Answers from rules matched on the vantage point and the program name; records
 * every call. An unmatched call exits 127 (program missing), so a test never
 * passes on a command it did not expect.
 */
export class FakeVantageExec implements VantageExec {
  readonly calls: { vantage: string; argv: readonly string[] }[] = [];
  private readonly rules: { vantage: string | RegExp; program: string; respond: FakeVantageResponder }[] = [];
  nodeList: VantageNode[];
  /** containerPort → 127.0.0.1 port, like a cluster's published ports. */
  readonly hostPorts = new Map<number, number>([[30080, 30080], [80, 80], [443, 443]]);
  /** Vantage points that "don't exist": exec throws VantageUnavailable. */
  readonly unavailable = new Set<string>();

  constructor(nodes: VantageNode[] = [{ name: 'svclab-main-control-plane', internalIP: '172.18.0.2' }, { name: 'svclab-main-worker', internalIP: '172.18.0.3' }]) {
    this.nodeList = nodes;
  }

  on(vantage: string | RegExp, program: string, respond: FakeVantageResponder | Partial<VantageResult>): this {
    this.rules.push({ vantage, program, respond: typeof respond === 'function' ? respond : () => respond });
    return this;
  }

  async nodes(): Promise<VantageNode[]> {
    return this.nodeList.map((n) => ({ ...n }));
  }

  async hostPort(containerPort: number): Promise<number | undefined> {
    return this.hostPorts.get(containerPort);
  }

  async exec(vantage: string, argv: readonly string[]): Promise<VantageResult> {
    this.calls.push({ vantage, argv });
    if (this.unavailable.has(vantage)) throw new VantageUnavailable(`fake: ${vantage} is not there`);
    // For `sh -c SCRIPT`, the tool the script is about.
    const program = argv[0] === 'sh' ? (/\b(curl|dig|openssl|iptables-save|nft|kubectl)\b/.exec(argv[2] ?? '')?.[1] ?? 'sh') : (argv[0] ?? '');
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const r = this.rules[i]!;
      const vOk = typeof r.vantage === 'string' ? r.vantage === vantage : r.vantage.test(vantage);
      if (vOk && (r.program === program || r.program === argv[0] || r.program === '*')) {
        return { exitCode: 0, stdout: '', stderr: '', ...(await r.respond({ vantage, argv })) };
      }
    }
    return { exitCode: 127, stdout: '', stderr: `fake: no rule for ${vantage}: ${argv.join(' ')}` };
  }
}
