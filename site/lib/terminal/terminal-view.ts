// xterm.js view bound to a TerminalConnection. Loaded with `import()` only when the
// terminal area is visible and a session exists, so xterm never weighs on the first load.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { TerminalConnection, terminalUrl, type ConnectionState } from './terminal-connection.ts';
import { labLang } from '../i18n/panel-strings.ts';

export type TerminalViewOptions = {
  host: HTMLElement;
  sessionId: string;
  /** The runner's terminal name (workstation, node:<container>). */
  name?: string;
  label: string;
  onState: (state: ConnectionState, detail?: { exitCode?: number; error?: { code: string; message: string; hint: string } }) => void;
  onMissed: () => void;
  sessionAlive: () => Promise<boolean>;
  /** Where F6 sends focus, so keyboard users can leave the terminal (Tab goes to the shell). */
  focusNext: () => void;
};

export type TerminalView = {
  terminal: Terminal;
  connection: TerminalConnection;
  /** Observe every chunk handed to xterm (tests count lines with it). Returns an unsubscribe. */
  tap(fn: (data: string) => void): () => void;
  dispose(): void;
};

export function mountTerminal(opts: TerminalViewOptions): TerminalView {
  const terminal = new Terminal({
    cursorBlink: true,
    convertEol: false,
    scrollback: 5000,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Noto Sans Mono", Menlo, Consolas, monospace',
    fontSize: 13,
    theme: { background: '#17181c', foreground: '#e6e6e6', cursor: '#e6e6e6' },
  });
  const fit = new FitAddon();
  terminal.loadAddon(fit);
  opts.host.replaceChildren();
  terminal.open(opts.host);
  terminal.textarea?.setAttribute('aria-label', opts.label);
  terminal.attachCustomKeyEventHandler((ev) => {
    if (ev.key === 'F6' && ev.type === 'keydown') {
      ev.preventDefault();
      opts.focusNext();
      return false;
    }
    return true;
  });
  safeFit(fit);

  const taps = new Set<(data: string) => void>();
  const connection = new TerminalConnection({
    // The page's language (<html lang="zh-CN"> on Chinese pages) picks the workstation's greeting.
    url: terminalUrl(location, opts.sessionId, opts.name, labLang(document.documentElement.lang || 'en')),
    sink: {
      write: (data, rendered) => {
        for (const t of taps) t(data);
        terminal.write(data, rendered);
      },
      size: () => ({ cols: terminal.cols, rows: terminal.rows }),
    },
    onState: opts.onState,
    onNotice: (kind, text) => {
      if (kind === 'missed') opts.onMissed();
      else terminal.write(`\r\n\x1b[2m[svclab] ${text}\x1b[0m\r\n`);
    },
    sessionAlive: opts.sessionAlive,
  });
  terminal.onData((d) => connection.send(d));
  terminal.onBinary((d) => connection.send(d));
  terminal.onResize(({ cols, rows }) => connection.resize(cols, rows));

  let frame = 0;
  const observer = new ResizeObserver(() => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => safeFit(fit));
  });
  observer.observe(opts.host);
  connection.start();

  return {
    terminal,
    connection,
    tap(fn) {
      taps.add(fn);
      return () => taps.delete(fn);
    },
    dispose() {
      observer.disconnect();
      connection.dispose();
      terminal.dispose();
    },
  };
}

function safeFit(fit: FitAddon): void {
  // fit() throws or yields 0 columns while the host is hidden; the next resize fixes it.
  try {
    const dims = fit.proposeDimensions();
    if (dims && dims.cols > 1 && dims.rows > 1) fit.fit();
  } catch {
    /* host not laid out yet */
  }
}
