// The one way svclab runs a command: a Shell. Where it runs is the implementation's
// business, as a kind node *is* a command runner:
//   host                   ExecaRunner           (exec/execa-runner.ts)
//   a container, as a user ContainerShell        (engine/container-shell.ts)
//   a cluster node         nodeShell()           (cluster/node-shell.ts)
//   a pod                  Kubectl.podShell()    (kube/kubectl.ts)
//   tests                  FakeShell             (exec/fake-shell.ts)
// Everything else receives a Shell, so tests swap in a fake and nothing deep inside
// calls a process library. One result type for all of them: CommandResult.

export interface RunOptions {
  /** Milliseconds before the command (and its process group) is killed. Required: nothing runs forever. */
  timeoutMs: number;
  input?: string;
  /** Run as this user. Containers, nodes and pods only: the host shell refuses it. */
  user?: string;
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

export interface Shell {
  run(argv: readonly string[], opts: RunOptions): Promise<CommandResult>;
}

/** Last lines of a command's output, for error details. */
export function outputTail(result: Pick<CommandResult, 'stdout' | 'stderr'>, lines = 20): string {
  const all = `${result.stdout}\n${result.stderr}`.trim().split('\n');
  return all.slice(-lines).join('\n');
}

/** The last non-empty line of a command's output, for one-line messages. */
export function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '(no output)';
}

/** A CommandResult for a command that ran elsewhere and reported only its exit and output. */
export function commandResult(argv: readonly string[], r: Partial<CommandResult>): CommandResult {
  return { argv: [...argv], exitCode: 0, stdout: '', stderr: '', timedOut: false, aborted: false, durationMs: 0, ...r };
}
