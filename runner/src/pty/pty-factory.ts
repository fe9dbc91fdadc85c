// Pseudo-terminals. The real one is node-pty running an argv on the host — in
// svclab always `docker exec -it` into a container, never a host shell.

export interface PtySpawnOptions {
  cols: number;
  rows: number;
  env?: Record<string, string>;
}

export interface PtyProcess {
  readonly pid: number;
  onData(listener: (data: string) => void): void;
  onExit(listener: (e: { exitCode: number; signal?: number }) => void): void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  /** Stop reading output (flow control); output queues in the kernel, so the producer blocks. */
  pause(): void;
  resume(): void;
  kill(signal?: string): void;
}

export interface PtyFactory {
  spawn(argv: readonly string[], opts: PtySpawnOptions): PtyProcess;
}
