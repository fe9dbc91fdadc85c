import { commandResult, type CommandResult, type RunOptions, type Shell } from './shell.ts';

export type FakeResponder = (argv: readonly string[], opts: RunOptions) => Partial<CommandResult> | Promise<Partial<CommandResult>>;

/**
 * A Shell that answers commands from rules matched on the argv prefix, and records
 * every call. An unmatched command exits 127 like a missing binary, so a test never
 * passes by accident on a command it did not expect.
 */
export class FakeShell implements Shell {
  readonly calls: { argv: readonly string[]; opts: RunOptions }[] = [];
  private readonly rules: { prefix: readonly string[]; respond: FakeResponder }[] = [];

  on(prefix: readonly string[], respond: FakeResponder | Partial<CommandResult>): this {
    this.rules.push({ prefix, respond: typeof respond === 'function' ? respond : () => respond });
    return this;
  }

  async run(argv: readonly string[], opts: RunOptions): Promise<CommandResult> {
    this.calls.push({ argv, opts });
    if (opts.signal?.aborted) return commandResult(argv, { exitCode: -1, aborted: true });
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const rule = this.rules[i]!;
      if (rule.prefix.every((p, j) => argv[j] === p)) return commandResult(argv, await rule.respond(argv, opts));
    }
    return commandResult(argv, { exitCode: 127, stderr: `fake: no rule for ${argv.join(' ')}` });
  }
}
