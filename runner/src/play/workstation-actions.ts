// LabActions as a learner plays: kubectl and commands in the workstation container
// as user `learner`, with the workstation's own kubeconfig (~/.kube/config, the
// learner's identity). HTTP sessions and `svclab validate` both build theirs here.
import type { CheckContext } from '../checks/check.ts';
import { systemClock } from '../checks/check.ts';
import type { ClusterCheckContexts } from '../checks/cluster-check-context.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import { ContainerShell } from '../engine/container-shell.ts';
import { Kubectl } from '../kube/kubectl.ts';
import type { Lab } from '../labs/load-labs.ts';
import { LabActions } from './lab-actions.ts';

/** The learner's user in the workstation image. */
export const LEARNER = 'learner';

/** The workstation as the learner: where their commands and kubectl run. */
export function learnerShell(engine: Pick<ContainerEngine, 'exec'>, workstation: string): ContainerShell {
  return new ContainerShell(engine, workstation, { user: LEARNER });
}

export interface WorkstationActionsOptions {
  engine: ContainerEngine;
  workstation: string;
  /** The cluster the workstation's kubeconfig points at; none: checks see only the workstation. */
  cluster?: string;
  lab: Lab;
  /** Builds the check context (API, vantage points). */
  contexts?: ClusterCheckContexts;
  /** Who applies the lab's setup (svclab itself); the learner's kubectl when absent. */
  setupKubectl?: Kubectl;
}

export function workstationLabActions(o: WorkstationActionsOptions): LabActions {
  const shell = learnerShell(o.engine, o.workstation);
  return new LabActions({
    lab: o.lab,
    shell,
    kubectl: new Kubectl({ shell, requestTimeout: '30s' }),
    ...(o.setupKubectl ? { setupKubectl: o.setupKubectl } : {}),
    checkContext: async (): Promise<CheckContext> => o.contexts
      ? o.contexts.context({ workstation: o.workstation, user: LEARNER, ...(o.cluster ? { cluster: o.cluster } : {}) })
      : { engine: o.engine, workstation: o.workstation, user: LEARNER, ...systemClock },
  });
}
