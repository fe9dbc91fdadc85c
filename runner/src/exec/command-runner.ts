// The one way svclab starts processes. Everything else receives a CommandRunner,
// so tests swap in FakeCommandRunner and nothing deep inside calls a process library.

export interface RunOptions {
  /** Milliseconds before the process group is killed. Required: nothing runs forever. */
  timeoutMs: number;
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Called with each chunk of stdout/stderr as it arrives (progress output). */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

/** A finished command is data, not an exception: callers decide what failure means. */
export interface CommandResult {
  argv: readonly string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
}

export interface CommandRunner {
  run(argv: readonly string[], opts: RunOptions): Promise<CommandResult>;
}

/** Last lines of a command's output, for error details. */
export function outputTail(result: Pick<CommandResult, 'stdout' | 'stderr'>, lines = 20): string {
  const all = `${result.stdout}\n${result.stderr}`.trim().split('\n');
  return all.slice(-lines).join('\n');
}
