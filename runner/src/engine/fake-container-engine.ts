// An in-memory ContainerEngine for tests: images, containers and networks are
// plain records, and errors are the same RunnerErrors DockerEngine throws.

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RunnerError } from '../errors.ts';
import { dockerExecArgv } from './docker-engine.ts';
import { commandResult, type CommandResult, type RunOptions } from '../exec/shell.ts';
import type { ContainerDetails, ContainerEngine, ContainerInfo, ContainerSpec, EngineInfo, Labels, NetworkDetails } from './container-engine.ts';

export interface FakeImage {
  ref: string;
  id: string;
  labels: Labels;
}

export interface FakeContainer {
  id: string;
  spec: ContainerSpec;
  state: 'running' | 'exited';
}

/** Answers `exec` calls; the default understands echo, cat, true, false and sh -c 'exit N'. */
export type FakeExecHandler = (
  container: FakeContainer,
  command: readonly string[],
  opts: { user?: string; input?: string; env?: Record<string, string> },
) => { exitCode: number; stdout?: string; stderr?: string };

export class FakeContainerEngine implements ContainerEngine {
  readonly kindProvider = 'docker' as const;
  /** Set to simulate a missing CLI or a stopped daemon: every call throws. */
  unavailable: 'DOCKER_MISSING' | 'DOCKER_DOWN' | undefined;
  engineInfo: EngineInfo = { serverVersion: '20.10.24-fake', defaultRuntime: 'runc', cgroupVersion: '1', storageDriver: 'overlay2' };
  readonly images = new Map<string, FakeImage>();
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Map<string, { id: string; name: string; labels: Labels; subnets: NetworkDetails['subnets'] }>();
  /** Named volumes by name; `files` stands for what is written in them (tests put ~/answers/x there). */
  readonly volumes = new Map<string, { name: string; labels: Labels; files: Map<string, string> }>();
  /** Calls that change images, in order ("tag a b", "load /x.tar", "rm ref", "pull ref"), for assertions. */
  readonly imageOps: string[] = [];
  /** Refs a `loadImage(tar)` adds; default none. */
  onLoad: ((tarPath: string) => string[]) | undefined;
  /** Answers pullImage; default: exit 0 and the image exists afterwards. */
  onPull: ((ref: string) => Partial<CommandResult>) | undefined;
  /** Every builds' arguments, for assertions. */
  readonly builds: { contextDir: string; tag: string; labels: Labels }[] = [];
  execHandler: FakeExecHandler = defaultExec;
  /** Called by buildImage before it records the image; throw from it to simulate a failed build. */
  onBuild: ((opts: { contextDir: string; tag: string }) => void) | undefined;
  private seq = 0;

  async cliVersion(): Promise<{ cli: string; result: CommandResult }> {
    const argv = ['docker', '--version'];
    return { cli: 'docker', result: this.unavailable === 'DOCKER_MISSING' ? commandResult(argv, { exitCode: -1, stderr: 'spawn docker ENOENT' }) : commandResult(argv, { stdout: `Docker version ${this.engineInfo.serverVersion}\n` }) };
  }

  async info(): Promise<EngineInfo> {
    this.check();
    return { ...this.engineInfo };
  }

  async imageExists(ref: string): Promise<boolean> {
    this.check();
    return this.images.has(normalizeRef(ref));
  }

  async listImages(filterLabel?: string): Promise<{ ref: string; id: string; labels: Labels }[]> {
    this.check();
    return [...this.images.values()]
      .filter((i) => filterLabel === undefined || matchesLabelFilter(i.labels, filterLabel))
      .map((i) => ({ ref: i.ref, id: i.id, labels: { ...i.labels } }));
  }

  /** Like docker, needs a Dockerfile in the context. */
  async buildImage(opts: { contextDir: string; tag: string; labels?: Labels; onOutput?: (line: string) => void; timeoutMs: number }): Promise<void> {
    this.check();
    if (!existsSync(join(opts.contextDir, 'Dockerfile'))) {
      throw new RunnerError('COMMAND_FAILED', {
        message: 'docker build failed (exit 1).',
        details: { argv: ['docker', 'build', '--tag', opts.tag, opts.contextDir], exitCode: 1, output: 'unable to prepare context: Dockerfile not found' },
      });
    }
    this.onBuild?.({ contextDir: opts.contextDir, tag: opts.tag });
    const labels = { ...opts.labels };
    this.builds.push({ contextDir: opts.contextDir, tag: opts.tag, labels });
    opts.onOutput?.(`Step 1/1 : fake build of ${opts.tag}`);
    this.addImage(opts.tag, labels);
  }

  /** Seeds an image, as if built earlier. */
  addImage(ref: string, labels: Labels = {}): FakeImage {
    const r = normalizeRef(ref);
    const image = { ref: r, id: `sha256:${createHash('sha256').update(`${r}\n${JSON.stringify(labels)}`).digest('hex')}`, labels: { ...labels } };
    this.images.set(r, image);
    return image;
  }

  async runContainer(spec: ContainerSpec): Promise<string> {
    this.check();
    if (!this.images.has(normalizeRef(spec.image))) {
      throw this.failed(['docker', 'run', spec.image], `Unable to find image '${spec.image}' locally`);
    }
    if ([...this.containers.values()].some((c) => c.spec.name === spec.name)) {
      throw this.failed(['docker', 'run', '--name', spec.name], `Conflict. The container name "/${spec.name}" is already in use`);
    }
    for (const v of spec.volumes ?? []) {
      // Like docker: mounting a volume that does not exist makes it (without labels).
      if (!this.volumes.has(v.name)) this.volumes.set(v.name, { name: v.name, labels: {}, files: new Map() });
    }
    const id = createHash('sha256').update(`container-${++this.seq}-${spec.name}`).digest('hex');
    this.containers.set(id, { id, spec: structuredClone(spec), state: 'running' });
    return id;
  }

  async listContainers(labelFilter: Labels): Promise<ContainerInfo[]> {
    this.check();
    return [...this.containers.values()]
      .filter((c) => Object.entries(labelFilter).every(([k, v]) => c.spec.labels[k] === v))
      .map((c) => ({ id: c.id, name: c.spec.name, image: c.spec.image, state: c.state, labels: { ...c.spec.labels } }));
  }

  async removeContainer(nameOrId: string): Promise<void> {
    this.check();
    const c = this.find(nameOrId);
    if (c) this.containers.delete(c.id);
  }

  execArgv(container: string, command: readonly string[], opts: { tty?: boolean; user?: string; env?: Record<string, string>; workdir?: string } = {}): string[] {
    return dockerExecArgv('docker', container, command, opts);
  }

  async exec(container: string, command: readonly string[], opts: RunOptions): Promise<CommandResult> {
    this.check();
    const c = this.find(container);
    if (!c) throw this.failed(['docker', 'exec', container, ...command], `Error response from daemon: No such container: ${container}`);
    if (c.state !== 'running') throw this.failed(['docker', 'exec', container, ...command], `Error response from daemon: Container ${c.id} is not running`);
    const r = this.execHandler(c, command, { ...(opts.user ? { user: opts.user } : {}), ...(opts.input !== undefined ? { input: opts.input } : {}), ...(opts.env ? { env: opts.env } : {}) });
    return commandResult(['docker', 'exec', container, ...command], { exitCode: r.exitCode, stdout: r.stdout ?? '', stderr: r.stderr ?? '' });
  }

  async createVolume(name: string, labels: Labels): Promise<void> {
    this.check();
    if (!this.volumes.has(name)) this.volumes.set(name, { name, labels: { ...labels }, files: new Map() });
  }

  async inspectVolumes(labelFilters: readonly string[]): Promise<{ name: string; labels: Labels }[]> {
    this.check();
    return [...this.volumes.values()].filter((v) => labelFilters.every((f) => matchesLabelFilter(v.labels, f))).map((v) => ({ name: v.name, labels: { ...v.labels } }));
  }

  async removeVolume(name: string): Promise<boolean> {
    this.check();
    if ([...this.containers.values()].some((c) => c.spec.volumes?.some((v) => v.name === name))) return false;
    this.volumes.delete(name);
    return true;
  }

  /** Seeds a network. */
  addNetwork(name: string, labels: Labels = {}, subnets: NetworkDetails['subnets'] = []): string {
    const id = createHash('sha256').update(`network-${++this.seq}-${name}`).digest('hex');
    this.networks.set(id, { id, name, labels: { ...labels }, subnets });
    return id;
  }

  async listNetworks(labelFilter: Labels): Promise<{ id: string; name: string; labels: Labels }[]> {
    this.check();
    return [...this.networks.values()]
      .filter((n) => Object.entries(labelFilter).every(([k, v]) => n.labels[k] === v))
      .map((n) => ({ id: n.id, name: n.name, labels: { ...n.labels } }));
  }

  async inspectContainers(labelFilters: readonly string[]): Promise<ContainerDetails[]> {
    this.check();
    return [...this.containers.values()]
      .filter((c) => labelFilters.every((f) => matchesLabelFilter(c.spec.labels, f)))
      .map((c) => ({
        id: c.id, name: c.spec.name, image: c.spec.image, state: c.state, labels: { ...c.spec.labels }, running: c.state === 'running',
        networks: c.spec.network && !c.spec.network.startsWith('container:') ? { [c.spec.network]: '' } : {},
        ports: {}, networkMode: c.spec.network ?? 'default',
      }));
  }

  async inspectNetworks(labelFilters: readonly string[]): Promise<NetworkDetails[]> {
    this.check();
    return [...this.networks.values()].filter((n) => labelFilters.every((f) => matchesLabelFilter(n.labels, f))).map((n) => this.details(n));
  }

  async inspectNetwork(nameOrId: string): Promise<NetworkDetails | undefined> {
    this.check();
    const n = [...this.networks.values()].find((x) => x.id === nameOrId || x.name === nameOrId);
    return n ? this.details(n) : undefined;
  }

  async createNetwork(name: string, labels: Labels): Promise<void> {
    this.check();
    if ([...this.networks.values()].some((n) => n.name === name)) throw this.failed(['docker', 'network', 'create', name], `Error response from daemon: network with name ${name} already exists`);
    // Like docker: the next free /16 from its default pools, gateway .1.
    const octet = 18 + this.networks.size;
    this.addNetwork(name, labels, [{ subnet: `172.${octet}.0.0/16`, gateway: `172.${octet}.0.1` }]);
  }

  async removeContainers(idsOrNames: readonly string[]): Promise<void> {
    for (const x of idsOrNames) await this.removeContainer(x);
  }

  async imageId(ref: string): Promise<string | undefined> {
    this.check();
    return this.images.get(normalizeRef(ref))?.id;
  }

  async tagImage(source: string, target: string): Promise<void> {
    this.check();
    const img = this.images.get(normalizeRef(source));
    if (!img) throw this.failed(['docker', 'tag', source, target], `Error response from daemon: No such image: ${source}`);
    this.images.set(normalizeRef(target), { ...img, ref: normalizeRef(target) });
    this.imageOps.push(`tag ${source} ${target}`);
  }

  /** Writes the saved refs and labels as JSON, so a test can read what a bundle holds. */
  async saveImages(refs: readonly string[], tarPath: string): Promise<void> {
    this.check();
    const missing = refs.find((r) => !this.images.has(normalizeRef(r)));
    if (missing) throw this.failed(['docker', 'save', '-o', tarPath, ...refs], `Error response from daemon: reference does not exist: ${missing}`);
    this.imageOps.push(`save ${refs.join(' ')}`);
    writeFileSync(tarPath, JSON.stringify(refs.map((r) => ({ ref: normalizeRef(r), labels: this.images.get(normalizeRef(r))!.labels }))));
  }

  async loadImage(tarPath: string): Promise<void> {
    this.check();
    this.imageOps.push(`load ${tarPath}`);
    for (const ref of this.onLoad?.(tarPath) ?? []) this.addImage(ref);
  }

  async removeImage(ref: string): Promise<boolean> {
    this.check();
    this.imageOps.push(`rm ${ref}`);
    const r = normalizeRef(ref);
    const inUse = [...this.containers.values()].some((c) => normalizeRef(c.spec.image) === r);
    return !inUse && this.images.delete(r);
  }

  async pullImage(ref: string): Promise<CommandResult> {
    this.check();
    this.imageOps.push(`pull ${ref}`);
    const r = commandResult(['docker', 'pull', ref], this.onPull?.(ref) ?? {});
    if (r.exitCode === 0) this.addImage(ref);
    return r;
  }

  private details(n: { id: string; name: string; labels: Labels; subnets: NetworkDetails['subnets'] }): NetworkDetails {
    const attached = [...this.containers.values()].filter((c) => c.spec.network === n.name);
    return { id: n.id, name: n.name, labels: { ...n.labels }, containers: attached.map((c) => c.id), subnets: n.subnets.map((x) => ({ ...x })), addresses: [] };
  }

  async removeNetwork(nameOrId: string): Promise<void> {
    this.check();
    for (const n of this.networks.values()) {
      if (n.id === nameOrId || n.name === nameOrId || (nameOrId.length >= 12 && n.id.startsWith(nameOrId))) this.networks.delete(n.id);
    }
  }

  private find(nameOrId: string): FakeContainer | undefined {
    for (const c of this.containers.values()) {
      if (c.spec.name === nameOrId || c.id === nameOrId || (nameOrId.length >= 12 && c.id.startsWith(nameOrId))) return c;
    }
    return undefined;
  }

  private check(): void {
    if (this.unavailable) throw new RunnerError(this.unavailable, { details: { argv: ['docker'], exitCode: this.unavailable === 'DOCKER_MISSING' ? -1 : 1, output: '' } });
  }

  private failed(argv: string[], output: string): RunnerError {
    return new RunnerError('COMMAND_FAILED', { message: `${argv.slice(0, 3).join(' ')} failed (exit 1).`, details: { argv, exitCode: 1, output } });
  }
}

/** docker's default tag: "name" means "name:latest". */
function normalizeRef(ref: string): string {
  const lastSlash = ref.lastIndexOf('/');
  return ref.slice(lastSlash + 1).includes(':') || ref.includes('@') ? ref : `${ref}:latest`;
}

/** docker's `label=KEY` or `label=KEY=VALUE` filter. */
function matchesLabelFilter(labels: Labels, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

function defaultExec(_c: FakeContainer, command: readonly string[], opts: { input?: string }): { exitCode: number; stdout?: string; stderr?: string } {
  const [cmd, ...args] = command;
  const base = cmd?.split('/').pop();
  switch (base) {
    case 'echo': return { exitCode: 0, stdout: `${args.join(' ')}\n` };
    case 'cat': return { exitCode: 0, stdout: opts.input ?? '' };
    case 'true': return { exitCode: 0 };
    case 'false': return { exitCode: 1 };
    case 'sh': {
      const m = args[0] === '-c' ? /^exit (\d+)$/.exec(args[1] ?? '') : null;
      if (m) return { exitCode: Number(m[1]) };
      break;
    }
  }
  return { exitCode: 127, stderr: `OCI runtime exec failed: exec: "${cmd}": executable file not found in $PATH` };
}
