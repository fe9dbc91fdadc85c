// <svclab-session> (LabSession.astro): Start lab, Cancel / End lab, Reset lab and the status
// line. A start is followed until the session is ready or failed, polling every second: the
// phases, the place in line with a countdown while no cluster is free, the runner's words on
// failure. A session id kept in the tab is resumed on load.
import type { Session } from '../api/runner-api.ts';
import { h } from './dom.ts';
import { asRunnerError, contextOf, isStale, type LabContext } from './lab-context.ts';
import { isPending, phasesOf, startError, startStatus, startTicker, type Phase } from './start-progress.ts';

/** Give up watching a start after this long (the session stays; a reload looks again). */
export const START_WATCH_MS = 20 * 60_000;
/** Polls that may fail in a row (runner restarting, network blip) before the panel says so and stops. */
const POLL_FAILURES_ALLOWED = 15;

export class LabSession extends HTMLElement {
  #ctx!: LabContext;
  #busy = false;
  /** Bumped by End lab / Cancel: a start being watched stops watching. */
  #startGen = 0;
  /** The session being started (not ready yet), so Cancel can remove it. */
  #pendingId: string | undefined;

  connectedCallback(): void {
    if (this.#ctx) return;
    const ctx = (this.#ctx = contextOf(this));
    ctx.ref('start').addEventListener('click', () => void this.start());
    ctx.ref('stop').addEventListener('click', () => void this.stop());
    ctx.ref('reset-lab').addEventListener('click', () => void this.resetLab());
    ctx.on('session', () => this.#showSession(Boolean(ctx.session)));
  }

  #showSession(running: boolean): void {
    this.#ctx.ref('start').hidden = running;
    this.#ctx.ref('stop').hidden = !running;
    this.#ctx.ref('reset-lab').hidden = !running;
  }

  /** Start, or resume the session this tab had; one at a time. */
  async #run(begin: () => Promise<Session>, onError: (err: unknown) => void): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#setBusy(true);
    try {
      await this.#settle(await begin());
    } catch (err) {
      onError(err);
    } finally {
      this.#busy = false;
      this.#setBusy(false);
    }
  }

  resume(id: string): Promise<void> {
    return this.#run(() => this.#ctx.api.session(id), (err) => this.#ctx.fail(err));
  }

  /**
   * The runner moved this lab to a new session (its cluster stopped answering; the workshop
   * notice says so): let go of the old one and follow the new one as it starts.
   */
  follow(id: string): Promise<void> {
    const ctx = this.#ctx;
    this.#startGen++; // a start being watched stops watching
    if (ctx.session) ctx.end();
    ctx.store.set(id);
    return this.resume(id);
  }

  start(): Promise<void> {
    const ctx = this.#ctx;
    return this.#run(
      async () => {
        ctx.setStatus(ctx.s.statusStarting);
        const session = await ctx.api.startSession(ctx.labId);
        ctx.store.set(session.id);
        return session;
      },
      (err) => {
        const text = startError(asRunnerError(err), ctx.s);
        ctx.setStatus(text.message, text.hint, true);
      },
    );
  }

  /** End lab; while a session is still starting, Cancel (the same button). */
  async stop(): Promise<void> {
    const ctx = this.#ctx;
    const id = ctx.session?.id ?? this.#pendingId;
    this.#startGen++;
    this.#pendingId = undefined;
    this.#showStartProgress(undefined);
    ctx.end();
    ctx.setStatus(ctx.s.statusIdle);
    if (id) await ctx.api.endSession(id).catch(() => undefined);
  }

  async #settle(initial: Session): Promise<void> {
    const ctx = this.#ctx;
    const s = ctx.s;
    let session = initial;
    const gen = ++this.#startGen;
    const began = Date.now();
    let waited = false;
    let etaAt: number | undefined;
    let waitKey = '';
    let lastStatus = '';
    let failures = 0;
    const stop = ctx.ref('stop');
    if (isPending(session.state)) {
      // While it starts the panel offers Cancel, not a second Start.
      this.#pendingId = session.id;
      ctx.ref('start').hidden = true;
      stop.textContent = s.cancelStart;
      stop.hidden = false;
    }
    const render = () => {
      const phases = phasesOf(session, s, waited);
      this.#showStartProgress(phases, startTicker(session, s, Date.now(), began, etaAt));
      const status = failures ? s.lostContact : startStatus(session, s, phases);
      if (status !== lastStatus) ctx.setStatus((lastStatus = status));
    };
    const ticker = setInterval(() => gen === this.#startGen && render(), 1000);
    try {
      while (isPending(session.state)) {
        if (session.state === 'waiting') {
          waited = true;
          // The runner says the estimate when the place in line changes; between those the
          // countdown runs here, so the same estimate read again does not restart it.
          const key = `${session.wait?.position}/${session.wait?.etaSeconds}`;
          if (key !== waitKey) {
            waitKey = key;
            const eta = session.wait?.etaSeconds;
            etaAt = typeof eta === 'number' ? Date.now() + eta * 1000 : undefined;
          }
        }
        render();
        if (Date.now() - began > START_WATCH_MS) {
          ctx.setStatus(s.startSlow, s.startSlowHint, true);
          return;
        }
        await new Promise((r) => setTimeout(r, 1000));
        if (gen !== this.#startGen) return; // cancelled, or another start took over
        try {
          session = await ctx.api.session(session.id);
          failures = 0;
        } catch (err) {
          const e = asRunnerError(err);
          if (isStale(e)) return void ctx.fail(e);
          if (++failures >= POLL_FAILURES_ALLOWED) return void ctx.setStatus(e.message, e.hint, true);
        }
        if (gen !== this.#startGen) return;
      }
    } finally {
      clearInterval(ticker);
      if (gen === this.#startGen) {
        this.#showStartProgress(undefined);
        this.#pendingId = undefined;
        stop.textContent = s.stop;
      }
    }
    if (session.state !== 'ready') {
      ctx.end();
      const text = startError(session.error, s);
      ctx.setStatus(text.message, text.hint, true);
      ctx.ref('start').textContent = s.startAgain;
      return;
    }
    ctx.setStatus(s.statusReady);
    ctx.ref('start').textContent = s.start;
    ctx.begin(session);
  }

  /** The start phases and the ticking line under the status; undefined hides them. */
  #showStartProgress(phases: Phase[] | undefined, ticker = ''): void {
    const s = this.#ctx.s;
    const list = this.#ctx.ref('phases');
    const tick = this.#ctx.ref('start-ticker');
    list.hidden = !phases;
    tick.hidden = !phases;
    this.#ctx.host.querySelector('.svclab-lab')?.toggleAttribute('aria-busy', Boolean(phases));
    if (!phases) {
      list.replaceChildren();
      delete list.dataset.key;
      tick.textContent = '';
      return;
    }
    tick.textContent = ticker;
    const key = JSON.stringify(phases.map((p) => [p.id, p.state]));
    if (list.dataset.key === key) return; // unchanged: leave the list (and screen readers) alone
    list.dataset.key = key;
    const word = { done: s.phaseDone, running: s.phaseRunning, pending: s.phasePending };
    const mark = { done: '✓', running: '●', pending: '○' };
    list.replaceChildren(
      ...phases.map((p) =>
        h(
          'li',
          { class: `svclab-phase svclab-phase--${p.state}`, 'data-phase': p.id, 'data-state': p.state, 'aria-current': p.state === 'running' ? 'step' : undefined },
          h('span', { class: 'svclab-phase__mark', 'aria-hidden': 'true' }, mark[p.state]),
          ' ',
          p.label,
          h('span', { class: 'sr-only' }, ` (${word[p.state]})`),
        ),
      ),
    );
  }

  /** Reset lab (after a confirm): the runner puts the lab back; the ticks go with it. */
  async resetLab(): Promise<void> {
    const ctx = this.#ctx;
    const session = ctx.session;
    if (!session || !confirm(ctx.s.resetLabConfirm)) return;
    const button = ctx.ref<HTMLButtonElement>('reset-lab');
    button.disabled = true;
    ctx.setStatus(ctx.s.resetLabBusy);
    try {
      const next = await ctx.api.resetLab(session.id);
      if (next) ctx.session = next;
      ctx.progress.clear();
      ctx.emit('reset');
      ctx.setStatus(ctx.s.resetLabDone);
    } catch (err) {
      ctx.fail(err);
    } finally {
      button.disabled = false;
    }
  }

  #setBusy(busy: boolean): void {
    const b = this.#ctx.ref<HTMLButtonElement>('start');
    b.disabled = busy;
    b.toggleAttribute('aria-busy', busy);
  }
}
