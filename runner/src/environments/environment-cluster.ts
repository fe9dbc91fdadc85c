// A learner's environment pod seen through svclab's own seams, so the session path that
// plays labs on a local kind cluster (runner/src/sessions/lab-cluster.ts: LabActions,
// check contexts, vantage points, learner access) plays them on the nested cluster
// unchanged. Nothing here names docker or kind:
//   EnvironmentClusterDriver       a ClusterDriver: an Environment is a one-node cluster;
//                                  its admin kubeconfig (server = the pod's IP:6443, read
//                                  from the node container), its node, root commands there
//   EnvironmentWorkstationEngine   a ContainerEngine whose only containers are the pods'
//                                  `workstation` containers: a session's workstation "runs"
//                                  when its pod's does, and execs go there as the learner
//   prepareEnvironment             learner access (runner/src/access) + the workstation's kubeconfig
//   claimCluster                   a session's clusterFor: the learner's environment, claimed
//                                  (KubeWorkshopStore.claimEnvironment) or waited for
// Why exec and not a Secret for the admin kubeconfig: the runner already needs pods/exec
// (learner access, the workstation), the kubeconfig never leaves the pod but to the
// runner's memory, and the bootstrap needs no credentials of the host cluster to publish
// one (a Secret writer inside a privileged pod would be a token worth stealing there).
import { installLearnerAccess, readLearnerKubeconfig } from '../access/index.ts';
import type { StepEvent } from '../cluster/cluster-driver.ts';
import type { ClusterDriver, ClusterInfo, CreateResult, LoadImageResult, NodeInfo } from '../cluster/cluster-driver.ts';
import { controlPlaneNode, nodeShell } from '../cluster/node-shell.ts';
import type { ContainerDetails, ContainerEngine, ContainerInfo, ContainerSpec, EngineInfo, NetworkDetails } from '../engine/container-engine.ts';
import { RunnerError } from '../errors.ts';
import { lastLine, type CommandResult, type RunOptions } from '../exec/shell.ts';
import { ADMIN_KUBECONFIG } from '../kube/kubectl.ts';
import { KubeObjectsError, type KubeObject, type KubeObjects } from '../kube-store/kube-objects.ts';
import { KubeStoreError, WORKSHOP_LABEL, type KubeWorkshopStore } from '../kube-store/kube-workshop-store.ts';
import type { PodExecutor } from '../kube-store/pod-executor.ts';
import { PodShell } from './pod-shell.ts';

/** The environment pod's containers (deploy/helm/svclab/templates/config.yaml; README here). */
export const NODE_CONTAINER = 'node';
export const WORKSTATION_CONTAINER = 'workstation';
export const WORKSTATION_USER = 'learner';
export const WORKSTATION_KUBECONFIG = '/home/learner/.kube/config';
const API_PORT = 6443;

const notHere = (what: string) => new RunnerError('INVALID_ARGUMENT', {
  message: `${what} is not something svclab does in a Kubernetes install: learner clusters are environment pods made by the reserve.`,
  hint: 'Use svclab on one machine (svclab up) for that; in a cluster, change the chart\'s values instead.',
});

interface PodView { ip?: string; running: boolean; ready: boolean; uid?: string; waiting?: string }

function podView(p: KubeObject | undefined, container?: string): PodView {
  const st = (p?.status ?? {}) as { podIP?: string; phase?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { name: string; state?: { running?: unknown; waiting?: { reason?: string } } }[] };
  const c = container ? st.containerStatuses?.find((x) => x.name === container) : undefined;
  return {
    ...(st.podIP ? { ip: st.podIP } : {}),
    ...(p?.metadata.uid ? { uid: p.metadata.uid } : {}),
    running: !p?.metadata.deletionTimestamp && st.phase === 'Running' && (container === undefined || c?.state?.running !== undefined),
    ready: st.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false,
    ...(c?.state?.waiting?.reason ? { waiting: c.state.waiting.reason } : {}),
  };
}

export interface EnvironmentClusterOptions {
  objects: KubeObjects;
  exec: PodExecutor;
  /** The Workshop whose environments list() shows. */
  workshop: string;
}

export class EnvironmentClusterDriver implements ClusterDriver {
  private readonly o: EnvironmentClusterOptions;
  /** Admin kubeconfigs by pod uid: one pod's never changes, a new pod under the name is another. */
  private readonly kubeconfigs = new Map<string, string>();

  constructor(o: EnvironmentClusterOptions) {
    this.o = o;
  }

  private async pod(name: string): Promise<{ pod: KubeObject; view: PodView }> {
    const pod = await this.o.objects.get('pods', name);
    const view = podView(pod, NODE_CONTAINER);
    if (!pod || !view.running || !view.ip) {
      throw new RunnerError('NO_CLUSTER', {
        message: `The learner environment ${name} has no running pod${pod ? ` (pod phase ${String(pod.status?.['phase'] ?? 'unknown')}${view.waiting ? `, ${view.waiting}` : ''})` : ''}.`,
        hint: 'Press Start lab again: a new environment is claimed from the reserve.',
      });
    }
    return { pod, view };
  }

  /** Whether environment `name` has a pod that runs (not being deleted): one that does not is no use to a session. */
  async running(name: string): Promise<boolean> {
    const view = podView(await this.o.objects.get('pods', name), NODE_CONTAINER);
    return view.running && view.ip !== undefined;
  }

  nodeShell(name: string): PodShell {
    return new PodShell(this.o.exec, { pod: name, container: NODE_CONTAINER, user: 'root' });
  }

  async kubeconfig(name: string): Promise<string> {
    const { view } = await this.pod(name);
    const key = `${name}/${view.uid}`;
    const hit = this.kubeconfigs.get(key);
    if (hit) return hit;
    const r = await this.nodeShell(name).run(['cat', ADMIN_KUBECONFIG], { timeoutMs: 30_000 });
    if (r.exitCode !== 0 || !r.stdout.includes('client-key-data')) {
      throw new RunnerError('NO_CLUSTER', { message: `The learner environment ${name} has no admin kubeconfig yet: ${lastLine(r.stderr || r.stdout)}`, hint: 'It is still being made; press Start lab again in a minute.' });
    }
    // kubeadm wrote the controlPlaneEndpoint, the pod's IP (its serving certificate names it): made sure of here.
    const text = r.stdout.replace(/^(\s*server:\s*)https:\/\/\S+$/m, `$1https://${view.ip}:${API_PORT}`);
    this.kubeconfigs.set(key, text);
    return text;
  }

  async nodes(name: string): Promise<NodeInfo[]> {
    const { view } = await this.pod(name);
    return [{ name: controlPlaneNode(name), role: 'control-plane', container: name, internalIP: view.ip! }];
  }

  async execOnNode(cluster: string, node: string, argv: readonly string[], opts: Omit<RunOptions, 'user'>): Promise<CommandResult> {
    if (node !== controlPlaneNode(cluster) && node !== cluster) {
      throw new RunnerError('CLUSTER_UNKNOWN', { message: `The learner environment ${cluster} has one node, ${controlPlaneNode(cluster)}, not ${node}.` });
    }
    try {
      return await this.nodeShell(cluster).run(argv, opts);
    } catch (e) {
      throw unreachable(e, `the node of learner environment ${cluster}`);
    }
  }

  async list(): Promise<ClusterInfo[]> {
    const envs = await this.o.objects.list('environments', { [WORKSHOP_LABEL]: this.o.workshop });
    return envs.map((e) => {
      const phase = e.status?.['phase'];
      return {
        name: e.metadata.name,
        state: phase === 'Ready' ? 'running' : phase === 'Failed' || phase === 'Released' ? 'broken' : 'creating',
        ports: [],
        dockerLabels: { containers: {}, networks: {} },
      } satisfies ClusterInfo;
    }).sort((a, b) => a.name.localeCompare(b.name));
  }

  async create(): Promise<CreateResult> { throw notHere('Creating a cluster'); }
  async delete(): Promise<void> { throw notHere('Deleting a cluster by name'); }
  async loadImage(): Promise<LoadImageResult> { throw notHere('Loading a docker image into a cluster'); }
  async nodesWithoutImage(): Promise<string[]> { throw notHere('Comparing docker images with a cluster\'s'); }
}

/**
 * The ContainerEngine of sessions in a Kubernetes install: a workstation is the
 * `workstation` container of the session's environment pod (the network a session asks
 * for, `container:<pod>`, names it), already running as the learner; nothing is made,
 * nothing removed but the record. Every other engine call is refused with why.
 */
export class EnvironmentWorkstationEngine implements ContainerEngine {
  /** kind never runs against this engine: there is no provider to name. */
  get kindProvider(): ContainerEngine['kindProvider'] {
    throw notHere('Running kind');
  }
  private readonly o: { objects: KubeObjects; exec: PodExecutor };
  /** Session workstation name → its environment pod. */
  private readonly pods = new Map<string, string>();

  constructor(o: { objects: KubeObjects; exec: PodExecutor }) {
    this.o = o;
  }

  podOf(workstation: string): string | undefined {
    return this.pods.get(workstation);
  }

  async runContainer(spec: ContainerSpec): Promise<string> {
    const pod = spec.network?.startsWith('container:') ? spec.network.slice('container:'.length) : undefined;
    if (!pod) throw new RunnerError('WORKSTATION_FAILED', { message: `Workstation ${spec.name} has no learner environment to run in.`, hint: 'Press Start lab again.' });
    await this.adopt(spec.name, pod);
    return spec.name;
  }

  /**
   * A workstation another runner replica made, in environment pod `pod`: this engine
   * reaches it from now on (its `workstation` container must be running).
   */
  async adopt(workstation: string, pod: string): Promise<void> {
    const view = podView(await this.o.objects.get('pods', pod), WORKSTATION_CONTAINER);
    if (!view.running) {
      throw new RunnerError('WORKSTATION_FAILED', {
        message: `The workstation container of learner environment ${pod} is not running${view.waiting ? ` (${view.waiting})` : ''}.`,
        hint: 'Press Start lab again; if it repeats, the instructor can look at the environment pod (kubectl describe pod).',
      });
    }
    this.pods.set(workstation, pod);
  }

  async exec(container: string, command: readonly string[], opts: RunOptions): Promise<CommandResult> {
    const pod = this.pods.get(container);
    if (!pod) throw new RunnerError('WORKSTATION_FAILED', { message: `Workstation ${container} is not in any learner environment of this runner.`, hint: 'Press Start lab again.' });
    try {
      return await new PodShell(this.o.exec, { pod, container: WORKSTATION_CONTAINER, user: WORKSTATION_USER }).run(command, opts);
    } catch (e) {
      throw unreachable(e, `workstation ${container} (pod ${pod})`);
    }
  }

  async removeContainer(nameOrId: string): Promise<void> {
    this.pods.delete(nameOrId);
  }

  async removeContainers(idsOrNames: readonly string[]): Promise<void> {
    for (const n of idsOrNames) this.pods.delete(n);
  }

  execArgv(): string[] {
    throw new RunnerError('WORKSTATION_FAILED', {
      message: 'Terminals of a Kubernetes install attach to the environment pod through the Kubernetes API, not a local process.',
      hint: 'The lab\'s buttons (Apply, Check, Solve, Reset) work; the terminal comes with the runner\'s Kubernetes terminal support.',
    });
  }

  // A session's home is its workstation container's own: nothing to make or remove.
  async createVolume(): Promise<void> { /* nothing */ }
  async removeVolume(): Promise<boolean> { return true; }
  async inspectVolumes(): Promise<{ name: string; labels: Record<string, string> }[]> { return []; }
  // No workstation outlives its runner here (none is made): nothing for recover() to find.
  async inspectContainers(): Promise<ContainerDetails[]> { return []; }
  async listContainers(): Promise<ContainerInfo[]> { return []; }
  async listNetworks(): Promise<{ id: string; name: string; labels: Record<string, string> }[]> { return []; }
  async inspectNetworks(): Promise<NetworkDetails[]> { return []; }
  async inspectNetwork(): Promise<NetworkDetails | undefined> { return undefined; }

  async cliVersion(): Promise<{ cli: string; result: CommandResult }> { throw notHere('A container engine CLI'); }
  async info(): Promise<EngineInfo> { throw notHere('A container engine'); }
  async imageExists(): Promise<boolean> { throw notHere('Looking up a docker image'); }
  async listImages(): Promise<{ ref: string; id: string; labels: Record<string, string> }[]> { throw notHere('Listing docker images'); }
  async buildImage(): Promise<void> { throw notHere('Building an image'); }
  async removeNetwork(): Promise<void> { throw notHere('Removing a docker network'); }
  async createNetwork(): Promise<void> { throw notHere('Making a docker network'); }
  async imageId(): Promise<string | undefined> { throw notHere('Looking up a docker image'); }
  async tagImage(): Promise<void> { throw notHere('Tagging a docker image'); }
  async saveImages(): Promise<void> { throw notHere('Saving docker images'); }
  async loadImage(): Promise<void> { throw notHere('Loading docker images'); }
  async removeImage(): Promise<boolean> { throw notHere('Removing a docker image'); }
  async pullImage(): Promise<CommandResult> { throw notHere('Pulling an image'); }
}

/** An exec that could not reach its container, as the error sessions and checks already understand. */
function unreachable(e: unknown, what: string): unknown {
  if (e instanceof KubeObjectsError) return new RunnerError('WORKSTATION_FAILED', { message: `${what} could not be reached: ${e.message}`, hint: 'Press Start lab again; a lost environment is replaced from the reserve.', cause: e });
  return e;
}

/** The learner's workstation in environment `name`, as the learner. */
export function environmentWorkstation(exec: PodExecutor, name: string): PodShell {
  return new PodShell(exec, { pod: name, container: WORKSTATION_CONTAINER, user: WORKSTATION_USER });
}

/**
 * What makes a Ready pod a learner environment: learner access in its cluster (the same
 * installer `svclab up` runs: certificate, RBAC, admission policies, verified in force),
 * and the learner's kubeconfig in its workstation. Idempotent (access is converged, the
 * certificate kept), so a replica taking over the reserve may run it again.
 */
export async function prepareEnvironment(d: { driver: EnvironmentClusterDriver; exec: PodExecutor }, name: string, o: { signal?: AbortSignal; onStep?: (e: StepEvent) => void } = {}): Promise<string> {
  const access = await installLearnerAccess({ controlPlane: nodeShell(d.driver, name, controlPlaneNode(name)) }, { ...(o.signal ? { signal: o.signal } : {}), ...(o.onStep ? { onStep: o.onStep } : {}) });
  await writeLearnerKubeconfig(d.exec, name, access.kubeconfig);
  return `learner access ${access.user} (certificate ${access.reused ? 'kept' : 'issued'}), kubeconfig in ${WORKSTATION_CONTAINER}:${WORKSTATION_KUBECONFIG}`;
}

export async function writeLearnerKubeconfig(exec: PodExecutor, name: string, kubeconfig: string): Promise<void> {
  const w = await environmentWorkstation(exec, name).run(['sh', '-c', 'mkdir -p "$(dirname "$KUBECONFIG")" && umask 077 && cat > "$KUBECONFIG"'], { timeoutMs: 30_000, input: kubeconfig });
  if (w.exitCode !== 0) throw new RunnerError('WORKSTATION_FAILED', { message: `The learner's kubeconfig could not be written in environment ${name}: ${lastLine(w.stderr)}`, details: { stderr: w.stderr } });
}

/** The learner's kubeconfig of environment `name` (installed when the environment was prepared; installed now if not). */
export function environmentLearnerKubeconfig(driver: EnvironmentClusterDriver): (name: string) => Promise<string> {
  return async (name) => {
    const controlPlane = nodeShell(driver, name, controlPlaneNode(name));
    return (await readLearnerKubeconfig(controlPlane)) ?? (await installLearnerAccess({ controlPlane })).kubeconfig;
  };
}

export interface ClaimClusterOptions {
  /**
   * Whether a claimed environment can be used now (EnvironmentClusterDriver.running). The
   * Environment's phase lags its pod by up to a reserve pass: a learner moved off a deleted
   * pod within seconds was handed the same dying environment again (seen in the real tier).
   * One that is not usable is released (deleted) and another claimed.
   */
  usable?: (name: string) => Promise<boolean>;
  /** Give up waiting for a free environment after this long (default 15 min). */
  timeoutMs?: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * A session's `clusterFor` in a Kubernetes install: the learner's environment — the one
 * they hold, or one claimed from the reserve — waiting in line (reported through onWait)
 * while none is Ready. Learners of this replica waiting at once are served in order.
 */
export function claimCluster(store: Pick<KubeWorkshopStore, 'claimEnvironment' | 'releaseEnvironment'> & Partial<Pick<KubeWorkshopStore, 'heldEnvironment'>>, o: ClaimClusterOptions = {}) {
  const waiting: string[] = [];
  /** Sessions that got the environment their learner already held for the same lab. */
  const resumed = new Set<string>();
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = o.now ?? Date.now;
  const timeoutMs = o.timeoutMs ?? 15 * 60_000;
  const clusterFor = async (session: { id: string; learner: string; labId: string }, onWait: (w: { position: number; etaSeconds?: number }) => void): Promise<string> => {
    const started = now();
    resumed.delete(session.id);
    const held = await store.heldEnvironment?.(session.learner).catch(() => undefined);
    try {
      for (;;) {
        const first = waiting.length === 0 || waiting[0] === session.id;
        let name: string | undefined;
        if (first) {
          try {
            name = await store.claimEnvironment(session.learner, session.labId);
          } catch (e) {
            if (e instanceof KubeStoreError) throw new RunnerError('NO_CLUSTER', { message: e.message, hint: e.hint, cause: e });
            if (e instanceof KubeObjectsError && e.reason !== 'unavailable' && e.reason !== 'conflict') throw new RunnerError('NO_CLUSTER', { message: `Claiming a learner environment failed: ${e.message}`, cause: e });
            // The API busy or a lost race: try again below.
          }
        }
        if (name && o.usable && !(await o.usable(name).catch(() => true))) {
          await store.releaseEnvironment(name, session.learner).catch(() => false);
          continue;
        }
        if (name) {
          if (held && held.name === name && held.lab === session.labId) resumed.add(session.id);
          return name;
        }
        if (!waiting.includes(session.id)) waiting.push(session.id);
        onWait({ position: waiting.indexOf(session.id) + 1 });
        if (now() - started > timeoutMs) {
          throw new RunnerError('POOL_TIMEOUT', {
            message: `No learner environment became Ready within ${Math.round(timeoutMs / 60_000)} min.`,
            hint: 'Every environment is in use or still starting; press Start lab again in a few minutes, or ask the instructor to raise the workshop\'s reserve or capacity.',
          });
        }
        await sleep(o.pollMs ?? 2_000);
      }
    } finally {
      const i = waiting.indexOf(session.id);
      if (i >= 0) waiting.splice(i, 1);
    }
  };
  /**
   * Whether the session got the environment its learner already held for the same lab: a
   * session taken over after a runner replica was lost, or a learner back at their lab.
   * Its cluster holds their work; the session's preparation does not reset it.
   */
  return Object.assign(clusterFor, { resumed: (sessionId: string) => resumed.has(sessionId) });
}
