import { execa } from 'execa';
import type { CommandResult, CommandRunner, RunOptions } from './command-runner.ts';

export class ExecaRunner implements CommandRunner {
  async run(argv: readonly string[], opts: RunOptions): Promise<CommandResult> {
    const [file, ...args] = argv;
    if (!file) throw new Error('ExecaRunner.run: empty argv');
    const started = performance.now();
    const child = execa(file, args, {
      timeout: opts.timeoutMs,
      input: opts.input,
      cwd: opts.cwd,
      env: opts.env,
      extendEnv: true,
      cancelSignal: opts.signal,
      // Own process group, so a timeout or abort kills everything the command started.
      detached: true,
      forceKillAfterDelay: 2000,
      reject: false,
      stripFinalNewline: false,
      encoding: 'utf8',
      stdin: opts.input === undefined ? 'ignore' : 'pipe',
    });
    const killGroup = () => {
      if (child.pid !== undefined) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    };
    opts.signal?.addEventListener('abort', killGroup, { once: true });
    const timer = setTimeout(killGroup, opts.timeoutMs + 2500);
    if (opts.onOutput) {
      const onOutput = opts.onOutput;
      child.stdout?.on('data', (b: Buffer) => onOutput(b.toString('utf8'), 'stdout'));
      child.stderr?.on('data', (b: Buffer) => onOutput(b.toString('utf8'), 'stderr'));
    }
    const r = await child;
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', killGroup);
    if (r.timedOut || r.isCanceled) killGroup();
    return {
      argv: [...argv],
      exitCode: typeof r.exitCode === 'number' ? r.exitCode : (r.failed ? -1 : 0),
      stdout: typeof r.stdout === 'string' ? r.stdout : '',
      stderr: typeof r.stderr === 'string' ? r.stderr : (r.failed && !r.stderr ? String(r.message ?? '') : ''),
      timedOut: Boolean(r.timedOut),
      aborted: Boolean(r.isCanceled),
      durationMs: performance.now() - started,
    };
  }
}
