// MetalLB's address pool, carved from the top of the cluster's docker network: docker
// hands out container addresses from the bottom of the subnet (gateway .1, nodes
// .2, .3 …), so the last /28 stays free unless something asked for it by hand.
// Read from the engine's view of the network, never a fixed subnet: each cluster has its own.

import { RunnerError } from '../errors.ts';
import type { NetworkDetails } from '../engine/container-engine.ts';

/** What the engine says about one network (the parts the pool needs). */
export interface NetworkAddressing {
  name: string;
  /** IPAM.Config entries: IPv4 and/or IPv6. */
  subnets: { subnet: string; gateway?: string; ipRange?: string }[];
  /** Addresses containers hold on it now (without the /prefix). */
  inUse: string[];
}

export interface AddressPool {
  /** The IPv4 subnet it was carved from. */
  subnet: string;
  /** The block it sits in, e.g. 172.18.255.240/28. */
  block: string;
  first: string;
  last: string;
  /** As MetalLB's IPAddressPool takes it: "first-last". */
  range: string;
  size: number;
}

/** The pool is the last /POOL_PREFIX of the subnet, minus its broadcast address. */
export const POOL_PREFIX = 28;

export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]!;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(s: string): { base: number; prefix: number } | undefined {
  const [addr = '', bits, ...rest] = s.split('/');
  if (rest.length > 0 || bits === undefined || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) return undefined;
  const a = parseIPv4(addr);
  if (a === undefined) return undefined;
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (a & mask) >>> 0, prefix };
}

function cidrRange(c: { base: number; prefix: number }): { lo: number; hi: number } {
  return { lo: c.base, hi: c.base + 2 ** (32 - c.prefix) - 1 };
}

/** What the MetalLB pool is carved around: the engine's view of the cluster's network. */
export function networkAddressing(n: NetworkDetails): NetworkAddressing {
  return { name: n.name, subnets: n.subnets.map((s) => ({ ...s })), inUse: [...n.addresses] };
}

/**
 * The last /28 of the network's IPv4 subnet without its broadcast address (15
 * addresses). Refused, with the numbers, when the subnet is too small to spare it or
 * when the gateway, docker's allocation range or a container already uses it.
 */
export function carveAddressPool(net: NetworkAddressing): AddressPool {
  const v4 = net.subnets.find((s) => parseCidr(s.subnet) !== undefined);
  if (!v4) {
    throw new RunnerError('CLUSTER_FAILED', {
      message: `The docker network ${net.name} has no IPv4 subnet (it has: ${net.subnets.map((s) => s.subnet).join(', ') || 'none'}), so MetalLB has no addresses to hand out.`,
      hint: 'svclab makes each cluster\'s network itself; run `svclab down` and `svclab up` again.',
      details: { network: net.name, subnets: net.subnets },
    });
  }
  const subnet = parseCidr(v4.subnet)!;
  // At most half the subnet: the nodes need the bottom of it.
  if (subnet.prefix > POOL_PREFIX - 1) {
    throw new RunnerError('CLUSTER_FAILED', {
      message: `The docker network ${net.name} is ${v4.subnet}: too small to spare a /${POOL_PREFIX} for MetalLB (it needs a /${POOL_PREFIX - 1} or larger).`,
      hint: 'Recreate the cluster: `svclab down`, then `svclab up`.',
      details: { network: net.name, subnet: v4.subnet },
    });
  }
  const { hi: broadcast } = cidrRange(subnet);
  const blockBase = broadcast - (2 ** (32 - POOL_PREFIX) - 1);
  const first = blockBase;
  const last = broadcast - 1;
  const inPool = (a: number) => a >= first && a <= last;
  const range = `${formatIPv4(first)}-${formatIPv4(last)}`;
  const conflict = (what: string, details: Record<string, unknown>) =>
    new RunnerError('CLUSTER_FAILED', {
      message: `MetalLB's pool ${range} (the top of ${v4.subnet}) overlaps ${what} on the docker network ${net.name}.`,
      hint: 'Something on that network uses addresses svclab keeps for LoadBalancer Services; recreate the cluster with `svclab down` and `svclab up`.',
      details: { network: net.name, subnet: v4.subnet, pool: range, ...details },
    });
  const gw = v4.gateway ? parseIPv4(v4.gateway) : undefined;
  if (gw !== undefined && inPool(gw)) throw conflict(`the gateway ${v4.gateway}`, { gateway: v4.gateway });
  const ipRange = v4.ipRange ? parseCidr(v4.ipRange) : undefined;
  if (ipRange) {
    const r = cidrRange(ipRange);
    if (r.lo <= last && r.hi >= first) throw conflict(`docker's container address range ${v4.ipRange}`, { ipRange: v4.ipRange });
  }
  const taken = net.inUse.filter((a) => { const n = parseIPv4(a); return n !== undefined && inPool(n); });
  if (taken.length > 0) throw conflict(`container address${taken.length > 1 ? 'es' : ''} ${taken.join(', ')}`, { inUse: taken });
  return {
    subnet: v4.subnet,
    block: `${formatIPv4(blockBase)}/${POOL_PREFIX}`,
    first: formatIPv4(first),
    last: formatIPv4(last),
    range,
    size: last - first + 1,
  };
}
