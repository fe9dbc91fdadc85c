// The `observed-command` check: a `command` check whose script also gets what a
// program printed at another vantage point (a node, as root). For facts only a node
// can see, judged against what the learner wrote in the workstation: lab 16 reads
// the control-plane node's conntrack table and compares it with ~/answers.
//
// Each attempt first runs `observe.argv` at `observe.from`, then the workstation
// script with that output appended to its argv as the last argument (`$1` after
// `sh -c SCRIPT sh`); exit codes, failures and polling are the command kind's own.
// The learner's shell never reaches the node: the runner runs the observation.
import { z } from 'zod';
import { checkBaseShape, strict, vantageSchema, type Lang } from '../check-schema.ts';
import type { CheckContext, CheckKindDef, CheckResult } from '../check.ts';
import { cannotRun, lastLine, vantageOf } from '../poll-check.ts';
import { VantageUnavailable } from '../vantage.ts';
import { commandCheckSchema, runCommandCheck, type CommandCheck } from './command.ts';

/** The observation is passed on argv: keep it well under ARG_MAX. */
const MAX_OBSERVATION_BYTES = 256 * 1024;

export const observedCommandCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('observed-command'),
  observe: strict({
    /** Where the observation runs: a node (as root) or a pod; not the workstation (that is plain `command`). */
    from: vantageSchema.refine((v) => v.startsWith('node:') || v.startsWith('pod:'), {
      message: 'a node or pod vantage point like node:control-plane (the workstation is what `command` is for)',
    }),
    /** A fixed argv, never built from learner input. */
    argv: z.array(z.string()).min(1),
    timeoutSeconds: z.number().gt(0).max(30).default(15),
  }),
  argv: commandCheckSchema.shape.argv,
  expectExit: commandCheckSchema.shape.expectExit,
  failures: commandCheckSchema.shape.failures,
}).superRefine((check, ctx) => {
  check.failures.forEach((f, i) => {
    if (f.exitCode === check.expectExit) {
      ctx.addIssue({ code: 'custom', path: ['failures', i, 'exitCode'], message: `an exit code other than expectExit (${check.expectExit})` });
    }
  });
});
export type ObservedCommandCheck = z.infer<typeof observedCommandCheckSchema>;

const texts = {
  en: {
    couldNotObserve: (from: string, why: string) => `The check could not run: could not look at ${from}: ${why}`,
    hint: 'This says nothing about your cluster yet. Press Check again in a moment; if it keeps happening, the cluster may be restarting.',
    failed: (code: number, line: string) => `the observation exited ${code}${line ? ` (${line})` : ''}`,
  },
  zh: {
    couldNotObserve: (from: string, why: string) => `检查无法运行：没能查看 ${from}：${why}`,
    hint: '这并不说明你的集群有问题。稍等片刻再点一次“检查”；如果一直这样，集群可能正在重启。',
    failed: (code: number, line: string) => `观察命令以 ${code} 退出${line ? `（${line}）` : ''}`,
  },
} satisfies Record<Lang, unknown>;

export async function runObservedCommandCheck(check: ObservedCommandCheck, ctx: CheckContext): Promise<CheckResult> {
  const lang: Lang = ctx.lang ?? 'en';
  const t = texts[lang];
  const vantage = vantageOf(ctx);
  const deadline = ctx.now() + check.deadlineSeconds * 1000;
  const intervalMs = check.intervalSeconds * 1000;
  const error = (why: string): CheckResult => ({
    checkId: check.id,
    kind: check.kind,
    status: 'error',
    message: t.couldNotObserve(check.observe.from, why),
    hint: t.hint,
    details: { expected: explainObservedCommandCheck(check), observed: why },
  });

  let last: CheckResult | undefined;
  for (;;) {
    let observed: string;
    try {
      const r = await vantage.exec(check.observe.from, check.observe.argv, { timeoutMs: check.observe.timeoutSeconds * 1000, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      const program = check.observe.argv[0] ?? '';
      const cannot = cannotRun(r.exitCode, r.stderr, check.observe.from, program);
      if (cannot) return error(cannot);
      // A program that looked and found nothing may exit non-zero (conntrack with no match
      // exits 1 on some versions): its output, empty or not, is still the observation.
      if (r.exitCode !== 0 && r.stdout.trim() === '' && r.exitCode !== 1) return error(t.failed(r.exitCode, lastLine(r.stderr)));
      observed = r.stdout.length > MAX_OBSERVATION_BYTES ? r.stdout.slice(-MAX_OBSERVATION_BYTES) : r.stdout;
    } catch (e) {
      if (e instanceof VantageUnavailable) return error(e.message);
      throw e;
    }
    // Exactly one attempt of the command kind with this observation: its interval equals its
    // deadline, which is what is left of ours (at least an interval, at most 30 s).
    const left = Math.min(30, Math.max(check.intervalSeconds, Math.round((deadline - ctx.now()) / 1000)));
    const once: CommandCheck = {
      id: check.id,
      kind: 'command',
      description: check.description,
      deadlineSeconds: left,
      intervalSeconds: left,
      argv: [...check.argv, observed],
      expectExit: check.expectExit,
      failures: check.failures,
      ...(check.hint ? { hint: check.hint } : {}),
    };
    const r = await runCommandCheck(once, ctx);
    last = { ...r, kind: check.kind };
    if (r.status !== 'fail') return last;
    const final = check.failures.some((f) => !f.retry && r.details?.observed.startsWith(`exit code ${f.exitCode} `));
    if (final || ctx.signal?.aborted || ctx.now() + intervalMs >= deadline) return last;
    await ctx.sleep(intervalMs, ctx.signal);
  }
}

export function explainObservedCommandCheck(check: ObservedCommandCheck): string {
  const obs = check.observe.argv.join(' ');
  const argv = check.argv.join(' ').replace(/\s+/g, ' ').trim();
  return `runs \`${obs}\` at ${check.observe.from}, then \`${argv.length > 100 ? `${argv.slice(0, 99)}…` : argv}\` in the workstation with that output as its last argument, and expects exit code ${check.expectExit}`;
}

export const observedCommandKind = {
  schema: observedCommandCheckSchema,
  run: runObservedCommandCheck,
  explain: explainObservedCommandCheck,
} satisfies CheckKindDef<ObservedCommandCheck>;
