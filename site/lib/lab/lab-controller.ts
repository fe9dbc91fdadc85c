// The lab panel's behaviour: session lifecycle, and lazy loading of the terminal (when it is
// visible and a session exists) and the editor (when the learner opens it). All state lives
// in the LabController instance made for one <svclab-lab> element.
import { createRunnerApi, RunnerApiError, type CheckResult, type Lab, type LabStep, type LiveObject, type RunnerApi, type Session, type TerminalInfo, type TerminalList } from '../api/runner-api.ts';
import type { PanelStrings } from '../i18n/panel-strings.ts';
import type { TerminalView } from '../terminal/terminal-view.ts';
import type { YamlEditor } from '../editor/yaml-editor.ts';
import type { LiveDiff } from '../editor/yaml-diff.ts';
import type { ConnectionState } from '../terminal/terminal-connection.ts';
import { sessionStore, type SessionStore } from './session-store.ts';
import { readProgress, writeProgress, type StepStatus, type StoredProgress } from './progress-store.ts';
import { h, ref, show } from './dom.ts';
import { FAILED_STATES, PENDING_STATES, phasesOf, startError, startStatus, startTicker, type Phase } from './start-progress.ts';
import type { LabHost } from './define-lab-element.ts';

/** Give up watching a start after this long (the session stays; a reload looks again). */
export const START_WATCH_MS = 20 * 60_000;
/** Polls that may fail in a row (runner restarting, network blip) before the panel says so and stops. */
const POLL_FAILURES_ALLOWED = 15;
/** Automatic re-check back-off while a step is open: 5 s, 10 s, 20 s, 40 s, then every 60 s. */
export const AUTO_CHECK_FIRST_MS = 5_000;
export const AUTO_CHECK_MAX_MS = 60_000;
const WORKSTATION: TerminalInfo = { name: 'workstation', title: 'workstation' };

/** One terminal tab: its pane, and its xterm view once the tab has been shown. */
type TermTab = { info: TerminalInfo; pane: HTMLElement; tab: HTMLButtonElement | undefined; view: TerminalView | undefined; loading: boolean; state: ConnectionState | ''; label: string };

/** What tests and the debugging console can reach (no globals). */
export type LabDebug = {
  controller: LabController;
  terminalText(): string;
  dropTerminal(): void;
  tapTerminal(fn: (data: string) => void): () => void;
  markers(): Promise<{ owner: string; message: string; line: number }[]>;
  /** The open diff's two texts and its number of changed ranges, if a diff is shown. */
  diff(): { live: string; mine: string; changes: number | undefined } | undefined;
};

export function hydrateLab(host: LabHost): LabController {
  const strings = JSON.parse(host.dataset.strings ?? '{}') as PanelStrings;
  const labId = host.getAttribute('lab-id') ?? '';
  const lang = host.dataset.lang === 'zh' ? 'zh' : 'en';
  const controller = new LabController(host, labId, strings, createRunnerApi(lang), sessionStore(safeSessionStorage(), labId));
  (host as LabHost & { svclab?: LabDebug }).svclab = {
    controller,
    terminalText: () => controller.terminalText(),
    dropTerminal: () => controller.terminalView?.connection.drop(),
    tapTerminal: (fn) => controller.terminalView?.tap(fn) ?? (() => undefined),
    markers: async () => (await import('../editor/yaml-editor.ts')).currentMarkers(),
    diff: () => {
      const texts = controller.liveDiff?.texts();
      return texts && { ...texts, changes: controller.liveDiff?.changes() };
    },
  };
  void controller.init();
  return controller;
}

export class LabController {
  readonly host: LabHost;
  readonly labId: string;
  readonly s: PanelStrings;
  readonly api: RunnerApi;
  readonly store: SessionStore;
  lab: Lab | undefined;
  session: Session | undefined;
  editor: YamlEditor | undefined;
  liveDiff: LiveDiff | undefined;
  #terminalVisible = false;
  #tabs: TermTab[] = [];
  #active = 'workstation';
  #progress: StoredProgress = { steps: {} };
  #autoTimer: ReturnType<typeof setTimeout> | undefined;
  #autoDelay = AUTO_CHECK_FIRST_MS;
  #inFlight: Promise<void> | undefined;
  /** Aborts the automatic check in flight, so a learner's Check never waits on one. */
  #autoAbort: AbortController | undefined;
  #editorLoading: Promise<void> | undefined;
  #busy = false;
  /** Bumped by End lab / Cancel: a start being watched stops watching. */
  #startGen = 0;
  /** The session being started (not ready yet), so Cancel can remove it. */
  #pendingId: string | undefined;
  #labLoad: Promise<void> = Promise.resolve();

  constructor(host: LabHost, labId: string, strings: PanelStrings, api: RunnerApi, store: SessionStore) {
    this.host = host;
    this.labId = labId;
    this.s = strings;
    this.api = api;
    this.store = store;
    this.#progress = readProgress(labId);
  }

  /** The active tab's terminal (the workstation's unless the learner picked a node tab). */
  get terminalView(): TerminalView | undefined {
    return this.#tabs.find((t) => t.info.name === this.#active)?.view;
  }

  /** Names of the terminal tabs on offer, in order (tests read it). */
  get terminalNames(): string[] {
    return this.#tabs.map((t) => t.info.name);
  }

  #ref<T extends HTMLElement = HTMLElement>(name: string): T {
    return ref<T>(this.host, name);
  }

  async init(): Promise<void> {
    stripTokenFromUrl();
    this.#labLoad = this.#loadLab();
    this.#ref('start').addEventListener('click', () => void this.start());
    this.#ref('stop').addEventListener('click', () => void this.stop());
    this.#ref('apply').addEventListener('click', () => void this.apply());
    this.#ref('diff').addEventListener('click', () => void this.diff());
    this.#ref('diff-close').addEventListener('click', () => this.closeDiff(true));
    this.#ref('diff-view').addEventListener('keydown', (ev) => {
      if (ev.key !== 'Escape' || ev.defaultPrevented) return;
      ev.preventDefault();
      this.closeDiff(true);
    });
    this.#ref('reset').addEventListener('click', () => this.reset());
    this.#ref('reconnect').addEventListener('click', () => this.terminalView?.connection.reconnectNow());
    this.#ref('reset-lab').addEventListener('click', () => void this.resetLab());
    document.addEventListener('visibilitychange', () => this.#scheduleAutoCheck(true));
    const details = this.#ref<HTMLDetailsElement>('editor-details');
    details.addEventListener('toggle', () => details.open && void this.openEditor());
    if (details.open) void this.openEditor();
    this.#ref<HTMLSelectElement>('editor-step').addEventListener('change', (ev) => {
      this.editor?.setStep((ev.currentTarget as HTMLSelectElement).value);
      this.closeDiff();
      this.#setApplyResult();
    });
    new IntersectionObserver((entries) => {
      this.#terminalVisible = entries.some((e) => e.isIntersecting);
      this.#maybeMountTerminal();
    }).observe(this.#ref('terminal'));

    this.#decorateCodeBlocks();
    // The phone-only "Lab panel ↓" link is in the way once the panel itself is on screen.
    const jump = this.host.closest('.svclab-lesson')?.querySelector<HTMLElement>('.svclab-jump');
    const aside = this.host.closest('aside');
    if (jump && aside) new IntersectionObserver((entries) => (jump.hidden = entries.some((e) => e.isIntersecting))).observe(aside);
    const pendingStart = this.host.pendingStart;
    const stored = this.store.get();
    if (stored) await this.#resume(stored);
    else if (pendingStart) await this.start();
    await this.#labLoad;
  }

  async #loadLab(): Promise<void> {
    try {
      this.lab = await this.api.lab(this.labId);
      this.#renderSteps();
      this.#scheduleAutoCheck(true); // a resumed session may have settled before the lab arrived
    } catch (err) {
      const e = asRunnerError(err);
      this.#ref('steps').replaceChildren(h('li', { class: 'svclab-error' }, `${this.s.labUnavailable} ${e.message}`, h('br'), h('span', { class: 'svclab-hint' }, e.hint)));
    }
  }

  async #resume(id: string): Promise<void> {
    this.#busy = true;
    this.#setBusy(true);
    try {
      const session = await this.api.session(id);
      await this.#settle(session);
    } catch (err) {
      this.#handleSessionError(err);
    } finally {
      this.#busy = false;
      this.#setBusy(false);
    }
  }

  async start(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#setBusy(true);
    this.#setStatus(this.s.statusStarting);
    try {
      const session = await this.api.startSession(this.labId);
      this.store.set(session.id);
      await this.#settle(session);
    } catch (err) {
      const e = asRunnerError(err);
      const text = startError(e, this.s);
      this.#setStatus(text.message, text.hint, true);
    } finally {
      this.#busy = false;
      this.#setBusy(false);
    }
  }

  /** End lab; while a session is still starting, Cancel (the same button). */
  async stop(): Promise<void> {
    const id = this.session?.id ?? this.#pendingId;
    this.#startGen++;
    this.#pendingId = undefined;
    this.#showStartProgress(undefined);
    this.#endSession();
    this.#setStatus(this.s.statusIdle);
    if (id) await this.api.endSession(id).catch(() => undefined);
  }

  /**
   * Follow a session until it is ready or failed, polling every second: the phases, the place
   * in line with a countdown while no cluster is free, and the runner's words on failure.
   */
  async #settle(initial: Session): Promise<void> {
    let session = initial;
    const gen = ++this.#startGen;
    const began = Date.now();
    let waited = false;
    let etaAt: number | undefined;
    let waitKey = '';
    let lastStatus = '';
    let failures = 0;
    const stop = this.#ref('stop');
    if (PENDING_STATES.has(session.state)) {
      // While it starts the panel offers Cancel, not a second Start.
      this.#pendingId = session.id;
      this.#ref('start').hidden = true;
      stop.textContent = this.s.cancelStart;
      stop.hidden = false;
    }
    const render = () => {
      const phases = phasesOf(session, this.s, waited);
      this.#showStartProgress(phases, startTicker(session, this.s, Date.now(), began, etaAt));
      const status = failures ? this.s.lostContact : startStatus(session, this.s, phases);
      if (status !== lastStatus) this.#setStatus((lastStatus = status));
    };
    const ticker = setInterval(() => gen === this.#startGen && render(), 1000);
    try {
      while (PENDING_STATES.has(session.state)) {
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
          this.#setStatus(this.s.startSlow, this.s.startSlowHint, true);
          return;
        }
        await new Promise((r) => setTimeout(r, 1000));
        if (gen !== this.#startGen) return; // cancelled, or another start took over
        try {
          session = await this.api.session(session.id);
          failures = 0;
        } catch (err) {
          const e = asRunnerError(err);
          if (isStale(e)) {
            this.#handleSessionError(e);
            return;
          }
          if (++failures >= POLL_FAILURES_ALLOWED) {
            this.#setStatus(e.message, e.hint, true);
            return;
          }
        }
        if (gen !== this.#startGen) return;
      }
    } finally {
      clearInterval(ticker);
      if (gen === this.#startGen) {
        this.#showStartProgress(undefined);
        this.#pendingId = undefined;
        stop.textContent = this.s.stop;
      }
    }
    if (FAILED_STATES.has(session.state) || !session.state) {
      this.#endSession();
      const text = startError(session.error, this.s);
      this.#setStatus(text.message, text.hint, true);
      this.#ref('start').textContent = this.s.startAgain;
      return;
    }
    this.session = session;
    this.#setStatus(this.s.statusReady);
    const start = this.#ref('start');
    start.hidden = true;
    start.textContent = this.s.start;
    stop.hidden = false;
    this.#ref('reset-lab').hidden = false;
    this.#renderTabs({ terminals: [WORKSTATION], nodeShells: false });
    this.#maybeMountTerminal();
    const id = session.id;
    void this.api
      .terminals(id)
      .then((list) => this.session?.id === id && this.#renderTabs(list))
      .catch(() => undefined); // a runner without node shells: the workstation tab alone
    void this.#syncProgress(id);
    this.#scheduleAutoCheck(true);
  }

  /** The start phases and the ticking line under the status; undefined hides them. */
  #showStartProgress(phases: Phase[] | undefined, ticker = ''): void {
    const list = this.#ref('phases');
    const tick = this.#ref('start-ticker');
    list.hidden = !phases;
    tick.hidden = !phases;
    this.host.querySelector('.svclab-lab')?.toggleAttribute('aria-busy', Boolean(phases));
    if (!phases) {
      list.replaceChildren();
      tick.textContent = '';
      return;
    }
    tick.textContent = ticker;
    const key = JSON.stringify(phases.map((p) => [p.id, p.state]));
    if (list.dataset.key === key) return; // unchanged: leave the list (and screen readers) alone
    list.dataset.key = key;
    const word = { done: this.s.phaseDone, running: this.s.phaseRunning, pending: this.s.phasePending };
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

  /** The runner's progress wins over the local mirror while a session exists. */
  async #syncProgress(id: string): Promise<void> {
    try {
      const p = await this.api.progress(id);
      if (this.session?.id !== id) return;
      // The runner keeps progress per session: its entries win, and ticks from earlier
      // sessions (kept only here) stay.
      this.#progress = { ...this.#progress, steps: { ...this.#progress.steps, ...p.steps } };
      this.#saveProgress();
    } catch {
      /* a runner without /progress: the local mirror stands */
    }
  }

  #handleSessionError(err: unknown): void {
    const e = asRunnerError(err);
    if (isStale(e)) {
      this.#endSession();
      this.#setStatus(this.s.statusStale);
      this.#ref('start').textContent = this.s.startAgain;
    } else {
      this.#setStatus(e.message, e.hint, true);
    }
  }

  #endSession(): void {
    this.store.clear();
    this.session = undefined;
    for (const t of this.#tabs) t.view?.dispose();
    this.#tabs = [];
    this.#active = 'workstation';
    const tablist = this.#ref('term-tabs');
    tablist.replaceChildren();
    tablist.hidden = true;
    this.#ref('node-note').hidden = true;
    const term = this.#ref('terminal');
    term.replaceChildren(h('p', { class: 'svclab-placeholder' }, this.s.terminalPlaceholder));
    this.#termState('');
    this.#ref('start').hidden = false;
    this.#ref('stop').hidden = true;
    this.#ref('reset-lab').hidden = true;
    this.#scheduleAutoCheck();
  }

  /** One pane per terminal; tabs (an ARIA tablist) only when there is more than one. */
  #renderTabs(list: TerminalList): void {
    const host = this.#ref('terminal');
    const keep = new Map(this.#tabs.map((t) => [t.info.name, t]));
    if (!this.#tabs.length) host.replaceChildren();
    const base = `${this.host.getAttribute('lab-id') ?? 'lab'}-term`;
    const many = list.terminals.length > 1;
    this.#tabs = list.terminals.map((info, i) => {
      const old = keep.get(info.name);
      keep.delete(info.name);
      const pane = old?.pane ?? h('div', { class: 'svclab-term-pane', id: `svclab-${base}-pane-${i}`, 'data-terminal': info.name });
      if (!old) pane.append(h('p', { class: 'svclab-placeholder' }, this.s.terminalLoading));
      host.append(pane);
      return old ?? { info, pane, tab: undefined, view: undefined, loading: false, state: '', label: '' };
    });
    for (const gone of keep.values()) {
      gone.view?.dispose();
      gone.pane.remove();
    }
    const tablist = this.#ref('term-tabs');
    tablist.hidden = !many;
    this.#ref('node-note').hidden = !list.terminals.some((t) => t.name.startsWith('node:'));
    tablist.replaceChildren(
      ...this.#tabs.map((t, i) => {
        const id = `svclab-${base}-tab-${i}`;
        const tab = h('button', { type: 'button', role: 'tab', id, class: 'svclab-tab', 'aria-controls': t.pane.id, 'data-terminal': t.info.name }, t.info.title);
        tab.addEventListener('click', () => this.selectTerminal(t.info.name));
        tab.addEventListener('keydown', (ev) => this.#tabKey(ev, i));
        t.tab = many ? tab : undefined;
        if (many) {
          t.pane.setAttribute('role', 'tabpanel');
          t.pane.setAttribute('aria-labelledby', id);
        } else {
          t.pane.removeAttribute('role');
          t.pane.removeAttribute('aria-labelledby');
        }
        return tab;
      }),
    );
    // A reload comes back to the tab the learner had open (its output replayed by the runner).
    const remembered = safeSessionStorageGet(`svclab:terminal:${this.labId}`);
    if (remembered && this.#tabs.some((t) => t.info.name === remembered)) this.#active = remembered;
    if (!this.#tabs.some((t) => t.info.name === this.#active)) this.#active = 'workstation';
    this.selectTerminal(this.#active, false);
  }

  #tabKey(ev: KeyboardEvent, i: number): void {
    const n = this.#tabs.length;
    const to = ev.key === 'ArrowRight' ? (i + 1) % n : ev.key === 'ArrowLeft' ? (i - 1 + n) % n : ev.key === 'Home' ? 0 : ev.key === 'End' ? n - 1 : -1;
    if (to < 0) return;
    ev.preventDefault();
    this.selectTerminal(this.#tabs[to]!.info.name);
    this.#tabs[to]!.tab?.focus();
  }

  /** Show one terminal tab (its connection, output and replay are its own). */
  selectTerminal(name: string, userAction = true): void {
    if (!this.#tabs.some((t) => t.info.name === name)) return;
    this.#active = name;
    if (userAction) {
      try {
        safeSessionStorage()?.setItem(`svclab:terminal:${this.labId}`, name);
      } catch {
        /* storage unavailable: a reload opens the workstation tab */
      }
    }
    for (const t of this.#tabs) {
      const on = t.info.name === name;
      t.pane.hidden = !on;
      t.tab?.setAttribute('aria-selected', String(on));
      t.tab?.setAttribute('tabindex', on ? '0' : '-1');
      if (on) this.#termState(t.label, t.state);
    }
    this.#maybeMountTerminal();
    if (userAction) this.terminalView?.terminal.focus();
  }

  #maybeMountTerminal(): void {
    const t = this.#tabs.find((x) => x.info.name === this.#active);
    if (!this.session || !this.#terminalVisible || !t || t.view || t.loading) return;
    t.loading = true;
    t.pane.replaceChildren(h('p', { class: 'svclab-placeholder' }, this.s.terminalLoading));
    const sessionId = this.session.id;
    import('../terminal/terminal-view.ts')
      .then(({ mountTerminal }) => {
        if (this.session?.id !== sessionId || !this.#tabs.includes(t)) return;
        t.view = mountTerminal({
          host: t.pane,
          sessionId,
          name: t.info.name,
          label: t.info.name === 'workstation' ? this.s.terminalLabel : `${this.s.terminalHeading}: ${t.info.title}`,
          onState: (state, detail) => this.#onTerminalState(t, state, detail),
          onMissed: () => t.view?.terminal.write(`\x1b[2m[svclab] ${this.s.terminalMissed}\x1b[0m\r\n`),
          sessionAlive: async () => {
            try {
              await this.api.session(sessionId);
              return true;
            } catch (err) {
              return !isStale(asRunnerError(err));
            }
          },
          focusNext: () => this.#ref('editor-details').querySelector('summary')?.focus(),
        });
      })
      .catch((err: unknown) => this.#setStatus(String(err), undefined, true))
      .finally(() => (t.loading = false));
  }

  #onTerminalState(t: TermTab, state: ConnectionState, detail?: { exitCode?: number; error?: { code: string; message: string; hint: string } }): void {
    const s = this.s;
    const label: Record<ConnectionState, string> = {
      connecting: s.terminalConnecting,
      open: s.terminalConnected,
      reconnecting: s.terminalReconnecting,
      exited: s.terminalExited.replace('{code}', String(detail?.exitCode ?? '?')),
      stale: s.statusStale,
      closed: '',
    };
    t.state = state;
    t.label = label[state];
    if (t.info.name === this.#active) this.#termState(label[state], state);
    if (state === 'exited' && detail?.error) this.#setStatus(detail.error.message, detail.error.hint, true);
    if (state === 'stale') this.#handleSessionError(new RunnerApiError({ code: 'SESSION_UNKNOWN', message: s.statusStale, hint: '' }, 404));
  }

  #termState(text: string, state = ''): void {
    const pill = this.#ref('term-state');
    pill.textContent = text;
    pill.dataset.state = state;
    this.#ref('reconnect').hidden = state !== 'reconnecting';
  }

  /** A "Run in terminal" button under each shell block of the lesson text. */
  #decorateCodeBlocks(): void {
    const prose = this.host.closest('.svclab-lesson')?.querySelector('.svclab-lesson__prose');
    if (!prose) return;
    for (const pre of prose.querySelectorAll<HTMLPreElement>('pre[data-language="sh"], pre[data-language="bash"], pre[data-language="shell"]')) {
      const block = pre.closest('.expressive-code') ?? pre;
      if (block.nextElementSibling?.classList.contains('svclab-run')) continue;
      const lines = [...pre.querySelectorAll('.ec-line')].map((l) => l.textContent ?? '');
      const command = (lines.length ? lines.join('\n') : (pre.textContent ?? '')).trim();
      if (!command) continue;
      const out = h('span', { class: 'svclab-run__note', role: 'status' });
      const button = h('button', { type: 'button', class: 'svclab-btn svclab-btn--quiet svclab-run__button', 'aria-label': `${this.s.runInTerminal}: ${command.split('\n')[0]}` }, `▶ ${this.s.runInTerminal}`);
      button.addEventListener('click', () => void this.runInTerminal(command, out));
      block.after(h('div', { class: 'svclab-run' }, button, out));
    }
  }

  /** Types the command at the prompt (as a paste, so nothing runs before the learner presses Enter). */
  async runInTerminal(command: string, note?: HTMLElement): Promise<void> {
    note?.replaceChildren();
    if (!this.session) {
      note?.replaceChildren(this.s.needSession);
      this.#ref('start').scrollIntoView({ block: 'center', behavior: 'smooth' });
      return;
    }
    if (!this.terminalView) {
      this.#ref('terminal').scrollIntoView({ block: 'center' });
      const end = Date.now() + 15_000;
      while (!this.terminalView && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    }
    const view = this.terminalView;
    if (!view) return;
    view.terminal.paste(command);
    view.terminal.focus();
  }

  terminalText(): string {
    const term = this.terminalView?.terminal;
    if (!term) return '';
    const buf = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n');
  }

  #renderSteps(): void {
    const lab = this.lab;
    if (!lab) return;
    const list = this.#ref('steps');
    list.replaceChildren(
      ...lab.steps.map((step) => {
        const result = h('div', { class: 'svclab-result', role: 'status', 'aria-live': 'polite' });
        const button = h('button', { type: 'button', class: 'svclab-btn', 'data-step': step.id, 'data-role': 'check', 'aria-label': `${this.s.check}: ${step.title}` }, this.s.check);
        button.addEventListener('click', () => void this.check(step.id));
        const solve = h('button', { type: 'button', class: 'svclab-btn svclab-btn--quiet', 'data-role': 'solve', 'aria-label': `${this.s.solve}: ${step.title}` }, `${this.s.solve}…`);
        solve.addEventListener('click', () => void this.solve(step.id));
        const unlock = h('button', { type: 'button', class: 'svclab-btn svclab-btn--quiet svclab-btn--small', 'data-role': 'unlock', 'aria-label': `${this.s.unlock}: ${step.title}` }, this.s.unlock);
        unlock.addEventListener('click', () => this.unlock(step.id));
        const hints = h('div', { class: 'svclab-hints', 'aria-live': 'polite' });
        const hintButton = step.hintCount ? this.#hintButton(step, hints) : null;
        return h(
          'li',
          { class: 'svclab-step', 'data-step': step.id },
          h(
            'div',
            { class: 'svclab-step__head' },
            h('span', { class: 'svclab-step__title' }, step.title, h('span', { class: 'svclab-step__badge', 'data-role': 'badge' })),
            h('span', { class: 'svclab-step__buttons', 'data-role': 'buttons' }, hintButton, solve, button),
          ),
          step.checks.length ? h('ul', { class: 'svclab-step__checks' }, ...step.checks.map((c) => h('li', {}, c.description || c.kind))) : null,
          h('p', { class: 'svclab-step__lock', 'data-role': 'lock', hidden: true }, h('span', {}, this.s.locked), ' ', unlock),
          hints,
          result,
        );
      }),
    );
    this.#applyProgress();
    const select = this.#ref<HTMLSelectElement>('editor-step');
    const current = select.value;
    select.replaceChildren(...this.#editorSteps().map((step) => h('option', { value: step.id }, step.label)));
    if (current && [...select.options].some((o) => o.value === current)) select.value = current;
  }

  #stepStatus(stepId: string): StepStatus | undefined {
    return this.#progress.steps[stepId]?.status;
  }

  /** A step is locked until the one before it passes, unless the learner unlocked it. */
  #locked(index: number): boolean {
    const steps = this.lab?.steps ?? [];
    if (index <= 0) return false;
    return !this.#stepStatus(steps[index - 1]!.id) && !(this.#progress.unlocked ?? []).includes(steps[index]!.id);
  }

  /** The step the learner is on: the first one not done and not locked. */
  openStep(): LabStep | undefined {
    const steps = this.lab?.steps ?? [];
    return steps.find((st, i) => !this.#stepStatus(st.id) && !this.#locked(i));
  }

  /** Ticks, badges, locks and the x/y line from #progress. */
  #applyProgress(): void {
    const steps = this.lab?.steps ?? [];
    steps.forEach((step, i) => {
      const li = this.#stepEl(step.id);
      if (!li) return;
      const status = this.#stepStatus(step.id);
      li.classList.toggle('svclab-step--passed', status === 'passed');
      li.classList.toggle('svclab-step--solved', status === 'solved-with-help');
      const locked = this.#locked(i);
      li.classList.toggle('svclab-step--locked', locked);
      li.querySelector<HTMLElement>('[data-role="buttons"]')!.hidden = locked;
      li.querySelector<HTMLElement>('[data-role="lock"]')!.hidden = !locked;
      li.querySelector<HTMLElement>('[data-role="solve"]')!.hidden = Boolean(status);
      li.querySelector<HTMLElement>('[data-role="badge"]')!.textContent = status === 'solved-with-help' ? ` (${this.s.solvedBadge})` : '';
    });
    const done = steps.filter((st) => this.#stepStatus(st.id)).length;
    this.#ref('progress').textContent = steps.length ? this.s.progress.replace('{done}', String(done)).replace('{total}', String(steps.length)) : '';
  }

  #stepEl(stepId: string): HTMLElement | null {
    return this.host.querySelector<HTMLElement>(`li.svclab-step[data-step="${CSS.escape(stepId)}"]`);
  }

  #record(stepId: string, status: StepStatus): void {
    this.#progress.steps[stepId] = { status, at: new Date().toISOString() };
    this.#saveProgress();
  }

  #saveProgress(): void {
    this.#progress.total = this.lab?.steps.length ?? this.#progress.total;
    writeProgress(this.labId, this.#progress);
    this.#applyProgress();
  }

  /** "Unlock anyway": the learner skips ahead without the step before passing. */
  unlock(stepId: string): void {
    this.#progress.unlocked = [...new Set([...(this.#progress.unlocked ?? []), stepId])];
    this.#saveProgress();
    this.#stepEl(stepId)?.querySelector<HTMLElement>('[data-role="check"]')?.focus();
    this.#scheduleAutoCheck(true);
  }

  /**
   * Re-check the open step while the page is visible: back-off doubling from 5 s to 60 s,
   * reset when the learner comes back to the page or a step changes; none while hidden,
   * when every step is done, or while another check is in flight.
   */
  #scheduleAutoCheck(reset = false): void {
    clearTimeout(this.#autoTimer);
    this.#autoTimer = undefined;
    if (reset) this.#autoDelay = AUTO_CHECK_FIRST_MS;
    const note = this.#ref('autocheck');
    const step = this.openStep();
    if (!this.session || document.visibilityState !== 'visible' || !step) {
      note.hidden = true;
      return;
    }
    const delay = this.#autoDelay;
    note.hidden = false;
    note.textContent = this.s.autoCheck.replace('{s}', String(Math.round(delay / 1000)));
    this.#autoTimer = setTimeout(() => {
      this.#autoTimer = undefined;
      if (document.visibilityState !== 'visible') return;
      this.#autoDelay = Math.min(AUTO_CHECK_MAX_MS, delay * 2);
      if (this.#inFlight) return this.#scheduleAutoCheck();
      void this.check(step.id, { auto: true }).finally(() => this.#autoTimer === undefined && this.#scheduleAutoCheck());
    }, delay);
  }

  /** Steps that come with starting YAML; a scratch buffer when the lab has none. */
  #editorSteps(): { id: string; startingYaml: string; label: string }[] {
    const steps = this.lab?.steps ?? [];
    const withEditor = steps
      .map((st, i) => ({ st, i }))
      .filter(({ st }) => st.startingYaml !== undefined)
      .map(({ st, i }) => ({ id: st.id, startingYaml: st.startingYaml ?? '', label: `${i + 1}. ${st.title}${st.editorFile ? ` (${st.editorFile})` : ''}` }));
    return withEditor.length ? withEditor : [{ id: 'scratch', startingYaml: '', label: this.s.scratch }];
  }

  #hintButton(step: LabStep, out: HTMLElement): HTMLButtonElement {
    let next = 0;
    const label = () => this.s.showHint.replace('{n}', String(next + 1)).replace('{total}', String(step.hintCount));
    const button = h('button', { type: 'button', class: 'svclab-btn svclab-btn--quiet' }, label());
    button.addEventListener('click', async () => {
      if (!this.session) {
        out.replaceChildren(h('p', { class: 'svclab-error' }, this.s.needSession));
        return;
      }
      button.disabled = true;
      try {
        const hint = await this.api.hint(this.session.id, step.id, next);
        if (next === 0) out.replaceChildren();
        out.append(h('p', { class: 'svclab-hint' }, `${this.s.hint} ${next + 1}: ${hint}`));
        next++;
        if (next >= step.hintCount) {
          button.hidden = true;
          out.append(h('p', { class: 'svclab-keys' }, this.s.hintsDone));
        } else button.textContent = label();
      } catch (err) {
        const e = asRunnerError(err);
        if (isStale(e)) this.#handleSessionError(e);
        out.replaceChildren(errorBlock(e));
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  /** Run the step's checks (one request at a time); true when they all pass. */
  async check(stepId: string, opts: { auto?: boolean } = {}): Promise<boolean> {
    const li = this.#stepEl(stepId);
    if (!li) return false;
    const button = li.querySelector<HTMLButtonElement>('[data-role="check"]')!;
    const out = li.querySelector<HTMLElement>('.svclab-result')!;
    if (!this.session) {
      out.replaceChildren(h('p', { class: 'svclab-error' }, this.s.needSession));
      return false;
    }
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
    if (!opts.auto) out.replaceChildren(h('p', {}, this.s.checking));
    try {
      const res = await this.api.check(this.session.id, stepId, abort?.signal);
      // An automatic check that finds nothing new leaves the text (and screen readers) alone.
      const key = JSON.stringify(res);
      if (!opts.auto || li.dataset.lastResult !== key || res.passed) {
        li.dataset.lastResult = key;
        out.replaceChildren(
          h('p', { class: res.passed ? 'svclab-ok' : 'svclab-error' }, res.passed ? this.s.passed : res.results.some((r) => r.status === 'error') ? this.s.couldNotRun : this.s.notYet),
          h('ul', { class: 'svclab-checks' }, ...res.results.map((r) => this.#resultItem(r))),
        );
      }
      if (res.passed && !this.#stepStatus(stepId)) this.#record(stepId, 'passed');
      return res.passed;
    } catch (err) {
      if (abort?.signal.aborted) return false; // the learner pressed Check meanwhile
      const e = asRunnerError(err);
      if (isStale(e)) this.#handleSessionError(e);
      out.replaceChildren(errorBlock(e));
      return false;
    } finally {
      if (this.#autoAbort === abort) this.#autoAbort = undefined;
      this.#inFlight = undefined;
      release();
      button.disabled = false;
      button.removeAttribute('aria-busy');
      if (!opts.auto) this.#scheduleAutoCheck(true);
    }
  }

  /** Solve (after a confirm): the runner applies the step's solution, then Check runs. */
  async solve(stepId: string): Promise<void> {
    const li = this.#stepEl(stepId);
    if (!li) return;
    const out = li.querySelector<HTMLElement>('.svclab-result')!;
    if (!this.session) {
      out.replaceChildren(h('p', { class: 'svclab-error' }, this.s.needSession));
      return;
    }
    if (!confirm(this.s.solveConfirm)) return;
    const button = li.querySelector<HTMLButtonElement>('[data-role="solve"]')!;
    button.disabled = true;
    out.replaceChildren(h('p', {}, this.s.solving));
    try {
      await this.api.solve(this.session.id, stepId);
      if (await this.check(stepId)) {
        this.#record(stepId, 'solved-with-help');
        out.prepend(h('p', { class: 'svclab-ok' }, this.s.solvedWithHelp));
        this.#scheduleAutoCheck(true);
      }
    } catch (err) {
      const e = asRunnerError(err);
      if (isStale(e)) this.#handleSessionError(e);
      out.replaceChildren(errorBlock(e));
    } finally {
      button.disabled = false;
    }
  }

  /** Reset lab (after a confirm): the runner puts the lab back; the ticks go with it. */
  async resetLab(): Promise<void> {
    const session = this.session;
    if (!session || !confirm(this.s.resetLabConfirm)) return;
    const button = this.#ref<HTMLButtonElement>('reset-lab');
    button.disabled = true;
    this.#setStatus(this.s.resetLabBusy);
    try {
      const next = await this.api.resetLab(session.id);
      if (next) this.session = next;
      this.#progress = { steps: {}, total: this.lab?.steps.length };
      this.#saveProgress();
      for (const li of this.host.querySelectorAll<HTMLElement>('li.svclab-step')) {
        li.querySelector('.svclab-result')?.replaceChildren();
        delete li.dataset.lastResult;
      }
      this.#setStatus(this.s.resetLabDone);
      this.#scheduleAutoCheck(true);
    } catch (err) {
      const e = asRunnerError(err);
      if (isStale(e)) this.#handleSessionError(e);
      else this.#setStatus(e.message, e.hint, true);
    } finally {
      button.disabled = false;
    }
  }

  #resultItem(r: CheckResult): HTMLElement {
    const word = r.status === 'pass' ? this.s.statusPass : r.status === 'fail' ? this.s.statusFail : this.s.statusError;
    const d = r.details;
    return h(
      'li',
      { class: `svclab-check svclab-check--${r.status}` },
      h('span', { class: 'svclab-badge' }, word),
      ' ',
      h('span', {}, r.message),
      r.hint ? h('p', { class: 'svclab-hint' }, `${this.s.hint}: ${r.hint}`) : null,
      d && (d.expected !== undefined || d.observed !== undefined)
        ? h(
            'dl',
            { class: 'svclab-diff' },
            h('dt', {}, this.s.expected),
            h('dd', {}, this.#expectedValue(show(d.expected ?? ''))),
            h('dt', {}, this.s.observed),
            h('dd', {}, h('pre', {}, show(d.observed ?? ''))),
          )
        : null,
    );
  }

  /**
   * What a check expected. A command check's is the script it ran: a summary line that
   * opens to the whole script, so the observation beside it stays in view.
   */
  #expectedValue(text: string): HTMLElement {
    if (!text.includes('\n') && text.length <= 160) return h('pre', {}, text);
    const first = text.split('\n')[0]!;
    return h('details', { class: 'svclab-script' }, h('summary', {}, first.length > 80 ? `${first.slice(0, 77)}…` : first), h('pre', {}, text));
  }

  async openEditor(): Promise<void> {
    this.#editorLoading ??= (async () => {
      const host = this.#ref('editor');
      try {
        await this.#labLoad; // the steps' starting YAML comes with the lab
        const steps = this.#editorSteps();
        const select = this.#ref<HTMLSelectElement>('editor-step');
        if (!select.options.length) select.append(...steps.map((st) => h('option', { value: st.id }, st.label)));
        const { createYamlEditor } = await import('../editor/yaml-editor.ts');
        host.replaceChildren();
        this.editor = createYamlEditor({
          host,
          labId: this.labId,
          steps,
          initialStep: select.value || steps[0]!.id,
          ariaLabel: this.s.editorLabel,
        });
      } catch (err) {
        this.#editorLoading = undefined;
        host.replaceChildren(h('p', { class: 'svclab-error' }, String(err)));
      }
    })();
    return this.#editorLoading;
  }

  /** The open editor when a session runs; else a message where Apply's result goes. */
  async #editorForSession(): Promise<YamlEditor | undefined> {
    await this.openEditor();
    if (!this.editor) return undefined;
    if (!this.session) {
      this.#setApplyResult(h('p', { class: 'svclab-error' }, this.s.needSession));
      return undefined;
    }
    return this.editor;
  }

  /** A runner error from Apply or Diff: under the editor, and at its line when it has one. */
  #showEditorError(editor: YamlEditor, err: unknown): void {
    const e = asRunnerError(err);
    if (isStale(e)) this.#handleSessionError(e);
    this.#setApplyResult(errorBlock(e));
    const line = typeof e.details?.line === 'number' ? e.details.line : undefined;
    const column = typeof e.details?.column === 'number' ? e.details.column : undefined;
    if (line !== undefined) editor.markApplyError(e.message, line, column);
  }

  async apply(): Promise<void> {
    const editor = await this.#editorForSession();
    if (!editor || !this.session) return;
    const button = this.#ref<HTMLButtonElement>('apply');
    button.disabled = true;
    this.#setApplyResult(h('p', {}, this.s.applying));
    editor.clearApplyError();
    try {
      const res = await this.api.apply(this.session.id, editor.value(), editor.stepId);
      this.closeDiff(); // it showed the cluster before this Apply
      this.#setApplyResult(h('p', { class: 'svclab-ok' }, this.s.applied), res.applied || res.dryRun ? h('pre', {}, [res.dryRun, res.applied].filter(Boolean).join('\n')) : null);
    } catch (err) {
      this.#showEditorError(editor, err);
    } finally {
      button.disabled = false;
    }
  }

  /** Diff: the editor's YAML against the live objects (Monaco's diff editor, loaded now). */
  async diff(): Promise<void> {
    const editor = await this.#editorForSession();
    if (!editor || !this.session) return;
    const button = this.#ref<HTMLButtonElement>('diff');
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    this.#setApplyResult(h('p', {}, this.s.diffLoading));
    editor.clearApplyError();
    const yaml = editor.value();
    try {
      const [objects, { createLiveDiff }, { documentAt }] = await Promise.all([this.api.live(this.session.id, yaml), import('../editor/yaml-diff.ts'), import('../editor/yaml-documents.ts')]);
      this.#setApplyResult();
      const view = this.#ref('diff-view');
      const host = this.#ref('diff-host');
      const note = this.#ref('diff-note');
      const select = this.#ref<HTMLSelectElement>('diff-object');
      const name = (o: LiveObject) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
      select.replaceChildren(...objects.map((o, i) => h('option', { value: String(i) }, name(o))));
      this.#ref('diff-pick').hidden = objects.length < 2;
      const showObject = (i: number) => {
        const o = objects[i];
        if (!o || o.live === null) {
          note.textContent = o ? this.s.diffNotCreated.replace('{object}', name(o)) : this.s.diffEmpty;
          host.hidden = true;
          return;
        }
        note.textContent = '';
        host.hidden = false;
        this.liveDiff ??= createLiveDiff({ host, liveLabel: this.s.diffLive, mineLabel: this.s.diffMine });
        this.liveDiff.set(o.live, documentAt(yaml, o.line));
      };
      select.onchange = () => showObject(Number(select.value));
      view.hidden = false;
      showObject(0);
      view.querySelector<HTMLElement>('h4')?.focus();
    } catch (err) {
      this.#showEditorError(editor, err);
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  /** Hide the diff (its text was the cluster at that moment); focus back on Diff when asked. */
  closeDiff(refocus = false): void {
    const view = this.#ref('diff-view');
    if (view.hidden) return;
    view.hidden = true;
    this.liveDiff?.dispose();
    this.liveDiff = undefined;
    this.#ref('diff-host').replaceChildren();
    if (refocus) this.#ref('diff').focus();
  }

  reset(): void {
    if (!this.editor) return;
    this.closeDiff();
    this.editor.reset();
    this.#setApplyResult(h('p', {}, this.s.resetDone));
  }

  #setApplyResult(...nodes: (Node | null)[]): void {
    this.#ref('apply-result').replaceChildren(...nodes.filter((n): n is Node => n !== null));
  }

  #setStatus(text: string, hint?: string, isError = false): void {
    const t = this.#ref('status-text');
    t.textContent = text;
    t.classList.toggle('svclab-error', isError);
    const hintEl = this.#ref('status-hint');
    hintEl.textContent = hint ?? '';
    hintEl.hidden = !hint;
  }

  #setBusy(busy: boolean): void {
    const b = this.#ref<HTMLButtonElement>('start');
    b.disabled = busy;
    b.toggleAttribute('aria-busy', busy);
  }
}

function errorBlock(e: RunnerApiError): HTMLElement {
  return h('div', { class: 'svclab-error-block' }, h('p', { class: 'svclab-error' }, h('code', {}, e.code), ' ', e.message), e.hint ? h('p', { class: 'svclab-hint' }, e.hint) : null);
}

function asRunnerError(err: unknown): RunnerApiError {
  if (err instanceof RunnerApiError) return err;
  return new RunnerApiError({ code: 'CLIENT_ERROR', message: err instanceof Error ? err.message : String(err), hint: 'Reload the page; if it persists, report it with the browser console output.' }, 0);
}

function isStale(e: RunnerApiError): boolean {
  return e.code === 'SESSION_UNKNOWN' || (e.status === 404 && e.code.startsWith('SESSION'));
}

function stripTokenFromUrl(): void {
  // The runner has set its cookie by now; keep the token out of the address bar and history.
  const url = new URL(location.href);
  if (!url.searchParams.has('token')) return;
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url);
}

function safeSessionStorageGet(key: string): string | null {
  try {
    return safeSessionStorage()?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function safeSessionStorage(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    return undefined;
  }
}
