// ContainerEngine over the docker CLI, run through the injected CommandRunner:
// argv arrays only, a timeout on every call, failures turned into RunnerErrors
// that carry the argv and the output tail.

import { RunnerError } from '../errors.ts';
import { outputTail, type CommandResult, type RunOptions, type Shell } from '../exec/shell.ts';
import type { ContainerDetails, ContainerEngine, ContainerInfo, ContainerSpec, EngineInfo, Labels, NetworkDetails } from './container-engine.ts';
import { LineSplitter } from '../exec/process-util.ts';

export interface DockerEngineOptions {
  /** The host shell the docker CLI runs in. */
  runner: Shell;
  /** The docker CLI to run; "docker" (first in PATH) unless said otherwise. */
  docker?: string;
  /** Timeout of quick calls (inspect, ls, rm). */
  queryTimeoutMs?: number;
  /** Timeout of `docker run -d` (creating and starting a container). */
  runTimeoutMs?: number;
  /** Extra environment for every docker call (e.g. DOCKER_HOST). */
  env?: Record<string, string>;
}

const NOT_FOUND = /no such (image|container|network|object)|not found/i;
const DAEMON_DOWN = /cannot connect to the docker daemon|is the docker daemon running|error during connect|docker\.sock: connect: (connection refused|no such file)/i;
// docker exec's own failures, as opposed to the command inside failing.
const EXEC_FAILED = /^Error( response from daemon)?: (No such container|Container \S+ is (not running|paused|restarting))/im;

export class DockerEngine implements ContainerEngine {
  readonly kindProvider = 'docker' as const;
  private readonly runner: Shell;
  private readonly docker: string;
  private readonly queryTimeoutMs: number;
  private readonly runTimeoutMs: number;
  private readonly env: Record<string, string> | undefined;

  constructor(opts: DockerEngineOptions) {
    this.runner = opts.runner;
    this.docker = opts.docker ?? 'docker';
    this.queryTimeoutMs = opts.queryTimeoutMs ?? 30_000;
    this.runTimeoutMs = opts.runTimeoutMs ?? 120_000;
    this.env = opts.env;
  }

  async cliVersion(): Promise<{ cli: string; result: CommandResult }> {
    return { cli: this.docker, result: await this.runner.run([this.docker, '--version'], { timeoutMs: this.queryTimeoutMs, ...(this.env ? { env: this.env } : {}) }) };
  }

  async info(): Promise<EngineInfo> {
    const r = await this.call(['info', '--format', '{{json .}}'], { timeoutMs: this.queryTimeoutMs });
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch (cause) {
      throw this.error('COMMAND_FAILED', r, 'docker info did not print JSON.', cause);
    }
    // docker 20.10's CLI exits 0 with ServerErrors when the daemon is down.
    const serverErrors = Array.isArray(parsed['ServerErrors']) ? (parsed['ServerErrors'] as unknown[]).map(String) : [];
    if (serverErrors.length > 0 || !parsed['ServerVersion']) {
      throw this.error('DOCKER_DOWN', { ...r, stderr: `${r.stderr}\n${serverErrors.join('\n')}` });
    }
    return {
      serverVersion: String(parsed['ServerVersion']),
      defaultRuntime: String(parsed['DefaultRuntime'] ?? ''),
      cgroupVersion: String(parsed['CgroupVersion'] ?? ''),
      storageDriver: String(parsed['Driver'] ?? ''),
    };
  }

  async imageExists(ref: string): Promise<boolean> {
    const r = await this.call(['image', 'inspect', '--format', '{{.Id}}', ref], { timeoutMs: this.queryTimeoutMs, notFoundOk: true });
    return r.exitCode === 0;
  }

  /** Tagged images (one entry per tag); untagged images are left out. */
  async listImages(filterLabel?: string): Promise<{ ref: string; id: string; labels: Labels }[]> {
    const ls = ['image', 'ls', '--no-trunc', '--format', '{{.ID}}'];
    if (filterLabel) ls.push('--filter', `label=${filterLabel}`);
    const ids = unique(lines((await this.call(ls, { timeoutMs: this.queryTimeoutMs })).stdout));
    if (ids.length === 0) return [];
    const r = await this.call(
      ['image', 'inspect', '--format', '{{.Id}}\t{{json .RepoTags}}\t{{json .Config.Labels}}', ...ids],
      { timeoutMs: this.queryTimeoutMs, notFoundOk: true },
    );
    const out: { ref: string; id: string; labels: Labels }[] = [];
    for (const line of lines(r.stdout)) {
      const [id = '', tagsJson = 'null', labelsJson = 'null'] = line.split('\t');
      const tags = (JSON.parse(tagsJson) as string[] | null) ?? [];
      const labels = (JSON.parse(labelsJson) as Labels | null) ?? {};
      for (const ref of tags) out.push({ ref, id, labels });
    }
    return out;
  }

  async buildImage(opts: { contextDir: string; tag: string; labels?: Labels; onOutput?: (line: string) => void; timeoutMs: number }): Promise<void> {
    const argv = ['build', '--tag', opts.tag];
    for (const [k, v] of Object.entries(opts.labels ?? {})) argv.push('--label', `${k}=${v}`);
    argv.push(opts.contextDir);
    const onLine = opts.onOutput;
    const splitter = onLine ? new LineSplitter(onLine) : undefined;
    await this.call(argv, {
      timeoutMs: opts.timeoutMs,
      onOutput: splitter ? (chunk) => splitter.push(chunk) : undefined,
    });
    splitter?.flush();
  }

  async runContainer(spec: ContainerSpec): Promise<string> {
    const r = await this.call(runArgv(spec), { timeoutMs: this.runTimeoutMs });
    return r.stdout.trim();
  }

  async listContainers(labelFilter: Labels): Promise<ContainerInfo[]> {
    return this.inspectContainers(Object.entries(labelFilter).map(([k, v]) => `${k}=${v}`));
  }

  /** Removes the container and its anonymous volumes; a container that is already gone is fine. */
  async removeContainer(nameOrId: string): Promise<void> {
    await this.call(['rm', '--force', '--volumes', nameOrId], { timeoutMs: this.queryTimeoutMs, notFoundOk: true });
  }

  execArgv(container: string, command: readonly string[], opts: { tty?: boolean; user?: string; env?: Record<string, string>; workdir?: string } = {}): string[] {
    return dockerExecArgv(this.docker, container, command, opts);
  }

  /**
   * The command's own exit code is data; only docker failing to run it (no such
   * container, container not running, daemon down) throws.
   */
  async exec(container: string, command: readonly string[], opts: RunOptions): Promise<CommandResult> {
    const argv = ['exec'];
    if (opts.input !== undefined) argv.push('--interactive');
    if (opts.user) argv.push('--user', opts.user);
    for (const [k, v] of Object.entries(opts.env ?? {})) argv.push('--env', `${k}=${v}`);
    if (opts.cwd) argv.push('--workdir', opts.cwd);
    argv.push(container, ...command);
    const r = await this.call(argv, {
      timeoutMs: opts.timeoutMs,
      input: opts.input,
      anyExit: true,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
    });
    if (r.exitCode !== 0 && EXEC_FAILED.test(r.stderr)) {
      throw this.error('COMMAND_FAILED', r, `docker exec into ${container} failed.`);
    }
    return r;
  }

  async createVolume(name: string, labels: Labels): Promise<void> {
    await this.call(['volume', 'create', ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), name], { timeoutMs: this.queryTimeoutMs });
  }

  async inspectVolumes(labelFilters: readonly string[]): Promise<{ name: string; labels: Labels }[]> {
    const names = await this.ids(['volume', 'ls', '-q', ...filterArgs(labelFilters)]);
    if (names.length === 0) return [];
    const r = await this.call(['volume', 'inspect', ...names], { timeoutMs: this.queryTimeoutMs, notFoundOk: true });
    return parseJsonArray(r.stdout).map((v) => ({ name: str(v.Name), labels: labelsOf(v.Labels) }));
  }

  async removeVolume(name: string): Promise<boolean> {
    const r = await this.call(['volume', 'rm', name], { timeoutMs: this.queryTimeoutMs, anyExit: true });
    if (r.exitCode === 0 || NOT_FOUND.test(r.stderr) || /no such volume/i.test(r.stderr)) return true;
    if (/in use/i.test(r.stderr)) return false;
    throw this.error('COMMAND_FAILED', r, `docker volume rm ${name} failed (exit ${r.exitCode}).`);
  }

  async listNetworks(labelFilter: Labels): Promise<{ id: string; name: string; labels: Labels }[]> {
    return this.inspectNetworks(Object.entries(labelFilter).map(([k, v]) => `${k}=${v}`));
  }

  /** A network that is already gone is fine. */
  async removeNetwork(nameOrId: string): Promise<void> {
    await this.call(['network', 'rm', nameOrId], { timeoutMs: this.queryTimeoutMs, notFoundOk: true });
  }

  // Full `inspect` JSON for nodes and networks: `docker ps --format` joins labels with
  // commas, which is ambiguous.
  async inspectContainers(labelFilters: readonly string[]): Promise<ContainerDetails[]> {
    const ids = await this.ids(['ps', '-a', '-q', '--no-trunc', ...filterArgs(labelFilters)]);
    if (ids.length === 0) return [];
    // A container removed between ps and inspect makes inspect exit 1 while still printing the rest.
    const r = await this.call(['container', 'inspect', ...ids], { timeoutMs: this.queryTimeoutMs, notFoundOk: true });
    return parseJsonArray(r.stdout).map(toContainer);
  }

  async inspectNetworks(labelFilters: readonly string[]): Promise<NetworkDetails[]> {
    const ids = await this.ids(['network', 'ls', '-q', '--no-trunc', ...filterArgs(labelFilters)]);
    if (ids.length === 0) return [];
    const r = await this.call(['network', 'inspect', ...ids], { timeoutMs: this.queryTimeoutMs, notFoundOk: true });
    return parseJsonArray(r.stdout).map(toNetwork);
  }

  async inspectNetwork(nameOrId: string): Promise<NetworkDetails | undefined> {
    const r = await this.call(['network', 'inspect', nameOrId], { timeoutMs: this.queryTimeoutMs, notFoundOk: true });
    return r.exitCode === 0 ? parseJsonArray(r.stdout).map(toNetwork)[0] : undefined;
  }

  async createNetwork(name: string, labels: Labels): Promise<void> {
    await this.call(['network', 'create', '--driver', 'bridge', ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), name], { timeoutMs: this.queryTimeoutMs });
  }

  /** With anonymous volumes: kind nodes keep /var in one. */
  async removeContainers(idsOrNames: readonly string[]): Promise<void> {
    if (idsOrNames.length === 0) return;
    await this.call(['rm', '-f', '-v', ...idsOrNames], { timeoutMs: this.runTimeoutMs, notFoundOk: true });
  }

  async imageId(ref: string): Promise<string | undefined> {
    const r = await this.call(['image', 'inspect', '--format', '{{.Id}}', ref], { timeoutMs: this.queryTimeoutMs, notFoundOk: true });
    return r.exitCode === 0 ? r.stdout.trim() : undefined;
  }

  async tagImage(source: string, target: string): Promise<void> {
    await this.call(['tag', source, target], { timeoutMs: this.queryTimeoutMs });
  }

  async saveImages(refs: readonly string[], tarPath: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    await this.call(['save', '-o', tarPath, ...refs], { timeoutMs: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  async loadImage(tarPath: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    await this.call(['load', '-i', tarPath], { timeoutMs: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  async removeImage(ref: string): Promise<boolean> {
    const r = await this.runner.run([this.docker, 'image', 'rm', ref], { timeoutMs: this.runTimeoutMs, ...(this.env ? { env: this.env } : {}) });
    return r.exitCode === 0;
  }

  async pullImage(ref: string, opts: Pick<RunOptions, 'timeoutMs' | 'signal' | 'onOutput'>): Promise<CommandResult> {
    return this.runner.run([this.docker, 'pull', ref], { ...opts, ...(this.env ? { env: this.env } : {}) });
  }

  private async ids(args: string[]): Promise<string[]> {
    return unique(lines((await this.call(args, { timeoutMs: this.queryTimeoutMs })).stdout));
  }

  /**
   * Runs `docker ARGS`. Throws DOCKER_MISSING / DOCKER_DOWN / COMMAND_TIMEOUT /
   * COMMAND_FAILED; with notFoundOk a "no such object" answer is returned instead,
   * with anyExit every exit code is returned (only missing CLI, daemon down and
   * timeout throw).
   */
  private async call(
    args: string[],
    opts: { timeoutMs: number; input?: string | undefined; env?: Record<string, string>; signal?: AbortSignal; onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void; notFoundOk?: boolean; anyExit?: boolean },
  ): Promise<CommandResult> {
    const argv = [this.docker, ...args];
    const env = this.env || opts.env ? { ...this.env, ...opts.env } : undefined;
    const onOutput = opts.onOutput;
    const r = await this.runner.run(argv, {
      timeoutMs: opts.timeoutMs,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      ...(env ? { env } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(onOutput ? { onOutput } : {}),
    });
    if (r.timedOut) throw this.error('COMMAND_TIMEOUT', r, `docker ${args[0]} did not finish within ${Math.round(opts.timeoutMs / 1000)} s.`);
    if (r.exitCode === 0) return r;
    if (r.aborted) throw this.error('COMMAND_FAILED', r, `docker ${args[0]} was aborted.`);
    // A spawn failure (no such binary) comes back as exit -1; a shell reports 127. For
    // `docker exec`, 127 is the command inside the container not being found.
    if (r.exitCode < 0 || (r.exitCode === 127 && !opts.anyExit)) throw this.error('DOCKER_MISSING', r);
    if (DAEMON_DOWN.test(r.stderr)) throw this.error('DOCKER_DOWN', r);
    if (opts.anyExit) return r;
    if (opts.notFoundOk && NOT_FOUND.test(r.stderr)) return r;
    throw this.error('COMMAND_FAILED', r, `docker ${args.slice(0, 2).join(' ')} failed (exit ${r.exitCode}).`);
  }

  private error(code: 'DOCKER_MISSING' | 'DOCKER_DOWN' | 'COMMAND_FAILED' | 'COMMAND_TIMEOUT', r: CommandResult, message?: string, cause?: unknown): RunnerError {
    return new RunnerError(code, {
      ...(message ? { message } : {}),
      details: { argv: [...r.argv], exitCode: r.exitCode, output: outputTail(r) },
      ...(cause ? { cause } : {}),
    });
  }
}

/** `docker exec --interactive …`: the argv a PtyFactory attaches to. */
export function dockerExecArgv(docker: string, container: string, command: readonly string[], opts: { tty?: boolean; user?: string; env?: Record<string, string>; workdir?: string } = {}): string[] {
  const argv = [docker, 'exec', '--interactive'];
  if (opts.tty) argv.push('--tty');
  if (opts.user) argv.push('--user', opts.user);
  for (const [k, v] of Object.entries(opts.env ?? {})) argv.push('--env', `${k}=${v}`);
  if (opts.workdir) argv.push('--workdir', opts.workdir);
  return [...argv, container, ...command];
}

/** The argv (after "docker") that starts a detached container; never pulls. */
export function runArgv(spec: ContainerSpec): string[] {
  const a = ['run', '--detach', '--pull', 'never', '--name', spec.name];
  for (const [k, v] of Object.entries(spec.labels)) a.push('--label', `${k}=${v}`);
  if (spec.user) a.push('--user', spec.user);
  if (spec.hostname) a.push('--hostname', spec.hostname);
  for (const [k, v] of Object.entries(spec.env ?? {})) a.push('--env', `${k}=${v}`);
  if (spec.memory) a.push('--memory', spec.memory);
  if (spec.pidsLimit !== undefined) a.push('--pids-limit', String(spec.pidsLimit));
  if (spec.network) a.push('--network', spec.network);
  if (spec.workdir) a.push('--workdir', spec.workdir);
  for (const p of spec.ports ?? []) {
    a.push('--publish', `${p.hostIp ?? '127.0.0.1'}:${p.hostPort}:${p.containerPort}/${p.protocol ?? 'tcp'}`);
  }
  for (const m of spec.mounts ?? []) {
    if (m.source.includes(',') || m.target.includes(',')) {
      throw new RunnerError('INVALID_ARGUMENT', { message: `A mount path may not contain a comma: ${m.source} → ${m.target}.` });
    }
    a.push('--mount', `type=bind,source=${m.source},target=${m.target}${m.readOnly ? ',readonly' : ''}`);
  }
  for (const v of spec.volumes ?? []) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v.name) || v.target.includes(',')) {
      throw new RunnerError('INVALID_ARGUMENT', { message: `Not a volume name, or a target with a comma: ${v.name} → ${v.target}.` });
    }
    a.push('--mount', `type=volume,source=${v.name},target=${v.target}`);
  }
  for (const t of spec.tmpfs ?? []) a.push('--tmpfs', t);
  for (const c of spec.capDrop ?? []) a.push('--cap-drop', c);
  if (spec.readOnlyRootfs) a.push('--read-only');
  a.push(spec.image, ...(spec.command ?? []));
  return a;
}

function filterArgs(filters: readonly string[]): string[] {
  return filters.flatMap((l) => ['--filter', `label=${l}`]);
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
const labelsOf = (v: unknown): Labels => Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, str(x)]));

function toContainer(c: Json): ContainerDetails {
  const ns = obj(c.NetworkSettings);
  const networks: Record<string, string> = {};
  for (const [name, n] of Object.entries(obj(ns.Networks))) networks[name] = str(obj(n).IPAddress);
  const ports: ContainerDetails['ports'] = {};
  for (const [key, bindings] of Object.entries(obj(ns.Ports))) {
    ports[key] = Array.isArray(bindings) ? bindings.map((b) => ({ hostIp: str(obj(b).HostIp), hostPort: Number(str(obj(b).HostPort)) })) : [];
  }
  return {
    id: str(c.Id),
    name: str(c.Name).replace(/^\//, ''),
    image: str(obj(c.Config).Image),
    state: str(obj(c.State).Status),
    labels: labelsOf(obj(c.Config).Labels),
    running: obj(c.State).Running === true,
    networks,
    ports,
    networkMode: str(obj(c.HostConfig).NetworkMode),
  };
}

function toNetwork(n: Json): NetworkDetails {
  const ipam = obj(n.IPAM).Config;
  return {
    id: str(n.Id),
    name: str(n.Name),
    labels: labelsOf(n.Labels),
    containers: Object.keys(obj(n.Containers)),
    subnets: (Array.isArray(ipam) ? ipam.map(obj) : []).filter((c) => str(c.Subnet)).map((c) => ({
      subnet: str(c.Subnet),
      ...(str(c.Gateway) ? { gateway: str(c.Gateway) } : {}),
      ...(str(c.IPRange) ? { ipRange: str(c.IPRange) } : {}),
    })),
    addresses: Object.values(obj(n.Containers)).map((c) => str(obj(c).IPv4Address).split('/')[0]!).filter((a) => a !== ''),
  };
}

function lines(s: string): string[] {
  return s.split('\n').map((l) => l.trim()).filter(Boolean);
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
