import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { FakeDoctorHost } from '../../src/doctor/doctor-host.ts';
import { runDoctor, type DoctorCheck } from '../../src/doctor/doctor.ts';
import { doctorCommand, fixPlan, sudoLine } from '../../src/doctor/fix.ts';
import { FakeCommandRunner } from '../../src/exec/fake-command-runner.ts';
import { projectRoot } from '../../src/version.ts';
import { tempRecipes, type TempRecipes } from '../images/fixtures.ts';

let t: TempRecipes | undefined;
afterEach(() => { t?.cleanup(); t = undefined; });

/** A fresh Debian machine as the README promises to handle: a docker CLI at most, no daemon, no debootstrap, no chromium. */
function freshMachine(opts: { dockerCli: boolean; root: boolean }) {
  const runner = new FakeCommandRunner().on(['go', 'version'], { stdout: 'go version go1.26.8 linux/amd64\n' });
  if (opts.dockerCli) {
    runner
      .on(['docker', '--version'], { stdout: 'Docker version 28.2.2, build e6534b4\n' })
      .on(['docker', 'info'], { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' });
  }
  runner.on(['apt-get'], { exitCode: 0 }).on(['bash'], { exitCode: 0 });
  const host = new FakeDoctorHost();
  host.isRoot = opts.root;
  host.files.set('/proc/self/status', 'CapBnd:\t000001fffeffffff\n');
  if (opts.dockerCli) host.executables.set('docker', '/usr/local/bin/docker');
  return { runner, host };
}

async function checksOf(runner: FakeCommandRunner, host: FakeDoctorHost): Promise<DoctorCheck[]> {
  t ??= tempRecipes();
  t.image('workstation', [], [], 'true\n');
  return runDoctor({ runner, engine: new DockerEngine({ runner, queryTimeoutMs: 10_000 }), host, cacheDir: t.cacheDir, imagesDir: t.imagesDir, repoDir: '/src/svclab' });
}

/** The packages a printed fix tells a person to install, read back from its text. */
function packagesInFix(fix: string): string[] {
  return [...fix.matchAll(/apt-get install -y ((?:[a-z0-9.+-]+ ?)+)/g)].flatMap((m) => m[1]!.trim().split(' '));
}

describe('svclab doctor --fix', () => {
  it('installs exactly what the printed fixes name, then starts docker (root, fresh machine with only a docker CLI)', async () => {
    const { runner, host } = freshMachine({ dockerCli: true, root: true });
    const checks = await checksOf(runner, host);
    const out: string[] = [];
    const code = await doctorCommand({ fix: true, purpose: 'test' }, { runner, isRoot: true, repoDir: '/src/svclab', out: (l) => out.push(l), check: async () => checks });
    const ran = runner.calls.map((c) => c.argv.join(' '));
    const install = ran.find((a) => a.startsWith('apt-get install'))!;
    // Every apt package any printed fix names is installed, and nothing else.
    const printed = new Set(checks.filter((c) => !c.ok).flatMap((c) => packagesInFix(c.fix)));
    expect(new Set(install.replace('apt-get install -y ', '').split(' '))).toEqual(printed);
    expect(printed).toEqual(new Set(['chromium', 'fonts-wqy-microhei', 'zstd', 'debootstrap']));
    expect(ran.indexOf('apt-get update')).toBeLessThan(ran.indexOf(install));
    expect(ran.at(-1)).toBe('bash /src/svclab/scripts/ensure-docker.sh');
    expect(code).toBe(1); // the fake machine still lacks docker afterwards: said, not hidden
    expect(out.join('\n')).toContain('MISSING');
  });

  it('every check a person is told to fix with apt-get or ensure-docker.sh is one --fix repairs', async () => {
    for (const dockerCli of [true, false]) {
      const { runner, host } = freshMachine({ dockerCli, root: true });
      for (const c of await checksOf(runner, host)) {
        if (c.ok) continue;
        const aptNamed = packagesInFix(c.fix);
        expect(c.autoFix?.apt ?? [], c.name).toEqual(aptNamed);
        if (c.fix.includes('ensure-docker.sh')) expect(c.autoFix?.ensureDocker, c.name).toBe(true);
      }
    }
  });

  it('no docker at all: docker.io is installed before ensure-docker runs', async () => {
    const { runner, host } = freshMachine({ dockerCli: false, root: true });
    const plan = fixPlan(await checksOf(runner, host), 'start');
    expect(plan.apt).toEqual(['docker.io', 'zstd', 'debootstrap']);
    expect(plan.ensureDocker).toBe(true);
  });

  it('npm start does not install the test suite\'s chromium and font; npm test does', async () => {
    const { runner, host } = freshMachine({ dockerCli: true, root: true });
    const checks = await checksOf(runner, host);
    expect(fixPlan(checks, 'start').apt).toEqual(['zstd', 'debootstrap']);
    expect(fixPlan(checks, 'test').apt).toEqual(['chromium', 'fonts-wqy-microhei', 'zstd', 'debootstrap']);
  });

  it('a normal user gets the exact sudo command, exit 2, and nothing runs', async () => {
    const { runner, host } = freshMachine({ dockerCli: true, root: false });
    const checks = await checksOf(runner, host);
    const before = runner.calls.length;
    const out: string[] = [];
    const code = await doctorCommand({ fix: true, purpose: 'start' }, { runner, isRoot: false, repoDir: '/src/svclab', out: (l) => out.push(l), check: async () => checks });
    expect(code).toBe(2);
    expect(runner.calls.length).toBe(before);
    expect(out).toContain(`  ${sudoLine(fixPlan(checks, 'start'), '/src/svclab')}`);
    expect(sudoLine(fixPlan(checks, 'start'), '/src/svclab')).toBe(
      'sudo DEBIAN_FRONTEND=noninteractive apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y zstd debootstrap && sudo bash /src/svclab/scripts/ensure-docker.sh');
  });

  it('a failing install is reported with the command and exit code', async () => {
    const { runner, host } = freshMachine({ dockerCli: true, root: true });
    runner.on(['apt-get', 'install'], { exitCode: 100, stderr: 'E: Unable to locate package debootstrap' });
    const checks = await checksOf(runner, host);
    const out: string[] = [];
    const code = await doctorCommand({ fix: true, purpose: 'start' }, { runner, isRoot: true, repoDir: '/src/svclab', out: (l) => out.push(l), check: async () => checks });
    expect(code).toBe(1);
    expect(out.join('\n')).toContain('failed (exit 100)');
    expect(runner.calls.some((c) => c.argv[0] === 'bash')).toBe(false);
  });

  it('the README\'s commands run the fix themselves, and CI installs nothing on its own', () => {
    const read = (p: string) => readFileSync(join(projectRoot, p), 'utf8');
    expect(read('scripts/start.sh')).toMatch(/svclab doctor --fix --for start/);
    expect(read('scripts/test.sh')).toMatch(/svclab doctor --fix --for test/);
    const ci = read('.ci/run');
    expect(ci).not.toMatch(/apt-get|ensure-docker|debootstrap|chromium/);
    expect(ci).toMatch(/^npm test$/m);
  });
});
