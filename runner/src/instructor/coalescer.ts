// Bursts of changes become one update: the first change after a quiet spell goes out on the
// next turn of the event loop (changes made together are sent together), later ones wait so
// that updates leave at most once every `gapMs`.
export interface CoalescerOptions {
  gapMs: number;
  now?: () => number;
}

export class Coalescer {
  private readonly flush: () => void;
  private readonly gapMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private last = -Infinity;

  constructor(flush: () => void, opts: CoalescerOptions) {
    this.flush = flush;
    this.gapMs = opts.gapMs;
    this.now = opts.now ?? Date.now;
  }

  /** Something changed: flush soon (once, however many calls come before it). */
  poke(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.last + this.gapMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.last = this.now();
      this.flush();
    }, wait);
    this.timer.unref?.();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
