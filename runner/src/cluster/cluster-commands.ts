// `svclab up | down | status | kubectl`: argument parsing and output. The core
// CLI wires these in; each throws a RunnerError for the CLI to print with its hint.

import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RunnerError } from '../errors.ts';
import type { Shell } from '../exec/shell.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import {
  CLUSTER_NAME_PREFIX, DEFAULT_CLUSTER_NAME, MAX_WORKERS, PROXY_MODES, parseClusterSpec,
  type ClusterDriver, type ClusterInfo, type CreateResult, type ProxyMode, type StepEvent,
} from './cluster-driver.ts';
import { formatStepEvent } from './bring-up-steps.ts';
import { nodeAdminKubectl } from './node-shell.ts';
import { Kubectl } from '../kube/kubectl.ts';
import { downAll, type ReapReport } from './reaper.ts';

export interface ClusterCommandDeps {
  /** The host shell (`svclab kubectl` with a host kubectl). */
  runner: Shell;
  engine: ContainerEngine;
  driver: ClusterDriver;
  out: (line: string) => void;
  /** The node image the image builder made (svclab/node:<hash16>); `--node-image` overrides it. */
  nodeImage: () => Promise<string>;
  /** Host kubectl. Without it, `svclab kubectl` runs kubectl inside the control-plane node. */
  kubectlPath?: string;
  /** Where `svclab kubectl` keeps the host kubeconfig it uses (mode 0600), e.g. ~/.cache/svclab/clusters. */
  stateDir?: string;
  /** Bring-up progress; default: one `out` line per step start and end (formatStepEvent). Give it to draw live TTY lines. */
  onStep?: (e: StepEvent) => void;
  signal?: AbortSignal;
}

function parse(args: readonly string[], options: Record<string, { type: 'string' | 'boolean' }>, usage: string) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
  } catch (e) {
    // node's messages run on with advice for programmers ("To specify an option argument…"): keep the first line.
    throw new RunnerError('INVALID_ARGUMENT', { message: (e as Error).message.split('\n')[0]!, hint: `Usage: ${usage}` });
  }
}

/** `--name demo` means svclab-demo: every svclab cluster name carries the prefix. */
export function clusterName(raw: string | undefined): string {
  if (raw === undefined || raw === '') return DEFAULT_CLUSTER_NAME;
  return raw.startsWith(CLUSTER_NAME_PREFIX) ? raw : `${CLUSTER_NAME_PREFIX}${raw}`;
}

export const UP_USAGE = `svclab up [--name NAME] [--workers 0..${MAX_WORKERS}] [--proxy-mode ${PROXY_MODES.join('|')}] [--node-image REF]`;

export interface UpArgs {
  name: string;
  workers: number;
  proxyMode: ProxyMode;
  nodeImage?: string;
}

export function parseUpArgs(args: readonly string[]): UpArgs {
  const { values } = parse(args, { name: { type: 'string' }, workers: { type: 'string' }, 'proxy-mode': { type: 'string' }, 'node-image': { type: 'string' } }, UP_USAGE);
  const name = clusterName(values.name as string | undefined);
  const w = (values.workers as string | undefined) ?? '2';
  if (!/^\d+$/.test(w) || Number(w) > MAX_WORKERS) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `--workers must be a whole number from 0 to ${MAX_WORKERS}; got "${w}".`, hint: 'One control-plane node is always made; --workers adds worker nodes. The labs expect 2.' });
  }
  const mode = (values['proxy-mode'] as string | undefined) ?? 'iptables';
  if (!(PROXY_MODES as readonly string[]).includes(mode)) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `Unknown --proxy-mode "${mode}".`, hint: `Use --proxy-mode ${PROXY_MODES.join(', ')} (ipvs needs the ip_vs kernel module).` });
  }
  const nodeImage = values['node-image'] as string | undefined;
  // Validate the name now, before any step runs.
  parseClusterSpec({ name, workers: Number(w), proxyMode: mode as ProxyMode, nodeImage: nodeImage ?? 'placeholder' });
  return { name, workers: Number(w), proxyMode: mode as ProxyMode, ...(nodeImage ? { nodeImage } : {}) };
}

export async function up(args: readonly string[], deps: ClusterCommandDeps): Promise<CreateResult> {
  const a = parseUpArgs(args);
  const spec = { name: a.name, workers: a.workers, proxyMode: a.proxyMode, nodeImage: a.nodeImage ?? (await deps.nodeImage()) };
  deps.out(describeCreate(spec));
  const result = await deps.driver.create(spec, { onStep: deps.onStep ?? ((e) => deps.out(formatStepEvent(e))), ...(deps.signal ? { signal: deps.signal } : {}) });
  for (const line of describeClusterReady(result)) deps.out(line);
  return result;
}

/** "Creating cluster …": the line before a bring-up. */
export function describeCreate(spec: { name: string; workers: number; proxyMode: ProxyMode; nodeImage: string }): string {
  return `Creating cluster ${spec.name}: 1 control plane + ${spec.workers} worker${spec.workers === 1 ? '' : 's'}, kube-proxy ${spec.proxyMode}, image ${spec.nodeImage}`;
}

/** What a finished bring-up made: time, host ports, and how to try it. */
export function describeClusterReady(result: CreateResult): string[] {
  return [
    `Cluster ${result.name} is ready in ${(result.timings.totalMs / 1000).toFixed(1)} s` + (result.timings.firstNodeReadyMs !== undefined ? ` (first node Ready after ${(result.timings.firstNodeReadyMs / 1000).toFixed(1)} s).` : '.'),
    ...result.ports.map((p) => `  127.0.0.1:${p.hostPort} → node port ${p.containerPort}`),
    `  Try: svclab kubectl${result.name === DEFAULT_CLUSTER_NAME ? '' : ` --name ${result.name}`} get nodes -o wide`,
  ];
}

export const DOWN_USAGE = 'svclab down [--name NAME | --all]';

export async function down(args: readonly string[], deps: ClusterCommandDeps): Promise<ReapReport> {
  const { values } = parse(args, { name: { type: 'string' }, all: { type: 'boolean' } }, DOWN_USAGE);
  if (values.all && values.name !== undefined) throw new RunnerError('INVALID_ARGUMENT', { message: 'Use either --name or --all, not both.', hint: `Usage: ${DOWN_USAGE}` });
  if (values.all) {
    const report = await downAll({ engine: deps.engine, driver: deps.driver, out: deps.out });
    deps.out(`Removed ${report.clusters.length} cluster(s), ${report.containers.length} other container(s), ${report.networks.length} network(s), ${report.volumes?.length ?? 0} home volume(s).`);
    return report;
  }
  const name = clusterName(values.name as string | undefined);
  const started = performance.now();
  await deps.driver.delete(name);
  deps.out(`Removed cluster ${name} (${((performance.now() - started) / 1000).toFixed(1)} s).`);
  return { clusters: [name], containers: [], networks: [] };
}

export async function status(deps: ClusterCommandDeps): Promise<ClusterInfo[]> {
  const clusters = await deps.driver.list();
  if (clusters.length === 0) {
    deps.out('No svclab clusters. Create one with `svclab up`.');
    return clusters;
  }
  for (const c of clusters) {
    const shape = c.spec ? `1 control plane + ${c.spec.workers} worker${c.spec.workers === 1 ? "" : "s"}, kube-proxy ${c.spec.proxyMode}` : 'shape unknown';
    deps.out(`${c.name}  ${c.state}  ${shape}`);
    if (c.state === 'running') {
      const nodes = await deps.driver.nodes(c.name);
      for (const n of nodes) deps.out(`  ${n.name}  ${n.role}  ${n.internalIP}`);
      if (c.apiServer) deps.out(`  API server https://${c.apiServer.host}:${c.apiServer.port}`);
      for (const p of c.ports) deps.out(`  127.0.0.1:${p.hostPort} → node port ${p.containerPort}`);
    } else if (c.state === 'broken') {
      deps.out(`  left over from a failed or interrupted \`svclab up\`; remove it with \`svclab down --name ${c.name}\``);
    }
  }
  return clusters;
}

/**
 * `svclab kubectl [--name NAME] ARGS…`: kubectl against a cluster. Returns kubectl's exit code.
 * Only a leading --name is ours; everything after goes to kubectl untouched.
 */
export async function kubectl(args: readonly string[], deps: ClusterCommandDeps): Promise<number> {
  let rest = [...args];
  let name: string | undefined;
  if (rest[0] === '--name') {
    if (rest[1] === undefined) throw new RunnerError('INVALID_ARGUMENT', { message: '--name needs a cluster name.', hint: 'Usage: svclab kubectl [--name NAME] ARGS…' });
    name = clusterName(rest[1]);
    rest = rest.slice(2);
  } else if (rest[0]?.startsWith('--name=')) {
    name = clusterName(rest[0].slice('--name='.length));
    rest = rest.slice(1);
  }
  if (name === undefined) name = await defaultCluster(deps.driver);
  if (rest.length === 0) throw new RunnerError('INVALID_ARGUMENT', { message: 'Give kubectl something to do, e.g. `svclab kubectl get nodes`.' });

  if (deps.kubectlPath) {
    const dir = join(deps.stateDir ?? '.', name);
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'kubeconfig-host');
    await writeFile(file, await deps.driver.kubeconfig(name, 'host'), { mode: 0o600 });
    await chmod(file, 0o600);
    const printer = linePrinter(deps.out);
    const r = await new Kubectl({ shell: deps.runner, binary: deps.kubectlPath, kubeconfig: file }).run(rest, {
      timeoutMs: 10 * 60_000,
      onOutput: (chunk) => printer.push(chunk),
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    printer.flush();
    return r.exitCode;
  }

  // No kubectl on the host: run the node's own kubectl as cluster admin. Local files named
  // with -f are sent on stdin, since the node can't see the host's files.
  const { argv, input } = await stdinForLocalFile(rest);
  const r = await nodeAdminKubectl(deps.driver, name).run(argv, { timeoutMs: 10 * 60_000, ...(input !== undefined ? { input } : {}) });
  for (const line of `${r.stdout}${r.stderr}`.replace(/\n$/, '').split('\n')) if (line !== '' || r.stdout || r.stderr) deps.out(line);
  return r.exitCode;
}

async function defaultCluster(driver: ClusterDriver): Promise<string> {
  const running = (await driver.list()).filter((c) => c.state === 'running');
  if (running.length === 1) return running[0]!.name;
  if (running.some((c) => c.name === DEFAULT_CLUSTER_NAME)) return DEFAULT_CLUSTER_NAME;
  if (running.length === 0) throw new RunnerError('NO_CLUSTER', { message: 'There is no running svclab cluster.', hint: 'Run `svclab up` first.' });
  throw new RunnerError('INVALID_ARGUMENT', { message: `Several clusters run (${running.map((c) => c.name).join(', ')}); say which.`, hint: 'Use `svclab kubectl --name NAME …`.' });
}

async function stdinForLocalFile(args: string[]): Promise<{ argv: string[]; input?: string }> {
  const i = args.findIndex((a) => a === '-f' || a === '--filename');
  const path = i >= 0 ? args[i + 1] : undefined;
  if (i < 0 || path === undefined || path === '-' || /^https?:\/\//.test(path)) return { argv: args };
  if (args.slice(i + 2).some((a) => a === '-f' || a === '--filename')) {
    throw new RunnerError('INVALID_ARGUMENT', { message: 'Without a host kubectl, svclab kubectl takes one -f file at a time.' });
  }
  const input = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new RunnerError('INVALID_ARGUMENT', { message: `Can't read ${path}: ${e.code ?? e.message}.` });
  });
  return { argv: [...args.slice(0, i), '-f', '-', ...args.slice(i + 2)], input };
}

function linePrinter(out: (line: string) => void) {
  let buf = '';
  return {
    push(chunk: string) {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) out(l);
    },
    flush() {
      if (buf) out(buf);
      buf = '';
    },
  };
}
