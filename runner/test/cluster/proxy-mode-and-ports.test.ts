import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRunnerError } from '../../src/errors.ts';
import { HostKernelModuleProbe, assertProxyModeSupported } from '../../src/cluster/proxy-mode-support.ts';
import { choosePorts, NetPortProbe } from '../../src/cluster/host-ports.ts';

describe('ipvs support detection', () => {
  let dir: string;
  const probe = () => new HostKernelModuleProbe({ procDir: join(dir, 'proc'), modulesDir: join(dir, 'modules'), kernelRelease: '6.1.0-t' });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'svclab-kmod-'));
    mkdirSync(join(dir, 'proc', 'net'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses ipvs with no /proc/modules and no /lib/modules, naming ip_vs and modprobe', async () => {
    try {
      await assertProxyModeSupported('ipvs', probe());
      expect.unreachable();
    } catch (e) {
      if (!isRunnerError(e)) throw e;
      expect(e.code).toBe('PROXY_MODE_UNSUPPORTED');
      expect(e.message).toContain('kernel module ip_vs');
      expect(e.message).toContain('/modules does not exist');
      expect(e.message).toContain('6.1.0-t does not exist');
      expect(e.hint).toContain('`modprobe ip_vs`');
      expect(e.hint).toContain('--proxy-mode iptables or nftables');
      expect(e.details).toMatchObject({ module: 'ip_vs' });
    }
  });

  it('refuses when /proc/modules lists other modules only', async () => {
    writeFileSync(join(dir, 'proc', 'modules'), 'ip_vs_rr 1 0 - Live 0x0\nbridge 2 0 - Live 0x0\n');
    await expect(assertProxyModeSupported('ipvs', probe())).rejects.toMatchObject({ code: 'PROXY_MODE_UNSUPPORTED' });
  });

  it('accepts ip_vs loaded, built in (/proc/net/ip_vs or modules.builtin) or loadable (modules.dep)', async () => {
    writeFileSync(join(dir, 'proc', 'modules'), 'ip_vs 172032 0 - Live 0x0\n');
    expect(await assertProxyModeSupported('ipvs', probe())).toContain('loaded');
    rmSync(join(dir, 'proc', 'modules'));
    writeFileSync(join(dir, 'proc', 'net', 'ip_vs'), '');
    expect(await assertProxyModeSupported('ipvs', probe())).toContain('/proc/net/ip_vs');
    rmSync(join(dir, 'proc', 'net', 'ip_vs'));
    mkdirSync(join(dir, 'modules', '6.1.0-t'), { recursive: true });
    writeFileSync(join(dir, 'modules', '6.1.0-t', 'modules.dep'), 'kernel/net/netfilter/ipvs/ip_vs.ko.xz: kernel/net/netfilter/nf_conntrack.ko.xz\n');
    expect(await assertProxyModeSupported('ipvs', probe())).toContain('loadable');
  });

  it('needs nothing for iptables and nftables', async () => {
    expect(await assertProxyModeSupported('iptables', probe())).toContain('no extra kernel module');
    expect(await assertProxyModeSupported('nftables', probe())).toContain('no extra kernel module');
  });
});

describe('host ports', () => {
  it('keeps the usual ports when free and moves taken ones to free ports', async () => {
    const fake = { isFree: async (p: number) => p !== 80, ephemeral: async () => 41000 };
    expect(await choosePorts([{ containerPort: 30080 }, { containerPort: 80 }, { containerPort: 443 }], new Set([443]), {
      ...fake,
      ephemeral: (() => { let n = 41000; return async () => ++n; })(),
    })).toEqual([
      { containerPort: 30080, hostPort: 30080, listenAddress: '127.0.0.1' },
      { containerPort: 80, hostPort: 41001, listenAddress: '127.0.0.1' },
      { containerPort: 443, hostPort: 41002, listenAddress: '127.0.0.1' },
    ]);
  });

  it('refuses an explicit host port that is taken', async () => {
    await expect(choosePorts([{ containerPort: 80, hostPort: 8080 }], new Set([8080]), new NetPortProbe())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('sees a real listener on 127.0.0.1 as taken', async () => {
    const srv: Server = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    try {
      const probe = new NetPortProbe();
      expect(await probe.isFree(port, '127.0.0.1')).toBe(false);
      const [m] = await choosePorts([{ containerPort: port }], new Set(), probe);
      expect(m!.hostPort).not.toBe(port);
      expect(await probe.isFree(m!.hostPort, '127.0.0.1')).toBe(true);
    } finally {
      srv.close();
    }
  });
});

describe('inotify room', async () => {
  const { assertInotifyRoom, hostInotifyUsage } = await import('../../src/cluster/inotify-limits.ts');

  it('passes with room for the nodes and fails with the sysctl fix when the host is short', () => {
    expect(assertInotifyRoom({ limit: 512, inUse: 100 }, 3)).toContain('100 of 512');
    try {
      assertInotifyRoom({ limit: 128, inUse: 120 }, 3);
      expect.unreachable();
    } catch (e) {
      if (!isRunnerError(e)) throw e;
      expect(e.message).toContain('120 of 128 inotify instances in use');
      expect(e.hint).toContain('sysctl -w fs.inotify.max_user_instances=512');
    }
  });

  it('reads the limit and counts inotify descriptors on this host', async () => {
    const u = await hostInotifyUsage();
    expect(u.limit).toBeGreaterThan(0);
    expect(u.inUse).toBeGreaterThanOrEqual(0);
  });
});
