// `svclab validate --repeat N`: each lab is played N times; a case whose outcome differs
// between the runs is flaky. A flaky check is a lab bug even when most runs pass: a
// learner who did everything right sees it fail (or a learner who did nothing sees
// it pass), so it counts like a failure and makes validate exit non-zero.
//
// Runs are compared case by case, by (classname, name): `02-x.one` / `one: answer-set
// passes after the solution`. A case missing from a run (an earlier step broke, so
// later steps were skipped) or skipped in it did not run there: it is compared only
// over the runs where it ran, or the flaky case upstream would make every later
// check look flaky too.
import { validateLabs, validationResult, type LabValidation, type RunOutcome, type ValidateCase, type ValidateOptions, type ValidateResult } from './validate-labs.ts';

export type { RunOutcome };
export type RunStatus = RunOutcome['status'];

/** The most runs `--repeat` takes: each run of a lab replays every step on a live cluster. */
export const MAX_REPEAT = 20;

/**
 * validateLabs, each lab played `repeat` times in a row (each run starts from a clean
 * cluster, as one run does), the runs merged case by case.
 */
export async function validateRepeated(opts: ValidateOptions & { repeat: number }): Promise<ValidateResult> {
  if (!Number.isInteger(opts.repeat) || opts.repeat < 1) throw new Error(`validateRepeated: repeat ${opts.repeat}`);
  if (opts.repeat === 1) return validateLabs(opts);
  const now = opts.now ?? Date.now;
  const emit = opts.onStep ?? (() => {});
  const started = now();
  const labs: LabValidation[] = [];
  for (const lab of opts.labs) {
    const runs: LabValidation[] = [];
    for (let run = 1; run <= opts.repeat; run++) {
      if (run > 1 && opts.signal?.aborted) break;
      emit({ step: lab.id, state: 'info', detail: `run ${run} of ${opts.repeat}` });
      const r = (await validateLabs({ ...opts, labs: [lab] })).labs[0]!;
      runs.push(r);
      // A lab skipped for another kube-proxy mode is skipped every time.
      if (r.cases.length === 1 && r.cases[0]!.name === 'proxy mode' && r.cases[0]!.status === 'skipped') break;
    }
    labs.push(mergeRuns(runs));
  }
  return validationResult(labs, now() - started);
}

const key = (c: Pick<ValidateCase, 'classname' | 'name'>) => `${c.classname}\u0000${c.name}`;

/** Did these outcomes differ? Only runs where the case ran (passed, failed or errored) count. */
export function isFlaky(outcomes: readonly Pick<RunOutcome, 'status'>[]): boolean {
  return new Set(outcomes.map((o) => o.status).filter((s) => s !== 'not run' && s !== 'skipped')).size > 1;
}

/**
 * One lab's runs as one LabValidation: each case once, in the order the runs met it,
 * with its outcome per run; a case whose outcomes differ becomes `flaky`.
 */
export function mergeRuns(runs: readonly LabValidation[]): LabValidation {
  const first = runs[0];
  if (!first) throw new Error('mergeRuns: no runs');
  if (runs.length === 1) return first;
  const order: ValidateCase[] = [];
  const seen = new Set<string>();
  for (const r of runs) for (const c of r.cases) if (!seen.has(key(c))) { seen.add(key(c)); order.push(c); }

  const cases = order.map((c): ValidateCase => {
    const outcomes = runs.map((r, i): RunOutcome => {
      const found = r.cases.find((x) => key(x) === key(c));
      if (!found) return { run: i + 1, status: 'not run', durationMs: 0 };
      return { run: i + 1, status: found.status as RunStatus, durationMs: found.durationMs, ...(found.message ? { message: found.message } : {}), ...(found.detail ? { detail: found.detail } : {}) };
    });
    const ran = outcomes.filter((o) => o.status !== 'not run' && o.status !== 'skipped');
    const durationMs = Math.max(...outcomes.map((o) => o.durationMs));
    if (isFlaky(outcomes)) {
      const bad = ran.find((o) => o.status !== 'passed');
      return { name: c.name, classname: c.classname, status: 'flaky', durationMs, runs: outcomes, message: `flaky: ${summarize(outcomes)}${bad?.message ? ` — run ${bad.run}: ${bad.message}` : ''}`, detail: outcomesText(outcomes) };
    }
    // The same outcome wherever it ran: that run's case stands for all of them.
    const rep = ran[0] ? runs[ran[0].run - 1]!.cases.find((x) => key(x) === key(c))! : c;
    return { ...rep, durationMs, runs: outcomes };
  });
  return {
    lab: first.lab,
    ok: runs.every((r) => r.ok) && cases.every((c) => c.status !== 'flaky'),
    durationMs: runs.reduce((n, r) => n + r.durationMs, 0),
    cases,
    runs: runs.length,
  };
}

/** `passed in runs 1, 3; failed in run 2` (runs where it did not run are left out). */
export function summarize(outcomes: readonly RunOutcome[]): string {
  const by = new Map<RunStatus, number[]>();
  for (const o of outcomes) by.set(o.status, [...(by.get(o.status) ?? []), o.run]);
  return [...by].map(([s, rs]) => `${s} in run${rs.length === 1 ? '' : 's'} ${rs.join(', ')}`).join('; ');
}

/** The failure body: every run's outcome, with the message and detail of those that did not pass. */
export function outcomesText(outcomes: readonly RunOutcome[]): string {
  return outcomes.map((o) => {
    const head = `run ${o.run}: ${o.status}${o.status === 'not run' ? '' : ` (${(o.durationMs / 1000).toFixed(1)} s)`}`;
    if (o.status === 'passed' || o.status === 'not run') return head;
    const body = [o.message, o.detail].filter(Boolean).join('\n').split('\n').map((l) => `  ${l}`).join('\n');
    return body.trim() ? `${head}\n${body}` : head;
  }).join('\n');
}

/** Console lines for the summary: one per flaky case, `flaky 02-x.one › one: … passes after the solution: passed, failed, passed`. */
export function flakyLines(labs: readonly LabValidation[]): string[] {
  return labs.flatMap((l) => l.cases.filter((c) => c.status === 'flaky').map((c) =>
    `flaky ${c.classname} › ${c.name}: ${(c.runs ?? []).map((o) => o.status).join(', ')}`));
}
