// What every check kind returns and what it may use. A check throws only for bugs:
// `fail` means the learner's cluster isn't right yet, `error` that the check couldn't run.
import type { z } from 'zod';
import type { ContainerEngine } from '../engine/container-engine.ts';
import type { CheckBase, Lang } from './check-schema.ts';
import type { KubeApi } from './kube-api.ts';
import type { VantageExec } from './vantage.ts';

export type CheckStatus = 'pass' | 'fail' | 'error';

export interface CheckResult {
  checkId: string;
  /** The check's kind (`resource`, `http`, …): a name from the registry. */
  kind: string;
  status: CheckStatus;
  /** Speaks to the learner, in the language they asked for. */
  message: string;
  hint?: string;
  details?: { expected: string; observed: string };
}

export interface CheckContext {
  engine: ContainerEngine;
  /** Name of the session's workstation container, where command checks run. */
  workstation: string;
  /** The workstation's learner user, so files the learner wrote (~/answers) are where checks look. */
  user?: string;
  /** Language of messages and hints; English by default. */
  lang?: Lang;
  signal?: AbortSignal;
  /** Milliseconds; injectable so tests need not wait. */
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * The session cluster's API (ClientNodeKubeApi from the driver's host kubeconfig).
   * Absent when there is no cluster: API checks then report `error`, never a verdict.
   */
  kube?: KubeApi;
  /**
   * Where network checks run (workstation, node:NAME, pod:NS/NAME, host). Absent:
   * only the workstation, through `engine`.
   */
  vantage?: VantageExec;
}

/** Real time, for production. */
export const systemClock: Pick<CheckContext, 'now' | 'sleep'> = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
    }),
};

export type CheckRunner<C extends CheckBase = CheckBase> = (check: C, ctx: CheckContext) => Promise<CheckResult>;

/**
 * One check kind, all in its own file under kinds/: the lab.yaml schema of its
 * checks, how one runs, and `explain`, one line for lab authors (validate's
 * reports, lint) saying what the check looks at. Learner-facing text stays in
 * `run`, in both languages.
 */
export interface CheckKindDef<C extends CheckBase> {
  schema: z.ZodType<C, unknown>;
  run: CheckRunner<C>;
  explain: (check: C) => string;
  /** The Services the check looks at, with the field that names each (lint: a Service nothing in the lab makes is a typo). */
  services?: (check: C) => ServiceRef[];
}

export interface ServiceRef {
  name: string;
  namespace: string;
  /** Where in the check the name is written, like ['target', 'service']. */
  path: (string | number)[];
}
