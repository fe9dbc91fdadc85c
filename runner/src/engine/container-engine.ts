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

export interface EngineInfo {
  serverVersion: string;
  defaultRuntime: string;
  cgroupVersion: string;
  storageDriver: string;
}

export interface ContainerEngine {
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
  listNetworks(labelFilter: Labels): Promise<{ id: string; name: string; labels: Labels }[]>;
  removeNetwork(nameOrId: string): Promise<void>;
}
