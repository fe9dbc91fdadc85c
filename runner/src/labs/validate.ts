// `svclab validate [LAB…] [--junit FILE]`: each lab against a real cluster. Apply
// the setup; for each step every check must FAIL before the step's solution (a
// check that already passes cannot tell the learner's work from the starting
// state: a lab bug), then the solution is applied and every check must pass.
import path from 'node:path';
import type { CheckContext, CheckResult } from '../checks/check.ts';
import { runCheck } from '../checks/run-checks.ts';
import type { Check } from './lab-schema.ts';
import type { Lab, LabStep } from './load-labs.ts';

export interface ValidateEvent {
  /** `02-selectors-and-endpoints` for a lab, `02-selectors-and-endpoints/observe` for a step. */
  step: string;
  state: 'start' | 'done' | 'fail' | 'skip' | 'info';
  detail?: string;
}

/** What validate needs from a cluster and a workstation; tests pass a fake. */
export interface ValidateTarget {
  /** Bring the shared cluster back to a clean state before a lab (namespaces reset, ~/answers gone). */
  reset(lab: Lab): Promise<void>;
  /** kubectl apply these files (absolute paths), in order; throws with the server's message on rejection. */
  applyManifests(lab: Lab, files: readonly string[]): Promise<void>;
  /** A solution command, run in the workstation as the learner. */
  runCommand(lab: Lab, argv: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** The context the lab's checks run with (kube, vantage, workstation). */
  checkContext(lab: Lab): CheckContext;
  /** kube-proxy's mode now; a lab with `proxyMode` is skipped on a cluster in another mode. */
  proxyMode?(): Promise<string | undefined>;
}

export interface ValidateOptions {
  labs: readonly Lab[];
  target: ValidateTarget;
  onStep?: (e: ValidateEvent) => void;
  /**
   * Cap on each check's deadline in the must-fail run: a fail only comes at the
   * deadline, and the state has settled by then (default 10 s).
   */
  beforeDeadlineSeconds?: number;
  now?: () => number;
  signal?: AbortSignal;
}

export type CaseStatus = 'passed' | 'failed' | 'error' | 'skipped';

export interface ValidateCase {
  /** `setup`, `observe: no-endpoints-noted fails before the solution`, … */
  name: string;
  /** lab id, or `lab.step`. */
  classname: string;
  status: CaseStatus;
  durationMs: number;
  message?: string;
  detail?: string;
}

export interface LabValidation {
  lab: string;
  ok: boolean;
  durationMs: number;
  cases: ValidateCase[];
}

export interface ValidateResult {
  ok: boolean;
  labs: LabValidation[];
  /** Number of failed or errored cases. */
  violations: number;
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
  const violations = labs.reduce((n, l) => n + l.cases.filter((c) => c.status === 'failed' || c.status === 'error').length, 0);
  const durationMs = now() - started;
  return { ok: violations === 0 && labs.every((l) => l.ok), labs, violations, durationMs, junit: toJUnit(labs, durationMs) };
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

  // Setup: reset the shared cluster, then the lab's own manifests.
  const setupStart = now();
  try {
    await opts.target.reset(lab);
    await opts.target.applyManifests(lab, lab.setup.manifests.map((m) => path.join(lab.dir, m)));
    cases.push({ name: 'setup', classname: lab.id, status: 'passed', durationMs: now() - setupStart });
  } catch (e) {
    const message = `setup failed: ${errorText(e)}`;
    cases.push({ name: 'setup', classname: lab.id, status: 'error', durationMs: now() - setupStart, message });
    for (const step of lab.steps) cases.push({ name: step.id, classname: `${lab.id}.${step.id}`, status: 'skipped', durationMs: 0, message: 'setup failed' });
    emit({ step: lab.id, state: 'fail', detail: message });
    return { lab: lab.id, ok: false, durationMs: now() - t0, cases };
  }

  const ctx = opts.target.checkContext(lab);
  const runCtx: CheckContext = opts.signal ? { ...ctx, signal: opts.signal } : ctx;
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
    const before = await mustFail(step, runCtx, opts.beforeDeadlineSeconds ?? DEFAULT_BEFORE_DEADLINE_S, classname, now);
    cases.push(...before);
    for (const c of before) if (c.status !== 'passed') emit({ step: id, state: 'info', detail: c.message ?? c.name });

    const solved = await applySolution(lab, step, opts.target, classname, now);
    cases.push(solved);
    let after: ValidateCase[] = [];
    if (solved.status === 'passed') {
      after = await mustPass(step, runCtx, classname, now);
      cases.push(...after);
    } else {
      emit({ step: id, state: 'info', detail: solved.message ?? 'the solution failed' });
    }
    const stepCases = [...before, solved, ...after];
    const bad = stepCases.filter((c) => c.status === 'failed' || c.status === 'error');
    if (solved.status !== 'passed' || after.some((c) => c.status !== 'passed')) broken = step.id;
    const secs = Math.round((now() - stepStart) / 1000);
    emit(bad.length === 0 ? { step: id, state: 'done', detail: `${secs} s` } : { step: id, state: 'fail', detail: bad.map((c) => c.message ?? c.name).join('; ') });
  }
  const ok = cases.every((c) => c.status === 'passed');
  const durationMs = now() - t0;
  emit({ step: lab.id, state: ok ? 'done' : 'fail', detail: `${Math.round(durationMs / 1000)} s` });
  return { lab: lab.id, ok, durationMs, cases };
}

/** Each check, with its deadline capped, must come back `fail`. */
async function mustFail(step: LabStep, ctx: CheckContext, capSeconds: number, classname: string, now: () => number): Promise<ValidateCase[]> {
  const out: ValidateCase[] = [];
  for (const check of step.checks) {
    const capped = { ...check, deadlineSeconds: Math.min(check.deadlineSeconds, capSeconds), intervalSeconds: Math.min(check.intervalSeconds, Math.min(check.deadlineSeconds, capSeconds)) } as Check;
    const t = now();
    const r = await runCheck(capped, ctx);
    const name = `${step.id}: ${check.id} fails before the solution`;
    const base = { name, classname, durationMs: now() - t };
    if (r.status === 'fail') out.push({ ...base, status: 'passed', detail: r.message });
    else if (r.status === 'pass') {
      out.push({ ...base, status: 'failed', message: `lab bug: check ${check.id} passes before the step's solution, so it cannot tell the learner's work from the starting state (${r.message})`, detail: describe(r) });
    } else out.push({ ...base, status: 'error', message: `check ${check.id} could not run before the solution: ${r.message}`, detail: describe(r) });
  }
  return out;
}

async function mustPass(step: LabStep, ctx: CheckContext, classname: string, now: () => number): Promise<ValidateCase[]> {
  const out: ValidateCase[] = [];
  for (const check of step.checks) {
    const t = now();
    const r = await runCheck(check, ctx);
    const base = { name: `${step.id}: ${check.id} passes after the solution`, classname, durationMs: now() - t };
    if (r.status === 'pass') out.push({ ...base, status: 'passed', detail: r.message });
    else out.push({ ...base, status: r.status === 'fail' ? 'failed' : 'error', message: `check ${check.id} ${r.status === 'fail' ? 'still fails' : 'could not run'} after the solution: ${r.message}`, detail: describe(r) });
  }
  return out;
}

async function applySolution(lab: Lab, step: LabStep, target: ValidateTarget, classname: string, now: () => number): Promise<ValidateCase> {
  const t = now();
  const name = `${step.id}: solution applies`;
  try {
    const files = (step.solution.manifests ?? []).map((m) => path.join(lab.dir, m));
    if (files.length) await target.applyManifests(lab, files);
    for (const argv of step.solution.commands ?? []) {
      const r = await target.runCommand(lab, argv);
      if (r.exitCode !== 0) {
        const said = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).filter(Boolean)[0] ?? '';
        return {
          name,
          classname,
          status: 'error',
          durationMs: now() - t,
          message: `solution command \`${shortArgv(argv)}\` exited ${r.exitCode}${said ? `: ${said.slice(0, 200)}` : ''}`,
          detail: `${argv.join(' ')}\n---\n${`${r.stdout}\n${r.stderr}`.trim().slice(-2000)}`,
        };
      }
    }
    return { name, classname, status: 'passed', durationMs: now() - t };
  } catch (e) {
    return { name, classname, status: 'error', durationMs: now() - t, message: `the solution could not be applied: ${errorText(e)}` };
  }
}

/** A solution command on one line: scripts are long and span lines. */
function shortArgv(argv: readonly string[]): string {
  const one = argv.join(' ').replace(/\s+/g, ' ').trim();
  return one.length > 80 ? `${one.slice(0, 79)}…` : one;
}

function describe(r: CheckResult): string {
  return [r.message, r.details ? `expected: ${r.details.expected}` : '', r.details ? `observed: ${r.details.observed}` : ''].filter(Boolean).join('\n');
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
  const count = (cs: readonly ValidateCase[], s: CaseStatus) => cs.filter((c) => c.status === s).length;
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
        const tag = c.status === 'failed' ? 'failure' : c.status === 'error' ? 'error' : 'skipped';
        const body = c.detail ? `>${xml(c.detail)}</${tag}>` : '/>';
        lines.push(`${open}>`, `      <${tag} message="${xml(c.message ?? '')}"${body}`, '    </testcase>');
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
