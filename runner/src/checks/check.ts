// What every check kind returns and what it may use. A check throws only for bugs:
// `fail` means the learner's cluster isn't right yet, `error` that the check couldn't run.
import type { ContainerEngine } from '../engine/container-engine.ts';
import type { Check, Lang } from '../labs/lab-schema.ts';

export type CheckStatus = 'pass' | 'fail' | 'error';

export interface CheckResult {
  checkId: string;
  kind: Check['kind'];
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
  // Issue 6 adds what the API-reading kinds need (a Kubernetes client, the cluster driver).
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

export type CheckRunner<C extends Check = Check> = (check: C, ctx: CheckContext) => Promise<CheckResult>;
