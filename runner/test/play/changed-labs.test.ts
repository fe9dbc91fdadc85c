// `validate --only-changed BASE` on a real git repository in a temp dir (git runs
// through the host Shell, as in svclab): a course repository whose labs folder is
// `labs/`, three scaffolded labs, a shared manifest one lab symlinks to, files that
// concern no lab. What changed since the merge base with BASE selects the labs.
import { appendFile, chown, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scaffoldLab } from '../../src/authoring/scaffold.ts';
import { RunnerError } from '../../src/errors.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { labsLocation, loadLabs, type Lab } from '../../src/labs/load-labs.ts';
import { changedLabs, select } from '../../src/play/changed-labs.ts';

const shell = new ExecaRunner();
let repo: string;
let labsDir: string;

async function git(...args: string[]): Promise<string> {
  const r = await shell.run(['git', '-c', 'user.name=svclab test', '-c', 'user.email=test@svclab.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, timeoutMs: 20_000 });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

async function labs(): Promise<Lab[]> {
  const r = await loadLabs(labsLocation('/', labsDir));
  expect(r.errors).toEqual([]);
  return r.labs;
}

async function changed(base = 'main') {
  return changedLabs({ shell, labsDir, labsArg: 'labs', base, labs: await labs() });
}

async function rejected(p: Promise<unknown>): Promise<RunnerError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(RunnerError);
  return e as RunnerError;
}

beforeEach(async () => {
  repo = await mkdtemp(path.join(tmpdir(), 'svclab-changed-'));
  labsDir = path.join(repo, 'labs');
  await mkdir(labsDir);
  for (const id of ['01-alpha', '02-beta', '03-gamma']) await scaffoldLab({ id, labsDir, lessons: { kind: 'in-lab' }, schemaFile: path.join(repo, 'lab.schema.json') });
  // 02-beta's setup names manifests/common.yaml, a symlink to the course's shared file.
  await mkdir(path.join(labsDir, '_shared'));
  await writeFile(path.join(labsDir, '_shared', 'common.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: common }\n');
  await symlink('../../_shared/common.yaml', path.join(labsDir, '02-beta', 'manifests', 'common.yaml'));
  // 01-alpha links a file outside the labs folder.
  await mkdir(path.join(repo, 'manifests'));
  await writeFile(path.join(repo, 'manifests', 'client.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: client }\n');
  await symlink('../../../manifests/client.yaml', path.join(labsDir, '01-alpha', 'manifests', 'client.yaml'));
  await writeFile(path.join(labsDir, 'README.md'), '# The course\n');
  await writeFile(path.join(repo, 'README.md'), '# Course repository\n');
  await git('init', '-q', '-b', 'main');
  await git('add', '.');
  await git('commit', '-q', '-m', 'course');
  await git('checkout', '-q', '-b', 'feature');
});
afterEach(() => rm(repo, { recursive: true, force: true }));

describe('validate --only-changed: which labs changed since BASE', () => {
  it('nothing changed: no lab', async () => {
    const r = await changed();
    expect(r.ids).toEqual([]);
    expect(r.files).toEqual([]);
    expect(r.mergeBase).toBe(await git('rev-parse', 'main'));
  });

  it('a lab folder changed in a commit, staged, unstaged, or by an untracked file', async () => {
    await appendFile(path.join(labsDir, '01-alpha', 'README.md'), '\nMore text.\n');
    await git('commit', '-q', '-am', 'lesson');
    await appendFile(path.join(labsDir, '02-beta', 'manifests', 'deployment.yaml'), '# staged\n');
    await git('add', 'labs/02-beta/manifests/deployment.yaml');
    expect((await changed()).ids).toEqual(['01-alpha', '02-beta']);
    await writeFile(path.join(labsDir, '03-gamma', 'notes.txt'), 'untracked\n');
    const r = await changed();
    expect(r.ids).toEqual(['01-alpha', '02-beta', '03-gamma']);
    expect(r.because).toEqual({
      '01-alpha': ['labs/01-alpha/README.md'],
      '02-beta': ['labs/02-beta/manifests/deployment.yaml'],
      '03-gamma': ['labs/03-gamma/notes.txt'],
    });
    // An unstaged edit, with nothing committed: also counted.
    await git('add', '-A');
    await git('commit', '-q', '-m', 'all');
    await git('checkout', '-q', 'main');
    await appendFile(path.join(labsDir, '03-gamma', 'lab.yaml'), '# edited\n');
    expect((await changed()).ids).toEqual(['03-gamma']);
  });

  it('BASE is compared at the merge base: what main did after the branch point selects nothing', async () => {
    await git('checkout', '-q', 'main');
    await appendFile(path.join(labsDir, '01-alpha', 'README.md'), '\non main\n');
    await git('commit', '-q', '-am', 'main moves on');
    await git('checkout', '-q', 'feature');
    expect((await changed()).ids).toEqual([]);
    // Two dots would have compared with main itself and named 01-alpha.
    expect(await git('diff', '--name-only', 'main')).toBe('labs/01-alpha/README.md');
  });

  it('a shared file counts for the labs that symlink it, inside or outside the labs folder', async () => {
    await appendFile(path.join(labsDir, '_shared', 'common.yaml'), 'data: { x: "1" }\n');
    expect(await changed()).toMatchObject({ ids: ['02-beta'], because: { '02-beta': ['labs/_shared/common.yaml (linked from 02-beta)'] } });
    await git('commit', '-q', '-am', 'shared');
    await appendFile(path.join(repo, 'manifests', 'client.yaml'), 'data: { y: "2" }\n');
    expect(await changed()).toMatchObject({ ids: ['01-alpha', '02-beta'], because: { '01-alpha': ['manifests/client.yaml (linked from 01-alpha)'] } });
  });

  it('a file in the labs folder outside every lab that no lab links counts for all; the README and files elsewhere for none', async () => {
    await appendFile(path.join(labsDir, 'README.md'), 'more\n');
    await appendFile(path.join(repo, 'README.md'), 'more\n');
    await mkdir(path.join(repo, '.github'));
    await writeFile(path.join(repo, '.github', 'ci.yml'), 'on: push\n');
    expect((await changed()).ids).toEqual([]);
    await writeFile(path.join(labsDir, '_shared', 'helper.sh'), 'echo hi\n');
    const r = await changed();
    expect(r.ids).toEqual(['01-alpha', '02-beta', '03-gamma']);
    expect(r.because['03-gamma']).toEqual(['labs/_shared/helper.sh (in the labs folder, outside every lab)']);
  });

  it('a removed lab is reported, not validated; a renamed one is validated under its new name', async () => {
    await git('rm', '-q', '-r', 'labs/03-gamma');
    await git('mv', 'labs/01-alpha', 'labs/04-alpha');
    await git('commit', '-q', '-m', 'remove and rename');
    // The renamed lab's id must match its folder: that is a lint error, so fix lab.yaml as an author would.
    const yaml = path.join(labsDir, '04-alpha', 'lab.yaml');
    await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('id: 01-alpha', 'id: 04-alpha'));
    const r = await changed();
    expect(r.ids).toEqual(['04-alpha']);
    expect(r.removed).toEqual(['01-alpha', '03-gamma']);
  });

  it('labs at the top of the repository (--labs .) are found the same way', async () => {
    const all = await labs();
    const r = await select(labsDir, labsDir, ['02-beta/lab.yaml', 'README.md', '_shared/x.sh'], all);
    expect(r.ids).toEqual(['01-alpha', '02-beta', '03-gamma']);
    expect(r.because['02-beta']).toEqual(['02-beta/lab.yaml', '_shared/x.sh (in the labs folder, outside every lab)']);
    expect((await select(labsDir, labsDir, ['README.md'], all)).ids).toEqual([]);
  });

  it("in svclab's own repository a check kind's code counts for the labs using it; other runner and image changes are named, not followed", async () => {
    const all = await labs(); // scaffolded: one endpoints check each
    const files = ['runner/src/checks/kinds/endpoints.ts', 'runner/src/checks/kinds/dns.ts', 'runner/src/cli.ts', 'images/web/Dockerfile', 'site/index.md'];
    const own = await select(repo, labsDir, files, all, true);
    expect(own.ids).toEqual(['01-alpha', '02-beta', '03-gamma']);
    expect(own.because['01-alpha']).toEqual(['runner/src/checks/kinds/endpoints.ts (its endpoints checks)']);
    expect(own.notes).toEqual(["svclab's own code or images changed (runner/src/cli.ts, images/web/Dockerfile); --only-changed follows only lab files and check kinds into labs: validate every lab to cover the rest"]);
    // A course repository that happens to hold such paths is not svclab: they select nothing.
    const course = await select(repo, labsDir, files, all, false);
    expect(course).toMatchObject({ ids: [], notes: [] });
    // changedLabs decides "svclab's own" by the repository's top being svclab's checkout.
    await mkdir(path.join(repo, 'runner', 'src', 'checks', 'kinds'), { recursive: true });
    await writeFile(path.join(repo, 'runner', 'src', 'checks', 'kinds', 'endpoints.ts'), '// changed\n');
    expect((await changedLabs({ shell, labsDir, base: 'main', labs: all, svclabRoot: repo })).ids).toEqual(['01-alpha', '02-beta', '03-gamma']);
    expect((await changedLabs({ shell, labsDir, base: 'main', labs: all, svclabRoot: path.join(repo, 'labs') })).ids).toEqual([]);
  });

  it('BASE that is not a ref, a ref that looks like an option, a labs folder outside git: what, where and a hint', async () => {
    const bad = await rejected(changed('origin/nope'));
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toBe(`--only-changed origin/nope: "origin/nope" is not a branch, tag or commit in ${await git('rev-parse', '--show-toplevel')}.`);
    expect(bad.hint).toMatch(/git -C .* branch -a.*fetch-depth: 0/);

    const option = await rejected(changed('--output=/tmp/x'));
    expect(option.message).toBe('--only-changed --output=/tmp/x: "--output=/tmp/x" is not a git ref.');

    // A checkout owned by another user (a CI container): git refuses it, and the hint says how to allow it.
    if (process.getuid?.() === 0) {
      const owned = await mkdtemp(path.join(tmpdir(), 'svclab-owned-'));
      try {
        await mkdir(path.join(owned, 'labs'));
        expect((await shell.run(['git', 'init', '-q'], { cwd: owned, timeoutMs: 10_000 })).exitCode).toBe(0);
        await chown(owned, 65534, 65534);
        const e = await rejected(changedLabs({ shell, labsDir: path.join(owned, 'labs'), base: 'main', labs: [] }));
        expect(e.message).toBe(`--only-changed main: git refuses ${path.join(owned, 'labs')}: another user owns the repository (fatal: detected dubious ownership in repository at '${owned}')`);
        expect(e.hint).toContain('git config --global --add safe.directory');
      } finally {
        await rm(owned, { recursive: true, force: true });
      }
    }

    const plain = await mkdtemp(path.join(tmpdir(), 'svclab-nogit-'));
    try {
      await mkdir(path.join(plain, 'labs'));
      const e = await rejected(changedLabs({ shell, labsDir: path.join(plain, 'labs'), labsArg: 'course/labs', base: 'main', labs: [] }));
      expect(e.message).toMatch(new RegExp(`^--only-changed main: course/labs \\(${plain}/labs\\) is not inside a git repository: fatal: not a git repository`));
      expect(e.hint).toMatch(/git checkout of the course.*drop --only-changed/);
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
  });
});
