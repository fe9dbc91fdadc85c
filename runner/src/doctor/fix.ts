// `svclab doctor --fix`: install what the doctor found missing and fixable. One
// step for `npm start`, `npm test` and a person, so the list the doctor prints and
// what gets installed are the same data (DoctorCheck.autoFix).

import type { CommandRunner } from '../exec/command-runner.ts';
import type { DoctorCheck } from './doctor.ts';

/** `start` fixes what running labs needs; `test` also what the test suite needs (chromium, a CJK font). */
export type FixPurpose = 'start' | 'test';

export interface FixPlan {
  /** Debian packages, in the order the checks named them, each once. */
  apt: string[];
  ensureDocker: boolean;
  /** Missing and needed, but only a person can fix them (printed with their fix). */
  manual: DoctorCheck[];
}

export function fixPlan(checks: readonly DoctorCheck[], purpose: FixPurpose): FixPlan {
  const plan: FixPlan = { apt: [], ensureDocker: false, manual: [] };
  for (const c of checks) {
    if (c.ok || (c.testsOnly && purpose !== 'test')) continue;
    if (!c.autoFix) {
      if (!c.optional && c.fix) plan.manual.push(c);
      continue;
    }
    for (const p of c.autoFix.apt ?? []) if (!plan.apt.includes(p)) plan.apt.push(p);
    if (c.autoFix.ensureDocker) plan.ensureDocker = true;
  }
  return plan;
}

export function planIsEmpty(plan: FixPlan): boolean {
  return plan.apt.length === 0 && !plan.ensureDocker;
}

/** The commands the plan runs, as argv (root) — also what a normal user is told to run with sudo. */
export function fixCommands(plan: FixPlan, repoDir: string): string[][] {
  const cmds: string[][] = [];
  if (plan.apt.length) {
    cmds.push(['apt-get', 'update']);
    cmds.push(['apt-get', 'install', '-y', ...plan.apt]);
  }
  if (plan.ensureDocker) cmds.push(['bash', `${repoDir}/scripts/ensure-docker.sh`]);
  return cmds;
}

/** One line a normal user can paste: every command under sudo, joined with &&. */
export function sudoLine(plan: FixPlan, repoDir: string): string {
  return fixCommands(plan, repoDir).map((argv) => `sudo ${argv[0] === 'apt-get' ? 'DEBIAN_FRONTEND=noninteractive ' : ''}${argv.join(' ')}`).join(' && ');
}

export interface FixDeps {
  runner: CommandRunner;
  isRoot: boolean;
  repoDir: string;
  out: (line: string) => void;
}

export type FixOutcome = 'nothing-to-do' | 'fixed' | 'needs-root' | 'failed';

/** Runs the plan as root, streaming each command's output; a normal user gets the exact command instead. */
export async function applyFixes(plan: FixPlan, deps: FixDeps): Promise<FixOutcome> {
  if (planIsEmpty(plan)) return 'nothing-to-do';
  if (!deps.isRoot) {
    deps.out('doctor --fix: installing needs root. Run:');
    deps.out(`  ${sudoLine(plan, deps.repoDir)}`);
    return 'needs-root';
  }
  for (const argv of fixCommands(plan, deps.repoDir)) {
    deps.out(`• ${argv.join(' ')}`);
    const r = await deps.runner.run(argv, {
      // apt on a slow mirror and a first dockerd start take minutes, not hours.
      timeoutMs: 20 * 60_000,
      env: { DEBIAN_FRONTEND: 'noninteractive' },
      onOutput: (chunk) => { for (const line of chunk.split('\n')) if (line.trim()) deps.out(`  ${line}`); },
    });
    if (r.exitCode !== 0) {
      deps.out(`doctor --fix: \`${argv.join(' ')}\` failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}).`);
      return 'failed';
    }
  }
  return 'fixed';
}

export interface DoctorCommandDeps {
  runner: CommandRunner;
  isRoot: boolean;
  repoDir: string;
  out: (line: string) => void;
  /** Runs the doctor's checks (again after a fix). */
  check: () => Promise<DoctorCheck[]>;
}

export function printChecks(checks: readonly DoctorCheck[], out: (line: string) => void): void {
  const width = Math.max(...checks.map((c) => c.name.length));
  for (const c of checks) {
    out(`${c.ok ? 'OK     ' : c.optional ? 'absent ' : 'MISSING'} ${c.name.padEnd(width)}  ${c.detail}`);
    if (!c.ok && c.fix) out(`${' '.repeat(8 + width)}  fix: ${c.fix}`);
  }
}

/**
 * `svclab doctor [--fix [--for start|test]]`. Exit 0 when everything needed is
 * here, 1 when something is missing, 2 when a normal user must run the printed
 * command as root.
 */
export async function doctorCommand(opts: { fix: boolean; purpose: FixPurpose }, deps: DoctorCommandDeps): Promise<number> {
  let checks = await deps.check();
  let outcome: FixOutcome = 'nothing-to-do';
  if (opts.fix) {
    const plan = fixPlan(checks, opts.purpose);
    outcome = await applyFixes(plan, deps);
    if (outcome === 'fixed' || outcome === 'failed') checks = await deps.check();
    if (outcome === 'nothing-to-do') deps.out('doctor --fix: nothing to install.');
  }
  printChecks(checks, deps.out);
  const missing = checks.filter((c) => !c.ok && !c.optional);
  deps.out(missing.length ? `${missing.length} prerequisite(s) missing.` : 'Everything svclab needs is here.');
  if (outcome === 'needs-root') return 2;
  return missing.length || outcome === 'failed' ? 1 : 0;
}
