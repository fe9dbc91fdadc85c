// `svclab validate --only-changed BASE`: the labs whose files changed since the git ref
// BASE, in the git repository that holds the labs folder (svclab's own, or a course's
// under `--labs DIR`). "Changed" is what a pull request would merge: the merge base of
// BASE and HEAD against the working tree (committed, staged and unstaged edits), plus
// untracked files that .gitignore does not hide.
//
// What counts for a lab:
//   - any file in its folder (lab.yaml, manifests, solutions, an in-lab lesson);
//   - a file outside its folder that a symlink inside its folder points at (lab.yaml
//     paths cannot leave the folder, so a course shares a manifest by symlink);
//   - any other file in the labs folder outside every lab folder (`_shared/`, a
//     script): no lab names it, so nothing says which lab uses it, and every lab is
//     validated. Markdown at the top of the labs folder (a README) is read by no lab.
// Files elsewhere in the repository (CI config, the course's README) select no lab.
// In svclab's own repository, a check kind's code (runner/src/checks/kinds/<kind>.ts)
// counts for the labs with a check of that kind; other runner or image changes select
// no lab but are named in `notes` (a change to svclab itself is a reason to validate all).
import { readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { RunnerError } from '../errors.ts';
import type { Shell } from '../exec/shell.ts';
import { labIdPattern } from '../labs/lab-schema.ts';
import type { Lab } from '../labs/load-labs.ts';

const GIT_TIMEOUT_MS = 30_000;

export interface ChangedLabs {
  /** Lab ids to validate, in the order of `labs`. */
  ids: string[];
  /** For each of them, the changed files (relative to the repository) that selected it. */
  because: Record<string, string[]>;
  /** Lab folders changed since BASE that no longer hold a lab (removed or renamed). */
  removed: string[];
  /** The merge base of BASE and HEAD the working tree was compared with. */
  mergeBase: string;
  /** Every changed file in the repository, relative to its top. */
  files: string[];
  /** What was changed that --only-changed does not follow into labs (svclab's own code). */
  notes: string[];
}

export interface ChangedLabsOptions {
  /** The host shell: git runs through it (exec/ is the only place that starts processes). */
  shell: Shell;
  /** The labs folder (absolute, or relative to the process's cwd). */
  labsDir: string;
  /** What `--labs` was given as, for messages; svclab's own labs when undefined. */
  labsArg?: string;
  base: string;
  labs: readonly Lab[];
  /** svclab's checkout: when the labs are in its repository, check kinds' code counts too. */
  svclabRoot?: string;
  signal?: AbortSignal;
}

function refused(message: string, hint: string, details?: unknown): never {
  throw new RunnerError('INVALID_ARGUMENT', { message, hint, ...(details === undefined ? {} : { details }) });
}

export async function changedLabs(opts: ChangedLabsOptions): Promise<ChangedLabs> {
  const where = opts.labsArg ?? 'svclab\'s labs folder';
  const flag = `--only-changed ${opts.base}`;
  // A ref that starts with a dash would be read as an option; no ref is named like that.
  if (opts.base === '' || opts.base.startsWith('-')) refused(`${flag}: "${opts.base}" is not a git ref.`, 'Name a branch, tag or commit: --only-changed origin/main.');
  const labsDir = path.resolve(opts.labsDir);
  const git = async (args: string[], cwd: string) => {
    const r = await opts.shell.run(['git', ...args], { cwd, timeoutMs: GIT_TIMEOUT_MS, env: { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' }, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (r.exitCode === 127 || (r.exitCode === -1 && !r.timedOut && !r.aborted)) {
      refused(`${flag}: git is not installed (needed to find what changed in ${where}).`, 'Install git (apt-get install git), or drop --only-changed to validate every lab.');
    }
    return r;
  };

  const top = await git(['rev-parse', '--show-toplevel'], labsDir);
  if (top.exitCode !== 0 && /dubious ownership/.test(top.stderr)) {
    // A CI container checks the course out as one user and runs as another.
    refused(`${flag}: git refuses ${labsDir}: another user owns the repository (${top.stderr.split('\n').find((l) => l.startsWith('fatal:')) ?? lastLine(top.stderr)})`,
      `Let git read it: git config --global --add safe.directory '*' (or the repository's path), then run validate again.`);
  }
  if (top.exitCode !== 0) {
    refused(`${flag}: ${where} (${labsDir}) is not inside a git repository: ${lastLine(top.stderr)}`,
      'Run validate on a git checkout of the course (in CI, the checkout step), or drop --only-changed to validate every lab.');
  }
  const root = await realpath(top.stdout.trim());
  const commit = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${opts.base}^{commit}`], root);
  if (commit.exitCode !== 0) {
    refused(`${flag}: "${opts.base}" is not a branch, tag or commit in ${root}.`,
      `List what is there with \`git -C ${root} branch -a\`. In CI the checkout is often shallow and has only one branch: fetch the base first (git fetch origin main, or actions/checkout with fetch-depth: 0).`);
  }
  const mb = await git(['merge-base', '--end-of-options', commit.stdout.trim(), 'HEAD'], root);
  if (mb.exitCode !== 0) {
    refused(`${flag}: ${opts.base} and HEAD have no common commit in ${root} (${lastLine(mb.stderr) || 'git merge-base found none'}).`,
      'The clone is probably shallow: fetch the history (git fetch --unshallow, or actions/checkout with fetch-depth: 0).');
  }
  const mergeBase = mb.stdout.trim();
  const diff = await git(['diff', '--name-only', '--no-renames', '-z', mergeBase, '--'], root);
  const untracked = await git(['ls-files', '--others', '--exclude-standard', '-z'], root);
  for (const r of [diff, untracked]) {
    if (r.exitCode !== 0) throw new RunnerError('COMMAND_FAILED', { message: `${flag}: ${r.argv.join(' ')} failed in ${root}: ${lastLine(r.stderr)}`, details: { argv: r.argv, output: r.stderr } });
  }
  const files = [...new Set([...diff.stdout.split('\0'), ...untracked.stdout.split('\0')].filter(Boolean))].sort();
  const svclab = opts.svclabRoot !== undefined && (await realpath(opts.svclabRoot).catch(() => '')) === root;
  return { ...(await select(root, await realpath(labsDir), files, opts.labs, svclab)), mergeBase, files };
}

/** Which labs the changed files (relative to the repository's top) select; see the rules at the top. */
export async function select(root: string, labsDir: string, files: readonly string[], labs: readonly Lab[], svclab = false): Promise<Pick<ChangedLabs, 'ids' | 'because' | 'removed' | 'notes'>> {
  const known = new Set(labs.map((l) => l.id));
  const because: Record<string, string[]> = {};
  const code: string[] = [];
  const removed = new Set<string>();
  const add = (id: string, why: string) => { (because[id] ??= []).push(why); };
  const links = new Map<string, string[]>();
  for (const l of labs) links.set(l.id, await symlinkTargets(l.dir));
  const labsRel = path.relative(root, labsDir).split(path.sep).join('/');
  for (const file of files) {
    const abs = path.join(root, file);
    const inLabs = labsRel === '' ? file : file.startsWith(`${labsRel}/`) ? file.slice(labsRel.length + 1) : undefined;
    const [first, ...rest] = inLabs?.split('/') ?? [];
    const owner = first !== undefined && rest.length > 0 && labIdPattern.test(first) ? first : undefined;
    if (owner !== undefined) {
      if (known.has(owner)) add(owner, file);
      else removed.add(owner);
    }
    const linkedBy = labs.filter((l) => l.id !== owner && links.get(l.id)!.some((t) => abs === t || abs.startsWith(`${t}${path.sep}`)));
    for (const l of linkedBy) add(l.id, `${file} (linked from ${l.id})`);
    const kind = svclab ? /^runner\/src\/checks\/kinds\/([a-z0-9-]+)\.ts$/.exec(file)?.[1] : undefined;
    if (kind !== undefined) {
      for (const l of labs) if (l.steps.some((st) => st.checks.some((c) => c.kind === kind))) add(l.id, `${file} (its ${kind} checks)`);
      continue;
    }
    if (svclab && /^(runner\/src|images)\//.test(file)) code.push(file);
    if (owner !== undefined || linkedBy.length > 0 || inLabs === undefined) continue;
    if (rest.length === 0 && /\.(md|markdown)$/i.test(first!)) continue;
    for (const l of labs) add(l.id, `${file} (in the labs folder, outside every lab)`);
  }
  const notes = code.length ? [`svclab's own code or images changed (${code.slice(0, 3).join(', ')}${code.length > 3 ? ` and ${code.length - 3} more` : ''}); --only-changed follows only lab files and check kinds into labs: validate every lab to cover the rest`] : [];
  return { ids: labs.map((l) => l.id).filter((id) => because[id]), because, removed: [...removed].filter((id) => !known.has(id)).sort(), notes };
}

/** Where the symlinks inside a lab folder point (a dangling one too: its target may be the deleted file). */
async function symlinkTargets(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isSymbolicLink()) out.push(await realpath(p).catch(async () => path.resolve(d, await readlink(p))));
      else if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out;
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '';
}
