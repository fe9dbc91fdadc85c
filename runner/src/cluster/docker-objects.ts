// The docker objects a kind cluster is made of (node containers, the cluster's
// network), read and removed through the docker CLI via the injected
// CommandRunner — the same CLI kind itself drives. Full `inspect` JSON is used
// because `docker ps --format` joins labels with commas, which is ambiguous.

import { RunnerError } from '../errors.ts';
import { outputTail, type CommandResult, type CommandRunner } from '../exec/command-runner.ts';

export interface DockerContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  running: boolean;
  status: string;
  /** network name → IPv4 address */
  networks: Record<string, string>;
  /** "30080/tcp" → host bindings */
  ports: Record<string, { hostIp: string; hostPort: number }[]>;
  /** docker's HostConfig.NetworkMode: a network name, or "container:<id>" when it shares another's namespace. */
  networkMode: string;
}

export interface DockerNetwork {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** ids of attached containers */
  containers: string[];
}

const DOCKER_TIMEOUT_MS = 60_000;

export class DockerObjects {
  private readonly runner: CommandRunner;
  private readonly docker: string;

  constructor(runner: CommandRunner, docker = 'docker') {
    this.runner = runner;
    this.docker = docker;
  }

  async run(args: readonly string[], opts: { timeoutMs?: number; okExitCodes?: number[] } = {}): Promise<CommandResult> {
    const r = await this.runner.run([this.docker, ...args], { timeoutMs: opts.timeoutMs ?? DOCKER_TIMEOUT_MS });
    if (r.exitCode === 0 || opts.okExitCodes?.includes(r.exitCode)) return r;
    throw dockerError(r);
  }

  /** Containers matching every label filter ("key" or "key=value"), stopped ones included. */
  async containers(labelFilters: readonly string[]): Promise<DockerContainer[]> {
    const ids = await this.ids(['ps', '-a', '-q', '--no-trunc', ...labelFilters.flatMap((l) => ['--filter', `label=${l}`])]);
    if (ids.length === 0) return [];
    // A container removed between ps and inspect makes inspect exit 1 while still printing the rest.
    const r = await this.run(['container', 'inspect', ...ids], { okExitCodes: [1] });
    return parseJsonArray(r.stdout).map(toContainer);
  }

  async networks(labelFilters: readonly string[]): Promise<DockerNetwork[]> {
    const ids = await this.ids(['network', 'ls', '-q', '--no-trunc', ...labelFilters.flatMap((l) => ['--filter', `label=${l}`])]);
    if (ids.length === 0) return [];
    const r = await this.run(['network', 'inspect', ...ids], { okExitCodes: [1] });
    return parseJsonArray(r.stdout).map(toNetwork);
  }

  async createNetwork(name: string, labels: Record<string, string>): Promise<void> {
    await this.run(['network', 'create', '--driver', 'bridge', ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), name]);
  }

  /** Force-remove with anonymous volumes (kind nodes keep /var in one). */
  async removeContainers(idsOrNames: readonly string[]): Promise<void> {
    if (idsOrNames.length === 0) return;
    const r = await this.run(['rm', '-f', '-v', ...idsOrNames], { okExitCodes: [1], timeoutMs: 120_000 });
    if (r.exitCode !== 0 && !/No such container/i.test(r.stderr)) throw dockerError(r);
  }

  async removeNetwork(idOrName: string): Promise<void> {
    const r = await this.run(['network', 'rm', idOrName], { okExitCodes: [1] });
    if (r.exitCode !== 0 && !/No such network|not found/i.test(r.stderr)) throw dockerError(r);
  }

  private async ids(args: string[]): Promise<string[]> {
    const r = await this.run(args);
    return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  }
}

/** Docker's own failures map to DOCKER_MISSING / DOCKER_DOWN; anything else is COMMAND_FAILED with the argv and output tail. */
export function dockerError(r: CommandResult): RunnerError {
  const details = { argv: r.argv, exitCode: r.exitCode, output: outputTail(r) };
  if (r.exitCode === 127 || /ENOENT|command not found|executable file not found/i.test(r.stderr)) return new RunnerError('DOCKER_MISSING', { details });
  if (/Cannot connect to the Docker daemon|Is the docker daemon running|error during connect/i.test(r.stderr)) return new RunnerError('DOCKER_DOWN', { details });
  if (r.timedOut) return new RunnerError('COMMAND_TIMEOUT', { message: `\`${r.argv.join(' ')}\` did not finish in time.`, details });
  return new RunnerError('COMMAND_FAILED', { message: `\`${r.argv.slice(0, 4).join(' ')}…\` failed (exit ${r.exitCode}): ${lastLine(r.stderr || r.stdout)}`, details });
}

function lastLine(s: string): string {
  return s.trim().split('\n').at(-1) ?? '';
}

function parseJsonArray(text: string): Record<string, unknown>[] {
  const t = text.trim();
  if (!t) return [];
  const v: unknown = JSON.parse(t);
  return Array.isArray(v) ? (v as Record<string, unknown>[]) : [];
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function toContainer(c: Json): DockerContainer {
  const config = obj(c.Config);
  const state = obj(c.State);
  const ns = obj(c.NetworkSettings);
  const hostConfig = obj(c.HostConfig);
  const networks: Record<string, string> = {};
  for (const [name, n] of Object.entries(obj(ns.Networks))) networks[name] = str(obj(n).IPAddress);
  const ports: DockerContainer['ports'] = {};
  for (const [key, bindings] of Object.entries(obj(ns.Ports))) {
    ports[key] = Array.isArray(bindings) ? bindings.map((b) => ({ hostIp: str(obj(b).HostIp), hostPort: Number(str(obj(b).HostPort)) })) : [];
  }
  return {
    id: str(c.Id),
    name: str(c.Name).replace(/^\//, ''),
    labels: Object.fromEntries(Object.entries(obj(config.Labels)).map(([k, v]) => [k, str(v)])),
    running: state.Running === true,
    status: str(state.Status),
    networks,
    ports,
    networkMode: str(hostConfig.NetworkMode),
  };
}

function toNetwork(n: Json): DockerNetwork {
  return {
    id: str(n.Id),
    name: str(n.Name),
    labels: Object.fromEntries(Object.entries(obj(n.Labels)).map(([k, v]) => [k, str(v)])),
    containers: Object.keys(obj(n.Containers)),
  };
}
