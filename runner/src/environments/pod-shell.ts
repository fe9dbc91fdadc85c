// A Shell in one container of a pod, through the Kubernetes API's exec (PodExecutor):
// the environment pod's `node` container is the learner cluster's node (root), its
// `workstation` container the learner's shell. What a Shell promises, kept here:
//   - a timeout that stops the command itself, not only our wait for it: the argv runs
//     under coreutils' `timeout` in the container (both images have it), so a command
//     that hangs is killed there (exit 124 → timedOut) and never outlives its call;
//   - `env` and `cwd` as the container sees them (`env K=V …`, `cd DIR`);
//   - `user`: an exec runs as the container's user; asking for another is refused.
import { commandResult, type CommandResult, type RunOptions, type Shell } from '../exec/shell.ts';
import type { PodExecutor } from '../kube-store/pod-executor.ts';

/** Time the socket waits beyond the in-container timeout for its exit status to arrive. */
const SOCKET_GRACE_MS = 10_000;

export interface PodShellOptions {
  pod: string;
  container: string;
  /** The container's user (the exec runs as it); a call may name it, not another. */
  user: string;
}

export class PodShell implements Shell {
  private readonly exec: PodExecutor;
  readonly o: PodShellOptions;

  constructor(exec: PodExecutor, o: PodShellOptions) {
    this.exec = exec;
    this.o = o;
  }

  /** The argv the container runs for `argv` with these options (exported for tests). */
  wrap(argv: readonly string[], opts: Pick<RunOptions, 'timeoutMs' | 'env' | 'cwd'>): string[] {
    if (!argv.length) throw new Error('PodShell.run: empty argv');
    const secs = Math.max(1, Math.ceil(opts.timeoutMs / 1000));
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    // `timeout -k 2`: SIGTERM at the deadline, SIGKILL 2 s later if it is still there.
    const timed = ['timeout', '-k', '2', String(secs), ...(env.length ? ['env', ...env] : []), ...argv];
    return opts.cwd === undefined ? timed : ['sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh', opts.cwd, ...timed];
  }

  async run(argv: readonly string[], opts: RunOptions): Promise<CommandResult> {
    if (opts.user !== undefined && opts.user !== this.o.user) {
      throw new Error(`PodShell: container ${this.o.container} of pod ${this.o.pod} runs as ${this.o.user}; an exec cannot run as ${opts.user}`);
    }
    if (opts.signal?.aborted) return commandResult(argv, { exitCode: -1, aborted: true });
    const started = performance.now();
    const r = await this.exec.exec({
      pod: this.o.pod, container: this.o.container, argv: this.wrap(argv, opts),
      timeoutMs: opts.timeoutMs + SOCKET_GRACE_MS,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    // coreutils' timeout exits 124 (TERM) or 137 (the KILL after -k) when it stopped the command.
    const timedOut = r.timedOut || r.exitCode === 124 || (r.exitCode === 137 && performance.now() - started >= opts.timeoutMs);
    if (opts.onOutput) {
      if (r.stdout) opts.onOutput(r.stdout, 'stdout');
      if (r.stderr) opts.onOutput(r.stderr, 'stderr');
    }
    return commandResult(argv, { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut, aborted: r.aborted, durationMs: performance.now() - started });
  }
}
