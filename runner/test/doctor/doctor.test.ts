import { afterEach, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { FakeDoctorHost } from '../../src/doctor/doctor-host.ts';
import { runDoctor, type DoctorCheck } from '../../src/doctor/doctor.ts';
import { FakeCommandRunner } from '../../src/exec/fake-command-runner.ts';
import { hashRecipes } from '../../src/images/recipe-hash.ts';
import { loadRecipes } from '../../src/images/recipes.ts';
import { tempRecipes, type TempRecipes } from '../images/fixtures.ts';

const FULL_CAPS = 'CapBnd:\t000001ffffffffff\n';
const NO_SYS_RESOURCE = 'CapBnd:\t000001fffeffffff\n';

let t: TempRecipes | undefined;
afterEach(() => {
  t?.cleanup();
  t = undefined;
});

function info(runtime = 'runc'): string {
  return JSON.stringify({ ServerVersion: '20.10.24+dfsg1', DefaultRuntime: runtime, CgroupVersion: '1', Driver: 'overlay2' });
}

/** A healthy machine: docker answers with no images built, full capabilities, chromium. */
function healthy(): { runner: FakeCommandRunner; host: FakeDoctorHost } {
  const runner = new FakeCommandRunner()
    .on(['docker', '--version'], { stdout: 'Docker version 28.2.2, build e6534b4\n' })
    .on(['docker', 'info'], { stdout: info() })
    .on(['docker', 'image', 'ls'], { stdout: '' })
    .on(['go', 'version'], { stdout: 'go version go1.26.8 linux/amd64\n' });
  const host = new FakeDoctorHost();
  host.executables.set('docker', '/usr/local/bin/docker');
  host.executables.set('debootstrap', '/usr/sbin/debootstrap');
  host.executables.set('zstd', '/usr/bin/zstd');
  host.files.set('/proc/self/status', `Name:\tnode\n${FULL_CAPS}`);
  host.paths.add('/usr/bin/chromium');
  host.paths.add('/usr/share/fonts/truetype/wqy/wqy-microhei.ttc');
  host.paths.add('/sys/fs/cgroup/cgroup.controllers');
  host.paths.add('/proc/net/ip_vs');
  return { runner, host };
}

async function doctor(runner: FakeCommandRunner, host: FakeDoctorHost): Promise<Record<string, DoctorCheck>> {
  t ??= tempRecipes();
  const checks = await runDoctor({ runner, engine: new DockerEngine({ runner, queryTimeoutMs: 10_000 }), host, cacheDir: t.cacheDir, imagesDir: t.imagesDir, repoDir: '/src/svclab' });
  return Object.fromEntries(checks.map((c) => [c.name, c]));
}

describe('svclab doctor', () => {
  it('passes every check on a healthy machine (with no image recipes)', async () => {
    t = tempRecipes();
    const { runner, host } = healthy();
    const checks = await doctor(runner, host);
    expect(Object.values(checks).filter((c) => !c.ok)).toEqual([]);
    expect(Object.keys(checks)).toEqual([
      'Node.js ≥ 24', 'docker CLI', 'docker daemon', 'privileged containers (CAP_SYS_RESOURCE)', 'cgroup version',
      'ip_vs kernel module', 'free disk ≥ 10 GiB', 'chromium (tests)', 'CJK font (tests)', 'zstd (image bundles)', 'debootstrap, as root (image builds)', 'Go ≥ 1.24 (image builds)',
    ]);
    expect(checks['docker CLI']!.detail).toBe('Docker version 28.2.2, build e6534b4 (/usr/local/bin/docker)');
    expect(checks['cgroup version']!.detail).toMatch(/^cgroup v1: fine/); // docker's answer wins over the host's files
    for (const c of Object.values(checks)) expect(c.fix).toBe('');
    // every command had a timeout
    for (const call of runner.calls) expect(call.opts.timeoutMs).toBeGreaterThan(0);
  });

  it('a missing docker CLI names the apt command; nothing else about docker is guessed', async () => {
    const { host } = healthy();
    const checks = await doctor(new FakeCommandRunner(), host);
    expect(checks['docker CLI']).toMatchObject({ ok: false, fix: 'apt-get update && apt-get install -y docker.io' });
    expect(checks['docker daemon']).toMatchObject({ ok: false, detail: 'Needs the docker CLI first.' });
    expect(checks['images']).toMatchObject({ ok: false });
  });

  it('a stopped daemon points at ensure-docker.sh, with sudo for a non-root user', async () => {
    const { runner, host } = healthy();
    runner.on(['docker', 'info'], { stdout: JSON.stringify({ ServerErrors: ['Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'] }) });
    host.isRoot = false;
    const checks = await doctor(runner, host);
    expect(checks['docker daemon']!.ok).toBe(false);
    expect(checks['docker daemon']!.detail).toContain('not running');
    expect(checks['docker daemon']!.fix).toBe('sudo bash /src/svclab/scripts/ensure-docker.sh');
  });

  it('a non-root user without access to the socket is told to join the docker group', async () => {
    const { runner, host } = healthy();
    runner.on(['docker', 'info'], { exitCode: 1, stderr: 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock' });
    host.isRoot = false;
    const checks = await doctor(runner, host);
    expect(checks['docker daemon']!.fix).toContain('sudo usermod -aG docker');
  });

  it('a host without CAP_SYS_RESOURCE is fine when dockerd runs the svclab-runc wrapper, and says so', async () => {
    const { runner, host } = healthy();
    host.files.set('/proc/self/status', NO_SYS_RESOURCE);
    runner.on(['docker', 'info'], { stdout: info('svclab-runc') });
    const c = (await doctor(runner, host))['privileged containers (CAP_SYS_RESOURCE)']!;
    expect(c.ok).toBe(true);
    expect(c.detail).toContain('lacks CAP_SYS_RESOURCE');
    expect(c.detail).toContain('svclab-runc');
  });

  it('a host without CAP_SYS_RESOURCE and a plain-runc dockerd fails, with the fix', async () => {
    const { runner, host } = healthy();
    host.files.set('/proc/self/status', NO_SYS_RESOURCE);
    const c = (await doctor(runner, host))['privileged containers (CAP_SYS_RESOURCE)']!;
    expect(c.ok).toBe(false);
    expect(c.detail).toContain('unable to apply caps');
    expect(c.fix).toContain('bash /src/svclab/scripts/ensure-docker.sh');
  });

  it('a normal host never mentions the wrapper', async () => {
    const { runner, host } = healthy();
    const c = (await doctor(runner, host))['privileged containers (CAP_SYS_RESOURCE)']!;
    expect(c).toMatchObject({ ok: true });
    expect(c.detail).not.toContain('svclab-runc');
  });

  it('no ip_vs and no /lib/modules: optional, and says what it means for kube-proxy', async () => {
    const { runner, host } = healthy();
    host.paths.delete('/proc/net/ip_vs');
    const c = (await doctor(runner, host))['ip_vs kernel module']!;
    expect(c).toMatchObject({ ok: false, optional: true });
    expect(c.detail).toContain('no /lib/modules');
    expect(c.detail).toContain('ipvs are refused; iptables and nftables modes work');
    host.paths.add('/lib/modules');
    expect((await doctor(runner, host))['ip_vs kernel module']!.fix).toBe('As root: modprobe -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack');
  });

  it('less than 10 GiB free fails; old Node fails; no chromium is optional', async () => {
    const { runner, host } = healthy();
    host.free = 5 * 2 ** 30;
    host.nodeVersion = '20.19.0';
    host.paths.delete('/usr/bin/chromium');
    const checks = await doctor(runner, host);
    expect(checks['free disk ≥ 10 GiB']).toMatchObject({ ok: false });
    expect(checks['free disk ≥ 10 GiB']!.detail).toContain('5.0 GiB free');
    expect(checks['Node.js ≥ 24']).toMatchObject({ ok: false });
    expect(checks['chromium (tests)']).toMatchObject({ ok: false, optional: true, fix: 'apt-get install -y chromium' });
  });

  it('reports each image current, stale or missing', async () => {
    t = tempRecipes();
    t.image('node', [], [], 'true\n');
    t.image('workstation', [], [], 'true\n');
    t.image('web', [], [], 'true\n');
    const hashes = hashRecipes(loadRecipes(t.imagesDir));
    const h16 = (n: string) => hashes.get(`image:${n}`)!.slice(0, 16);
    const { runner, host } = healthy();
    runner
      .on(['docker', 'image', 'ls'], { stdout: 'sha256:aaa\nsha256:bbb\n' })
      .on(['docker', 'image', 'inspect'], {
        stdout: [
          `sha256:aaa\t["svclab/workstation:${h16('workstation')}"]\t{"svclab.image":"workstation"}`,
          'sha256:bbb\t["svclab/node:0000000000000000"]\t{"svclab.image":"node"}',
        ].join('\n'),
      });
    const checks = await doctor(runner, host);
    expect(checks['image workstation']).toMatchObject({ ok: true, fix: '' });
    expect(checks['image node']!.ok).toBe(false);
    expect(checks['image node']!.detail).toBe(`stale: the recipe changed since svclab/node:0000000000000000 was built; it needs svclab/node:${h16('node')}.`);
    expect(checks['image web']).toMatchObject({ ok: false, detail: `missing: svclab/web:${h16('web')} has not been built.`, fix: 'svclab images build' });
  });

  it('image builds need debootstrap as root and Go ≥ 1.24 — required while an image is not current', async () => {
    t = tempRecipes();
    t.image('workstation', [], [], 'true\n');
    const { runner, host } = healthy();
    host.isRoot = false;
    host.executables.delete('debootstrap');
    runner.on(['go', 'version'], { stdout: 'go version go1.22.2 linux/amd64\n' });
    const checks = await doctor(runner, host);
    expect(checks['image workstation']!.ok).toBe(false);
    expect(checks['debootstrap, as root (image builds)']).toMatchObject({ ok: false, fix: 'sudo apt-get install -y debootstrap' });
    expect(checks['debootstrap, as root (image builds)']!.optional).toBeUndefined();
    expect(checks['Go ≥ 1.24 (image builds)']).toMatchObject({ ok: false, detail: 'go version go1.22.2 linux/amd64: Kubernetes v1.34 needs Go 1.24 or newer.' });

    host.executables.set('debootstrap', '/usr/sbin/debootstrap');
    expect((await doctor(runner, host))['debootstrap, as root (image builds)']!.detail).toContain('needs root');
  });

  it('with every image current, missing build tools are only optional', async () => {
    t = tempRecipes();
    const { host } = healthy();
    const runner = new FakeCommandRunner()
      .on(['docker', '--version'], { stdout: 'Docker version 28.2.2\n' })
      .on(['docker', 'info'], { stdout: info() })
      .on(['docker', 'image', 'ls'], { stdout: '' });
    host.executables.delete('debootstrap');
    const checks = await doctor(runner, host);
    expect(checks['Go ≥ 1.24 (image builds)']).toMatchObject({ ok: false, optional: true });
    expect(checks['debootstrap, as root (image builds)']).toMatchObject({ ok: false, optional: true });
    expect(checks['Go ≥ 1.24 (image builds)']!.detail).toContain('No go on PATH');
  });
});
