// The behaviour every PodExec + keeper pair must give a KubeExecTerminal, run against the
// fake (kube-exec-terminal.test.ts), the real svclab-term script on this machine
// (svclab-term.test.ts) and a real pod through the Kubernetes API (kube-exec-terminal.real.test.ts).
// A Screen is what a browser tab keeps: it drops nothing and dedupes nothing, so a repeated
// or missing byte shows up as a failed comparison.
import { expect, it } from 'vitest';
import type { ServerFrame } from '../../src/api/terminal-protocol.ts';
import type { AttachableTerminal, TerminalAttachment, TerminalClient } from '../../src/sessions/terminal.ts';
import { KubeExecTerminal } from '../../src/terminals/kube-exec-terminal.ts';
import type { ExecHandlers, ExecStream, PodExec, PodTarget } from '../../src/terminals/pod-exec.ts';

export class Screen implements TerminalClient {
  readonly frames: ServerFrame[] = [];
  text = '';
  lastSeq = 0;
  closed: { code: number; reason: string } | undefined;
  /** Data frames whose seq did not grow by exactly their UTF-8 byte length. */
  readonly badSeqs: string[] = [];
  private started = false;
  /** Set by a test when `since` is from the same shell, so the first chunk must start right at it. */
  sameShell = true;

  constructor(since = 0) {
    this.lastSeq = since;
  }

  send(f: ServerFrame): void {
    this.frames.push(f);
    if (f.type === 'hello') { this.started = true; return; }
    if (f.type !== 'data') return;
    if (!this.started) this.badSeqs.push(`data before hello at ${f.seq}`);
    const bytes = Buffer.byteLength(f.data);
    const hello = this.hello;
    // The first chunk after a hello starts wherever the keeper's `from` was (≥ since).
    const first = this.frames.filter((x) => x.type === 'data').length === 1;
    if (!first && f.seq !== this.lastSeq + bytes) this.badSeqs.push(`seq ${f.seq} after ${this.lastSeq} for ${bytes} bytes`);
    // …which is never before `since` (nothing shown twice); a later shell's starts further on.
    if (first && f.seq - bytes < this.lastSeq) this.badSeqs.push(`first chunk ${f.seq - bytes}–${f.seq} overlaps since ${this.lastSeq}`);
    if (first && hello && !hello.missed && this.lastSeq > 0 && hello.nextSeq - 1 >= this.lastSeq && f.seq - bytes > this.lastSeq && f.seq - bytes < hello.nextSeq - 1 && this.sameShell) this.badSeqs.push(`first chunk starts at ${f.seq - bytes}, after since ${this.lastSeq}`);
    this.lastSeq = f.seq;
    this.text += f.data;
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }

  get hello(): Extract<ServerFrame, { type: 'hello' }> | undefined {
    return this.frames.find((f): f is Extract<ServerFrame, { type: 'hello' }> => f.type === 'hello');
  }

  get exit(): number | undefined {
    return this.frames.find((f): f is Extract<ServerFrame, { type: 'exit' }> => f.type === 'exit')?.exitCode;
  }

  get errors(): Extract<ServerFrame, { type: 'error' }>[] {
    return this.frames.filter((f): f is Extract<ServerFrame, { type: 'error' }> => f.type === 'error');
  }

  async until(what: string, ok: (s: this) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok(this)) {
      if (Date.now() > deadline) throw new Error(`screen: ${what} not seen in ${timeoutMs} ms; it shows ${JSON.stringify(this.text.slice(-400))}; frames ${JSON.stringify(this.frames.filter((f) => f.type !== 'data'))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/**
 * What a page does with its keystrokes when the runner can take them exactly once: each
 * goes with its offset in the page's input; after a hello that says how much the shell got,
 * the rest is sent again; a hello without it (a shell new to this page) means none is.
 */
export class PageInput {
  readonly id = `page-${Math.random().toString(36).slice(2, 12)}`;
  at = 0;
  unconfirmed: { at: number; data: string }[] = [];
  type(term: AttachableTerminal, entry: TerminalAttachment, data: string): void {
    term.write(data, { entry, at: this.at });
    this.unconfirmed.push({ at: this.at, data });
    this.at += Buffer.byteLength(data);
  }
  afterHello(term: AttachableTerminal, entry: TerminalAttachment, input: number | undefined): void {
    if (input === undefined) { this.unconfirmed = []; return; }
    this.unconfirmed = this.unconfirmed.filter((u) => u.at + Buffer.byteLength(u.data) > input);
    for (const u of this.unconfirmed) term.write(u.data, { entry, at: u.at });
  }
}

/** A PodExec that remembers its streams, so a test can kill them as a dead replica would. */
export class RecordingPodExec implements PodExec {
  readonly streams: ExecStream[] = [];
  private readonly inner: PodExec;
  constructor(inner: PodExec) {
    this.inner = inner;
  }
  async open(target: PodTarget, command: readonly string[], h: ExecHandlers): Promise<ExecStream> {
    const s = await this.inner.open(target, command, h);
    this.streams.push(s);
    return s;
  }
  run(target: PodTarget, command: readonly string[], timeoutMs: number) {
    return this.inner.run(target, command, timeoutMs);
  }
  abortAll(): void {
    for (const s of this.streams.splice(0)) s.abort();
  }
}

export interface ContractEnv {
  /** A PodExec for one test; the same pod (target) every time within the test. */
  exec(): PodExec;
  target: PodTarget;
  /** A fresh terminal name per test, so tests don't share a shell. */
  name(): string;
  /** Whether the shell is a real bash (stty, $((…)), multibyte text through a real pty). */
  realShell: boolean;
  timeoutMs?: number;
  /** Measured figures go here (printed by the real tests). */
  report?: (line: string) => void;
}

const PROMPT = /\$ $/;

export function kubeTerminalContract(env: ContractEnv): void {
  const t = env.timeoutMs ?? 15_000;
  const make = (exec: PodExec, name: string) => new KubeExecTerminal({ name, target: env.target, exec });
  const type = async (term: KubeExecTerminal, s: Screen, line: string, expectText: string | RegExp) => {
    const before = s.text.length;
    term.write(`${line}\r`);
    await s.until(`"${line}" → ${String(expectText)}`, (x) => {
      const after = x.text.slice(before);
      return (typeof expectText === 'string' ? after.includes(expectText) : expectText.test(after)) && PROMPT.test(x.text);
    }, t);
  };

  it('a killed backend costs one reconnect: a new backend from the last seq replays what came meanwhile exactly once, and the shell kept its state', async () => {
    const name = env.name();
    const first = new RecordingPodExec(env.exec());
    const t1 = make(first, name);
    const c1 = new Screen();
    t1.attach(c1, 0, 100, 30);
    await c1.until('the first prompt', (s) => PROMPT.test(s.text), t);
    expect(c1.hello?.missed).toBe(false);
    await type(t1, c1, 'X=kept; cd /tmp', PROMPT);
    await type(t1, c1, 'echo one-$X', 'one-kept');
    // Output that comes while nobody is attached: the shell prints "two" a second after
    // the backend died (its exec aborted, the object dropped without a goodbye).
    t1.write('sleep 1; echo two-$X; echo two-done\r');
    await c1.until('the command echoed', (s) => s.text.includes('two-done\r\n') || s.text.endsWith('two-done'), t);
    first.abortAll();
    const lastSeen = c1.lastSeq;
    const t0 = Date.now();
    const second = new RecordingPodExec(env.exec());
    const t2 = make(second, name);
    const c2 = new Screen(lastSeen);
    await new Promise((r) => setTimeout(r, 1500)); // the shell prints meanwhile
    const a0 = Date.now();
    t2.attach(c2, lastSeen, 100, 30);
    await c2.until('hello', (s) => s.hello !== undefined, t);
    const helloMs = Date.now() - a0;
    await c2.until('the output made while detached', (s) => /two-kept\r\ntwo-done\r\n/.test(s.text) && PROMPT.test(s.text), t);
    env.report?.(`reattach: hello ${helloMs} ms, replay of ${c2.lastSeq - lastSeen} bytes done ${Date.now() - a0} ms after attach (${Date.now() - t0} ms after the old backend died, 1500 ms of it waiting on purpose)`);
    expect(c2.hello!.missed).toBe(false);
    expect(c2.text).not.toContain('one-kept'); // nothing before `since` again
    expect(c2.text.match(/two-kept/g)).toHaveLength(1);
    await type(t2, c2, 'echo three-$X $PWD', 'three-kept /tmp');
    // A third backend from 0 sees the whole log: it is exactly what c1 then c2 showed.
    const t3 = make(env.exec(), name);
    const c3 = new Screen();
    t3.attach(c3, 0, 100, 30);
    await c3.until('the whole log', (s) => s.lastSeq >= c2.lastSeq, t);
    expect(c3.text.slice(0, (c1.text + c2.text).length)).toBe(c1.text + c2.text);
    for (const c of [c1, c2, c3]) expect(c.badSeqs).toEqual([]);
    t2.close();
    t3.close();
  });

  it('keystrokes a dying backend may or may not have passed on are typed once: the page sends them again from the shell\'s count', async () => {
    const name = env.name();
    const page = new PageInput();
    const first = new RecordingPodExec(env.exec());
    const t1 = make(first, name);
    const c1 = new Screen();
    const e1 = t1.attach(c1, 0, 80, 24, { clientId: page.id });
    await c1.until('prompt', (s) => PROMPT.test(s.text), t);
    expect(c1.hello!.input).toBeUndefined(); // a shell new to this page: nothing to send again
    page.afterHello(t1, e1, c1.hello!.input);
    page.type(t1, e1, 'echo typed-once-');
    page.type(t1, e1, '$((40+2))\r');
    first.abortAll(); // at once: the keystrokes may be anywhere on their way
    const t2 = make(env.exec(), name);
    const c2 = new Screen(c1.lastSeq);
    const e2 = t2.attach(c2, c1.lastSeq, 80, 24, { clientId: page.id });
    await c2.until('hello', (s) => s.hello !== undefined, t);
    expect(c2.hello!.input).toBeLessThanOrEqual(page.at);
    page.afterHello(t2, e2, c2.hello!.input);
    const out = env.realShell ? /[\r\n]typed-once-42\r\n/g : /\ntyped-once-\$\(\(40\+2\)\)\r\n/g;
    await c2.until('the command\'s output', (s) => (c1.text + s.text).match(out) !== null && PROMPT.test(s.text), t);
    // Sent once more on purpose (a page that never heard it arrived): still once.
    for (const u of [...page.unconfirmed, { at: 0, data: 'echo typed-once-$((40+2))\r' }]) t2.write(u.data, { entry: e2, at: u.at });
    await type(t2, c2, 'echo fence', /[\r\n]fence\r\n/);
    expect((c1.text + c2.text).match(out)).toHaveLength(1);
    const t3 = make(env.exec(), name);
    const c3 = new Screen(c2.lastSeq);
    t3.attach(c3, c2.lastSeq, 80, 24, { clientId: page.id });
    await c3.until('hello', (s) => s.hello !== undefined, t);
    expect(c3.hello!.input).toBe(page.at); // everything this page typed through its own exec
    t2.close();
    t3.close();
  });

  it('Ctrl-C interrupts the foreground command; resize reaches the shell', async () => {
    const name = env.name();
    const term = make(env.exec(), name);
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('prompt', (s) => PROMPT.test(s.text), t);
    term.write('sleep 50; echo not-interrupted\r');
    await new Promise((r) => setTimeout(r, 300));
    term.write('\x03');
    await type(term, c, 'echo after-ctrl-c', 'after-ctrl-c');
    expect(c.text.match(/not-interrupted/g)).toHaveLength(1); // the typed line's echo, no output
    term.resize(120, 40);
    term.resize(132, 43); // a burst ends in its last size
    await new Promise((r) => setTimeout(r, 1500));
    await type(term, c, 'stty size', '43 132');
    term.close();
  });

  it('two tabs share the shell: each keystroke reaches it once, both see the output', async () => {
    const name = env.name();
    const exec = env.exec();
    const term = make(exec, name);
    const a = new Screen();
    const b = new Screen();
    term.attach(a, 0, 80, 24);
    await a.until('prompt', (s) => PROMPT.test(s.text), t);
    term.attach(b, 0, 80, 24);
    await b.until('replay', (s) => PROMPT.test(s.text), t);
    await type(term, a, 'echo tabs-$((20+22))', env.realShell ? 'tabs-42' : 'tabs-$((20+22))');
    await b.until('the same output', (s) => s.text === a.text, t);
    expect(a.text.match(/echo tabs-/g)).toHaveLength(1);
    // A second backend (another replica) attached at once: still one shell.
    const other = make(env.exec(), name);
    const c = new Screen(a.lastSeq);
    other.attach(c, a.lastSeq, 80, 24);
    await c.until('hello', (s) => s.hello !== undefined, t);
    other.write('echo from-other\r');
    await a.until('input from the other replica', (s) => s.text.includes('from-other\r\n'), t);
    await c.until('its output', (s) => s.text.match(/from-other\r\n/g)?.length === 2, t);
    expect(a.text.match(/from-other\r\n/g)).toHaveLength(2); // the typed line's echo and the output, once each
    term.close();
    other.close();
  });

  it('the shell exiting is an exit frame with its code; the next attach gets a new shell whose seqs are all larger', async () => {
    const name = env.name();
    const term = make(env.exec(), name);
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('prompt', (s) => PROMPT.test(s.text), t);
    term.write('exit 3\r');
    await c.until('exit frame', (s) => s.exit !== undefined, t);
    expect(c.exit).toBe(3);
    const again = make(env.exec(), name);
    const d = new Screen(c.lastSeq);
    d.sameShell = false;
    again.attach(d, c.lastSeq, 80, 24);
    await d.until('a new prompt', (s) => PROMPT.test(s.text), t);
    expect(d.hello!.nextSeq - 1).toBeGreaterThan(c.lastSeq);
    expect(d.text).not.toContain('logout');
    expect(d.badSeqs).toEqual([]);
    again.close();
  });

  it('UTF-8 text: chunks never split a character, and a seq counts its bytes', async () => {
    const name = env.name();
    const term = make(env.exec(), name);
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('prompt', (s) => PROMPT.test(s.text), t);
    await type(term, c, 'echo héllo-日本-🙂', 'héllo-日本-🙂\r\n');
    expect(c.text).not.toContain('\ufffd');
    expect(c.badSeqs).toEqual([]);
    // Replay from the middle of that line, at a seq this tab saw: whole characters again.
    const mid = c.frames.filter((f) => f.type === 'data').map((f) => (f as { seq: number }).seq).at(-2)!;
    const again = make(env.exec(), name);
    const d = new Screen(mid);
    again.attach(d, mid, 80, 24);
    await d.until('the rest', (s) => s.lastSeq >= c.lastSeq, t);
    expect(c.text.endsWith(d.text)).toBe(true);
    term.close();
    again.close();
  });
}
