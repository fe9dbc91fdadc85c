// What ties a session to its Kubernetes cluster: the workstation joins the
// control-plane node's network namespace (so ClusterIPs, pod IPs and NodePorts
// behave as on a node), gets a kubeconfig, and manifests are applied with the
// workstation's kubectl — the learner's own identity and tools, nothing on the host.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterDriver } from '../cluster/cluster-driver.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import { RunnerError } from '../errors.ts';
import type { ApplyPort } from '../http/app.ts';
import type { ParsedManifest } from '../http/yaml-input.ts';
import type { Lab } from '../labs/load-labs.ts';
import { stringify as stringifyYaml } from 'yaml';
import type { Session } from './session-manager.ts';

const KUBECTL_TIMEOUT_MS = 60_000;

/** The API server as seen from inside the control-plane node's network namespace. */
export function workstationKubeconfig(hostKubeconfig: string): string {
  return hostKubeconfig.replace(/^(\s*server:\s*)https:\/\/[^\s]+$/m, '$1https://127.0.0.1:6443');
}

export async function kubectlIn(engine: ContainerEngine, session: Session, args: readonly string[], input?: string, timeoutMs = KUBECTL_TIMEOUT_MS) {
  return engine.exec(session.workstation, ['kubectl', '--request-timeout=30s', ...args], { timeoutMs, user: 'learner', ...(input === undefined ? {} : { input }) });
}

export interface LabClusterDeps {
  engine: ContainerEngine;
  driver: ClusterDriver;
  /**
   * The cluster a new session uses, or undefined when none is running. A pool
   * may make the session wait in line, reporting through `onWait`.
   */
  clusterFor: (session: Session, onWait: (w: { position: number; etaSeconds?: number }) => void) => Promise<string | undefined>;
}

/** Where a new session's workstation joins the network: the control-plane node's namespace. */
export function workstationNetwork(deps: LabClusterDeps) {
  return async (session: Session, onWait: (w: { position: number; etaSeconds?: number }) => void = () => undefined): Promise<string | undefined> => {
    const cluster = await deps.clusterFor(session, onWait);
    if (!cluster) return undefined;
    const nodes = await deps.driver.nodes(cluster);
    const cp = nodes.find((n) => n.role === 'control-plane');
    if (!cp) return undefined;
    session.cluster = { name: cluster, kubeconfigPath: '' };
    return `container:${cp.container}`;
  };
}

/** The learner's kubeconfig inside the workstation (mode 0600, ~/.kube/config). */
export async function writeWorkstationKubeconfig(deps: Pick<LabClusterDeps, 'engine' | 'driver'>, session: Session): Promise<void> {
  if (!session.cluster) return;
  const kubeconfig = workstationKubeconfig(await deps.driver.kubeconfig(session.cluster.name, 'host'));
  const w = await deps.engine.exec(session.workstation, ['sh', '-c', 'mkdir -p "$HOME/.kube" && umask 077 && cat > "$HOME/.kube/config"'], { timeoutMs: 15_000, user: 'learner', input: kubeconfig });
  if (w.exitCode !== 0) throw new RunnerError('WORKSTATION_FAILED', { message: 'The kubeconfig could not be written in the workstation.', details: { stderr: w.stderr } });
}

/** After the workstation runs: its kubeconfig, then the lab's starting state. */
export async function prepareSessionCluster(deps: LabClusterDeps, session: Session, lab: Lab): Promise<void> {
  if (!session.cluster) return;
  await writeWorkstationKubeconfig(deps, session);
  await resetLab(deps.engine, session, lab);
}

async function manifestText(lab: Lab, paths: readonly string[]): Promise<string> {
  const texts = await Promise.all(paths.map((p) => readFile(join(lab.dir, p), 'utf8')));
  return texts.map((t) => t.replace(/\n*$/, '\n')).join('---\n');
}

/**
 * Put the lab's objects back to its starting state: delete what its setup and
 * solutions create, then apply the setup. Another lab's objects are left alone.
 */
export async function resetLab(engine: ContainerEngine, session: Session, lab: Lab): Promise<void> {
  const all = [...lab.setup.manifests, ...lab.steps.flatMap((s) => s.solution.manifests ?? [])];
  if (all.length) {
    const text = await manifestText(lab, [...new Set(all)]);
    await kubectlIn(engine, session, ['delete', '--ignore-not-found', '--wait=true', '-f', '-'], text, 120_000);
  }
  for (const c of lab.setup.cleanup ?? []) {
    await kubectlIn(engine, session, ['delete', '--ignore-not-found', '--wait=true', '-n', c.namespace, c.kind, c.name], undefined, 60_000);
  }
  if (!lab.setup.manifests.length) return;
  const r = await kubectlIn(engine, session, ['apply', '--server-side', '--force-conflicts', '-f', '-'], await manifestText(lab, lab.setup.manifests), 120_000);
  if (r.exitCode !== 0) {
    throw new RunnerError('CLUSTER_FAILED', { message: `The lab's starting objects could not be applied: ${r.stderr.trim().split('\n').at(-1) ?? ''}`, hint: 'Press Start lab again; if it repeats, run `svclab status`.', details: { stderr: r.stderr } });
  }
}

/** Find the document a server message talks about, to mark its line in the editor. */
export function lineForServerError(message: string, manifests: readonly ParsedManifest[]): number | undefined {
  const byName = manifests.filter((m) => message.includes(`"${m.name}"`) || message.includes(`/${m.name}`) || message.includes(` ${m.name} `));
  const exact = byName.find((m) => message.toLowerCase().includes(m.kind.toLowerCase()));
  return (exact ?? byName[0] ?? (manifests.length === 1 ? manifests[0] : undefined))?.line;
}

/** Apply from the editor: a server-side dry run first, then the real apply. */
export function workstationApply(engine: ContainerEngine): ApplyPort {
  return {
    async apply(session, yaml, manifests) {
      if (!session.cluster) throw new RunnerError('NO_CLUSTER');
      const dry = await kubectlIn(engine, session, ['apply', '--server-side', '--dry-run=server', '-f', '-'], yaml);
      if (dry.exitCode !== 0) {
        const msg = dry.stderr.trim() || dry.stdout.trim();
        const line = lineForServerError(msg, manifests);
        throw new RunnerError('APPLY_REJECTED', { message: `The cluster rejected the manifest: ${msg.split('\n')[0]}`, details: { server: msg, ...(line ? { line, column: 1 } : {}) } });
      }
      const real = await kubectlIn(engine, session, ['apply', '--server-side', '-f', '-'], yaml);
      if (real.exitCode !== 0) {
        const msg = real.stderr.trim() || real.stdout.trim();
        const line = lineForServerError(msg, manifests);
        throw new RunnerError('APPLY_REJECTED', { message: `The cluster rejected the manifest: ${msg.split('\n')[0]}`, details: { server: msg, ...(line ? { line, column: 1 } : {}) } });
      }
      return { dryRun: dry.stdout.trim(), applied: real.stdout.trim() };
    },
    live: (session, yaml, manifests) => liveObjects(engine, session, yaml, manifests),
  };
}

/** Solve a step for the learner: its solution manifests, then its commands, in the workstation. */
export async function solveStep(engine: ContainerEngine, session: Session, lab: Lab, stepId: string): Promise<void> {
  if (!session.cluster) throw new RunnerError('NO_CLUSTER');
  const step = lab.steps.find((s) => s.id === stepId);
  if (!step) throw new RunnerError('STEP_UNKNOWN', { message: `Lab ${lab.id} has no step "${stepId}".` });
  if (step.solution.manifests?.length) {
    const r = await kubectlIn(engine, session, ['apply', '--server-side', '--force-conflicts', '-f', '-'], await manifestText(lab, step.solution.manifests), 120_000);
    if (r.exitCode !== 0) throw new RunnerError('APPLY_REJECTED', { message: `The step's solution could not be applied: ${r.stderr.trim().split('\n').at(-1) ?? ''}`, details: { stderr: r.stderr } });
  }
  for (const argv of step.solution.commands ?? []) {
    const r = await engine.exec(session.workstation, argv, { timeoutMs: 180_000, user: 'learner' });
    if (r.exitCode !== 0) {
      throw new RunnerError('COMMAND_FAILED', { message: `A solution command failed: ${argv.join(' ')}`, hint: 'Press Check to see what is still missing, or Reset lab and try again.', details: { argv, exitCode: r.exitCode, stderr: r.stderr.slice(-2000) } });
    }
  }
}

/** Reset: the lab's starting objects back, and the learner's noted answers cleared. */
export async function resetSession(engine: ContainerEngine, session: Session, lab: Lab): Promise<void> {
  await engine.exec(session.workstation, ['sh', '-c', 'rm -rf "$HOME/answers"'], { timeoutMs: 15_000, user: 'learner' });
  if (session.cluster) await resetLab(engine, session, lab);
}

export interface LiveObject {
  kind: string;
  apiVersion: string;
  name: string;
  namespace?: string;
  /** The editor line where this document starts. */
  line: number;
  /** The object as the cluster has it (what a learner can compare), or null when it does not exist. */
  live: string | null;
}

const NOISE_METADATA = ['managedFields', 'uid', 'resourceVersion', 'creationTimestamp', 'generation', 'selfLink'];

/** The live object without status and the fields the server fills in, as YAML. */
export function liveYaml(obj: Record<string, unknown>): string {
  const copy = structuredClone(obj);
  delete copy.status;
  const meta = copy.metadata as Record<string, unknown> | undefined;
  if (meta) {
    for (const k of NOISE_METADATA) delete meta[k];
    const ann = meta.annotations as Record<string, string> | undefined;
    if (ann) {
      delete ann['kubectl.kubernetes.io/last-applied-configuration'];
      if (!Object.keys(ann).length) delete meta.annotations;
    }
  }
  return stringifyYaml(copy, { lineWidth: 0 });
}

/** The live counterpart of each document in the editor (for the editor's diff view). */
export async function liveObjects(engine: ContainerEngine, session: Session, yaml: string, manifests: readonly ParsedManifest[]): Promise<LiveObject[]> {
  if (!session.cluster) throw new RunnerError('NO_CLUSTER');
  if (!manifests.length) return [];
  const r = await kubectlIn(engine, session, ['get', '--ignore-not-found', '-o', 'json', '-f', '-'], yaml);
  if (r.exitCode !== 0) {
    const msg = r.stderr.trim() || r.stdout.trim();
    const line = lineForServerError(msg, manifests);
    throw new RunnerError('APPLY_REJECTED', { message: `The cluster could not look these objects up: ${msg.split('\n')[0]}`, hint: 'Check kind and apiVersion: the cluster must know the resource type.', details: { server: msg, ...(line ? { line, column: 1 } : {}) } });
  }
  const text = r.stdout.trim();
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const items = (parsed.kind === 'List' ? (parsed.items as Record<string, unknown>[]) : text ? [parsed] : []) ?? [];
  return manifests.map((m) => {
    const found = items.find((o) => {
      const meta = (o.metadata ?? {}) as { name?: string; namespace?: string };
      return o.kind === m.kind && meta.name === m.name && (m.namespace === undefined || meta.namespace === undefined || meta.namespace === m.namespace);
    });
    return { kind: m.kind, apiVersion: m.apiVersion, name: m.name, ...(m.namespace ? { namespace: m.namespace } : {}), line: m.line, live: found ? liveYaml(found) : null };
  });
}
