// Cluster bring-up as an ordered list of small named steps (kind's "actions"):
// each reports when it starts and ends, with its elapsed time, so a two-minute
// `svclab up` shows where it is and a failure names the step that failed.

import { RunnerError, isRunnerError } from '../errors.ts';
import type { StepEvent } from './cluster-driver.ts';

export interface BringUpStep {
  id: string;
  title: string;
  /** Returns an optional short detail shown with the step's ok line. */
  run(signal?: AbortSignal): Promise<string | void>;
}

/** The step ids every ClusterDriver.create reports, in this order. */
export const BRING_UP_STEP_IDS = [
  'preflight-proxy-mode',
  'preflight-docker',
  'preflight-disk',
  'preflight-inotify',
  'preflight-image',
  'preflight-name',
  'create-nodes',
  'dns-cluster-only',
  'wait-ready',
  'label-nodes',
  'done',
] as const;
export type BringUpStepId = (typeof BRING_UP_STEP_IDS)[number];

export const BRING_UP_STEP_TITLES: Record<BringUpStepId, string> = {
  'preflight-proxy-mode': 'Preflight: kube-proxy mode is supported',
  'preflight-docker': 'Preflight: docker is up',
  'preflight-disk': 'Preflight: at least 10 GiB free disk',
  'preflight-inotify': 'Preflight: enough inotify instances for the nodes',
  'preflight-image': 'Preflight: node image and kind are built and current',
  'preflight-name': 'Preflight: cluster name is free',
  'create-nodes': 'Create node containers (kind)',
  'dns-cluster-only': 'CoreDNS answers cluster names only (no forwarding outside svclab)',
  'wait-ready': 'Wait for every node to be Ready',
  'label-nodes': 'Label nodes',
  'done': 'Done',
};

export interface StepsOutcome {
  totalMs: number;
  steps: { id: string; ms: number }[];
}

/**
 * Run steps in order. A step that throws stops the run: its failed event is sent
 * and the error is rethrown — a RunnerError as is, anything else as CLUSTER_FAILED
 * naming the step. An aborted signal stops before the next step.
 */
export async function runSteps(
  steps: readonly BringUpStep[],
  opts: { onStep?: (e: StepEvent) => void; signal?: AbortSignal; now?: () => number } = {},
): Promise<StepsOutcome> {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const done: { id: string; ms: number }[] = [];
  const emit = (e: StepEvent) => {
    try { opts.onStep?.(e); } catch { /* a broken progress printer must not break bring-up */ }
  };
  for (const [i, step] of steps.entries()) {
    const stepStart = now();
    const base = { id: step.id, title: step.title, index: i + 1, total: steps.length };
    emit({ ...base, state: 'running', elapsedMs: 0, totalElapsedMs: stepStart - started });
    try {
      if (opts.signal?.aborted) {
        throw new RunnerError('CLUSTER_FAILED', { message: `Cluster creation was cancelled before step "${step.title}".`, hint: 'Nothing is left behind; run `svclab up` again when ready.' });
      }
      const detail = await step.run(opts.signal);
      const t = now();
      done.push({ id: step.id, ms: t - stepStart });
      emit({ ...base, state: 'ok', elapsedMs: t - stepStart, totalElapsedMs: t - started, ...(detail ? { detail } : {}) });
    } catch (e) {
      const t = now();
      const err = isRunnerError(e)
        ? e
        : new RunnerError('CLUSTER_FAILED', { message: `Cluster creation failed at step "${step.title}": ${e instanceof Error ? e.message : String(e)}`, details: { step: step.id }, cause: e });
      emit({ ...base, state: 'failed', elapsedMs: t - stepStart, totalElapsedMs: t - started, detail: err.message });
      throw err;
    }
  }
  return { totalMs: now() - started, steps: done };
}

/** One progress line: "[3/10] Preflight: at least 10 GiB free disk … ok (0.1 s) 61 GiB free". */
export function formatStepEvent(e: StepEvent): string {
  const pos = `[${e.index}/${e.total}]`;
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (e.state === 'running') return `${pos} ${e.title} …`;
  const tail = e.detail ? ` ${e.detail}` : '';
  return `${pos} ${e.title} ${e.state === 'ok' ? 'ok' : 'FAILED'} (${secs(e.elapsedMs)}, total ${secs(e.totalElapsedMs)})${tail}`;
}
