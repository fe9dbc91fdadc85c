// What ties a session to its Kubernetes cluster: the workstation joins the
// control-plane node's network namespace (so ClusterIPs, pod IPs and NodePorts
// behave as on a node) and gets a kubeconfig; everything the lab page's buttons do
// (Apply, Diff, Solve, Reset, Check) is LabActions acting as the learner — the
// workstation's kubectl as user `learner`, nothing on the host.
import type { ClusterCheckContexts } from '../checks/cluster-check-context.ts';
import type { ClusterDriver } from '../cluster/cluster-driver.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import { RunnerError } from '../errors.ts';
import type { Kubectl } from '../kube/kubectl.ts';
import type { Lab } from '../labs/load-labs.ts';
import type { LabActions } from '../play/lab-actions.ts';
import type { LiveObject, ParsedManifest } from '../play/manifests.ts';
import type { ApplyPort, LabActionsPort, PlaySession } from '../play/ports.ts';
import { learnerShell, workstationLabActions } from '../play/workstation-actions.ts';
import type { Session } from './session-manager.ts';

export { lineForServerError, liveYaml, type LiveObject } from '../play/manifests.ts';
export { LEARNER, learnerShell } from '../play/workstation-actions.ts';

/** The API server as seen from inside the control-plane node's network namespace. */
export function workstationKubeconfig(hostKubeconfig: string): string {
  return hostKubeconfig.replace(/^(\s*server:\s*)https:\/\/[^\s]+$/m, '$1https://127.0.0.1:6443');
}

export interface LabClusterDeps {
  engine: ContainerEngine;
  driver: ClusterDriver;
  /**
   * The cluster a new session uses, or undefined when none is running. A pool
   * may make the session wait in line, reporting through `onWait`.
   */
  clusterFor: (session: Session, onWait: (w: { position: number; etaSeconds?: number }) => void) => Promise<string | undefined>;
  /** The learner's kubeconfig for a cluster (learner access); the host kubeconfig made local when absent. */
  learnerKubeconfig?: (cluster: string) => Promise<string>;
  /** Who applies a lab's setup in this cluster (svclab itself); the learner's kubectl when absent. */
  setupKubectl?: (cluster: string) => Kubectl;
  /**
   * True when the session's cluster already holds this learner's work in this lab (a
   * Kubernetes install: the environment they held, e.g. after a runner replica was lost):
   * preparing it writes the kubeconfig and keeps the lab's state instead of resetting it.
   */
  resumes?: (session: Session) => boolean;
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
export async function writeWorkstationKubeconfig(deps: Pick<LabClusterDeps, 'engine' | 'driver' | 'learnerKubeconfig'>, session: Pick<Session, 'workstation' | 'cluster'>): Promise<void> {
  if (!session.cluster) return;
  const kubeconfig = deps.learnerKubeconfig
    ? await deps.learnerKubeconfig(session.cluster.name)
    : workstationKubeconfig(await deps.driver.kubeconfig(session.cluster.name, 'host'));
  const w = await learnerShell(deps.engine, session.workstation).run(['sh', '-c', 'mkdir -p "$HOME/.kube" && umask 077 && cat > "$HOME/.kube/config"'], { timeoutMs: 15_000, input: kubeconfig });
  if (w.exitCode !== 0) throw new RunnerError('WORKSTATION_FAILED', { message: 'The kubeconfig could not be written in the workstation.', details: { stderr: w.stderr } });
}

export interface SessionActionsOptions {
  /** Builds the check context (API, vantage points); without it checks see only the workstation. */
  contexts?: ClusterCheckContexts;
  setupKubectl?: (cluster: string) => Kubectl;
}

/** LabActions for a session: the learner's kubectl in its workstation, the workstation's kubeconfig. */
export function sessionLabActions(engine: ContainerEngine, session: PlaySession, lab: Lab, o: SessionActionsOptions = {}): LabActions {
  const cluster = session.cluster?.name;
  const setupKubectl = cluster && o.setupKubectl ? o.setupKubectl(cluster) : undefined;
  return workstationLabActions({
    engine, workstation: session.workstation, lab,
    ...(cluster ? { cluster } : {}),
    ...(o.contexts ? { contexts: o.contexts } : {}),
    ...(setupKubectl ? { setupKubectl } : {}),
  });
}

function withCluster(session: PlaySession): void {
  if (!session.cluster) throw new RunnerError('NO_CLUSTER');
}

/** After the workstation runs: its kubeconfig, then the lab's starting state. */
export async function prepareSessionCluster(deps: LabClusterDeps, session: Session, lab: Lab): Promise<void> {
  if (!session.cluster) return;
  await writeWorkstationKubeconfig(deps, session);
  if (deps.resumes?.(session)) return;
  await sessionLabActions(deps.engine, session, lab, deps.setupKubectl ? { setupKubectl: deps.setupKubectl } : {}).reset();
}

/** The lab page's ports, all on LabActions: Apply and Diff, Solve and Reset, Check. */
export function sessionPorts(engine: ContainerEngine, labOf: (labId: string) => Lab, o: SessionActionsOptions = {}): {
  apply: ApplyPort & Required<Pick<ApplyPort, 'live'>>;
  actions: LabActionsPort;
  checks: { run(session: PlaySession, stepId: string, signal: AbortSignal, lang?: 'en' | 'zh'): ReturnType<LabActions['check']> };
} {
  const actions = (s: PlaySession) => sessionLabActions(engine, s, labOf(s.labId), o);
  return {
    apply: {
      async apply(s, yaml, manifests) { withCluster(s); return actions(s).apply(yaml, manifests); },
      async live(s, yaml, manifests) { withCluster(s); return actions(s).live(yaml, manifests); },
    },
    actions: {
      async solve(s, stepId) { withCluster(s); await actions(s).solve(stepId); },
      async reset(s) { withCluster(s); await actions(s).reset(); },
    },
    checks: {
      run: (s, stepId, signal, lang) => actions(s).check(stepId, { signal, ...(lang ? { lang } : {}) }),
    },
  };
}

