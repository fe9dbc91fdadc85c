import { execa } from 'execa';
import type { CommandResult, RunOptions, Shell } from './shell.ts';

const KILL_GRACE_MS = 2000;

/** The host Shell: processes on this machine, as the runner's own user. */
export class ExecaRunner implements Shell {
  async run(argv: readonly string[], opts: RunOptions): Promise<CommandResult> {
    const [file, ...args] = argv;
    if (!file) throw new Error('ExecaRunner.run: empty argv');
    // Switching users on the host would need sudo; svclab never does that.
    if (opts.user !== undefined) throw new Error(`ExecaRunner.run: the host shell runs as the runner's user, not ${opts.user}`);
    const started = performance.now();
    const child = execa(file, args, {
      input: opts.input,
      cwd: opts.cwd,
      env: opts.env,
      extendEnv: true,
      // Its own process group, so a timeout or abort reaches everything it started
      // (a `docker exec` and its children, a build script's subshells).
      detached: true,
      reject: false,
      stripFinalNewline: false,
      encoding: 'utf8',
      stdin: opts.input === undefined ? 'ignore' : 'pipe',
    });
    let timedOut = false;
    let aborted = false;
    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try { process.kill(-child.pid, sig); } catch { /* group already gone */ }
    };
    let hardKill: NodeJS.Timeout | undefined;
    const stop = () => {
      signalGroup('SIGTERM');
      hardKill ??= setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => { timedOut = true; stop(); }, opts.timeoutMs);
    const onAbort = () => { aborted = true; stop(); };
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.onOutput) {
      const onOutput = opts.onOutput;
      child.stdout?.on('data', (b: Buffer) => onOutput(b.toString('utf8'), 'stdout'));
      child.stderr?.on('data', (b: Buffer) => onOutput(b.toString('utf8'), 'stderr'));
    }
    const r = await child;
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    // Leave nothing behind: children that outlived the leader get the group kill too.
    if (timedOut || aborted) signalGroup('SIGKILL');
    if (hardKill) clearTimeout(hardKill);
    const stderr = typeof r.stderr === 'string' ? r.stderr : '';
    const spawnFailed = r.exitCode === undefined && r.signal === undefined;
    return {
      argv: [...argv],
      exitCode: typeof r.exitCode === 'number' ? r.exitCode : -1,
      stdout: typeof r.stdout === 'string' ? r.stdout : '',
      // A program that could not start has no stderr; its reason is in execa's message.
      stderr: spawnFailed && !stderr ? String(r.message ?? '') : stderr,
      timedOut,
      aborted,
      durationMs: performance.now() - started,
    };
  }
}
