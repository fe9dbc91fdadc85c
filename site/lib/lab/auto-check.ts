// Re-check the open step while the page is visible: back-off doubling from 5 s to 60 s, reset
// when the learner comes back to the page or a step changes; none while hidden, without a
// session, when every step is done, or while another check is in flight.

/** Automatic re-check back-off while a step is open: 5 s, 10 s, 20 s, 40 s, then every 60 s. */
export const AUTO_CHECK_FIRST_MS = 5_000;
export const AUTO_CHECK_MAX_MS = 60_000;

export type AutoCheckDeps = {
  /** The step to re-check now, or undefined when there is none (no session, all done). */
  step: () => string | undefined;
  busy: () => boolean;
  check: (stepId: string) => Promise<unknown>;
  /** "Checking again in N s" under the steps; undefined hides it. */
  say: (seconds: number | undefined) => void;
};

export class AutoCheck {
  readonly #deps: AutoCheckDeps;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay = AUTO_CHECK_FIRST_MS;

  constructor(deps: AutoCheckDeps) {
    this.#deps = deps;
  }

  schedule(reset = false): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (reset) this.#delay = AUTO_CHECK_FIRST_MS;
    const step = this.#deps.step();
    if (document.visibilityState !== 'visible' || !step) return this.#deps.say(undefined);
    const delay = this.#delay;
    this.#deps.say(Math.round(delay / 1000));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (document.visibilityState !== 'visible') return;
      this.#delay = Math.min(AUTO_CHECK_MAX_MS, delay * 2);
      if (this.#deps.busy()) return this.schedule();
      void this.#deps.check(step).finally(() => this.#timer === undefined && this.schedule());
    }, delay);
  }
}
