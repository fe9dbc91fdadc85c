// What the lab panel's parts share, made once per <svclab-lab> by lab-controller.ts: the
// runner API, the lab, the session, the step progress, the status line, and the one way a
// runner error reaches the learner. Parts talk through its events, never to each other's
// insides: `lab` (loaded or failed), `session` (ready or gone), `progress`, `reset`.
import { RunnerApiError, type Lab, type RunnerApi, type Session } from '../api/runner-api.ts';
import type { PanelStrings } from '../i18n/panel-strings.ts';
import { h, ref } from './dom.ts';
import type { SessionStore } from './session-store.ts';
import { StepProgress } from './step-progress.ts';

/** <svclab-lab>: a Start click before hydration is remembered; the context once hydrated. */
export type LabHost = HTMLElement & { pendingStart?: boolean; hydrated?: Promise<unknown>; labContext?: LabContext };

export type LabEvent = 'lab' | 'session' | 'progress' | 'reset';

export class LabContext {
  readonly host: LabHost;
  readonly labId: string;
  readonly s: PanelStrings;
  readonly api: RunnerApi;
  readonly store: SessionStore;
  readonly progress: StepProgress;
  lab: Lab | undefined;
  /** Why the lab could not be loaded (the steps list says so). */
  labError: RunnerApiError | undefined;
  /** Settles once the lab is loaded or has failed to. */
  labLoad: Promise<void> = Promise.resolve();
  /** The ready session, if any. */
  session: Session | undefined;
  readonly #events = new EventTarget();

  constructor(host: LabHost, labId: string, strings: PanelStrings, api: RunnerApi, store: SessionStore) {
    this.host = host;
    this.labId = labId;
    this.s = strings;
    this.api = api;
    this.store = store;
    this.progress = new StepProgress(labId, () => this.lab?.steps ?? [], () => this.emit('progress'));
  }

  on(type: LabEvent, fn: () => void): void {
    this.#events.addEventListener(type, fn);
  }

  emit(type: LabEvent): void {
    this.#events.dispatchEvent(new Event(type));
  }

  ref<T extends HTMLElement = HTMLElement>(name: string): T {
    return ref<T>(this.host, name);
  }

  loadLab(): Promise<void> {
    this.labLoad = this.api.lab(this.labId).then(
      (lab) => { this.lab = lab; },
      (err: unknown) => { this.labError = asRunnerError(err); },
    ).finally(() => this.emit('lab'));
    return this.labLoad;
  }

  /** A session is ready: every part takes it up. */
  begin(session: Session): void {
    this.session = session;
    this.emit('session');
  }

  /** The session is over (End lab, gone from the runner, failed start): every part lets go. */
  end(): void {
    this.store.clear();
    this.session = undefined;
    this.emit('session');
  }

  /** The status line under Start lab (a live region). */
  setStatus(text: string, hint?: string, isError = false): void {
    const t = this.ref('status-text');
    t.textContent = text;
    t.classList.toggle('svclab-error', isError);
    const hintEl = this.ref('status-hint');
    hintEl.textContent = hint ?? '';
    hintEl.hidden = !hint;
  }

  /**
   * The one way a runner error reaches the learner: a session the runner no longer has ends
   * here (and the status says so); the error itself goes to `out` with its code and hint, or
   * to the status line when there is no `out`.
   */
  fail(err: unknown, out?: HTMLElement): RunnerApiError {
    const e = asRunnerError(err);
    const stale = isStale(e);
    if (stale) {
      this.end();
      this.setStatus(this.s.statusStale);
      this.ref('start').textContent = this.s.startAgain;
    }
    if (out) out.replaceChildren(errorBlock(e));
    else if (!stale) this.setStatus(e.message, e.hint, true);
    return e;
  }

  /** The session, or undefined after saying in `out` that one is needed first. */
  needSession(out: HTMLElement): Session | undefined {
    if (!this.session) out.replaceChildren(h('p', { class: 'svclab-error' }, this.s.needSession));
    return this.session;
  }
}

export function asRunnerError(err: unknown): RunnerApiError {
  if (err instanceof RunnerApiError) return err;
  return new RunnerApiError({ code: 'CLIENT_ERROR', message: err instanceof Error ? err.message : String(err), hint: 'Reload the page; if it persists, report it with the browser console output.' }, 0);
}

/** The runner does not know this session (it restarted, or the session expired). */
export function isStale(e: RunnerApiError): boolean {
  return e.code === 'SESSION_UNKNOWN' || (e.status === 404 && e.code.startsWith('SESSION'));
}

function errorBlock(e: RunnerApiError): HTMLElement {
  return h('div', { class: 'svclab-error-block' }, h('p', { class: 'svclab-error' }, h('code', {}, e.code), ' ', e.message), e.hint ? h('p', { class: 'svclab-hint' }, e.hint) : null);
}

/** The context of the panel an element sits in (set before the parts are defined). */
export function contextOf(el: HTMLElement): LabContext {
  const ctx = el.closest<LabHost>('svclab-lab')?.labContext;
  if (!ctx) throw new Error(`<${el.localName}> is not inside a hydrated <svclab-lab>`);
  return ctx;
}
