// Real tier: `svclab validate --labs DIR --junit FILE` run as a lab author runs it in
// CI — a child process, on a course folder in a temp dir outside the svclab checkout,
// against a cluster of its own (svclab-authors, deleted after). The course has two
// labs made by `svclab new lab`: 01-good as scaffolded, and 02-broken whose solution
// Service selects no pod, so its check can never pass after the solution. With
// --repeat 2: the good lab passes in both runs, the broken one fails the same way in
// both (a failure, not flaky), validate exits 1, and the JUnit failure body says
// what the check looks at, expected and observed. Needs docker, current images and
// SVCLAB_TEST_CREATE_CLUSTER=1; otherwise one SKIP line.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRunnerError } from '../../src/errors.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { imagesStatus } from '../../src/images/images.ts';
import { buildWiring } from '../../src/main/wiring.ts';
import { projectRoot } from '../../src/version.ts';

const CLUSTER = 'svclab-authors';
const d = buildWiring();
const shell = new ExecaRunner();

const skip = await (async (): Promise<string | undefined> => {
  if (process.env['SVCLAB_TEST_CREATE_CLUSTER'] !== '1') return 'set SVCLAB_TEST_CREATE_CLUSTER=1 to let it create a cluster (npm test does)';
  try {
    await d.engine.info();
    const st = await imagesStatus(d.images);
    const notCurrent = st.filter((s) => s.state !== 'current' && ['node', 'web', 'workstation', 'kind', 'traefik', 'metallb', 'kubernetes'].includes(s.name));
    if (notCurrent.length) return `images not current: ${notCurrent.map((s) => `${s.name} (${s.state})`).join(', ')} (run \`svclab images build\`)`;
  } catch (e) {
    return isRunnerError(e) ? `${e.code}: ${e.message}` : String(e);
  }
  return undefined;
})();
if (skip) console.log(`SKIP validate a course folder (real): ${skip}`);

/** The svclab CLI as a child process, its output kept and echoed (progress for a long run). */
async function svclab(args: string[], timeoutMs: number) {
  const r = await shell.run([process.execPath, path.join(projectRoot, 'bin', 'svclab.mjs'), ...args], {
    timeoutMs, cwd: tmpdir(), onOutput: (chunk) => process.stdout.write(chunk),
  });
  return r;
}

describe.skipIf(skip !== undefined)('svclab validate --labs DIR on a course outside the checkout', () => {
  let dir = '';
  let labs = '';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'svclab-course-'));
    labs = path.join(dir, 'labs');
    await mkdir(labs);
    for (const id of ['01-good', '02-broken']) expect((await svclab(['new', 'lab', id, '--labs', labs], 60_000)).exitCode).toBe(0);
    // The broken lab's solution selects no pod: hello never gets an endpoint, whatever the learner waits.
    const solution = path.join(labs, '02-broken', 'solution', 'service.yaml');
    await writeFile(solution, (await readFile(solution, 'utf8')).replace('app: hello', 'app: nobody'));
    const labYaml = path.join(labs, '02-broken', 'lab.yaml');
    await writeFile(labYaml, (await readFile(labYaml, 'utf8')).replace('deadlineSeconds: 60', 'deadlineSeconds: 20'));
    expect((await svclab(['labs', 'lint', '--labs', labs], 60_000)).exitCode).toBe(0);
  }, 120_000);

  afterAll(async () => {
    // validate deletes its cluster; this is for a run cut short. Only our own cluster.
    await d.driver.delete(CLUSTER).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 300_000);

  it('the good lab passes in both runs, the broken one fails the same way in both, exit 1, a readable JUnit', async () => {
    expect(path.relative(projectRoot, dir).startsWith('..')).toBe(true);
    const junit = path.join(dir, 'report.xml');
    const t0 = Date.now();
    const r = await svclab(['validate', '--labs', labs, '--junit', junit, '--repeat', '2', '--name', CLUSTER], 1_500_000);
    const seconds = Math.round((Date.now() - t0) / 1000);
    console.log(`validate --labs (2 labs × 2 runs, cluster created and deleted): ${seconds} s, exit ${r.exitCode}`);
    expect(r.exitCode).toBe(1);
    const out = r.stdout;
    expect(out).toMatch(/^✓ 01-good \(\d+ s\)$/m);
    expect(out).toMatch(/^✗ 02-broken: \d+ s$/m);
    expect(out).toMatch(/^validate: 2 lab\(s\) × 2 runs, [1-9]\d* violation\(s\), 0 flaky in \d+ s; JUnit in /m);
    expect(out).not.toMatch(/^flaky /m);

    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="01-good" tests="6" failures="0" errors="0" skipped="0"/);
    expect(xml).toMatch(/<testsuite name="02-broken" tests="6" failures="[1-9]" errors="0" skipped="0"/);
    expect(xml).not.toContain('type="flaky"');
    const failure = /<testcase classname="02-broken\.expose-hello" name="expose-hello: hello-has-endpoints passes after the solution"[^>]*>\s*<failure message="([^"]*)">([^<]*)<\/failure>/.exec(xml);
    expect(failure).not.toBeNull();
    const [, message, body] = failure!;
    expect(message).toMatch(/^check hello-has-endpoints still fails after the solution: /);
    // The body, for CI systems that show only it: the message, what the check looks at, expected, observed.
    expect(body!.startsWith(`${message}\n\n`)).toBe(true);
    expect(body).toMatch(/\ncheck hello-has-endpoints \(endpoints\): .*hello/);
    expect(body).toMatch(/\nexpected: .+\nobserved: .+/);
    console.log(`JUnit failure body:\n${body}`);
  }, 1_500_000);
});
