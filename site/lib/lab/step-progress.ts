// The learner's step progress: ticks (passed, solved with help), which steps are locked, and
// the step they are on. Mirrored in localStorage (progress-store.ts); the runner's entries win
// while a session exists.
import type { LabStep, Progress } from '../api/runner-api.ts';
import { readProgress, writeProgress, type StepStatus, type StoredProgress } from './progress-store.ts';

export class StepProgress {
  readonly #labId: string;
  readonly #steps: () => LabStep[];
  readonly #changed: () => void;
  #p: StoredProgress;

  constructor(labId: string, steps: () => LabStep[], changed: () => void) {
    this.#labId = labId;
    this.#steps = steps;
    this.#changed = changed;
    this.#p = readProgress(labId);
  }

  status(stepId: string): StepStatus | undefined {
    return this.#p.steps[stepId]?.status;
  }

  /** A step is locked until the one before it passes, unless the learner unlocked it. */
  locked(index: number): boolean {
    const steps = this.#steps();
    if (index <= 0) return false;
    return !this.status(steps[index - 1]!.id) && !(this.#p.unlocked ?? []).includes(steps[index]!.id);
  }

  /** The step the learner is on: the first one not done and not locked. */
  openStep(): LabStep | undefined {
    return this.#steps().find((st, i) => !this.status(st.id) && !this.locked(i));
  }

  done(): number {
    return this.#steps().filter((st) => this.status(st.id)).length;
  }

  record(stepId: string, status: StepStatus): void {
    this.#p.steps[stepId] = { status, at: new Date().toISOString() };
    this.save();
  }

  /** "Unlock anyway": the learner skips ahead without the step before passing. */
  unlock(stepId: string): void {
    this.#p.unlocked = [...new Set([...(this.#p.unlocked ?? []), stepId])];
    this.save();
  }

  /** The runner keeps progress per session: its entries win, and ticks from earlier sessions (kept only here) stay. */
  merge(runner: Progress): void {
    this.#p = { ...this.#p, steps: { ...this.#p.steps, ...runner.steps } };
    this.save();
  }

  /** Reset lab: the ticks go with the lab's objects. */
  clear(): void {
    this.#p = { steps: {}, total: this.#steps().length };
    this.save();
  }

  save(): void {
    const steps = this.#steps();
    if (steps.length) this.#p.total = steps.length;
    writeProgress(this.#labId, this.#p);
    this.#changed();
  }
}
