import type { CommandResult, CommandRunner, RunOptions } from './command-runner.ts';

export type FakeResponder = (argv: readonly string[], opts: RunOptions) => Partial<CommandResult> | Promise<Partial<CommandResult>>;

/**
 * Answers commands from rules matched on the argv prefix, and records every call.
 * An unmatched command exits 127 like a missing binary, so a test never passes
 * by accident on a command it did not expect.
 */
export class FakeCommandRunner implements CommandRunner {
  readonly calls: { argv: readonly string[]; opts: RunOptions }[] = [];
  private readonly rules: { prefix: readonly string[]; respond: FakeResponder }[] = [];

  on(prefix: readonly string[], respond: FakeResponder | Partial<CommandResult>): this {
    this.rules.push({ prefix, respond: typeof respond === 'function' ? respond : () => respond });
    return this;
  }

  async run(argv: readonly string[], opts: RunOptions): Promise<CommandResult> {
    this.calls.push({ argv, opts });
    if (opts.signal?.aborted) return this.result(argv, { exitCode: -1, aborted: true });
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const rule = this.rules[i]!;
      if (rule.prefix.every((p, j) => argv[j] === p)) return this.result(argv, await rule.respond(argv, opts));
    }
    return this.result(argv, { exitCode: 127, stderr: `fake: no rule for ${argv.join(' ')}` });
  }

  private result(argv: readonly string[], r: Partial<CommandResult>): CommandResult {
    return { argv, exitCode: 0, stdout: '', stderr: '', timedOut: false, aborted: false, durationMs: 0, ...r };
  }
}
