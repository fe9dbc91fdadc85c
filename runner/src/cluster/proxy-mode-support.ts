// Whether a kube-proxy mode can work on this kernel. Nodes share the host's
// kernel, so ipvs mode needs the host's ip_vs module; without it kube-proxy
// would fall back or crash-loop, and a lab about ipvs would teach the wrong
// thing. We refuse instead, naming the module.

import { readFile, access } from 'node:fs/promises';
import { release } from 'node:os';
import { RunnerError } from '../errors.ts';
import type { ProxyMode } from './cluster-driver.ts';

export interface KernelModuleStatus {
  available: boolean;
  /** Where we looked, for the error message. */
  evidence: string;
}

export interface KernelModuleProbe {
  /** Is the module loaded, built in, or loadable from /lib/modules? */
  module(name: string): Promise<KernelModuleStatus>;
}

/** Reads /proc/modules, /proc/net/<name> and /lib/modules/<release>; paths injectable for tests. */
export class HostKernelModuleProbe implements KernelModuleProbe {
  private readonly procDir: string;
  private readonly modulesDir: string;
  private readonly kernelRelease: string;

  constructor(opts: { procDir?: string; modulesDir?: string; kernelRelease?: string } = {}) {
    this.procDir = opts.procDir ?? '/proc';
    this.modulesDir = opts.modulesDir ?? '/lib/modules';
    this.kernelRelease = opts.kernelRelease ?? release();
  }

  async module(name: string): Promise<KernelModuleStatus> {
    const procModules = await readFile(`${this.procDir}/modules`, 'utf8').catch(() => undefined);
    if (procModules?.split('\n').some((l) => l.split(' ')[0] === name)) return { available: true, evidence: `${name} is loaded (${this.procDir}/modules)` };
    // A built-in ip_vs shows up as /proc/net/ip_vs without a /proc/modules line.
    if (await exists(`${this.procDir}/net/${name}`)) return { available: true, evidence: `${this.procDir}/net/${name} exists` };
    const dir = `${this.modulesDir}/${this.kernelRelease}`;
    const builtin = await readFile(`${dir}/modules.builtin`, 'utf8').catch(() => undefined);
    if (builtin?.split('\n').some((l) => l.endsWith(`/${name}.ko`))) return { available: true, evidence: `${name} is built in (${dir}/modules.builtin)` };
    const dep = await readFile(`${dir}/modules.dep`, 'utf8').catch(() => undefined);
    if (dep?.split('\n').some((l) => new RegExp(`/${name}\\.ko(\\.[a-z]+)?:`).test(l))) return { available: true, evidence: `${name} is loadable (${dir}/modules.dep)` };
    const procNote = procModules === undefined ? `${this.procDir}/modules does not exist (no loadable modules)` : `${this.procDir}/modules does not list it`;
    const libNote = dep === undefined && builtin === undefined ? `${dir} does not exist` : `${dir} has no ${name}.ko`;
    return { available: false, evidence: `${procNote}; ${libNote}` };
  }
}

async function exists(path: string): Promise<boolean> {
  try { await access(path); return true; } catch { return false; }
}

/** Throws PROXY_MODE_UNSUPPORTED naming the missing module and `modprobe`. */
export async function assertProxyModeSupported(mode: ProxyMode, probe: KernelModuleProbe): Promise<string> {
  if (mode !== 'ipvs') return `${mode}: no extra kernel module needed`;
  const m = await probe.module('ip_vs');
  if (m.available) return `ipvs: ${m.evidence}`;
  throw new RunnerError('PROXY_MODE_UNSUPPORTED', {
    message: `kube-proxy mode ipvs needs the kernel module ip_vs, and this kernel has none: ${m.evidence}.`,
    hint: 'On a kernel that ships ip_vs, load it as root with `modprobe ip_vs` and run `svclab up --proxy-mode ipvs` again; here, use --proxy-mode iptables or nftables.',
    details: { module: 'ip_vs', evidence: m.evidence },
  });
}
