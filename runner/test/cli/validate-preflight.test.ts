// What `svclab validate` decides before any cluster work, through the CLI as an author
// runs it: a Killercoda scenario imported into a course folder lints, and validate
// then names every step without a solution and exits 1 (PATH holds no docker, kind or
// git: reaching the cluster would fail differently); --only-changed with nothing
// changed says so and exits 0; bad --repeat and --only-changed values are refused.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';

const fixture = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'authoring', 'fixtures', 'killercoda-expose');

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

let dir: string;
const savedPath = process.env['PATH'];
const savedCache = process.env['SVCLAB_CACHE'];
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'svclab-preflight-'));
  process.env['SVCLAB_CACHE'] = path.join(dir, 'cache');
});
afterEach(async () => {
  process.env['PATH'] = savedPath;
  if (savedCache === undefined) delete process.env['SVCLAB_CACHE'];
  else process.env['SVCLAB_CACHE'] = savedCache;
  await rm(dir, { recursive: true, force: true });
});

describe('svclab import killercoda, then labs lint and validate', () => {
  it('imports and lints; validate names every step without a solution, in the console and the JUnit, before any cluster work', async () => {
    const labs = path.join(dir, 'course', 'labs');
    await mkdir(labs, { recursive: true });
    const imported = await run('import', 'killercoda', fixture, '--out', labs);
    expect(imported.code).toBe(0);
    expect(imported.out).toContain('imported lab 01-expose-a-deployment-with-a-service:');
    const lint = await run('labs', 'lint', '--labs', labs);
    expect(lint).toMatchObject({ code: 0, out: 'labs lint: 1 lab(s) OK' });

    // No docker, kind or git on PATH: if validate went on to build a cluster it would fail with DOCKER_MISSING instead.
    process.env['PATH'] = path.join(dir, 'empty-bin');
    const junit = path.join(dir, 'report.xml');
    const t0 = Date.now();
    const r = await run('validate', '--labs', labs, '--junit', junit, '--name', 'svclab-authors-unit');
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')).toEqual([
      '2 step(s) have no solution yet, so validate cannot prove their checks pass:',
      '  ✗ 01-expose-a-deployment-with-a-service/step-1: no solution (write labs/01-expose-a-deployment-with-a-service/lab.yaml: steps[0].solution)',
      '  ✗ 01-expose-a-deployment-with-a-service/step-2: no solution (write labs/01-expose-a-deployment-with-a-service/lab.yaml: steps[1].solution)',
    ]);
    expect(r.err.split('\n')).toEqual([
      `svclab: 2 step(s) have no solution: 01-expose-a-deployment-with-a-service/step-1, 01-expose-a-deployment-with-a-service/step-2; JUnit in ${junit}.`,
      'hint: Write each step\'s solution (manifests or commands) in lab.yaml, then run svclab validate again; `svclab labs show LAB` lists the steps.',
    ]);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="01-expose-a-deployment-with-a-service" tests="2" failures="0" errors="2" skipped="0"/);
    expect(xml).toContain('<testcase classname="01-expose-a-deployment-with-a-service.step-2" name="step-2: solution applies" time="0.000">');
    expect(xml).toContain('<error message="step step-1 has no solution yet">step step-1 has no solution yet\n\nThe step\'s solution is the placeholder svclab import killercoda wrote. Write labs/01-expose-a-deployment-with-a-service/lab.yaml: steps[0].solution (manifests or commands) so validate can prove the step\'s checks pass after it.</error>');
  });

  it('a lab whose steps all have solutions is not stopped there (it goes on to the cluster: here, no docker)', async () => {
    const labs = path.join(dir, 'labs');
    await mkdir(labs);
    expect((await run('new', 'lab', '01-first', '--labs', labs)).code).toBe(0);
    process.env['PATH'] = path.join(dir, 'empty-bin');
    const r = await run('validate', '--labs', labs, '--name', 'svclab-authors-unit');
    expect(r.code).toBe(1);
    expect(r.out).not.toContain('no solution');
    expect(r.err).toMatch(/^svclab: .*[Dd]ocker/);
  });
});

describe('svclab validate --only-changed and --repeat, refused or answered before any cluster work', () => {
  async function courseRepo(): Promise<string> {
    const repo = path.join(dir, 'course');
    await mkdir(path.join(repo, 'labs'), { recursive: true });
    expect((await run('new', 'lab', '01-first', '--labs', path.join(repo, 'labs'))).code).toBe(0);
    const git = new ExecaRunner();
    for (const args of [['init', '-q', '-b', 'main'], ['add', '.'], ['-c', 'user.name=t', '-c', 'user.email=t@svclab.invalid', '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', 'course']]) {
      const r = await git.run(['git', ...args], { cwd: repo, timeoutMs: 20_000 });
      expect(r.stderr).toBe('');
    }
    return path.join(repo, 'labs');
  }

  it('nothing changed since BASE: the sentence, exit 0', async () => {
    const labs = await courseRepo();
    const r = await run('validate', '--labs', labs, '--only-changed', 'main', '--name', 'svclab-authors-unit');
    expect(r).toEqual({ code: 0, out: 'no lab changed since main', err: '' });
  });

  it('a lab added since BASE is the only one selected, and its missing solutions stop validate before any cluster work', async () => {
    const labs = await courseRepo();
    expect((await run('import', 'killercoda', fixture, '--out', labs)).code).toBe(0); // untracked: counts as changed
    process.env['PATH'] = `${path.join(dir, 'empty-bin')}:/usr/bin:/bin`; // git, but no docker or kind
    const r = await run('validate', '--labs', labs, '--only-changed', 'main', '--name', 'svclab-authors-unit');
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^changed since main \(merge base [0-9a-f]{12}\): 1 lab\(s\)$/);
    expect(lines[1]).toMatch(/^ {2}· 02-expose-a-deployment-with-a-service: labs\/02-expose-a-deployment-with-a-service\/README\.md, .+, .+ and 4 more$/);
    expect(lines[2]).toBe('2 step(s) have no solution yet, so validate cannot prove their checks pass:');
    expect(r.out).not.toContain('01-first');
  });

  it('BASE that is not a ref: what, where, and a hint', async () => {
    const labs = await courseRepo();
    const r = await run('validate', '--labs', labs, '--only-changed', 'origin/main', '--name', 'svclab-authors-unit');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^svclab: --only-changed origin\/main: "origin\/main" is not a branch, tag or commit in .*\/course\.\nhint: List what is there with `git -C .*\/course branch -a`\. In CI the checkout is often shallow/);
  });

  it('--repeat must be a whole number from 1 to 20', async () => {
    for (const n of ['0', '21', 'two', '1.5']) {
      const r = await run('validate', '02', '--repeat', n);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`svclab: --repeat ${n}: expected a whole number from 1 to 20.`);
    }
  });

  it('--help describes the flags', async () => {
    const r = await run('validate', '--help');
    expect(r.code).toBe(0);
    for (const flag of ['--labs DIR', '--junit FILE', '--repeat N', '--only-changed BASE', '--name NAME', '--keep']) expect(r.out).toContain(flag);
    expect(r.out).toContain('no lab changed since BASE');
  });
});
