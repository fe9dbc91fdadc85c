// The deadline-and-interval loop every API and vantage-point check shares: observe,
// return at once on a pass (or an outcome waiting can't change), otherwise poll
// until the deadline and report the last observation.
import type { CheckBase, Lang } from './check-schema.ts';
import type { CheckContext, CheckResult, CheckStatus } from './check.ts';
import { KubeApiError } from './kube-api.ts';
import { ClusterVantageExec, VantageUnavailable, type VantageExec } from './vantage.ts';

/** No single attempt may hang the Check button for longer than this. */
export const MAX_ATTEMPT_MS = 30_000;
/** A docker exec on a busy machine takes a while: even the last attempt before the deadline gets this long. */
const MIN_ATTEMPT_MS = 5_000;

export interface Observation {
  status: CheckStatus;
  message: string;
  hint?: string;
  expected: string;
  observed: string;
  /** Waiting cannot change this outcome: answer now instead of polling on. */
  final?: boolean;
  /** The hint names the learner's own objects (this Secret, that Ingress): it goes before the lab's general hint. */
  hintNamesObjects?: boolean;
}

const texts = {
  en: {
    couldNotRun: (why: string) => `The check could not run: ${why}`,
    cancelled: 'the check was cancelled',
    noCluster: 'there is no Kubernetes cluster for this session, so the check cannot look at it',
    errorHint: 'This says nothing about your cluster yet. If the cluster or the lab session was stopped, start it again; otherwise press Check again in a moment.',
    attempts: (n: number, s: number) => ` (${n} attempt${n === 1 ? '' : 's'} over ${s} s)`,
  },
  zh: {
    couldNotRun: (why: string) => `检查无法运行：${why}`,
    cancelled: '检查已被取消',
    noCluster: '这个会话还没有 Kubernetes 集群，检查无从查看',
    errorHint: '这并不说明你的集群有问题。如果集群或实验会话已停止，请重新启动；否则稍等片刻再点一次 Check。',
    attempts: (n: number, s: number) => `（${s} 秒内尝试了 ${n} 次）`,
  },
} satisfies Record<Lang, unknown>;

export function langOf(ctx: CheckContext): Lang {
  return ctx.lang ?? 'en';
}

/** Pick the text for the learner's language. */
export function say<T extends Record<Lang, unknown>>(ctx: CheckContext, t: T): T[Lang] {
  return t[langOf(ctx)];
}

/** The KubeApi, or an error observation when the session has no cluster. */
export function kubeOf(ctx: CheckContext) {
  if (!ctx.kube) throw new NoCluster();
  return ctx.kube;
}

/** The vantage port; without one, the workstation alone (through the engine). */
export function vantageOf(ctx: CheckContext): VantageExec {
  return ctx.vantage ?? new ClusterVantageExec({ engine: ctx.engine, workstation: ctx.workstation, ...(ctx.user ? { user: ctx.user } : {}) });
}

class NoCluster extends Error {}

/**
 * Runs `observe` until it passes, says its outcome is final, or the deadline
 * comes. KubeApiError and VantageUnavailable become `error` (retried until the
 * deadline: the API may be restarting); an observation never becomes a pass by
 * default.
 */
export async function pollCheck(check: CheckBase, ctx: CheckContext, observe: (attempt: { timeoutMs: number; n: number }) => Promise<Observation>): Promise<CheckResult> {
  const t = say(ctx, texts);
  const lang = langOf(ctx);
  const started = ctx.now();
  const deadline = started + check.deadlineSeconds * 1000;
  const intervalMs = check.intervalSeconds * 1000;
  let n = 0;
  let last: Observation | undefined;
  /** The last answer the cluster gave (a fail), kept when a later attempt could not run. */
  let lastFail: Observation | undefined;

  for (;;) {
    if (ctx.signal?.aborted) {
      last = errorObservation(t.cancelled, last);
      break;
    }
    n++;
    const timeoutMs = Math.min(MAX_ATTEMPT_MS, Math.max(MIN_ATTEMPT_MS, deadline - ctx.now()));
    try {
      last = await observe({ timeoutMs, n });
    } catch (e) {
      if (e instanceof NoCluster) {
        last = { ...errorObservation(t.noCluster, last), final: true };
      } else if (e instanceof KubeApiError || e instanceof VantageUnavailable) {
        last = errorObservation(e.message, last);
      } else {
        // A bug in a check must not look like the learner's fault or like a pass.
        last = { ...errorObservation(`internal error in the ${check.kind} check: ${e instanceof Error ? e.message : String(e)}`, last), final: true };
      }
    }
    if (last.status === 'fail') lastFail = last;
    if (last.status === 'pass' || last.final) break;
    if (ctx.signal?.aborted) continue;
    if (ctx.now() + intervalMs >= deadline) break;
    await ctx.sleep(intervalMs, ctx.signal);
  }

  // A timeout or a hiccup on the last attempt doesn't erase what an earlier one saw;
  // a cancellation or a final error (no cluster, a bug) is reported as such.
  if (last.status === 'error' && lastFail && !last.final && !ctx.signal?.aborted) last = lastFail;
  const waited = Math.round((ctx.now() - started) / 1000);
  const result: CheckResult = {
    checkId: check.id,
    kind: check.kind,
    status: last.status,
    message: last.status === 'error' ? t.couldNotRun(last.message) : last.message,
    details: { expected: last.expected, observed: last.status === 'pass' ? last.observed : last.observed + t.attempts(n, waited) },
  };
  const failHint = last.hintNamesObjects && last.hint ? last.hint : check.hint?.[lang] ?? last.hint;
  const hint = last.status === 'error' ? last.hint ?? t.errorHint : last.status === 'fail' ? failHint : undefined;
  if (hint) result.hint = hint;
  return result;
}

function errorObservation(why: string, last: Observation | undefined): Observation {
  return { status: 'error', message: why, expected: last?.expected ?? '', observed: `could not run: ${why}` };
}

/** `a, b and 3 more` for lists in messages. */
export function listNames(names: readonly string[], max = 4): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} +${names.length - max}`;
}

/** Pod names as the learner sees them in `kubectl get pods`: nginx-7d9c-abcde, nginx-7d9c-fghij → nginx-7d9c-*. */
export function podGroup(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return names[0]!;
  let prefix = names[0]!;
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const cut = prefix.lastIndexOf('-');
  return cut > 0 ? `${prefix.slice(0, cut + 1)}*` : listNames(names);
}

/** Short output for details. */
export function tail(output: string, lines = 8): string {
  const t = output.trim().split('\n').slice(-lines).join('\n');
  return t.length > 1500 ? `…${t.slice(-1500)}` : t;
}

export function lastLine(output: string): string {
  const l = output.split('\n').map((x) => x.trim()).filter(Boolean).at(-1) ?? '';
  return l.length > 300 ? `${l.slice(0, 300)}…` : l;
}

/**
 * Exit codes that mean the program never ran at the vantage point (missing tool,
 * timeout), so the check learnt nothing: an `error`.
 */
export function cannotRun(exitCode: number, stderr: string, vantage: string, program: string): string | undefined {
  if (exitCode === 127) return `${program} is not installed at ${vantage} (${lastLine(stderr) || 'exit 127'})`;
  if (exitCode === 126) return `${program} cannot be executed at ${vantage} (${lastLine(stderr) || 'exit 126'})`;
  if (exitCode === 124 || exitCode === 137 || exitCode === 143 || exitCode < 0) return `${program} at ${vantage} did not finish in time`;
  return undefined;
}
