import { describe, expect, it } from 'vitest';
import { isRunnerError } from '../../src/errors.ts';
import { carveAddressPool, formatIPv4, networkAddressing, parseCidr, parseIPv4, type NetworkAddressing } from '../../src/addons/address-pool.ts';

const net = (subnet: string, extra: Partial<NetworkAddressing['subnets'][number]> = {}, inUse: string[] = []): NetworkAddressing =>
  ({ name: 'svclab-x', subnets: [{ subnet, ...extra }], inUse });

function refusal(f: () => unknown): string {
  try { f(); } catch (e) { if (isRunnerError(e)) return e.message; throw e; }
  throw new Error('expected a RunnerError');
}

describe('IPv4 parsing', () => {
  it('round-trips addresses and normalises a CIDR to its network', () => {
    expect(formatIPv4(parseIPv4('172.18.255.254')!)).toBe('172.18.255.254');
    expect(parseIPv4('256.1.1.1')).toBeUndefined();
    expect(parseIPv4('fc00::1')).toBeUndefined();
    expect(parseCidr('172.18.3.4/16')).toEqual({ base: parseIPv4('172.18.0.0'), prefix: 16 });
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
  });
});

describe('carveAddressPool', () => {
  it('takes the last /28 of a /16 without the broadcast address', () => {
    expect(carveAddressPool(net('172.18.0.0/16', { gateway: '172.18.0.1' }, ['172.18.0.2', '172.18.0.3']))).toEqual({
      subnet: '172.18.0.0/16', block: '172.18.255.240/28', first: '172.18.255.240', last: '172.18.255.254', range: '172.18.255.240-172.18.255.254', size: 15,
    });
  });

  it('follows whatever subnet the network has (a /24, a /20, an unaligned address)', () => {
    expect(carveAddressPool(net('192.168.7.0/24')).range).toBe('192.168.7.240-192.168.7.254');
    expect(carveAddressPool(net('10.89.16.0/20')).range).toBe('10.89.31.240-10.89.31.254');
    expect(carveAddressPool(net('10.1.2.3/27')).range).toBe('10.1.2.16-10.1.2.30');
  });

  it('uses the IPv4 subnet of a dual-stack network', () => {
    const n: NetworkAddressing = { name: 'n', subnets: [{ subnet: 'fc00:f853:ccd:e793::/64' }, { subnet: '172.19.0.0/16' }], inUse: [] };
    expect(carveAddressPool(n).subnet).toBe('172.19.0.0/16');
  });

  it('refuses a subnet too small to spare a /28, with the numbers', () => {
    expect(refusal(() => carveAddressPool(net('172.18.0.0/28')))).toMatch(/172\.18\.0\.0\/28: too small.*\/27 or larger/);
  });

  it('refuses an IPv6-only network', () => {
    expect(refusal(() => carveAddressPool({ name: 'v6', subnets: [{ subnet: 'fc00::/64' }], inUse: [] }))).toMatch(/no IPv4 subnet \(it has: fc00::\/64\)/);
  });

  it('refuses when the gateway, docker\'s allocation range or a container sits in the pool', () => {
    expect(refusal(() => carveAddressPool(net('172.18.0.0/16', { gateway: '172.18.255.250' })))).toMatch(/overlaps the gateway 172\.18\.255\.250/);
    expect(refusal(() => carveAddressPool(net('172.18.0.0/16', { ipRange: '172.18.128.0/17' })))).toMatch(/docker's container address range 172\.18\.128\.0\/17/);
    expect(refusal(() => carveAddressPool(net('172.18.0.0/16', {}, ['172.18.0.2', '172.18.255.241'])))).toMatch(/container address 172\.18\.255\.241/);
    // a range below the pool is fine
    expect(carveAddressPool(net('172.18.0.0/16', { ipRange: '172.18.0.0/17' })).size).toBe(15);
  });
});

describe('networkAddressing', () => {
  it('takes subnets, gateway and the addresses containers hold from the engine', () => {
    expect(networkAddressing({
      id: 'x', name: 'svclab-demo', labels: {}, containers: ['abc'],
      subnets: [{ subnet: '172.31.0.0/16', gateway: '172.31.0.1' }, { subnet: 'fc00:f853:ccd:e793::/64' }],
      addresses: ['172.31.0.3'],
    })).toEqual({
      name: 'svclab-demo',
      subnets: [{ subnet: '172.31.0.0/16', gateway: '172.31.0.1' }, { subnet: 'fc00:f853:ccd:e793::/64' }],
      inUse: ['172.31.0.3'],
    });
  });
});
