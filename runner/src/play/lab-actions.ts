// LabActions: the one way svclab plays a lab on a cluster — set it up, apply the
// learner's YAML, show live objects, solve a step, reset, and run checks. The HTTP
// session, the warm pool and `svclab validate` all go through it, so what CI
// validates is what a learner's buttons do.
//
// Who acts is the caller's choice of Kubectl and Shell: for a learner and for
// validate, the workstation container as user `learner` with the workstation's
// kubeconfig (the learner's identity), never admin on a node. Only the lab's setup
// may run with another identity (svclab's own: some setups need host access the
// learner is refused), through `setupKubectl`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckContext, CheckResult } from '../checks/check.ts';
import { runStepChecks } from '../checks/run-checks.ts';
import type { Check } from '../checks/registry.ts';
import { explainRefusal } from '../access/index.ts';
import { RunnerError } from '../errors.ts';
import { lastLine, outputTail, type CommandResult, type Shell } from '../exec/shell.ts';
import type { Kubectl } from '../kube/kubectl.ts';
import type { Lab, LabStep } from '../labs/load-labs.ts';
import { lineForServerError, matchLive, type LiveObject, type ParsedManifest } from './manifests.ts';

/** Deletes and waits (Reset) and big applies get longer than one request. */
const LONG_MS = 120_000;
const SOLUTION_COMMAND_MS = 180_000;

export interface LabActionsOptions {
  lab: Lab;
  /** The learner's shell (the workstation as `learner`): solution commands run here and ~/answers lives here. */
  shell: Shell;
  /** kubectl as the learner: through `shell`, with the workstation's kubeconfig. */
  kubectl: Kubectl;
  /** Who applies the lab's setup manifests; `kubectl` when omitted. */
  setupKubectl?: Kubectl;
  /**
   * The context checks run with (API, vantage points, clock), built once per
   * LabActions on the first check; absent when there is no cluster to look at.
   */
  checkContext: () => Promise<CheckContext>;
}

export interface CheckOptions {
  lang?: 'en' | 'zh';
  signal?: AbortSignal;
  /**
   * Cap on each check's deadline and interval (validate's must-fail run: a fail
   * only comes at the deadline, and the state has settled long before).
   */
  capDeadlineSeconds?: number;
}

export class LabActions {
  readonly lab: Lab;
  private readonly opts: LabActionsOptions;
  private context: Promise<CheckContext> | undefined;

  constructor(opts: LabActionsOptions) {
    this.opts = opts;
    this.lab = opts.lab;
  }

  /** The lab's starting objects, applied by `setupKubectl`. */
  async setup(): Promise<void> {
    const { manifests } = this.lab.setup;
    if (!manifests.length) return;
    const kubectl = this.opts.setupKubectl ?? this.opts.kubectl;
    const r = await kubectl.apply(await this.manifestText(manifests), { serverSide: true, forceConflicts: true }, { timeoutMs: LONG_MS });
    if (r.exitCode !== 0 || r.timedOut) {
      throw new RunnerError('CLUSTER_FAILED', {
        message: `The lab's starting objects could not be applied: ${lastLine(r.stderr || r.stdout)}`,
        hint: 'Press Start lab again; if it repeats, run `svclab status`.',
        details: failure(r),
      });
    }
  }

  /** Apply the editor's YAML as the learner: a server-side dry run first, so a rejection changes nothing. */
  async apply(yaml: string, manifests: readonly ParsedManifest[]): Promise<{ dryRun: string; applied: string }> {
    const dry = await this.opts.kubectl.apply(yaml, { serverSide: true, dryRun: 'server' });
    if (dry.exitCode !== 0 || dry.timedOut) throw rejected(dry, manifests);
    const real = await this.opts.kubectl.apply(yaml, { serverSide: true });
    if (real.exitCode !== 0 || real.timedOut) throw rejected(real, manifests);
    return { dryRun: dry.stdout.trim(), applied: real.stdout.trim() };
  }

  /** The live counterpart of each document in the editor (the diff view), as the learner sees it. */
  async live(yaml: string, manifests: readonly ParsedManifest[]): Promise<LiveObject[]> {
    if (!manifests.length) return [];
    const r = await this.opts.kubectl.get({ manifests: yaml }, { ignoreNotFound: true, output: 'json' });
    if (r.exitCode !== 0 || r.timedOut) {
      const msg = r.stderr.trim() || r.stdout.trim();
      const line = lineForServerError(msg, manifests);
      throw new RunnerError('APPLY_REJECTED', { message: `The cluster could not look these objects up: ${msg.split('\n')[0]}`, hint: 'Check kind and apiVersion: the cluster must know the resource type.', details: { server: msg, ...(line ? { line, column: 1 } : {}) } });
    }
    const text = r.stdout.trim();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const items = (parsed.kind === 'List' ? (parsed.items as Record<string, unknown>[]) : text ? [parsed] : []) ?? [];
    return matchLive(manifests, items);
  }

  /** Solve a step exactly as the Solve button does: its solution manifests, then its commands, as the learner. */
  async solve(stepId: string): Promise<void> {
    const step = this.step(stepId);
    if (step.solution.manifests?.length) {
      const r = await this.opts.kubectl.apply(await this.manifestText(step.solution.manifests), { serverSide: true, forceConflicts: true }, { timeoutMs: LONG_MS });
      if (r.exitCode !== 0 || r.timedOut) {
        throw new RunnerError('APPLY_REJECTED', { message: `The step's solution could not be applied: ${lastLine(r.stderr || r.stdout)}`, ...refusalOf(r) });
      }
    }
    for (const argv of step.solution.commands ?? []) {
      const r = await this.opts.shell.run(argv, { timeoutMs: SOLUTION_COMMAND_MS });
      if (r.exitCode !== 0 || r.timedOut) {
        throw new RunnerError('COMMAND_FAILED', {
          message: `A solution command failed: ${shortArgv(argv)}${r.timedOut ? ' (timed out)' : `: ${lastLine(`${r.stderr}\n${r.stdout}`)}`}`,
          hint: 'Press Check to see what is still missing, or Reset lab and try again.',
          details: { ...failure(r), argv: [...argv] },
        });
      }
    }
  }

  /**
   * Back to the lab's setup state, as the Reset button does: the learner's noted
   * answers cleared, every object the lab's setup and solutions make deleted (and
   * `setup.cleanup`, objects made by commands; `setup.cleanupNodeLabels`, node labels
   * commands set, removed from every node), then the setup applied again.
   * Another lab's objects are left alone.
   */
  async reset(): Promise<void> {
    const rm = await this.opts.shell.run(['sh', '-c', 'rm -rf "$HOME/answers"'], { timeoutMs: 15_000 });
    if (rm.exitCode !== 0) throw new RunnerError('COMMAND_FAILED', { message: `~/answers could not be cleared: ${lastLine(rm.stderr)}`, details: failure(rm) });
    const made = [...new Set([...this.lab.setup.manifests, ...this.lab.steps.flatMap((s) => s.solution.manifests ?? [])])];
    if (made.length) {
      const r = await this.opts.kubectl.delete({ manifests: await this.manifestText(made) }, { ignoreNotFound: true, wait: true }, { timeoutMs: LONG_MS });
      if (r.exitCode !== 0 || r.timedOut) throw resetFailed(r);
    }
    for (const c of this.lab.setup.cleanup) {
      const r = await this.opts.kubectl.delete([c.kind, c.name], { namespace: c.namespace, ignoreNotFound: true, wait: true }, { timeoutMs: 60_000 });
      if (r.exitCode !== 0 || r.timedOut) throw resetFailed(r);
    }
    // `KEY-` on a node without the label is no error.
    for (const key of this.lab.setup.cleanupNodeLabels ?? []) {
      const r = await this.opts.kubectl.run(['label', 'nodes', '--all', `${key}-`], { timeoutMs: 60_000 });
      if (r.exitCode !== 0 || r.timedOut) throw resetFailed(r);
    }
    await this.setup();
  }

  /** The context checks run with: built once, then shared by every check of this LabActions. */
  checkContext(): Promise<CheckContext> {
    this.context ??= this.opts.checkContext();
    return this.context;
  }

  /** Run a step's checks, in order. */
  async check(stepId: string, o: CheckOptions = {}): Promise<{ results: CheckResult[]; passed: boolean }> {
    return this.runChecks(this.step(stepId).checks, o);
  }

  /** Run these checks (of this lab), in order. */
  async runChecks(checks: readonly Check[], o: CheckOptions = {}): Promise<{ results: CheckResult[]; passed: boolean }> {
    const base = await this.checkContext();
    const ctx: CheckContext = { ...base, ...(o.lang ? { lang: o.lang } : {}), ...(o.signal ? { signal: o.signal } : {}) };
    const cap = o.capDeadlineSeconds;
    const run = cap === undefined ? checks : checks.map((c) => ({ ...c, deadlineSeconds: Math.min(c.deadlineSeconds, cap), intervalSeconds: Math.min(c.intervalSeconds, c.deadlineSeconds, cap) }) as Check);
    return runStepChecks(run, ctx);
  }

  step(stepId: string): LabStep {
    const step = this.lab.steps.find((s) => s.id === stepId);
    if (!step) throw new RunnerError('STEP_UNKNOWN', { message: `Lab ${this.lab.id} has no step "${stepId}".`, details: { steps: this.lab.steps.map((s) => s.id) } });
    return step;
  }

  private async manifestText(paths: readonly string[]): Promise<string> {
    const texts = await Promise.all(paths.map((p) => readFile(join(this.lab.dir, p), 'utf8')));
    return texts.map((t) => t.replace(/\n*$/, '\n')).join('---\n');
  }
}

function rejected(r: CommandResult, manifests: readonly ParsedManifest[]): RunnerError {
  const msg = r.stderr.trim() || r.stdout.trim() || (r.timedOut ? 'kubectl did not answer in time' : `kubectl exited ${r.exitCode}`);
  const line = lineForServerError(msg, manifests);
  const why = explainRefusal(msg);
  return new RunnerError('APPLY_REJECTED', {
    message: `The cluster rejected the manifest: ${msg.split('\n')[0]}`,
    ...(why ? { hint: why.en } : {}),
    details: { server: msg, ...(line ? { line, column: 1 } : {}), ...(why ? { refusal: why } : {}) },
  });
}

function resetFailed(r: CommandResult): RunnerError {
  return new RunnerError('COMMAND_FAILED', { message: `Reset could not delete the lab's objects: ${lastLine(r.stderr || r.stdout)}`, hint: 'Press Reset lab again in a moment; if it repeats, end the lab and start it again.', ...refusalOf(r) });
}

function failure(r: CommandResult) {
  return { argv: [...r.argv], exitCode: r.exitCode, timedOut: r.timedOut, output: outputTail(r, 30) };
}

/** A refusal of the learner (RBAC, the workshop's admission policies) in the learner's words, as the hint; the details in both languages. */
function refusalOf(r: CommandResult): { hint?: string; details: ReturnType<typeof failure> & { refusal?: { en: string; zh: string } } } {
  const why = explainRefusal(`${r.stderr}\n${r.stdout}`);
  return why ? { hint: why.en, details: { ...failure(r), refusal: why } } : { details: failure(r) };
}

/** A command on one line: scripts are long and span lines. */
export function shortArgv(argv: readonly string[]): string {
  const one = argv.join(' ').replace(/\s+/g, ' ').trim();
  return one.length > 80 ? `${one.slice(0, 79)}…` : one;
}
