// Named steps with elapsed time. On a TTY the running step shows a live timer;
// elsewhere (CI, pipes) each step prints plain start and end lines.

export interface StepEvent {
  step: string;
  state: 'start' | 'done' | 'fail' | 'skip' | 'info';
  detail?: string;
  elapsedMs?: number;
}

export type OnStep = (e: StepEvent) => void;

export interface ProgressOptions {
  write: (s: string) => void;
  tty: boolean;
  now?: () => number;
}

export function formatElapsed(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

export class Progress {
  private readonly opts: ProgressOptions;
  private readonly started = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private live: string | undefined;

  constructor(opts: ProgressOptions) {
    this.opts = opts;
  }

  get onStep(): OnStep {
    return (e) => this.event(e);
  }

  event(e: StepEvent): void {
    const now = (this.opts.now ?? Date.now)();
    if (e.state === 'start') this.started.set(e.step, now);
    const elapsed = e.elapsedMs ?? now - (this.started.get(e.step) ?? now);
    const mark = { start: '…', done: '✓', fail: '✗', skip: '-', info: 'i' }[e.state];
    const detail = e.detail ? ` ${e.detail}` : '';
    if (this.opts.tty) {
      this.clearLive();
      if (e.state === 'start') {
        this.live = e.step;
        this.timer = setInterval(() => this.drawLive(), 250);
        this.timer.unref();
        this.drawLive(detail);
        return;
      }
      this.opts.write(` ${mark} ${e.step}${e.state === 'info' ? '' : ` (${formatElapsed(elapsed)})`}${detail}\n`);
      return;
    }
    const tail = e.state === 'start' || e.state === 'info' ? '' : ` (${formatElapsed(elapsed)})`;
    this.opts.write(`${mark} ${e.step}${tail}${detail}\n`);
  }

  private drawLive(detail = ''): void {
    if (!this.live) return;
    const t = (this.opts.now ?? Date.now)() - (this.started.get(this.live) ?? 0);
    this.opts.write(`\r\x1b[2K … ${this.live} ${formatElapsed(t)}${detail}`);
  }

  private clearLive(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.live) this.opts.write('\r\x1b[2K');
    this.live = undefined;
  }

  end(): void {
    this.clearLive();
  }
}
