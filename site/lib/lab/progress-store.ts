// A lab's step progress in localStorage: the mirror of the runner's GET /progress, so ticks
// survive reloads, new sessions and a runner that is not running (the lesson index reads it
// too). Older pages stored a plain array of passed step ids; that still reads as "passed".

import type { StepStatus } from '../../../runner/src/api/sessions.ts';

export type { StepStatus };
export type StepProgress = Record<string, { status: StepStatus; at: string }>;
export type StoredProgress = { steps: StepProgress; total?: number; unlocked?: string[] };

export const progressKey = (labId: string): string => `svclab:progress:${labId}`;

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export function readProgress(labId: string): StoredProgress {
  let raw: unknown;
  try {
    raw = JSON.parse(storage()?.getItem(progressKey(labId)) ?? 'null');
  } catch {
    raw = null;
  }
  if (Array.isArray(raw)) {
    const steps: StepProgress = {};
    for (const id of raw) if (typeof id === 'string') steps[id] = { status: 'passed', at: '' };
    return { steps };
  }
  if (!raw || typeof raw !== 'object') return { steps: {} };
  const o = raw as Record<string, unknown>;
  const steps: StepProgress = {};
  if (o.steps && typeof o.steps === 'object') {
    for (const [id, v] of Object.entries(o.steps as Record<string, unknown>)) {
      const st = (v as { status?: unknown } | null)?.status;
      if (st === 'passed' || st === 'solved-with-help') steps[id] = { status: st, at: String((v as { at?: unknown }).at ?? '') };
    }
  }
  return {
    steps,
    total: typeof o.total === 'number' ? o.total : undefined,
    unlocked: Array.isArray(o.unlocked) ? o.unlocked.filter((x): x is string => typeof x === 'string') : undefined,
  };
}

export function writeProgress(labId: string, p: StoredProgress): void {
  try {
    storage()?.setItem(progressKey(labId), JSON.stringify(p));
  } catch {
    /* storage unavailable (private mode, quota): the ticks still show until reload */
  }
}
