// The real ValidateTarget: one svclab cluster reused by every lab (reset between
// them), manifests applied as cluster admin from the control-plane node, solution
// commands run in a workstation container whose kubectl points at the cluster.
import { readFile } from 'node:fs/promises';
import type { CheckContext } from '../checks/check.ts';
import { systemClock } from '../checks/check.ts';
import { ClientNodeKubeApi } from '../checks/kube-api.ts';
import { ClusterVantageExec } from '../checks/vantage.ts';
import { nodeKubectl, type ClusterDriver } from '../cluster/cluster-driver.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import type { CommandRunner } from '../exec/command-runner.ts';
import type { Lab } from './load-labs.ts';
import type { ValidateTarget } from './validate.ts';

/** Namespaces a reset leaves alone: the cluster's own and its add-ons'. */
const KEEP_NAMESPACES = /^(default|kube-system|kube-public|kube-node-lease|local-path-storage|metallb-system|traefik)$/;
/** What a lab may leave in `default` (kube-root-ca.crt comes back by itself); the kubernetes Service and its slice are kept. */
const DEFAULT_KINDS = 'deployments,statefulsets,daemonsets,replicasets,pods,jobs,ingresses,networkpolicies,secrets,configmaps';

export interface ClusterValidateTargetOptions {
  driver: ClusterDriver;
  cluster: string;
  engine: ContainerEngine;
  /** A workstation container on the cluster's network with kubectl configured (the session manager makes one). */
  workstation: string;
  user?: string;
  /** For `host` vantage points. */
  host?: CommandRunner;
  lang?: 'en' | 'zh';
}

export class ClusterValidateTarget implements ValidateTarget {
  private readonly opts: ClusterValidateTargetOptions;
  private kube: ClientNodeKubeApi | undefined;

  constructor(opts: ClusterValidateTargetOptions) {
    this.opts = opts;
  }

  /** Loads the host kubeconfig once; call before checkContext. */
  async init(): Promise<void> {
    this.kube ??= new ClientNodeKubeApi(await this.opts.driver.kubeconfig(this.opts.cluster, 'host'));
  }

  async reset(_lab: Lab): Promise<void> {
    const ns = await this.kubectl(['get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}']);
    const extra = ns.stdout.split(/\s+/).filter((n) => n && !KEEP_NAMESPACES.test(n));
    if (extra.length) await this.kubectl(['delete', 'namespace', '--wait=true', '--timeout=120s', ...extra], 150_000);
    await this.kubectl(['delete', DEFAULT_KINDS, '-n', 'default', '--all', '--wait=true', '--timeout=120s'], 150_000);
    await this.kubectl(['delete', 'services,endpoints,endpointslices', '-n', 'default', '--field-selector', 'metadata.name!=kubernetes', '--wait=true', '--timeout=60s'], 90_000);
    const r = await this.opts.engine.exec(this.opts.workstation, ['sh', '-c', 'rm -rf "$HOME/answers"'], { timeoutMs: 10_000, ...(this.opts.user ? { user: this.opts.user } : {}) });
    if (r.exitCode !== 0) throw new Error(`could not clear ~/answers in ${this.opts.workstation}: ${r.stderr.trim()}`);
  }

  async applyManifests(_lab: Lab, files: readonly string[]): Promise<void> {
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      await this.kubectl(['apply', '-f', '-'], 60_000, text);
    }
  }

  async runCommand(_lab: Lab, argv: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    return this.opts.engine.exec(this.opts.workstation, argv, { timeoutMs: 180_000, ...(this.opts.user ? { user: this.opts.user } : {}) });
  }

  checkContext(_lab: Lab): CheckContext {
    if (!this.kube) throw new Error('ClusterValidateTarget.init() was not called');
    const { driver, cluster, engine, workstation, user, host } = this.opts;
    return {
      engine,
      workstation,
      ...(user ? { user } : {}),
      lang: this.opts.lang ?? 'en',
      kube: this.kube,
      vantage: new ClusterVantageExec({ engine, workstation, cluster: { driver, name: cluster }, ...(user ? { user } : {}), ...(host ? { host } : {}) }),
      ...systemClock,
    };
  }

  /** From kube-proxy's own configuration (a lab may switch it), not from how the cluster was made. */
  async proxyMode(): Promise<string | undefined> {
    const r = await this.kubectl(['-n', 'kube-system', 'get', 'configmap', 'kube-proxy', '-o', 'jsonpath={.data.config\\.conf}']);
    const mode = /^mode:\s*"?([a-z]*)"?\s*$/m.exec(r.stdout)?.[1];
    return mode || 'iptables';
  }

  private async kubectl(args: readonly string[], timeoutMs = 30_000, input?: string) {
    const r = await this.opts.driver.execOnNode(this.opts.cluster, `${this.opts.cluster}-control-plane`, nodeKubectl(args), { timeoutMs, ...(input !== undefined ? { input } : {}) });
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.slice(0, 2).join(' ')} failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
    return r;
  }
}
