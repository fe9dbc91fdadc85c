// `svclab validate [LAB…] [--junit FILE]`: each lab played on a real cluster the
// way a learner plays it, through LabActions as the learner's identity. For each
// step every check must FAIL before the step's solution (a check that already
// passes cannot tell the learner's work from the starting state: a lab bug), then
// LabActions.solve (exactly the Solve button) and every check must pass. After the
// last step LabActions.reset (exactly the Reset lab button) must bring the lab
// back: step 1's checks fail again, or Reset is broken for learners.
import type { CheckResult } from '../checks/check.ts';
import { explainCheck, type Check } from '../checks/registry.ts';
import { isRunnerError } from '../errors.ts';
import type { Lab, LabStep } from '../labs/load-labs.ts';
import type { LabActions } from './lab-actions.ts';

export interface ValidateEvent {
  /** `02-selectors-and-endpoints` for a lab, `02-selectors-and-endpoints/observe` for a step. */
  step: string;
  state: 'start' | 'done' | 'fail' | 'skip' | 'info';
  detail?: string;
}

/** Where validate plays the labs; tests pass one over fakes. */
export interface ValidateTarget {
  /**
   * Before a lab: the cluster back to how it was provisioned (what the warm pool's
   * recycle does between learners), so one lab's leftovers can't decide another's checks.
   */
  clean(lab: Lab): Promise<readonly string[] | void>;
  /** LabActions for this lab, acting as the learner (the workstation's kubectl, as `learner`). */
  actions(lab: Lab): LabActions;
  /** kube-proxy's mode now; a lab with `proxyMode` is skipped on a cluster in another mode. */
  proxyMode?(): Promise<string | undefined>;
}

export interface ValidateOptions {
  labs: readonly Lab[];
  target: ValidateTarget;
  onStep?: (e: ValidateEvent) => void;
  /**
   * Cap on each check's deadline in the must-fail runs: a fail only comes at the
   * deadline, and the state has settled by then (default 10 s).
   */
  beforeDeadlineSeconds?: number;
  /**
   * Cap after Reset lab; default: the must-fail cap. (4 s was too short on a live
   * cluster: right after Reset a workstation kubectl can take longer than that.)
   */
  afterResetDeadlineSeconds?: number;
  now?: () => number;
  signal?: AbortSignal;
}

/** `flaky`: its outcome differed between the runs of `--repeat N` (validate-repeat.ts). */
export type CaseStatus = 'passed' | 'failed' | 'error' | 'skipped' | 'flaky';

/** One case's outcome in one run of `--repeat N`. */
export interface RunOutcome {
  /** 1-based. */
  run: number;
  status: Exclude<CaseStatus, 'flaky'> | 'not run';
  durationMs: number;
  message?: string;
  detail?: string;
}

export interface ValidateCase {
  /** `setup`, `observe: no-endpoints-noted fails before the solution`, … */
  name: string;
  /** lab id, or `lab.step`. */
  classname: string;
  status: CaseStatus;
  durationMs: number;
  message?: string;
  detail?: string;
  /** With `--repeat N`: the outcome in each run. */
  runs?: RunOutcome[];
}

export interface LabValidation {
  lab: string;
  ok: boolean;
  durationMs: number;
  cases: ValidateCase[];
  /** With `--repeat N`: how many times the lab was played. */
  runs?: number;
}

export interface ValidateResult {
  ok: boolean;
  labs: LabValidation[];
  /** Number of failed or errored cases. */
  violations: number;
  /** Number of cases whose outcome differed between runs (`--repeat N`). */
  flaky: number;
  durationMs: number;
  /** JUnit XML, one testsuite per lab. */
  junit: string;
}

const DEFAULT_BEFORE_DEADLINE_S = 10;

export async function validateLabs(opts: ValidateOptions): Promise<ValidateResult> {
  const now = opts.now ?? Date.now;
  const emit = opts.onStep ?? (() => {});
  const started = now();
  const labs: LabValidation[] = [];
  for (const lab of opts.labs) {
    if (opts.signal?.aborted) {
      labs.push({ lab: lab.id, ok: false, durationMs: 0, cases: [{ name: 'validate', classname: lab.id, status: 'skipped', durationMs: 0, message: 'cancelled' }] });
      emit({ step: lab.id, state: 'skip', detail: 'cancelled' });
      continue;
    }
    labs.push(await validateLab(lab, opts, now, emit));
  }
  return validationResult(labs, now() - started);
}

/** Counts, verdict and JUnit for played labs (one run each, or runs merged by validate-repeat.ts). */
export function validationResult(labs: LabValidation[], durationMs: number): ValidateResult {
  const count = (s: CaseStatus) => labs.reduce((n, l) => n + l.cases.filter((c) => c.status === s).length, 0);
  const violations = count('failed') + count('error');
  const flaky = count('flaky');
  return { ok: violations === 0 && flaky === 0 && labs.every((l) => l.ok), labs, violations, flaky, durationMs, junit: toJUnit(labs, durationMs) };
}

interface Run {
  actions: LabActions;
  opts: ValidateOptions;
  now: () => number;
}

async function validateLab(lab: Lab, opts: ValidateOptions, now: () => number, emit: (e: ValidateEvent) => void): Promise<LabValidation> {
  const t0 = now();
  const cases: ValidateCase[] = [];
  emit({ step: lab.id, state: 'start', detail: `${lab.steps.length} step${lab.steps.length === 1 ? '' : 's'}` });

  if (lab.proxyMode && opts.target.proxyMode) {
    const mode = await opts.target.proxyMode().catch(() => undefined);
    if (mode && mode !== lab.proxyMode) {
      const why = `the lab needs kube-proxy in ${lab.proxyMode} mode; this cluster runs ${mode}`;
      cases.push({ name: 'proxy mode', classname: lab.id, status: 'skipped', durationMs: 0, message: why });
      emit({ step: lab.id, state: 'skip', detail: why });
      return { lab: lab.id, ok: true, durationMs: now() - t0, cases };
    }
  }

  // Setup: a clean cluster, then what a new session does (Reset, which applies the setup).
  const setupStart = now();
  let run: Run;
  try {
    for (const note of (await opts.target.clean(lab)) ?? []) emit({ step: lab.id, state: 'info', detail: note });
    run = { actions: opts.target.actions(lab), opts, now };
    await run.actions.reset();
    cases.push({ name: 'setup', classname: lab.id, status: 'passed', durationMs: now() - setupStart });
  } catch (e) {
    const message = `setup failed: ${errorText(e)}`;
    cases.push({ name: 'setup', classname: lab.id, status: 'error', durationMs: now() - setupStart, message, ...detailOf(e) });
    for (const step of lab.steps) cases.push({ name: step.id, classname: `${lab.id}.${step.id}`, status: 'skipped', durationMs: 0, message: 'setup failed' });
    emit({ step: lab.id, state: 'fail', detail: message });
    return { lab: lab.id, ok: false, durationMs: now() - t0, cases };
  }

  let broken: string | undefined;
  for (const step of lab.steps) {
    const id = `${lab.id}/${step.id}`;
    const classname = `${lab.id}.${step.id}`;
    if (broken !== undefined || opts.signal?.aborted) {
      const why = opts.signal?.aborted ? 'cancelled' : `an earlier step (${broken}) did not reach its solved state`;
      cases.push({ name: step.id, classname, status: 'skipped', durationMs: 0, message: why });
      emit({ step: id, state: 'skip', detail: why });
      continue;
    }
    emit({ step: id, state: 'start', detail: `${step.checks.length} check${step.checks.length === 1 ? '' : 's'}` });
    const stepStart = now();
    const before = await mustFail(run, step, classname, 'before');
    cases.push(...before);
    for (const c of before) if (c.status !== 'passed') emit({ step: id, state: 'info', detail: c.message ?? c.name });

    const solved = await solve(run, step, classname);
    cases.push(solved);
    let after: ValidateCase[] = [];
    if (solved.status === 'passed') {
      after = await mustPass(run, step, classname);
      cases.push(...after);
    } else {
      emit({ step: id, state: 'info', detail: solved.message ?? 'the solution failed' });
    }
    const bad = [...before, solved, ...after].filter((c) => c.status === 'failed' || c.status === 'error');
    if (solved.status !== 'passed' || after.some((c) => c.status !== 'passed')) broken = step.id;
    const secs = Math.round((now() - stepStart) / 1000);
    emit(bad.length === 0 ? { step: id, state: 'done', detail: `${secs} s` } : { step: id, state: 'fail', detail: bad.map((c) => c.message ?? c.name).join('; ') });
  }

  // Reset lab, as the learner presses it: step 1 must be undone again.
  const first = lab.steps[0];
  if (first && !opts.signal?.aborted) {
    const id = `${lab.id}/reset`;
    const classname = `${lab.id}.reset`;
    emit({ step: id, state: 'start', detail: `Reset lab, then ${first.id}'s checks` });
    const t = now();
    let resetCases: ValidateCase[];
    try {
      await run.actions.reset();
      resetCases = [{ name: 'reset: Reset lab succeeds', classname, status: 'passed', durationMs: now() - t }, ...(await mustFail(run, first, classname, 'after-reset'))];
    } catch (e) {
      resetCases = [{ name: 'reset: Reset lab succeeds', classname, status: 'error', durationMs: now() - t, message: `Reset lab failed: ${errorText(e)}`, ...detailOf(e) }];
    }
    cases.push(...resetCases);
    const bad = resetCases.filter((c) => c.status !== 'passed');
    emit(bad.length === 0 ? { step: id, state: 'done', detail: `${Math.round((now() - t) / 1000)} s` } : { step: id, state: 'fail', detail: bad.map((c) => c.message ?? c.name).join('; ') });
  }

  const ok = cases.every((c) => c.status === 'passed');
  const durationMs = now() - t0;
  emit({ step: lab.id, state: ok ? 'done' : 'fail', detail: `${Math.round(durationMs / 1000)} s` });
  return { lab: lab.id, ok, durationMs, cases };
}

async function checkOnce(run: Run, check: Check, cap: number | undefined): Promise<CheckResult> {
  const r = await run.actions.runChecks([check], { ...(cap !== undefined ? { capDeadlineSeconds: cap } : {}), ...(run.opts.signal ? { signal: run.opts.signal } : {}) });
  return r.results[0]!;
}

/**
 * Each check, with its deadline capped, must come back `fail`: before the step's
 * solution (else a lab bug), or after Reset lab (else Reset is broken).
 */
async function mustFail(run: Run, step: LabStep, classname: string, when: 'before' | 'after-reset'): Promise<ValidateCase[]> {
  const cap = when === 'before' ? run.opts.beforeDeadlineSeconds ?? DEFAULT_BEFORE_DEADLINE_S : run.opts.afterResetDeadlineSeconds ?? run.opts.beforeDeadlineSeconds ?? DEFAULT_BEFORE_DEADLINE_S;
  // The step's checks only look, and nothing changes the cluster meanwhile: they wait out
  // the cap side by side, so a step of three checks costs one cap, not three.
  return Promise.all(step.checks.map(async (check): Promise<ValidateCase> => {
    const t = run.now();
    const r = await checkOnce(run, check, cap);
    const name = when === 'before' ? `${step.id}: ${check.id} fails before the solution` : `reset: ${step.id}: ${check.id} fails again after Reset lab`;
    const base = { name, classname, durationMs: run.now() - t };
    if (r.status === 'fail') return { ...base, status: 'passed', detail: r.message };
    if (r.status === 'pass') {
      const message = when === 'before'
        ? `lab bug: check ${check.id} passes before the step's solution, so it cannot tell the learner's work from the starting state (${r.message})`
        : `Reset regression: check ${check.id} of step ${step.id} still passes after Reset lab, so Reset does not bring the lab back to its setup state (${r.message})`;
      return { ...base, status: 'failed', message, detail: describe(check, r) };
    }
    return { ...base, status: 'error', message: `check ${check.id} could not run ${when === 'before' ? 'before the solution' : 'after Reset lab'}: ${r.message}`, detail: describe(check, r) };
  }));
}

async function mustPass(run: Run, step: LabStep, classname: string): Promise<ValidateCase[]> {
  const out: ValidateCase[] = [];
  for (const check of step.checks) {
    const t = run.now();
    const r = await checkOnce(run, check, undefined);
    const base = { name: `${step.id}: ${check.id} passes after the solution`, classname, durationMs: run.now() - t };
    if (r.status === 'pass') out.push({ ...base, status: 'passed', detail: r.message });
    else out.push({ ...base, status: r.status === 'fail' ? 'failed' : 'error', message: `check ${check.id} ${r.status === 'fail' ? 'still fails' : 'could not run'} after the solution: ${r.message}`, detail: describe(check, r) });
  }
  return out;
}

/** LabActions.solve: exactly what the learner's Solve button does, as the learner. */
async function solve(run: Run, step: LabStep, classname: string): Promise<ValidateCase> {
  const t = run.now();
  const name = `${step.id}: solution applies`;
  try {
    await run.actions.solve(step.id);
    return { name, classname, status: 'passed', durationMs: run.now() - t };
  } catch (e) {
    return { name, classname, status: 'error', durationMs: run.now() - t, message: `Solve failed for the learner: ${errorText(e)}`, ...detailOf(e) };
  }
}

/**
 * The failure body after the case's message (which already quotes what the check said):
 * what the check looks at (for the author), expected and observed.
 */
function describe(check: Check, r: CheckResult): string {
  return [`check ${check.id} (${check.kind}): ${explainCheck(check)}`, r.details ? `expected: ${r.details.expected}` : '', r.details ? `observed: ${r.details.observed}` : ''].filter(Boolean).join('\n');
}

/** A RunnerError's command and output (LabActions puts them in details) for the failure body. */
function detailOf(e: unknown): { detail?: string } {
  if (!isRunnerError(e)) return {};
  const d = e.details as { argv?: unknown; output?: unknown; server?: unknown } | undefined;
  const argv = Array.isArray(d?.argv) ? d.argv.join(' ') : '';
  const output = typeof d?.output === 'string' ? d.output : typeof d?.server === 'string' ? d.server : '';
  const text = [argv, output].filter(Boolean).join('\n---\n').slice(-2000);
  return text ? { detail: text } : {};
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function xml(s: string): string {
  // Control characters other than tab/newline are not allowed in XML 1.0.
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

export function toJUnit(labs: readonly LabValidation[], durationMs: number): string {
  // A flaky case is reported as a failure (type="flaky"): CI systems that know no other kind still stop on it.
  const count = (cs: readonly ValidateCase[], s: CaseStatus) => cs.filter((c) => c.status === s || (s === 'failed' && c.status === 'flaky')).length;
  const all = labs.flatMap((l) => l.cases);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="svclab validate" tests="${all.length}" failures="${count(all, 'failed')}" errors="${count(all, 'error')}" skipped="${count(all, 'skipped')}" time="${secs(durationMs)}">`,
  ];
  for (const l of labs) {
    lines.push(`  <testsuite name="${xml(l.lab)}" tests="${l.cases.length}" failures="${count(l.cases, 'failed')}" errors="${count(l.cases, 'error')}" skipped="${count(l.cases, 'skipped')}" time="${secs(l.durationMs)}">`);
    for (const c of l.cases) {
      const open = `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}" time="${secs(c.durationMs)}"`;
      if (c.status === 'passed') lines.push(`${open}/>`);
      else {
        const tag = c.status === 'failed' || c.status === 'flaky' ? 'failure' : c.status === 'error' ? 'error' : 'skipped';
        const type = c.status === 'flaky' ? ' type="flaky"' : '';
        // The body repeats the message: some CI systems show only the body, never the attribute.
        const text = tag === 'skipped' ? c.detail : [c.message, c.detail].filter(Boolean).join('\n\n');
        const body = text ? `>${xml(text)}</${tag}>` : '/>';
        lines.push(`${open}>`, `      <${tag}${type} message="${xml(c.message ?? '')}"${body}`, '    </testcase>');
      }
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

/** The labs `svclab validate LAB…` names, in catalogue order; all of them when none is named. */
export function pickLabs(all: readonly Lab[], ids: readonly string[]): { labs: Lab[]; unknown: string[] } {
  const known = new Set(all.map((l) => l.id));
  return { labs: ids.length === 0 ? [...all] : all.filter((l) => ids.includes(l.id)), unknown: ids.filter((id) => !known.has(id)) };
}

/** One progress line: `✓ 02-selectors-and-endpoints/observe (7 s)`, `✗ …: why`, `  · info`. */
export function formatValidateEvent(e: ValidateEvent): string {
  const mark = { start: '▶', done: '✓', fail: '✗', skip: '-', info: ' ·' }[e.state];
  const indent = e.step.includes('/') ? '  ' : '';
  if (e.state === 'done' || e.state === 'start') return `${indent}${mark} ${e.step}${e.detail ? ` (${e.detail})` : ''}`;
  return `${indent}${mark} ${e.step}${e.detail ? `: ${e.detail}` : ''}`;
}
