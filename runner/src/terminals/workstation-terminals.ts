// The kube-mode SessionManager's `workstationTerminal`: a session's workstation terminal is
// the shell in its environment pod's `workstation` container (runner/src/environments/README.md),
// attached through the Kubernetes API. The pod is the session's cluster name (the contract).
import { WORKSTATION_CONTAINER } from '../environments/environment-cluster.ts';
import { RunnerError } from '../errors.ts';
import type { Session } from '../sessions/session-manager.ts';
import { kubeTerminalFactory, type KubeExecTerminal, type KubeExecTerminalOptions } from './kube-exec-terminal.ts';
import type { PodExec } from './pod-exec.ts';

export interface WorkstationTerminalsOptions {
  exec: PodExec;
  /** The environment pods' namespace (the runner's own). */
  namespace: string;
  /** The session's environment pod; default its cluster's name. */
  pod?: (session: Session) => string | undefined;
  log?: KubeExecTerminalOptions['log'];
}

export function kubeWorkstationTerminals(o: WorkstationTerminalsOptions): (session: Session, opts: { lang?: 'en' | 'zh' }) => KubeExecTerminal {
  const make = kubeTerminalFactory({ exec: o.exec, ...(o.log ? { log: o.log } : {}) });
  const podOf = o.pod ?? ((s: Session) => s.cluster?.name);
  return (session, opts) => {
    const pod = podOf(session);
    if (!pod) {
      throw new RunnerError('WORKSTATION_FAILED', {
        message: `Session ${session.id} has no learner environment, so its terminal has nowhere to attach.`,
        hint: 'Press Start lab again; a learner environment is claimed from the reserve.',
      });
    }
    return make({ target: { namespace: o.namespace, pod, container: WORKSTATION_CONTAINER }, name: 'workstation', ...(opts.lang ? { lang: opts.lang } : {}) });
  };
}
