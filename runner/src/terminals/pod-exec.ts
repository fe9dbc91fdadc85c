// Commands in a pod's container through the Kubernetes API (the exec subresource), as
// streams: what a KubeExecTerminal needs, and all it needs, so tests swap in FakePodExec.
// No tty: the bytes a command writes arrive as written (a tty would turn \n into \r\n
// and eat ^C); the learner's shell has a pty of its own inside the pod (svclab-term).

export interface PodTarget {
  namespace: string;
  pod: string;
  container: string;
}

export interface ExecEnd {
  /** The command's exit code, when the API server reported one. */
  exitCode?: number;
  /** Why it ended otherwise: the API server's message, or the connection's error. */
  message?: string;
  /** The connection ended without the API server's final status (a dropped connection). */
  dropped: boolean;
}

export interface ExecStream {
  write(data: Buffer): void;
  /** Stop reading the command's output (flow control): it backs up into the pod. */
  pause(): void;
  resume(): void;
  /** Hang up: the command's stdin closes. */
  close(): void;
  /** Drop the connection as a killed replica's would: no goodbye (tests of that). */
  abort(): void;
  /** Settles once the stream is over, however it ended; never rejects. */
  readonly done: Promise<ExecEnd>;
}

export interface ExecHandlers {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
}

export interface PodExec {
  /** Start `command` with stdin, stdout and stderr; rejects when it cannot be started. */
  open(target: PodTarget, command: readonly string[], handlers: ExecHandlers): Promise<ExecStream>;
  /** Run `command` to its end (no stdin), within `timeoutMs`. */
  run(target: PodTarget, command: readonly string[], timeoutMs: number): Promise<{ exitCode?: number; stdout: string; stderr: string; message?: string }>;
}

/** Run a command through `open` and collect what it printed: the one `run` for every PodExec. */
export async function runThrough(exec: Pick<PodExec, 'open'>, target: PodTarget, command: readonly string[], timeoutMs: number): Promise<{ exitCode?: number; stdout: string; stderr: string; message?: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stream = await exec.open(target, command, { stdout: (b) => out.push(b), stderr: (b) => err.push(b) });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<ExecEnd>((resolve) => {
    timer = setTimeout(() => {
      stream.close();
      resolve({ dropped: true, message: `${command.join(' ')} did not finish within ${timeoutMs} ms` });
    }, timeoutMs);
  });
  const end = await Promise.race([stream.done, timedOut]);
  clearTimeout(timer);
  return {
    ...(end.exitCode === undefined ? {} : { exitCode: end.exitCode }),
    ...(end.message === undefined ? {} : { message: end.message }),
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}
