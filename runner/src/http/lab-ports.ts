// Adapters from the lab catalogue and the check engine to the app's ports.
import { systemClock } from '../checks/check.ts';
import type { ClusterCheckContexts } from '../checks/cluster-check-context.ts';
import { runStepChecks } from '../checks/run-checks.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import { RunnerError } from '../errors.ts';
import type { Lang } from '../labs/lab-schema.ts';
import { labSummary, publicLab, stepHint, type Lab } from '../labs/load-labs.ts';
import type { ChecksPort, LabsPort } from './app.ts';

export function labsPort(labs: readonly Lab[]): LabsPort & { lab(id: string): Lab } {
  const byId = new Map(labs.map((l) => [l.id, l]));
  const lab = (id: string): Lab => {
    const l = byId.get(id);
    if (!l) throw new RunnerError('LAB_UNKNOWN', { message: `There is no lab "${id}".`, details: { id, known: [...byId.keys()] } });
    return l;
  };
  return {
    lab,
    list: () => labs.map(labSummary),
    get: (id) => publicLab(lab(id)),
    hint(labId, stepId, index) {
      const l = lab(labId);
      const step = l.steps.find((s) => s.id === stepId);
      if (!step) throw new RunnerError('STEP_UNKNOWN', { message: `Lab ${labId} has no step "${stepId}".`, details: { steps: l.steps.map((s) => s.id) } });
      const hint = stepHint(l, stepId, index);
      if (!hint) throw new RunnerError('BAD_REQUEST', { message: `Step ${stepId} has ${step.hints.length} hint(s); there is no hint ${index + 1}.` });
      return hint;
    },
  };
}

export function checksPort(labs: ReturnType<typeof labsPort>, engine: ContainerEngine, contexts?: ClusterCheckContexts): ChecksPort {
  return {
    async run(session, stepId, signal, lang?: Lang) {
      const lab = labs.lab(session.labId);
      const step = lab.steps.find((s) => s.id === stepId);
      if (!step) throw new RunnerError('STEP_UNKNOWN', { message: `Lab ${lab.id} has no step "${stepId}".`, details: { steps: lab.steps.map((s) => s.id) } });
      // API and vantage-point checks need the session's cluster; without one they say so (error).
      const cluster = session.cluster && contexts ? await contexts.forSession({ cluster: session.cluster.name, workstation: session.workstation, user: 'learner' }) : {};
      return runStepChecks(step.checks, { engine, workstation: session.workstation, user: 'learner', lang: lang ?? 'en', signal, ...systemClock, ...cluster });
    },
  };
}
