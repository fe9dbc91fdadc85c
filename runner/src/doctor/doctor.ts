// `svclab doctor`: every prerequisite with OK / missing, what it means, and the fix.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContainerEngine, EngineInfo } from '../engine/container-engine.ts';
import { isRunnerError } from '../errors.ts';
import type { CommandRunner } from '../exec/command-runner.ts';
import { defaultCacheDir, defaultImagesDir } from '../images/cache-dir.ts';
import { imagesStatus } from '../images/images.ts';
import { nodeDoctorHost, type DoctorHost } from './doctor-host.ts';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** What was found, in words a learner understands. */
  detail: string;
  /** What to do when not ok (empty when ok). */
  fix: string;
  /** Not needed to run labs (only for some features or for the test suite). */
  optional?: boolean;
  /**
   * How `svclab doctor --fix` repairs it as root: Debian packages to install and/or
   * svclab's ensure-docker script. Absent when only a person can fix it (Go, ip_vs).
   * `fix` is written from the same data, so the printed fix and the install step agree.
   */
  autoFix?: AutoFix;
  /** Only `npm test` needs it (browser tests); `npm start` doesn't install it. */
  testsOnly?: boolean;
}

export interface AutoFix {
  apt?: readonly string[];
  ensureDocker?: boolean;
}

/** The printed fix for Debian packages, from the same list `--fix` installs. */
export function aptFix(packages: readonly string[], isRoot: boolean, update = false): string {
  const sudo = isRoot ? '' : 'sudo ';
  return `${update ? `${sudo}apt-get update && ` : ''}${sudo}apt-get install -y ${packages.join(' ')}`;
}

export interface DoctorDeps {
  runner: CommandRunner;
  /** The container engine from the wiring (main/): the doctor never builds one itself. */
  engine: ContainerEngine;
  host?: DoctorHost;
  cacheDir?: string;
  imagesDir?: string;
  /** The clone, for the exact fix commands. */
  repoDir?: string;
}

const CAP_SYS_RESOURCE = 24;
const DOCKER_PACKAGES = ['docker.io'] as const;
const DEBOOTSTRAP_PACKAGES = ['debootstrap'] as const;
const CHROMIUM_PACKAGES = ['chromium'] as const;
const FONT_PACKAGES = ['fonts-wqy-microhei'] as const;
const ZSTD_PACKAGES = ['zstd'] as const;
const CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
const MIN_FREE_BYTES = 10 * 2 ** 30;
const WRAPPER_RUNTIME = 'svclab-runc';

export async function runDoctor(deps: DoctorDeps): Promise<DoctorCheck[]> {
  const host = deps.host ?? nodeDoctorHost();
  const engine = deps.engine;
  const cacheDir = deps.cacheDir ?? defaultCacheDir();
  const imagesDir = deps.imagesDir ?? defaultImagesDir();
  const repoDir = deps.repoDir ?? fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
  const asRoot = (cmd: string) => (host.isRoot ? cmd : `sudo ${cmd}`);
  const ensureDocker = asRoot(`bash ${join(repoDir, 'scripts', 'ensure-docker.sh')}`);

  const checks: DoctorCheck[] = [];
  checks.push(nodeCheck(host));

  // The docker CLI, then the daemon.
  const { cli, result: version } = await engine.cliVersion();
  const cliOk = version.exitCode === 0;
  checks.push({
    name: 'docker CLI',
    ok: cliOk,
    detail: cliOk ? `${version.stdout.trim()}${host.which(cli) ? ` (${host.which(cli)})` : ''}` : 'docker is not installed (or not on PATH).',
    fix: cliOk ? '' : aptFix(DOCKER_PACKAGES, host.isRoot, true),
    ...(cliOk ? {} : { autoFix: { apt: DOCKER_PACKAGES, ensureDocker: true } }),
  });

  let info: EngineInfo | undefined;
  let infoProblem = '';
  if (cliOk) {
    try {
      info = await engine.info();
    } catch (e) {
      infoProblem = isRunnerError(e) ? `${e.message}${e.code === 'COMMAND_FAILED' ? ` ${JSON.stringify(e.details)}` : ''}` : String(e);
    }
  }
  checks.push({
    name: 'docker daemon',
    ok: info !== undefined,
    detail: info
      ? `dockerd ${info.serverVersion} answers (default runtime ${info.defaultRuntime}, storage ${info.storageDriver}, cgroup v${info.cgroupVersion}).`
      : cliOk ? `dockerd does not answer: ${infoProblem}` : 'Needs the docker CLI first.',
    fix: info ? '' : /permission denied/i.test(infoProblem) ? asRoot(`usermod -aG docker $USER  # then log in again`) : ensureDocker,
    ...(info || /permission denied/i.test(infoProblem) ? {} : { autoFix: { ensureDocker: true } }),
  });

  checks.push(capabilityCheck(host, info, ensureDocker));
  checks.push(cgroupCheck(host, info));
  checks.push(ipvsCheck(host));
  checks.push(diskCheck(host, cacheDir));
  checks.push(testPackageCheck(host, 'chromium (tests)', CHROMIUM_PACKAGES, '/usr/bin/chromium',
    '/usr/bin/chromium is installed; the browser tests drive it.',
    'No /usr/bin/chromium: the browser tests will be skipped (labs themselves work in any browser).'));
  checks.push(testPackageCheck(host, 'CJK font (tests)', FONT_PACKAGES, CJK_FONT,
    `${CJK_FONT} is installed: screenshots of Chinese lessons show their characters.`,
    'No CJK font: screenshots of Chinese lesson pages in the browser tests would show boxes instead of characters.'));
  checks.push(zstdCheck(host));
  const images = await imageChecks({ runner: deps.runner, engine, cacheDir, imagesDir }, info !== undefined);
  // Building images needs debootstrap (as root) and Go; once every image is current, neither is.
  const needBuild = images.some((c) => !c.ok);
  checks.push(debootstrapCheck(host, needBuild));
  checks.push(await goCheck(deps.runner, needBuild));
  checks.push(...images);
  return checks;
}

function debootstrapCheck(host: DoctorHost, needed: boolean): DoctorCheck {
  const name = 'debootstrap, as root (image builds)';
  const path = host.which('debootstrap') ?? (host.exists('/usr/sbin/debootstrap') ? '/usr/sbin/debootstrap' : undefined);
  const optional = needed ? {} : { optional: true as const };
  if (!path) {
    return {
      name, ok: false,
      detail: 'debootstrap is not installed: the workstation and node images are Debian root filesystems made with it.',
      fix: aptFix(DEBOOTSTRAP_PACKAGES, host.isRoot),
      autoFix: { apt: DEBOOTSTRAP_PACKAGES },
      ...optional,
    };
  }
  if (!host.isRoot) {
    return { name, ok: false, detail: `${path} is installed, but debootstrap needs root and svclab runs as a normal user.`, fix: 'Run `sudo npx svclab images build` once; later runs find the images built.', ...optional };
  }
  return { name, ok: true, detail: `${path}, running as root.`, fix: '', ...optional };
}

async function goCheck(runner: CommandRunner, needed: boolean): Promise<DoctorCheck> {
  const r = await runner.run(['go', 'version'], { timeoutMs: 10_000 });
  const m = /go(\d+)\.(\d+)/.exec(r.stdout);
  const ok = r.exitCode === 0 && m !== null && (Number(m[1]) > 1 || Number(m[2]) >= 24);
  return {
    name: 'Go ≥ 1.24 (image builds)',
    ok,
    detail: r.exitCode !== 0
      ? 'No go on PATH: Kubernetes, etcd, CoreDNS and kind are compiled from their Go modules.'
      : ok ? `${r.stdout.trim()}.` : `${r.stdout.trim()}: Kubernetes v1.34 needs Go 1.24 or newer.`,
    fix: ok ? '' : 'Install Go 1.24 or newer (the go.dev/dl tarball unpacked to /usr/local/go) and put /usr/local/go/bin on PATH.',
    ...(needed ? {} : { optional: true as const }),
  };
}

/** Image bundles (`svclab images export|import`) are zstd-compressed; without zstd they fall back to gzip. */
function zstdCheck(host: DoctorHost): DoctorCheck {
  const path = host.which('zstd');
  return {
    name: 'zstd (image bundles)',
    ok: path !== undefined,
    detail: path ? `${path}: image bundles are zstd-compressed.` : 'No zstd: `svclab images export` falls back to gzip (slower, larger), and a zstd bundle from another machine cannot be imported.',
    fix: path ? '' : aptFix(ZSTD_PACKAGES, host.isRoot),
    optional: true,
    ...(path ? {} : { autoFix: { apt: ZSTD_PACKAGES } }),
  };
}

function testPackageCheck(host: DoctorHost, name: string, packages: readonly string[], path: string, okDetail: string, missingDetail: string): DoctorCheck {
  const ok = host.exists(path);
  return {
    name, ok,
    detail: ok ? okDetail : missingDetail,
    fix: ok ? '' : aptFix(packages, host.isRoot),
    optional: true,
    testsOnly: true,
    ...(ok ? {} : { autoFix: { apt: packages } }),
  };
}

function nodeCheck(host: DoctorHost): DoctorCheck {
  const major = Number(host.nodeVersion.split('.')[0]);
  const ok = major >= 24;
  return {
    name: 'Node.js ≥ 24',
    ok,
    detail: `Node ${host.nodeVersion}${ok ? '' : ' is too old: svclab runs TypeScript directly, which needs Node 24'}.`,
    fix: ok ? '' : 'Run svclab through npm (`npm start`, `npx svclab …`): the project brings Node 24 as a dependency.',
  };
}

/** Bits of CapBnd in /proc/self/status, or undefined when it can't be read. */
export function boundingSet(host: DoctorHost): bigint | undefined {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(host.readFile('/proc/self/status') ?? '');
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

function capabilityCheck(host: DoctorHost, info: EngineInfo | undefined, ensureDocker: string): DoctorCheck {
  const name = 'privileged containers (CAP_SYS_RESOURCE)';
  const bnd = boundingSet(host);
  if (bnd === undefined) {
    return { name, ok: true, detail: 'Could not read the capability bounding set; assuming a normal host.', fix: '' };
  }
  if ((bnd >> BigInt(CAP_SYS_RESOURCE)) & 1n) {
    return { name, ok: true, detail: 'The host grants CAP_SYS_RESOURCE: kind nodes (privileged containers) run on plain runc.', fix: '' };
  }
  if (info?.defaultRuntime === WRAPPER_RUNTIME) {
    return {
      name,
      ok: true,
      detail: `This host's capability bounding set lacks CAP_SYS_RESOURCE, so runc can't start privileged containers; dockerd runs with svclab's runc wrapper (${WRAPPER_RUNTIME}), which drops that capability from them. kind nodes work.`,
      fix: '',
    };
  }
  return {
    name,
    ok: false,
    detail: `This host's capability bounding set lacks CAP_SYS_RESOURCE: \`docker run --privileged\` (every kind node) fails with "unable to apply caps"${info ? `, and the running dockerd uses runtime ${info.defaultRuntime}` : ''}.`,
    fix: info
      ? `Stop the running dockerd, then run ${ensureDocker}: it restarts dockerd with svclab's runc wrapper as default runtime.`
      : `${ensureDocker} starts dockerd with svclab's runc wrapper as default runtime.`,
    // A running dockerd is a person's to stop; a stopped one ensure-docker starts right.
    ...(info ? {} : { autoFix: { ensureDocker: true } }),
  };
}

function cgroupCheck(host: DoctorHost, info: EngineInfo | undefined): DoctorCheck {
  const v2 = host.exists('/sys/fs/cgroup/cgroup.controllers');
  const version = info?.cgroupVersion || (v2 ? '2' : '1');
  const hybrid = !v2 && host.exists('/sys/fs/cgroup/unified');
  return {
    name: 'cgroup version',
    ok: true,
    detail: version === '2'
      ? 'cgroup v2.'
      : `cgroup v1${hybrid ? ' (hybrid)' : ''}: fine for svclab's Kubernetes v1.34 and Debian bookworm nodes (Kubernetes 1.35+ and systemd 256+ refuse cgroup v1).`,
    fix: '',
  };
}

function ipvsCheck(host: DoctorHost): DoctorCheck {
  const loaded = host.exists('/proc/net/ip_vs') || host.exists('/sys/module/ip_vs') || /^ip_vs\s/m.test(host.readFile('/proc/modules') ?? '');
  if (loaded) {
    return { name: 'ip_vs kernel module', ok: true, detail: 'ip_vs is available: kube-proxy can run in ipvs mode.', fix: '', optional: true };
  }
  const modulesDir = host.exists('/lib/modules');
  return {
    name: 'ip_vs kernel module',
    ok: false,
    detail: `ip_vs is not loaded${modulesDir ? '' : ' and this host has no /lib/modules to load it from'}: labs with kube-proxy --proxy-mode ipvs are refused; iptables and nftables modes work.`,
    fix: modulesDir
      ? 'As root: modprobe -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack'
      : "Only needed for ipvs labs: use a kernel with ip_vs (then modprobe -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh); containers can't load modules.",
    optional: true,
  };
}

function diskCheck(host: DoctorHost, cacheDir: string): DoctorCheck {
  const free = host.freeBytes(cacheDir);
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (free === undefined) {
    return { name: 'free disk ≥ 10 GiB', ok: false, detail: `Could not read the free space of ${cacheDir}.`, fix: 'Check that the cache directory (SVCLAB_CACHE) is on a readable filesystem.' };
  }
  const ok = free >= MIN_FREE_BYTES;
  return {
    name: 'free disk ≥ 10 GiB',
    ok,
    detail: `${gib(free)} free for the build cache ${cacheDir}${ok ? '' : ': images and artifacts need about 10 GiB'}.`,
    fix: ok ? '' : 'Free at least 10 GiB (docker system prune removes unused images), or point SVCLAB_CACHE at a bigger disk.',
  };
}

async function imageChecks(deps: { runner: CommandRunner; engine: ContainerEngine; cacheDir: string; imagesDir: string }, dockerUp: boolean): Promise<DoctorCheck[]> {
  if (!dockerUp) {
    return [{ name: 'images', ok: false, detail: "Can't tell which images are built while the docker daemon does not answer.", fix: 'Start docker first (see above), then run `svclab images build`.' }];
  }
  try {
    const status = await imagesStatus(deps);
    // One built only on request (the chart's runner image) is no prerequisite of svclab here.
    return status.filter((s) => s.kind === 'image' && !(s.onRequest && s.state !== 'current')).map((s) => ({
      name: `image ${s.name}`,
      ok: s.state === 'current',
      detail: s.state === 'current'
        ? `${s.location} is current.`
        : s.state === 'stale'
          ? `stale: the recipe changed since ${s.older.join(', ')} was built; it needs ${s.location}.`
          : `missing: ${s.location} has not been built.`,
      fix: s.state === 'current' ? '' : 'svclab images build',
    }));
  } catch (e) {
    return [{ name: 'images', ok: false, detail: `Could not read the image recipes: ${isRunnerError(e) ? e.message : String(e)}`, fix: isRunnerError(e) ? e.hint : '' }];
  }
}
