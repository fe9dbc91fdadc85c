// The container engine seen by svclab: the docker CLI in production, a fake in tests.

import type { CommandResult, RunOptions } from '../exec/shell.ts';

export type Labels = Record<string, string>;

export interface ContainerSpec {
  name: string;
  image: string;
  labels: Labels;
  /** argv run as the container's main process. */
  command?: string[];
  user?: string;
  hostname?: string;
  env?: Record<string, string>;
  /** e.g. "512m" */
  memory?: string;
  pidsLimit?: number;
  /** docker --network value: a network name, or "container:<name>" to share one's namespace. */
  network?: string;
  workdir?: string;
  /** host:container port mappings, always bound to 127.0.0.1 unless hostIp says otherwise. */
  ports?: { hostIp?: string; hostPort: number; containerPort: number; protocol?: 'tcp' | 'udp' }[];
  mounts?: { source: string; target: string; readOnly?: boolean }[];
  /** Named volumes (made with createVolume) mounted at a path; a new, empty one is filled from the image's files there. */
  volumes?: { name: string; target: string }[];
  tmpfs?: string[];
  capDrop?: string[];
  readOnlyRootfs?: boolean;
}

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  state: string;
  labels: Labels;
}

/** Everything `inspect` says about a container that svclab reads (cluster nodes, leftovers). */
export interface ContainerDetails extends ContainerInfo {
  running: boolean;
  /** network name → IPv4 address */
  networks: Record<string, string>;
  /** "30080/tcp" → host bindings */
  ports: Record<string, { hostIp: string; hostPort: number }[]>;
  /** A network name, or "container:<id>" when it shares another's namespace. */
  networkMode: string;
}

export interface NetworkDetails {
  id: string;
  name: string;
  labels: Labels;
  /** ids of attached containers */
  containers: string[];
  subnets: { subnet: string; gateway?: string; ipRange?: string }[];
  /** IPv4 addresses of attached containers */
  addresses: string[];
}

export interface EngineInfo {
  serverVersion: string;
  defaultRuntime: string;
  cgroupVersion: string;
  storageDriver: string;
}

export interface ContainerEngine {
  /** What kind calls this engine (KIND_EXPERIMENTAL_PROVIDER), so kind drives the same one. */
  readonly kindProvider: 'docker' | 'podman';
  /** The engine's CLI and its version (`docker --version`), as data: a missing CLI is a non-zero exit, not a throw (doctor reports it). */
  cliVersion(): Promise<{ cli: string; result: CommandResult }>;
  /** Throws RunnerError DOCKER_MISSING / DOCKER_DOWN when the engine can't be reached. */
  info(): Promise<EngineInfo>;
  imageExists(ref: string): Promise<boolean>;
  listImages(filterLabel?: string): Promise<{ ref: string; id: string; labels: Labels }[]>;
  /** Build an image from a context directory holding a Dockerfile. */
  buildImage(opts: { contextDir: string; tag: string; labels?: Labels; onOutput?: (line: string) => void; timeoutMs: number }): Promise<void>;
  runContainer(spec: ContainerSpec): Promise<string>;
  listContainers(labelFilter: Labels): Promise<ContainerInfo[]>;
  removeContainer(nameOrId: string): Promise<void>;
  /** argv that attaches an interactive process inside a container (given to a PtyFactory). */
  execArgv(container: string, command: readonly string[], opts?: { tty?: boolean; user?: string; env?: Record<string, string>; workdir?: string }): string[];
  /**
   * Run a command inside a container and collect its output (ContainerShell wraps this).
   * The command's exit code is data; only the engine failing to run it throws.
   */
  exec(container: string, command: readonly string[], opts: RunOptions): Promise<CommandResult>;
  /** A named volume with these labels (one that exists already is fine: docker keeps it). */
  createVolume(name: string, labels: Labels): Promise<void>;
  /** Volumes matching every label filter ("key" or "key=value"). */
  inspectVolumes(labelFilters: readonly string[]): Promise<{ name: string; labels: Labels }[]>;
  /** Removes a volume; true when it is gone (or was), false when a container still uses it. */
  removeVolume(name: string): Promise<boolean>;
  listNetworks(labelFilter: Labels): Promise<{ id: string; name: string; labels: Labels }[]>;
  removeNetwork(nameOrId: string): Promise<void>;

  /** Containers, stopped ones included, matching every filter: "key" (has the label) or "key=value". */
  inspectContainers(labelFilters: readonly string[]): Promise<ContainerDetails[]>;
  /** Networks matching every label filter ("key" or "key=value"). */
  inspectNetworks(labelFilters: readonly string[]): Promise<NetworkDetails[]>;
  /** One network by name or id; undefined when there is none. */
  inspectNetwork(nameOrId: string): Promise<NetworkDetails | undefined>;
  /** A bridge network with these labels. */
  createNetwork(name: string, labels: Labels): Promise<void>;
  /** Force-removes containers with their anonymous volumes; ones already gone are fine. */
  removeContainers(idsOrNames: readonly string[]): Promise<void>;
  /** The engine's id (sha256:…) of an image, or undefined when there is none by that ref. */
  imageId(ref: string): Promise<string | undefined>;
  /** Another name for an image. */
  tagImage(source: string, target: string): Promise<void>;
  /** Save images (by ref, with their ids and labels) into one tar (docker save format). */
  saveImages(refs: readonly string[], tarPath: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  /** Load images from a tar (docker save format). */
  loadImage(tarPath: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  /** Untag/remove an image without force; false when it is in use or already gone. */
  removeImage(ref: string): Promise<boolean>;
  /** Pull from a registry (only the upstream image profile does); the result is data. */
  pullImage(ref: string, opts: Pick<RunOptions, 'timeoutMs' | 'signal' | 'onOutput'>): Promise<CommandResult>;
}
