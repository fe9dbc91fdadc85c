// <svclab-steps> (LabSteps.astro): the lab's steps with Check, Solve and hints, their ticks
// and locks, the x/y line, and the automatic re-check of the open step.
import type { LabStep } from '../api/runner-api.ts';
import { AutoCheck } from './auto-check.ts';
import { checkAnswer } from './check-results.ts';
import { h } from './dom.ts';
import { contextOf, type LabContext } from './lab-context.ts';

export class LabSteps extends HTMLElement {
  #ctx!: LabContext;
  #auto!: AutoCheck;
  #inFlight: Promise<void> | undefined;
  /** Aborts the automatic check in flight, so a learner's Check never waits on one. */
  #autoAbort: AbortController | undefined;

  connectedCallback(): void {
    if (this.#ctx) return;
    const ctx = (this.#ctx = contextOf(this));
    const note = ctx.ref('autocheck');
    this.#auto = new AutoCheck({
      step: () => (ctx.session ? ctx.progress.openStep()?.id : undefined),
      busy: () => Boolean(this.#inFlight),
      check: (stepId) => this.check(stepId, { auto: true }),
      say: (seconds) => {
        note.hidden = seconds === undefined;
        if (seconds !== undefined) note.textContent = ctx.s.autoCheck.replace('{s}', String(seconds));
      },
    });
    document.addEventListener('visibilitychange', () => this.#auto.schedule(true));
    ctx.on('lab', () => {
      this.#render();
      this.#auto.schedule(true); // a resumed session may have settled before the lab arrived
    });
    ctx.on('progress', () => this.#showProgress());
    ctx.on('session', () => {
      if (ctx.session) void this.#syncProgress(ctx.session.id);
      this.#auto.schedule(Boolean(ctx.session));
    });
    ctx.on('reset', () => {
      for (const li of this.querySelectorAll<HTMLElement>('li.svclab-step')) {
        li.querySelector('.svclab-result')?.replaceChildren();
        delete li.dataset.lastResult;
      }
      this.#auto.schedule(true);
    });
  }

  /** The runner's progress wins over the local mirror while a session exists. */
  async #syncProgress(id: string): Promise<void> {
    try {
      const p = await this.#ctx.api.progress(id);
      if (this.#ctx.session?.id === id) this.#ctx.progress.merge(p);
    } catch {
      /* a runner without /progress: the local mirror stands */
    }
  }

  #render(): void {
    const ctx = this.#ctx;
    const s = ctx.s;
    const list = ctx.ref('steps');
    if (!ctx.lab) {
      const e = ctx.labError;
      list.replaceChildren(h('li', { class: 'svclab-error' }, `${s.labUnavailable} ${e?.message ?? ''}`, h('br'), h('span', { class: 'svclab-hint' }, e?.hint ?? '')));
      return;
    }
    list.replaceChildren(
      ...ctx.lab.steps.map((step) => {
        const button = (role: string, label: string, text: string, onClick: () => void, quiet = 'svclab-btn--quiet') => {
          const b = h('button', { type: 'button', class: `svclab-btn ${quiet}`.trim(), 'data-role': role, 'aria-label': `${label}: ${step.title}` }, text);
          b.addEventListener('click', onClick);
          return b;
        };
        const check = button('check', s.check, s.check, () => void this.check(step.id), '');
        check.dataset.step = step.id;
        const solve = button('solve', s.solve, `${s.solve}…`, () => void this.solve(step.id));
        const unlock = button('unlock', s.unlock, s.unlock, () => this.unlock(step.id), 'svclab-btn--quiet svclab-btn--small');
        const hints = h('div', { class: 'svclab-hints', 'aria-live': 'polite' });
        return h(
          'li',
          { class: 'svclab-step', 'data-step': step.id },
          h(
            'div',
            { class: 'svclab-step__head' },
            h('span', { class: 'svclab-step__title' }, step.title, h('span', { class: 'svclab-step__badge', 'data-role': 'badge' })),
            h('span', { class: 'svclab-step__buttons', 'data-role': 'buttons' }, step.hintCount ? this.#hintButton(step, hints) : null, solve, check),
          ),
          step.checks.length ? h('ul', { class: 'svclab-step__checks' }, ...step.checks.map((c) => h('li', {}, c.description || c.kind))) : null,
          h('p', { class: 'svclab-step__lock', 'data-role': 'lock', hidden: true }, h('span', {}, s.locked), ' ', unlock),
          hints,
          h('div', { class: 'svclab-result', role: 'status', 'aria-live': 'polite' }),
        );
      }),
    );
    this.#showProgress();
  }

  /** Ticks, badges, locks and the x/y line. */
  #showProgress(): void {
    const { progress, s } = this.#ctx;
    const steps = this.#ctx.lab?.steps ?? [];
    steps.forEach((step, i) => {
      const li = this.#stepEl(step.id);
      if (!li) return;
      const status = progress.status(step.id);
      li.classList.toggle('svclab-step--passed', status === 'passed');
      li.classList.toggle('svclab-step--solved', status === 'solved-with-help');
      const locked = progress.locked(i);
      li.classList.toggle('svclab-step--locked', locked);
      li.querySelector<HTMLElement>('[data-role="buttons"]')!.hidden = locked;
      li.querySelector<HTMLElement>('[data-role="lock"]')!.hidden = !locked;
      li.querySelector<HTMLElement>('[data-role="solve"]')!.hidden = Boolean(status);
      li.querySelector<HTMLElement>('[data-role="badge"]')!.textContent = status === 'solved-with-help' ? ` (${s.solvedBadge})` : '';
    });
    this.#ctx.ref('progress').textContent = steps.length ? s.progress.replace('{done}', String(progress.done())).replace('{total}', String(steps.length)) : '';
  }

  #stepEl(stepId: string): HTMLElement | null {
    return this.querySelector<HTMLElement>(`li.svclab-step[data-step="${CSS.escape(stepId)}"]`);
  }

  /** "Unlock anyway": the learner skips ahead without the step before passing. */
  unlock(stepId: string): void {
    this.#ctx.progress.unlock(stepId);
    this.#stepEl(stepId)?.querySelector<HTMLElement>('[data-role="check"]')?.focus();
    this.#auto.schedule(true);
  }

  #hintButton(step: LabStep, out: HTMLElement): HTMLButtonElement {
    const s = this.#ctx.s;
    let next = 0;
    const label = () => s.showHint.replace('{n}', String(next + 1)).replace('{total}', String(step.hintCount));
    const button = h('button', { type: 'button', class: 'svclab-btn svclab-btn--quiet' }, label());
    button.addEventListener('click', async () => {
      const session = this.#ctx.needSession(out);
      if (!session) return;
      button.disabled = true;
      try {
        const hint = await this.#ctx.api.hint(session.id, step.id, next);
        if (next === 0) out.replaceChildren();
        out.append(h('p', { class: 'svclab-hint' }, `${s.hint} ${next + 1}: ${hint}`));
        next++;
        if (next >= step.hintCount) {
          button.hidden = true;
          out.append(h('p', { class: 'svclab-keys' }, s.hintsDone));
        } else button.textContent = label();
      } catch (err) {
        this.#ctx.fail(err, out);
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  /** Run the step's checks (one request at a time); true when they all pass. */
  async check(stepId: string, opts: { auto?: boolean } = {}): Promise<boolean> {
    const ctx = this.#ctx;
    const li = this.#stepEl(stepId);
    if (!li) return false;
    const button = li.querySelector<HTMLButtonElement>('[data-role="check"]')!;
    const out = li.querySelector<HTMLElement>('.svclab-result')!;
    const session = ctx.needSession(out);
    if (!session) return false;
    if (opts.auto && this.#inFlight) return false;
    if (!opts.auto) this.#autoAbort?.abort();
    while (this.#inFlight) await this.#inFlight;
    const abort = opts.auto ? new AbortController() : undefined;
    this.#autoAbort = abort;
    let release = () => {};
    this.#inFlight = new Promise<void>((r) => (release = r));
    // An automatic check leaves the button usable: pressing it aborts that check.
    button.disabled = !opts.auto;
    button.setAttribute('aria-busy', 'true');
    if (!opts.auto) out.replaceChildren(h('p', {}, ctx.s.checking));
    try {
      const res = await ctx.api.check(session.id, stepId, abort?.signal);
      // An automatic check that finds nothing new leaves the text (and screen readers) alone.
      const key = JSON.stringify(res);
      if (!opts.auto || li.dataset.lastResult !== key || res.passed) {
        li.dataset.lastResult = key;
        out.replaceChildren(...checkAnswer(res, ctx.s));
      }
      if (res.passed && !ctx.progress.status(stepId)) ctx.progress.record(stepId, 'passed');
      return res.passed;
    } catch (err) {
      if (abort?.signal.aborted) return false; // the learner pressed Check meanwhile
      ctx.fail(err, out);
      return false;
    } finally {
      if (this.#autoAbort === abort) this.#autoAbort = undefined;
      this.#inFlight = undefined;
      release();
      button.disabled = false;
      button.removeAttribute('aria-busy');
      if (!opts.auto) this.#auto.schedule(true);
    }
  }

  /** Solve (after a confirm): the runner applies the step's solution, then Check runs. */
  async solve(stepId: string): Promise<void> {
    const ctx = this.#ctx;
    const li = this.#stepEl(stepId);
    if (!li) return;
    const out = li.querySelector<HTMLElement>('.svclab-result')!;
    const session = ctx.needSession(out);
    if (!session || !confirm(ctx.s.solveConfirm)) return;
    const button = li.querySelector<HTMLButtonElement>('[data-role="solve"]')!;
    button.disabled = true;
    out.replaceChildren(h('p', {}, ctx.s.solving));
    try {
      await ctx.api.solve(session.id, stepId);
      if (await this.check(stepId)) {
        ctx.progress.record(stepId, 'solved-with-help');
        out.prepend(h('p', { class: 'svclab-ok' }, ctx.s.solvedWithHelp));
        this.#auto.schedule(true);
      }
    } catch (err) {
      ctx.fail(err, out);
    } finally {
      button.disabled = false;
    }
  }
}
