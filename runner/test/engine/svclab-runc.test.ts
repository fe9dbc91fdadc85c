// images/runtime/svclab-runc, run for real with a stand-in for runc that records its
// arguments: it must remove exactly the capabilities this host's bounding set lacks,
// and pass everything through unchanged.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const wrapper = fileURLToPath(new URL('../../../images/runtime/svclab-runc', import.meta.url));
const ALL = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_BPF'];
const BITS: Record<string, number> = { CAP_CHOWN: 0, CAP_KILL: 5, CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25, CAP_BPF: 39 };

const jq = (() => { try { execFileSync('jq', ['--version']); return true; } catch { return false; } })();
if (!jq) console.log('SKIP svclab-runc: jq is not installed (the wrapper needs it)');

const bnd = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
const granted = ALL.filter((c) => (bnd >> BigInt(BITS[c]!)) & 1n);

describe.skipIf(!jq)('svclab-runc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-runc-test-'));
  const fakeRunc = join(dir, 'runc');
  writeFileSync(fakeRunc, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\n`);
  chmodSync(fakeRunc, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]) => {
    execFileSync('bash', [wrapper, ...args], { env: { ...process.env, SVCLAB_REAL_RUNC: fakeRunc }, cwd: dir });
    return readFileSync(join(dir, 'argv'), 'utf8').trimEnd().split('\n');
  };
  const caps = () => ({ bounding: [...ALL], effective: [...ALL], permitted: [...ALL], inheritable: ['CAP_CHOWN'], ambient: [] });

  it('create --bundle: drops what the host lacks from config.json, keeps the rest, passes argv through', () => {
    const bundle = join(dir, 'bundle');
    execFileSync('mkdir', ['-p', bundle]);
    writeFileSync(join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', process: { args: ['sh'], capabilities: caps() }, root: { path: 'rootfs' } }));
    const argv = ['--root', '/run/x', '--log', '/run/x/log.json', '--log-format', 'json', 'create', '--bundle', bundle, '--pid-file', '/run/x/pid', 'ctr1'];
    expect(run(...argv)).toEqual(argv);
    const cfg = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    expect(cfg.process.capabilities.bounding).toEqual(granted);
    expect(cfg.process.capabilities.effective).toEqual(granted);
    expect(cfg.process.capabilities.inheritable).toEqual(['CAP_CHOWN']);
    expect(cfg.root).toEqual({ path: 'rootfs' });
    expect(cfg.process.args).toEqual(['sh']);
  });

  it('exec --process: drops them from the process file', () => {
    const proc = join(dir, 'process.json');
    writeFileSync(proc, JSON.stringify({ args: ['bash'], capabilities: caps() }));
    run('--root', '/run/x', 'exec', '--process', proc, '--detach', 'ctr1');
    expect(JSON.parse(readFileSync(proc, 'utf8')).capabilities.permitted).toEqual(granted);
  });

  it('leaves other subcommands and files alone', () => {
    const proc = join(dir, 'other.json');
    const text = JSON.stringify({ capabilities: caps() });
    writeFileSync(proc, text);
    expect(run('--root', '/run/x', 'state', 'ctr1')).toEqual(['--root', '/run/x', 'state', 'ctr1']);
    expect(run('update', '-r', proc, 'ctr1')).toEqual(['update', '-r', proc, 'ctr1']);
    expect(readFileSync(proc, 'utf8')).toBe(text);
  });
});
