// The `command` check: an argv run in the workstation, polled until it exits with
// the expected code or the deadline passes. The escape hatch of issue 6's engine.
import { z } from 'zod';
import { ContainerShell } from '../../engine/container-shell.ts';
import { isRunnerError } from '../../errors.ts';
import type { CheckContext, CheckKindDef, CheckResult } from '../check.ts';
import { checkBaseShape, localizedSchema, strict, type Lang, type Localized } from '../check-schema.ts';

/** Failure modes a command signals by exit code, each with its own message and hint. */
const failureSchema = strict({
  exitCode: z.number().int().refine((n) => n >= 1 && n <= 123, {
    message: 'an exit code from 1 to 123 (124–127 and above mean a timeout or a command that could not run)',
  }),
  message: localizedSchema,
  hint: localizedSchema.optional(),
  /** `error` when this exit means the command could not observe (the API is unreachable, say). */
  status: z.enum(['fail', 'error']).default('fail'),
  /** false: waiting cannot change this outcome (the learner hasn't acted yet), so answer at once. */
  retry: z.boolean().default(true),
});

export const commandCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('command'),
  /** Run in the workstation container; a fixed argv, never built from learner input. */
  argv: z.array(z.string()).min(1),
  expectExit: z.number().int().min(0).max(255).default(0),
  failures: z.array(failureSchema).default([]),
}).superRefine((check, ctx) => {
  check.failures.forEach((f, i) => {
    if (f.exitCode === check.expectExit) {
      ctx.addIssue({ code: 'custom', path: ['failures', i, 'exitCode'], message: `an exit code other than expectExit (${check.expectExit})` });
    }
  });
});
export type CommandCheck = z.infer<typeof commandCheckSchema>;

/** No single attempt may hang the Check button for longer than this. */
const MAX_ATTEMPT_MS = 30_000;
const MIN_ATTEMPT_MS = 1_000;

type Attempt =
  | { kind: 'exit'; exitCode: number; output: string }
  | { kind: 'timeout'; timeoutMs: number };

const texts = {
  en: {
    notYet: (d: string) => `Not yet: ${d}`,
    saw: (line: string) => ` The check saw: "${line}"`,
    couldNotRun: (why: string) => `The check could not run: ${why}`,
    timedOut: (s: number) => `the check's command did not finish within ${s} s each time it ran`,
    cancelled: 'the check was cancelled',
    errorHint: 'This says nothing about your cluster yet. If the lab session was stopped or the workstation is gone, start the lab again; otherwise press Check again in a moment.',
  },
  zh: {
    notYet: (d: string) => `尚未通过：${d}`,
    saw: (line: string) => ` 检查看到的输出："${line}"`,
    couldNotRun: (why: string) => `检查无法运行：${why}`,
    timedOut: (s: number) => `检查命令每次都没能在 ${s} 秒内结束`,
    cancelled: '检查已被取消',
    errorHint: '这并不说明你的集群有问题。如果实验会话已停止或 workstation 容器已不在，请重新开始实验；否则稍等片刻再点一次 Check。',
  },
} satisfies Record<Lang, unknown>;

export async function runCommandCheck(check: CommandCheck, ctx: CheckContext): Promise<CheckResult> {
  const lang: Lang = ctx.lang ?? 'en';
  const t = texts[lang];
  const base = { checkId: check.id, kind: check.kind } as const;
  const expected = `exit code ${check.expectExit} from: ${check.argv.join(' ').slice(0, 200)}`;
  // The workstation as the learner: files the learner wrote (~/answers) are where the check looks.
  const workstation = new ContainerShell(ctx.engine, ctx.workstation, ctx.user === undefined ? {} : { user: ctx.user });
  const started = ctx.now();
  const deadline = started + check.deadlineSeconds * 1000;
  const intervalMs = check.intervalSeconds * 1000;
  let attempts = 0;
  let last: Attempt | undefined;

  const error = (why: string, hint?: string): CheckResult => ({
    ...base,
    status: 'error',
    message: t.couldNotRun(why),
    hint: hint ?? t.errorHint,
    details: { expected, observed: `could not run (${attempts} attempt${attempts === 1 ? '' : 's'}): ${why}` },
  });

  for (;;) {
    if (ctx.signal?.aborted) return error(t.cancelled);
    const timeoutMs = Math.min(MAX_ATTEMPT_MS, Math.max(MIN_ATTEMPT_MS, deadline - ctx.now()));
    attempts++;
    try {
      const r = await workstation.run(check.argv, { timeoutMs });
      const output = `${r.stdout}\n${r.stderr}`.trim();
      if (isTimeoutExit(r.exitCode)) {
        last = { kind: 'timeout', timeoutMs };
      } else {
        const cannot = cannotRunReason(r.exitCode, r.stderr);
        if (cannot) return error(cannot);
        if (r.exitCode === check.expectExit) {
          return { ...base, status: 'pass', message: check.description[lang], details: { expected, observed: `exit code ${r.exitCode}` } };
        }
        last = { kind: 'exit', exitCode: r.exitCode, output };
        const exitCode = r.exitCode;
        if (check.failures.some((f) => f.exitCode === exitCode && !f.retry)) break;
      }
    } catch (e) {
      if (isRunnerError(e) && e.code === 'COMMAND_TIMEOUT') {
        last = { kind: 'timeout', timeoutMs };
      } else if (isRunnerError(e)) {
        const output = (e.details as { output?: unknown } | undefined)?.output;
        const said = typeof output === 'string' ? lastOutputLine(output) : '';
        return error(said ? `${e.message} (${said})` : e.message, e.hint);
      } else {
        return error(e instanceof Error ? e.message : String(e));
      }
    }
    if (ctx.signal?.aborted) return error(t.cancelled);
    if (ctx.now() + intervalMs >= deadline) break;
    await ctx.sleep(intervalMs, ctx.signal);
  }

  const waited = Math.round((ctx.now() - started) / 1000);
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'} over ${waited} s`;
  if (!last || last.kind === 'timeout') {
    // We never learnt the answer: that is an error, never a fail.
    return error(t.timedOut(Math.round((last?.timeoutMs ?? MAX_ATTEMPT_MS) / 1000)));
  }
  const failure = check.failures.find((f) => f.exitCode === last.exitCode);
  if (failure?.status === 'error') return error(failure.message[lang], failure.hint?.[lang]);
  const lastLine = lastOutputLine(last.output);
  const message = failure ? failure.message[lang] : t.notYet(check.description[lang]) + (lastLine ? t.saw(lastLine) : '');
  const hint: Localized | undefined = failure?.hint ?? check.hint;
  const result: CheckResult = {
    ...base,
    status: 'fail',
    message,
    details: { expected, observed: `exit code ${last.exitCode} after ${tries}${last.output ? `; output: ${tail(last.output)}` : ''}` },
  };
  if (hint) result.hint = hint[lang];
  return result;
}

// timeout(1) exits 124; a killed process shows as a negative or 128+ code.
function isTimeoutExit(code: number): boolean {
  return code === 124 || code < 0 || code === 137 || code === 143;
}

/** Exit codes and messages that mean the command never ran, so its answer is unknown. */
function cannotRunReason(exitCode: number, stderr: string): string | undefined {
  const daemon = /Error response from daemon:[^\n]*|No such container[^\n]*|is not running[^\n]*|Cannot connect to the Docker daemon[^\n]*/i.exec(stderr);
  if (daemon) return `docker said: ${daemon[0].trim()}`;
  if (exitCode === 125) return `docker could not run the command: ${lastOutputLine(stderr) || 'exit code 125'}`;
  if (exitCode === 126) return `the command is not executable in the workstation: ${lastOutputLine(stderr) || 'exit code 126'}`;
  if (exitCode === 127) return `a program the check needs is missing in the workstation: ${lastOutputLine(stderr) || 'exit code 127'}`;
  return undefined;
}

function lastOutputLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.at(-1) ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function tail(output: string, lines = 8): string {
  const t = output.split('\n').slice(-lines).join('\n');
  return t.length > 2000 ? `…${t.slice(-2000)}` : t;
}

export function explainCommandCheck(check: CommandCheck): string {
  const argv = check.argv.join(' ').replace(/\s+/g, ' ').trim();
  return `runs \`${argv.length > 120 ? `${argv.slice(0, 119)}…` : argv}\` in the workstation as the learner and expects exit code ${check.expectExit}`;
}

export const commandKind = { schema: commandCheckSchema, run: runCommandCheck, explain: explainCommandCheck } satisfies CheckKindDef<CommandCheck>;
