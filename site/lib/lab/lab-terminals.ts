// <svclab-terminals> (LabTerminals.astro): one pane per shell the session offers (the
// workstation, and node shells on loopback), as an ARIA tablist when there is more than one.
// xterm is loaded only when the terminal area is visible and a session exists.
import type { TerminalInfo, TerminalList } from '../api/runner-api.ts';
import type { ConnectionState } from '../terminal/terminal-connection.ts';
import type { TerminalView } from '../terminal/terminal-view.ts';
import { h } from './dom.ts';
import { contextOf, isStale, asRunnerError, type LabContext } from './lab-context.ts';
import { RunnerApiError } from '../api/runner-api.ts';
import { tabStorage, terminalTabStore, type SessionStore } from './session-store.ts';

const WORKSTATION: TerminalInfo = { name: 'workstation', title: 'workstation' };

/** One terminal tab: its pane, and its xterm view once the tab has been shown. */
type TermTab = { info: TerminalInfo; pane: HTMLElement; tab: HTMLButtonElement | undefined; view: TerminalView | undefined; loading: boolean; state: ConnectionState | ''; label: string };

export class LabTerminals extends HTMLElement {
  #ctx!: LabContext;
  #remembered!: SessionStore;
  #visible = false;
  #tabs: TermTab[] = [];
  #active = 'workstation';

  connectedCallback(): void {
    if (this.#ctx) return;
    const ctx = (this.#ctx = contextOf(this));
    this.#remembered = terminalTabStore(tabStorage(), ctx.labId);
    ctx.ref('reconnect').addEventListener('click', () => this.view?.connection.reconnectNow());
    new IntersectionObserver((entries) => {
      this.#visible = entries.some((e) => e.isIntersecting);
      this.#maybeMount();
    }).observe(ctx.ref('terminal'));
    ctx.on('session', () => (ctx.session ? this.#opened(ctx.session.id) : this.#closed()));
  }

  /** The active tab's terminal (the workstation's unless the learner picked a node tab). */
  get view(): TerminalView | undefined {
    return this.#tabs.find((t) => t.info.name === this.#active)?.view;
  }

  /** Names of the terminal tabs on offer, in order (tests read it). */
  get names(): string[] {
    return this.#tabs.map((t) => t.info.name);
  }

  #opened(id: string): void {
    this.#render({ terminals: [WORKSTATION], nodeShells: false });
    void this.#ctx.api
      .terminals(id)
      .then((list) => this.#ctx.session?.id === id && this.#render(list))
      .catch(() => undefined); // a runner without node shells: the workstation tab alone
  }

  #closed(): void {
    for (const t of this.#tabs) t.view?.dispose();
    this.#tabs = [];
    this.#active = 'workstation';
    const tablist = this.#ctx.ref('term-tabs');
    tablist.replaceChildren();
    tablist.hidden = true;
    this.#ctx.ref('node-note').hidden = true;
    this.#ctx.ref('terminal').replaceChildren(h('p', { class: 'svclab-placeholder' }, this.#ctx.s.terminalPlaceholder));
    this.#showState('');
  }

  #render(list: TerminalList): void {
    const ctx = this.#ctx;
    const host = ctx.ref('terminal');
    const keep = new Map(this.#tabs.map((t) => [t.info.name, t]));
    if (!this.#tabs.length) host.replaceChildren();
    const base = `${ctx.labId || 'lab'}-term`;
    const many = list.terminals.length > 1;
    this.#tabs = list.terminals.map((info, i) => {
      const old = keep.get(info.name);
      keep.delete(info.name);
      const pane = old?.pane ?? h('div', { class: 'svclab-term-pane', id: `svclab-${base}-pane-${i}`, 'data-terminal': info.name });
      if (!old) pane.append(h('p', { class: 'svclab-placeholder' }, ctx.s.terminalLoading));
      host.append(pane);
      return old ?? { info, pane, tab: undefined, view: undefined, loading: false, state: '', label: '' };
    });
    for (const gone of keep.values()) {
      gone.view?.dispose();
      gone.pane.remove();
    }
    const tablist = ctx.ref('term-tabs');
    tablist.hidden = !many;
    ctx.ref('node-note').hidden = !list.terminals.some((t) => t.name.startsWith('node:'));
    tablist.replaceChildren(
      ...this.#tabs.map((t, i) => {
        const id = `svclab-${base}-tab-${i}`;
        const tab = h('button', { type: 'button', role: 'tab', id, class: 'svclab-tab', 'aria-controls': t.pane.id, 'data-terminal': t.info.name }, t.info.title);
        tab.addEventListener('click', () => this.select(t.info.name));
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
    const remembered = this.#remembered.get();
    if (remembered && this.#tabs.some((t) => t.info.name === remembered)) this.#active = remembered;
    if (!this.#tabs.some((t) => t.info.name === this.#active)) this.#active = 'workstation';
    this.select(this.#active, false);
  }

  #tabKey(ev: KeyboardEvent, i: number): void {
    const n = this.#tabs.length;
    const to = ev.key === 'ArrowRight' ? (i + 1) % n : ev.key === 'ArrowLeft' ? (i - 1 + n) % n : ev.key === 'Home' ? 0 : ev.key === 'End' ? n - 1 : -1;
    if (to < 0) return;
    ev.preventDefault();
    this.select(this.#tabs[to]!.info.name);
    this.#tabs[to]!.tab?.focus();
  }

  /** Show one terminal tab (its connection, output and replay are its own). */
  select(name: string, userAction = true): void {
    if (!this.#tabs.some((t) => t.info.name === name)) return;
    this.#active = name;
    if (userAction) this.#remembered.set(name);
    for (const t of this.#tabs) {
      const on = t.info.name === name;
      t.pane.hidden = !on;
      t.tab?.setAttribute('aria-selected', String(on));
      t.tab?.setAttribute('tabindex', on ? '0' : '-1');
      if (on) this.#showState(t.label, t.state);
    }
    this.#maybeMount();
    if (userAction) this.view?.terminal.focus();
  }

  #maybeMount(): void {
    const ctx = this.#ctx;
    const t = this.#tabs.find((x) => x.info.name === this.#active);
    if (!ctx.session || !this.#visible || !t || t.view || t.loading) return;
    t.loading = true;
    t.pane.replaceChildren(h('p', { class: 'svclab-placeholder' }, ctx.s.terminalLoading));
    const sessionId = ctx.session.id;
    import('../terminal/terminal-view.ts')
      .then(({ mountTerminal }) => {
        if (ctx.session?.id !== sessionId || !this.#tabs.includes(t)) return;
        t.view = mountTerminal({
          host: t.pane,
          sessionId,
          name: t.info.name,
          label: t.info.name === 'workstation' ? ctx.s.terminalLabel : `${ctx.s.terminalHeading}: ${t.info.title}`,
          onState: (state, detail) => this.#onState(t, state, detail),
          onMissed: () => t.view?.terminal.write(`\x1b[2m[svclab] ${ctx.s.terminalMissed}\x1b[0m\r\n`),
          sessionAlive: () => ctx.api.session(sessionId).then(() => true, (err: unknown) => !isStale(asRunnerError(err))),
          focusNext: () => ctx.ref('editor-details').querySelector('summary')?.focus(),
        });
      })
      .catch((err: unknown) => ctx.setStatus(String(err), undefined, true))
      .finally(() => (t.loading = false));
  }

  #onState(t: TermTab, state: ConnectionState, detail?: { exitCode?: number; error?: { code: string; message: string; hint: string } }): void {
    const s = this.#ctx.s;
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
    if (t.info.name === this.#active) this.#showState(label[state], state);
    if (state === 'exited' && detail?.error) this.#ctx.setStatus(detail.error.message, detail.error.hint, true);
    if (state === 'stale') this.#ctx.fail(new RunnerApiError({ code: 'SESSION_UNKNOWN', message: s.statusStale, hint: '' }, 404));
  }

  #showState(text: string, state = ''): void {
    const pill = this.#ctx.ref('term-state');
    pill.textContent = text;
    pill.dataset.state = state;
    this.#ctx.ref('reconnect').hidden = state !== 'reconnecting';
  }

  /** Types the command at the prompt (as a paste, so nothing runs before the learner presses Enter). */
  async run(command: string, note?: HTMLElement): Promise<void> {
    note?.replaceChildren();
    if (!this.#ctx.session) {
      note?.replaceChildren(this.#ctx.s.needSession);
      this.#ctx.ref('start').scrollIntoView({ block: 'center', behavior: 'smooth' });
      return;
    }
    if (!this.view) {
      this.#ctx.ref('terminal').scrollIntoView({ block: 'center' });
      const end = Date.now() + 15_000;
      while (!this.view && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    }
    const view = this.view;
    if (!view) return;
    view.terminal.paste(command);
    view.terminal.focus();
  }

  /** The active terminal's screen and scrollback as text (tests read it). */
  text(): string {
    const term = this.view?.terminal;
    if (!term) return '';
    const buf = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n');
  }
}
