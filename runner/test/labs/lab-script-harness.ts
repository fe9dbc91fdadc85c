// Runs a lab's real `command` check scripts with sh and jq against recorded cluster
// states. A stub kubectl (written per test run) answers each read from a file named
// after its exact argv, so a test states the cluster as "this kubectl call returns
// this object"; a call with no file is a NotFound, as kubectl would say.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import type { CommandCheck } from '../../src/checks/kinds/command.ts';
import type { ObservedCommandCheck } from '../../src/checks/kinds/observed-command.ts';
import { loadLab, type Lab } from '../../src/labs/load-labs.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');

/** Tools the scripts need on this machine; the suite SKIPs (one line) without them. */
export function missingTools(tools: readonly string[]): string[] {
  return tools.filter((cmd) => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}

/** The fixture file name for one kubectl argv (without --request-timeout). */
export function fixtureName(args: string): string {
  return args.trim().replace(/[^A-Za-z0-9.=-]/g, '_');
}

const STUB_KUBECTL = `#!/bin/sh
set -u
args=""
for a in "$@"; do
  case $a in --request-timeout=*) ;; *) args="$args $a" ;; esac
done
key=$(printf '%s' "$args" | sed 's/^ *//; s/[^A-Za-z0-9.=-]/_/g')
if [ -f "$SVCLAB_FIXTURES/api-down" ]; then echo "The connection to the server was refused" >&2; exit 1; fi
if [ -f "$SVCLAB_FIXTURES/$key" ]; then cat "$SVCLAB_FIXTURES/$key"; exit 0; fi
case $args in
  " get --raw=/readyz") echo ok; exit 0 ;;
esac
echo "Error from server (NotFound): the stub has no answer for:$args" >&2
exit 1
`;

export interface ScriptRun { exitCode: number; out: string }

export interface LabScripts {
  readonly lab: Lab;
  readonly home: string;
  /** Replaces the recorded cluster: kubectl argv (as the script passes it) → object or raw text. */
  state(answers: Record<string, unknown>, opts?: { apiDown?: boolean }): Promise<void>;
  /** Writes ~/answers/NAME in the learner's home. */
  answer(name: string, text: string): Promise<void>;
  /**
   * Runs one command (or observed-command) check of a step: the first when checkId is left
   * out. An observed-command check gets `observation` as its last argument, as the kind gives it.
   */
  check(stepId: string, checkId?: string, env?: Record<string, string>, observation?: string): Promise<ScriptRun>;
  run(argv: readonly string[], env?: Record<string, string>): Promise<ScriptRun>;
}

/** Sets up vitest hooks for one lab and returns a handle valid inside its tests. */
export function labScripts(labId: string): LabScripts {
  const runner = new ExecaRunner();
  let lab: Lab | undefined;
  let base = '';
  let bin = '';
  let fixtures = '';
  let home = '';

  beforeAll(async () => {
    const r = await loadLab(repoRoot, labId);
    if (r.status !== 'ok') throw new Error(`lab ${labId} does not load: ${JSON.stringify(r)}`);
    lab = r.lab;
  });
  beforeEach(async () => {
    base = await mkdtemp(path.join(tmpdir(), `svclab-${labId.slice(0, 2)}-`));
    bin = path.join(base, 'bin');
    fixtures = path.join(base, 'cluster');
    home = path.join(base, 'home');
    await mkdir(bin);
    await mkdir(fixtures);
    await mkdir(home);
    await writeFile(path.join(bin, 'kubectl'), STUB_KUBECTL);
    await chmod(path.join(bin, 'kubectl'), 0o755);
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const run = async (argv: readonly string[], env: Record<string, string> = {}): Promise<ScriptRun> => {
    const r = await runner.run(argv, {
      timeoutMs: 20_000,
      env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: home, SVCLAB_FIXTURES: fixtures, ...env },
    });
    return { exitCode: r.exitCode, out: `${r.stdout}${r.stderr}`.trim() };
  };

  return {
    get lab() {
      if (!lab) throw new Error('labScripts: lab not loaded yet (use it inside a test)');
      return lab;
    },
    get home() {
      return home;
    },
    async state(answers, opts = {}) {
      await rm(fixtures, { recursive: true, force: true });
      await mkdir(fixtures);
      for (const [args, value] of Object.entries(answers)) {
        await writeFile(path.join(fixtures, fixtureName(args)), typeof value === 'string' ? value : JSON.stringify(value));
      }
      if (opts.apiDown) await writeFile(path.join(fixtures, 'api-down'), '');
    },
    async answer(name, text) {
      await mkdir(path.join(home, 'answers'), { recursive: true });
      await writeFile(path.join(home, 'answers', name), text);
    },
    async check(stepId, checkId, env = {}, observation = '') {
      const step = this.lab.steps.find((s) => s.id === stepId);
      if (!step) throw new Error(`no step ${stepId} in ${labId}`);
      const check = step.checks.find((c) => (c.kind === 'command' || c.kind === 'observed-command') && (checkId === undefined || c.id === checkId)) as
        | CommandCheck
        | ObservedCommandCheck
        | undefined;
      if (!check) throw new Error(`no command check ${checkId ?? ''} in step ${stepId}`);
      return run(check.kind === 'observed-command' ? [...check.argv, observation] : check.argv, env);
    },
    run,
  };
}

/** Every exit code a lab's command scripts use is mapped in its failures (0 and 124–127 need none). */
export function unmappedExitCodes(lab: Lab): string[] {
  const out: string[] = [];
  for (const step of lab.steps) {
    for (const check of step.checks) {
      if (check.kind !== 'command' && check.kind !== 'observed-command') continue;
      const script = check.argv.find((a) => a.includes('exit ')) ?? '';
      const used = new Set([...script.matchAll(/exit (\d+)/g)].map((m) => Number(m[1])));
      const mapped = new Set(check.failures.map((f) => f.exitCode));
      for (const code of used) if (code !== 0 && code < 124 && !mapped.has(code)) out.push(`${step.id}/${check.id}: exit ${code}`);
    }
  }
  return out;
}
