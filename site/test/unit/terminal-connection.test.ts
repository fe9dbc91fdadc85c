// The terminal protocol client without a browser: a fake socket stands in for the network.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACK_EVERY_CHARS, TerminalConnection, terminalUrl, type SocketLike } from '../../lib/terminal/terminal-connection.ts';
import type { ServerFrame } from '../../../runner/src/api/terminal-protocol.ts';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({} as CloseEvent);
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({} as Event);
  }
  receive(frame: ServerFrame): void {
    this.onmessage?.({ data: JSON.stringify(frame) } as MessageEvent);
  }
  frames(type: string) {
    return this.sent.filter((f) => f.type === type);
  }
}

function setup(opts: { sessionAlive?: () => Promise<boolean> } = {}) {
  const sockets: FakeSocket[] = [];
  const written: string[] = [];
  const states: string[] = [];
  const conn = new TerminalConnection({
    url: 'ws://x/api/sessions/s1/terminal?name=workstation',
    sink: { write: (d, rendered) => (written.push(d), rendered()), size: () => ({ cols: 80, rows: 24 }) },
    onState: (s) => states.push(s),
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    backoff: () => 100,
    sessionAlive: opts.sessionAlive,
  });
  return { conn, sockets, written, states, last: () => sockets.at(-1)! };
}

const hello = (nextSeq: number, missed = false, input?: number): ServerFrame => ({ type: 'hello', terminal: 'workstation', nextSeq, replayed: 0, missed, ...(input === undefined ? {} : { input }) });
const data = (seq: number, d: string): ServerFrame => ({ type: 'data', seq, data: d });

describe('TerminalConnection', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('greets with since=0 and the terminal size, then renders data in order', () => {
    const t = setup();
    t.conn.start();
    t.last().open();
    expect(t.last().sent[0]).toEqual({ type: 'hello', since: 0, cols: 80, rows: 24, client: expect.stringMatching(/^[A-Za-z0-9_-]{8,64}$/) });
    t.last().receive(hello(1));
    t.last().receive(data(1, 'a'));
    t.last().receive(data(2, 'b'));
    expect(t.written.join('')).toBe('ab');
    expect(t.states).toEqual(['connecting', 'open']);
  });

  it('after a drop, reconnects with since = last seq and shows replayed overlap only once', async () => {
    const t = setup();
    t.conn.start();
    t.last().open();
    t.last().receive(hello(1));
    t.last().receive(data(1, 'one '));
    t.last().receive(data(2, 'two '));
    t.last().close();
    expect(t.states.at(-1)).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(100);
    expect(t.sockets).toHaveLength(2);
    t.last().open();
    expect(t.last().sent[0]).toMatchObject({ type: 'hello', since: 2 });
    t.last().receive(hello(3));
    t.last().receive(data(2, 'two ')); // overlap: must not show twice
    t.last().receive(data(3, 'three'));
    expect(t.written.join('')).toBe('one two three');
    expect(t.states.at(-1)).toBe('open');
  });

  it('holds keystrokes typed while reconnecting and sends them after the hello', async () => {
    const t = setup();
    t.conn.start();
    t.last().open();
    t.last().receive(hello(1));
    t.last().close();
    t.conn.send('ls\r');
    await vi.advanceTimersByTimeAsync(100);
    t.last().open();
    expect(t.last().frames('data')).toEqual([]);
    t.last().receive(hello(1));
    expect(t.last().frames('data')).toEqual([{ type: 'data', data: 'ls\r', at: 0 }]);
  });

  it('numbers its keystrokes; after a hello that counts them, sends again only what the shell had not got', async () => {
    const t = setup();
    t.conn.start();
    t.last().open();
    t.last().receive(hello(1, false, 0));
    t.conn.send('echo ');
    t.conn.send('日本\r');
    expect(t.last().frames('data')).toEqual([{ type: 'data', data: 'echo ', at: 0 }, { type: 'data', data: '日本\r', at: 5 }]);
    const client = t.last().sent[0]!.client;
    t.last().close();
    await vi.advanceTimersByTimeAsync(100);
    t.last().open();
    expect(t.last().sent[0]).toMatchObject({ type: 'hello', client });
    t.last().receive(hello(1, false, 5)); // the shell got "echo ", not the rest
    expect(t.last().frames('data')).toEqual([{ type: 'data', data: '日本\r', at: 5 }]);
    t.conn.send('x');
    expect(t.last().frames('data').at(-1)).toEqual({ type: 'data', data: 'x', at: 12 });
    // A hello without a count (a new shell, a local runner): nothing is sent again.
    t.last().close();
    await vi.advanceTimersByTimeAsync(100);
    t.last().open();
    t.last().receive(hello(1));
    expect(t.last().frames('data')).toEqual([]);
  });

  it('acks at least every ACK_EVERY_CHARS of rendered output, and after output goes quiet', async () => {
    const t = setup();
    t.conn.start();
    t.last().open();
    t.last().receive(hello(1));
    const chunk = 'x'.repeat(4096);
    for (let seq = 1; seq <= ACK_EVERY_CHARS / 4096; seq++) t.last().receive(data(seq, chunk));
    expect(t.last().frames('ack')).toEqual([{ type: 'ack', seq: ACK_EVERY_CHARS / 4096 }]);
    t.last().receive(data(5, 'tail'));
    expect(t.last().frames('ack')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(t.last().frames('ack').at(-1)).toEqual({ type: 'ack', seq: 5 });
  });

  it('stops for good on a fatal SESSION_UNKNOWN, and on exit', async () => {
    const a = setup();
    a.conn.start();
    a.last().open();
    a.last().receive({ type: 'error', code: 'SESSION_UNKNOWN', message: 'gone', hint: 'start again', fatal: true });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(a.states.at(-1)).toBe('stale');
    expect(a.sockets).toHaveLength(1);

    const b = setup();
    b.conn.start();
    b.last().open();
    b.last().receive(hello(1));
    b.last().receive({ type: 'exit', exitCode: 0 });
    b.last().close();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(b.states.at(-1)).toBe('exited');
    expect(b.sockets).toHaveLength(1);
  });

  it('asks whether the session still exists after repeated failed reconnects, and gives up if not', async () => {
    const t = setup({ sessionAlive: async () => false });
    t.conn.start();
    for (let i = 0; i < 4; i++) {
      t.last().close();
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(t.states.at(-1)).toBe('stale');
    const count = t.sockets.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.sockets).toHaveLength(count);
  });

  it('reconnects at once when asked, without waiting out the back-off', async () => {
    const t = setup();
    t.conn.start();
    t.last().open();
    t.last().receive(hello(1));
    t.last().close();
    expect(t.sockets).toHaveLength(1);
    t.conn.reconnectNow();
    expect(t.sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000); // the cancelled timer must not open a third
    expect(t.sockets).toHaveLength(2);
  });

  it('builds the WebSocket URL from the page location', () => {
    expect(terminalUrl({ protocol: 'http:', host: '127.0.0.1:4173' }, 'abc')).toBe('ws://127.0.0.1:4173/api/sessions/abc/terminal?name=workstation');
    expect(terminalUrl({ protocol: 'https:', host: 'lab.example' }, 'abc')).toBe('wss://lab.example/api/sessions/abc/terminal?name=workstation');
    // Chinese pages: the workstation's greeting in Chinese (SVCLAB_LANG=zh).
    expect(terminalUrl({ protocol: 'http:', host: '127.0.0.1:4173' }, 'abc', 'workstation', 'zh')).toBe('ws://127.0.0.1:4173/api/sessions/abc/terminal?name=workstation&lang=zh');
    expect(terminalUrl({ protocol: 'http:', host: '127.0.0.1:4173' }, 'abc', 'workstation', 'en')).toBe('ws://127.0.0.1:4173/api/sessions/abc/terminal?name=workstation');
  });
});
