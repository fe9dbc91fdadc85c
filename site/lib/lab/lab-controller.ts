// The lab panel's behaviour: session lifecycle, and lazy loading of the terminal (when it is
// visible and a session exists) and the editor (when the learner opens it). All state lives
// in the LabController instance made for one <svclab-lab> element.
import { createRunnerApi, RunnerApiError, type CheckResult, type Lab, type LabStep, type RunnerApi, type Session } from '../api/runner-api.ts';
import type { PanelStrings } from '../i18n/panel-strings.ts';
import type { TerminalView } from '../terminal/terminal-view.ts';
import type { YamlEditor } from '../editor/yaml-editor.ts';
import type { ConnectionState } from '../terminal/terminal-connection.ts';
import { sessionStore, type SessionStore } from './session-store.ts';
import { h, ref, show } from './dom.ts';
import type { LabHost } from './define-lab-element.ts';

const PENDING_STATES = new Set(['creating', 'starting', 'pending', 'provisioning', 'claiming', 'applying']);
const FAILED_STATES = new Set(['failed', 'error', 'stopped', 'removed']);

/** What tests and the debugging console can reach (no globals). */
export type LabDebug = {
  controller: LabController;
  terminalText(): string;
  dropTerminal(): void;
  tapTerminal(fn: (data: string) => void): () => void;
  markers(): Promise<{ owner: string; message: string; line: number }[]>;
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
  terminalView: TerminalView | undefined;
  editor: YamlEditor | undefined;
  #terminalVisible = false;
  #terminalLoading = false;
  #editorLoading: Promise<void> | undefined;
  #busy = false;
  #labLoad: Promise<void> = Promise.resolve();

  constructor(host: LabHost, labId: string, strings: PanelStrings, api: RunnerApi, store: SessionStore) {
    this.host = host;
    this.labId = labId;
    this.s = strings;
    this.api = api;
    this.store = store;
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
    this.#ref('reset').addEventListener('click', () => this.reset());
    this.#ref('reconnect').addEventListener('click', () => this.terminalView?.connection.reconnectNow());
    const details = this.#ref<HTMLDetailsElement>('editor-details');
    details.addEventListener('toggle', () => details.open && void this.openEditor());
    if (details.open) void this.openEditor();
    this.#ref<HTMLSelectElement>('editor-step').addEventListener('change', (ev) => {
      this.editor?.setStep((ev.currentTarget as HTMLSelectElement).value);
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
    } catch (err) {
      const e = asRunnerError(err);
      this.#ref('steps').replaceChildren(h('li', { class: 'svclab-error' }, `${this.s.labUnavailable} ${e.message}`, h('br'), h('span', { class: 'svclab-hint' }, e.hint)));
    }
  }

  async #resume(id: string): Promise<void> {
    try {
      const session = await this.api.session(id);
      await this.#settle(session);
    } catch (err) {
      this.#handleSessionError(err);
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
      this.#setStatus(e.message, e.hint, true);
    } finally {
      this.#busy = false;
      this.#setBusy(false);
    }
  }

  async stop(): Promise<void> {
    const session = this.session;
    this.#endSession();
    this.#setStatus(this.s.statusIdle);
    if (session) await this.api.endSession(session.id).catch(() => undefined);
  }

  /** Wait (bounded) for a new session to leave its pending state, then show it. */
  async #settle(initial: Session): Promise<void> {
    let session = initial;
    const began = Date.now();
    const deadline = began + 180_000;
    while (PENDING_STATES.has(session.state) && Date.now() < deadline) {
      const secs = String(Math.round((Date.now() - began) / 1000));
      this.#setStatus(`${this.s.statusStarting} (${session.state}, ${this.s.elapsed.replace('{s}', secs)})`);
      await new Promise((r) => setTimeout(r, 1000));
      session = await this.api.session(session.id);
    }
    if (FAILED_STATES.has(session.state)) {
      this.#endSession();
      this.#setStatus(`${this.s.statusStale} (${session.state})`, undefined, true);
      return;
    }
    this.session = session;
    this.#setStatus(this.s.statusReady);
    const start = this.#ref('start');
    start.hidden = true;
    start.textContent = this.s.start;
    this.#ref('stop').hidden = false;
    this.#maybeMountTerminal();
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
    this.terminalView?.dispose();
    this.terminalView = undefined;
    const term = this.#ref('terminal');
    term.replaceChildren(h('p', { class: 'svclab-placeholder' }, this.s.terminalPlaceholder));
    this.#termState('');
    this.#ref('start').hidden = false;
    this.#ref('stop').hidden = true;
  }

  #maybeMountTerminal(): void {
    if (!this.session || !this.#terminalVisible || this.terminalView || this.#terminalLoading) return;
    this.#terminalLoading = true;
    const host = this.#ref('terminal');
    host.replaceChildren(h('p', { class: 'svclab-placeholder' }, this.s.terminalLoading));
    const sessionId = this.session.id;
    import('../terminal/terminal-view.ts')
      .then(({ mountTerminal }) => {
        if (this.session?.id !== sessionId) return;
        this.terminalView = mountTerminal({
          host,
          sessionId,
          label: this.s.terminalLabel,
          onState: (state, detail) => this.#onTerminalState(state, detail),
          onMissed: () => this.terminalView?.terminal.write(`\x1b[2m[svclab] ${this.s.terminalMissed}\x1b[0m\r\n`),
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
      .finally(() => (this.#terminalLoading = false));
  }

  #onTerminalState(state: ConnectionState, detail?: { exitCode?: number; error?: { code: string; message: string; hint: string } }): void {
    const s = this.s;
    const label: Record<ConnectionState, string> = {
      connecting: s.terminalConnecting,
      open: s.terminalConnected,
      reconnecting: s.terminalReconnecting,
      exited: s.terminalExited.replace('{code}', String(detail?.exitCode ?? '?')),
      stale: s.statusStale,
      closed: '',
    };
    this.#termState(label[state], state);
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
    const passed = new Set(this.#passedSteps());
    list.replaceChildren(
      ...lab.steps.map((step) => {
        const result = h('div', { class: 'svclab-result', role: 'status', 'aria-live': 'polite' });
        const button = h('button', { type: 'button', class: 'svclab-btn', 'data-step': step.id }, this.s.check);
        button.setAttribute('aria-label', `${this.s.check}: ${step.title}`);
        button.addEventListener('click', () => void this.check(step.id, button, result));
        const hints = h('div', { class: 'svclab-hints', 'aria-live': 'polite' });
        const hintButton = step.hintCount ? this.#hintButton(step, hints) : null;
        return h(
          'li',
          { class: passed.has(step.id) ? 'svclab-step svclab-step--passed' : 'svclab-step', 'data-step': step.id },
          h('div', { class: 'svclab-step__head' }, h('span', { class: 'svclab-step__title' }, step.title), h('span', { class: 'svclab-step__buttons' }, hintButton, button)),
          step.checks.length ? h('ul', { class: 'svclab-step__checks' }, ...step.checks.map((c) => h('li', {}, c.description || c.kind))) : null,
          hints,
          result,
        );
      }),
    );
    const select = this.#ref<HTMLSelectElement>('editor-step');
    const current = select.value;
    select.replaceChildren(...this.#editorSteps().map((step) => h('option', { value: step.id }, step.label)));
    if (current && [...select.options].some((o) => o.value === current)) select.value = current;
  }

  /** Passed steps, mirrored in localStorage so the ticks survive reloads and new sessions. */
  #progressKey(): string {
    return `svclab:progress:${this.labId}`;
  }

  #passedSteps(): string[] {
    try {
      const v = JSON.parse(localStorage.getItem(this.#progressKey()) ?? '[]') as unknown;
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      return [];
    }
  }

  #markPassed(stepId: string): void {
    const passed = new Set(this.#passedSteps()).add(stepId);
    try {
      localStorage.setItem(this.#progressKey(), JSON.stringify([...passed]));
    } catch {
      /* storage unavailable: the tick still shows until reload */
    }
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

  async check(stepId: string, button: HTMLButtonElement, out: HTMLElement): Promise<void> {
    if (!this.session) {
      out.replaceChildren(h('p', { class: 'svclab-error' }, this.s.needSession));
      return;
    }
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    out.replaceChildren(h('p', {}, this.s.checking));
    try {
      const res = await this.api.check(this.session.id, stepId);
      out.replaceChildren(
        h(
          'p',
          { class: res.passed ? 'svclab-ok' : 'svclab-error' },
          res.passed ? this.s.passed : res.results.some((r) => r.status === 'error') ? this.s.couldNotRun : this.s.notYet,
        ),
        h('ul', { class: 'svclab-checks' }, ...res.results.map((r) => this.#resultItem(r))),
      );
      this.host.querySelector(`li.svclab-step[data-step="${CSS.escape(stepId)}"]`)?.classList.toggle('svclab-step--passed', res.passed);
      if (res.passed) this.#markPassed(stepId);
    } catch (err) {
      const e = asRunnerError(err);
      if (isStale(e)) this.#handleSessionError(e);
      out.replaceChildren(errorBlock(e));
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
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
            h('dd', {}, h('pre', {}, show(d.expected ?? ''))),
            h('dt', {}, this.s.observed),
            h('dd', {}, h('pre', {}, show(d.observed ?? ''))),
          )
        : null,
    );
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

  async apply(): Promise<void> {
    await this.openEditor();
    const editor = this.editor;
    if (!editor) return;
    if (!this.session) {
      this.#setApplyResult(h('p', { class: 'svclab-error' }, this.s.needSession));
      return;
    }
    const button = this.#ref<HTMLButtonElement>('apply');
    button.disabled = true;
    this.#setApplyResult(h('p', {}, this.s.applying));
    editor.clearApplyError();
    try {
      const res = await this.api.apply(this.session.id, editor.value(), editor.stepId);
      this.#setApplyResult(h('p', { class: 'svclab-ok' }, this.s.applied), res.applied || res.dryRun ? h('pre', {}, [res.dryRun, res.applied].filter(Boolean).join('\n')) : null);
    } catch (err) {
      const e = asRunnerError(err);
      if (isStale(e)) this.#handleSessionError(e);
      this.#setApplyResult(errorBlock(e));
      const line = typeof e.details?.line === 'number' ? e.details.line : undefined;
      const column = typeof e.details?.column === 'number' ? e.details.column : undefined;
      if (line !== undefined) editor.markApplyError(e.message, line, column);
    } finally {
      button.disabled = false;
    }
  }

  reset(): void {
    if (!this.editor) return;
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

function safeSessionStorage(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    return undefined;
  }
}
