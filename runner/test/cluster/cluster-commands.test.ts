// `svclab up | down | status | kubectl` against FakeClusterDriver: argument
// errors are RunnerErrors with hints, and output reads well.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { FakeShell } from '../../src/exec/fake-shell.ts';
import { isRunnerError, type RunnerError } from '../../src/errors.ts';
import { FakeClusterDriver } from '../../src/cluster/fake-cluster-driver.ts';
import { down, kubectl, parseUpArgs, status, up, type ClusterCommandDeps } from '../../src/cluster/cluster-commands.ts';

const IMAGE = 'svclab/node:0123456789abcdef';

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<RunnerError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (isRunnerError(e)) return e;
    throw e;
  }
  throw new Error('expected a RunnerError');
}

describe('svclab up/down/status/kubectl', () => {
  let lines: string[];
  let driver: FakeClusterDriver;
  let runner: FakeShell;
  let deps: ClusterCommandDeps;
  let dir: string;

  beforeEach(() => {
    lines = [];
    driver = new FakeClusterDriver();
    runner = new FakeShell();
    dir = mkdtempSync(join(tmpdir(), 'svclab-cmd-'));
    deps = { runner, engine: new FakeContainerEngine(), driver, out: (l) => lines.push(l), nodeImage: async () => IMAGE, stateDir: dir };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses up arguments with defaults and prefixes a bare name', () => {
    expect(parseUpArgs([])).toEqual({ name: 'svclab-main', workers: 2, proxyMode: 'iptables' });
    expect(parseUpArgs(['--name', 'demo', '--workers', '0', '--proxy-mode', 'nftables'])).toEqual({ name: 'svclab-demo', workers: 0, proxyMode: 'nftables' });
    expect(parseUpArgs(['--name=svclab-x', '--node-image', 'svclab/node:abc'])).toMatchObject({ name: 'svclab-x', nodeImage: 'svclab/node:abc' });
  });

  it('rejects an unknown proxy mode, listing the modes', async () => {
    const e = await rejection(() => parseUpArgs(['--proxy-mode', 'userspace']));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('userspace');
    expect(e.hint).toContain('iptables, nftables, ipvs');
  });

  it.each(['5', '-1', 'two', '1.5', ''])('rejects --workers=%j', async (w) => {
    const e = await rejection(() => parseUpArgs([`--workers=${w}`]));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('0 to 4');
  });

  it('rejects a missing option value in one line', async () => {
    const e = await rejection(() => parseUpArgs(['--workers', '-1']));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe("Option '--workers' argument is ambiguous.");
    expect(e.hint).toContain('--workers 0..4');
  });

  it('rejects unknown flags and bad names', async () => {
    const flag = await rejection(() => parseUpArgs(['--wrokers', '2']));
    expect(flag.code).toBe('INVALID_ARGUMENT');
    expect(flag.hint).toContain('svclab up');
    const name = await rejection(() => parseUpArgs(['--name', 'Bad_Name']));
    expect(name.code).toBe('INVALID_ARGUMENT');
    expect(name.message).toContain('name');
  });

  it('up prints numbered steps with times and the mapped ports', async () => {
    const r = await up(['--name', 'demo'], deps);
    expect(r.name).toBe('svclab-demo');
    expect(lines[0]).toContain('Creating cluster svclab-demo: 1 control plane + 2 workers, kube-proxy iptables');
    expect(lines.some((l) => /^\[1\/11\] Preflight: kube-proxy mode is supported ok \(\d+\.\d s, total \d+\.\d s\)/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('[11/11] Done ok'))).toBe(true);
    expect(lines).toContain('  127.0.0.1:30080 → node port 30080');
  });

  it('up refuses a name in use, and ipvs on this kernel', async () => {
    await up(['--name', 'demo'], deps);
    const e = await rejection(up(['--name', 'demo'], deps));
    expect(e.code).toBe('CLUSTER_EXISTS');
    expect(e.hint).toContain('svclab down --name svclab-demo');
    const ipvs = await rejection(up(['--name', 'v', '--proxy-mode', 'ipvs'], deps));
    expect(ipvs.code).toBe('PROXY_MODE_UNSUPPORTED');
    expect(ipvs.message).toContain('ip_vs');
    expect(lines.some((l) => l.includes('Preflight: kube-proxy mode is supported FAILED'))).toBe(true);
  });

  it('down removes by name, refuses --name with --all, and reports an unknown cluster', async () => {
    await up(['--name', 'demo'], deps);
    await down(['--name', 'demo'], deps);
    expect(await driver.list()).toEqual([]);
    expect((await rejection(down(['--name', 'demo'], deps))).code).toBe('CLUSTER_UNKNOWN');
    expect((await rejection(down(['--name', 'a', '--all'], deps))).code).toBe('INVALID_ARGUMENT');
  });

  it('status lists clusters with nodes and ports, or says there are none', async () => {
    await status(deps);
    expect(lines).toEqual(['No svclab clusters. Create one with `svclab up`.']);
    lines.length = 0;
    await up([], deps);
    lines.length = 0;
    await status(deps);
    expect(lines[0]).toBe('svclab-main  running  1 control plane + 2 workers, kube-proxy iptables');
    expect(lines.filter((l) => /^ {2}svclab-main-(control-plane|worker2?) /.test(l))).toHaveLength(3);
  });

  it('kubectl without a host kubectl runs the node kubectl, sending a local -f file on stdin', async () => {
    await up([], deps);
    driver.responder = ({ argv }) => ({ exitCode: 0, stdout: `ran ${argv.join(' ')}\n`, stderr: '' });
    const file = join(dir, 'svc.yaml');
    writeFileSync(file, 'kind: Service\n');
    expect(await kubectl(['apply', '-f', file], deps)).toBe(0);
    const call = driver.execCalls.at(-1)!;
    expect(call.node).toBe('svclab-main-control-plane');
    expect(call.argv).toEqual(['kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', 'apply', '-f', '-']);
    expect(call.input).toBe('kind: Service\n');
    expect(lines.at(-1)).toBe('ran kubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f -');
  });

  it('kubectl with a host kubectl uses a 0600 kubeconfig for the named cluster and returns its exit code', async () => {
    await up(['--name', 'a'], deps);
    await up(['--name', 'b'], deps);
    runner.on(['/usr/local/bin/kubectl'], (argv, opts) => {
      opts.onOutput?.('NAME STATUS\nb-cp Ready\n', 'stdout');
      return { exitCode: argv.includes('bad') ? 1 : 0 };
    });
    const d = { ...deps, kubectlPath: '/usr/local/bin/kubectl' };
    expect((await rejection(kubectl(['get', 'nodes'], d))).message).toContain('say which');
    expect(await kubectl(['--name', 'b', 'get', 'nodes'], d)).toBe(0);
    expect(runner.calls.at(-1)!.argv).toEqual(['/usr/local/bin/kubectl', `--kubeconfig=${join(dir, 'svclab-b', 'kubeconfig-host')}`, 'get', 'nodes']);
    expect(lines.slice(-2)).toEqual(['NAME STATUS', 'b-cp Ready']);
    expect(await kubectl(['--name=b', 'bad'], d)).toBe(1);
  });

  it('kubectl with no running cluster says to run svclab up', async () => {
    const e = await rejection(kubectl(['get', 'nodes'], deps));
    expect(e.code).toBe('NO_CLUSTER');
    expect(e.hint).toContain('svclab up');
  });
});
