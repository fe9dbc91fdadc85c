// An in-memory pod exec that answers `svclab-term attach|resize` as the workstation's
// keeper does (images/workstation/files/svclab-term): one kept shell per pod, container and
// terminal name, its output in a log addressed by base + byte offset, replayed from any
// offset and followed. The shell is a toy line discipline (echo, NAME=value, echo $NAME,
// cd, pwd, sleep, exit N, ^C) — enough to tell whether state survived and what was shown.
// Output is delivered in `chunkBytes` pieces (1 splits every UTF-8 character), asynchronously.
import type { ExecEnd, ExecHandlers, ExecStream, PodExec, PodTarget } from './pod-exec.ts';
import { runThrough } from './pod-exec.ts';

export class FakeShell {
  readonly base: number;
  log = Buffer.alloc(0);
  /** Log offset below which the bytes were trimmed away. */
  oldest = 0;
  exitCode: number | undefined;
  cols: number;
  rows: number;
  readonly vars = new Map<string, string>();
  cwd = '/home/learner';
  /** Bytes of input the shell received, in order (to count keystrokes exactly once). */
  received = '';
  /** Per page (client id): how many bytes of its framed input the shell got. */
  readonly inputs = new Map<string, number>();
  private line = '';
  private busy = false;
  private sleeping: NodeJS.Timeout | undefined;
  /** Readers to wake when there is more to read (or the shell ended). */
  readonly followers = new Set<() => void>();

  constructor(base: number, cols: number, rows: number, greeting: string) {
    this.base = base;
    this.cols = cols;
    this.rows = rows;
    this.emit(`${greeting}\r\n${this.prompt()}`);
  }

  get alive(): boolean { return this.exitCode === undefined; }
  get end(): number { return this.base + this.log.length; }

  prompt(): string { return `learner@svclab ${this.cwd} $ `; }

  emit(text: string | Buffer): void {
    const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    this.log = Buffer.concat([this.log, b]);
    for (const f of this.followers) f();
  }

  /** Drop the log's head up to `offset` (the keeper punches it out: it reads as NUL bytes after). */
  trim(offset: number): void {
    this.oldest = Math.max(this.oldest, Math.min(offset, this.log.length));
    this.log.fill(0, 0, this.oldest);
  }

  input(data: Buffer): void {
    const text = data.toString('utf8');
    this.received += text;
    for (const ch of text) {
      if (!this.alive) return;
      if (ch === '\x03') {
        this.line = '';
        this.busy = false;
        clearTimeout(this.sleeping);
        this.emit(`^C\r\n${this.prompt()}`);
      } else if (this.busy) {
        continue;
      } else if (ch === '\r' || ch === '\n') {
        const line = this.line;
        this.line = '';
        this.emit('\r\n');
        this.run(line.trim());
      } else {
        this.line += ch;
        this.emit(ch);
      }
    }
  }

  /** `a; b; c`, each in turn; `sleep N` waits N seconds (^C cancels the rest of the line). */
  private run(line: string): void {
    const todo = line.split(';').map((c) => c.trim()).filter(Boolean);
    const next = () => {
      const c = todo.shift();
      if (c === undefined || !this.alive) {
        this.busy = false;
        if (this.alive) this.emit(this.prompt());
        return;
      }
      const [cmd, ...args] = c.split(/\s+/);
      if (cmd === 'sleep') {
        this.busy = true;
        this.sleeping = setTimeout(next, Number(args[0] ?? 1) * 1000);
        return;
      }
      this.one(c);
      next();
    };
    next();
  }

  private one(line: string): void {
    const expand = (s: string) => s.replace(/\$([A-Za-z_]\w*|\?)/g, (_, n: string) => (n === 'PWD' ? this.cwd : this.vars.get(n) ?? ''));
    const [cmd, ...args] = line.split(/\s+/);
    const assign = /^([A-Za-z_]\w*)=(.*)$/.exec(line);
    if (assign) this.vars.set(assign[1]!, expand(assign[2]!));
    else if (cmd === 'echo') this.emit(`${expand(args.join(' '))}\r\n`);
    else if (cmd === 'cd') this.cwd = args[0] ?? '/home/learner';
    else if (cmd === 'pwd') this.emit(`${this.cwd}\r\n`);
    else if (cmd === 'stty' && args[0] === 'size') this.emit(`${this.rows} ${this.cols}\r\n`);
    else if (cmd === 'exit') { this.emit('logout\r\n'); this.exitCode = Number(args[0] ?? 0); for (const f of this.followers) f(); }
    else if (cmd) this.emit(`bash: ${cmd}: command not found\r\n`);
  }
}

interface FakeExecStream extends ExecStream {
  readonly command: readonly string[];
  readonly paused: boolean;
  readonly closed: boolean;
}

export class FakePodExec implements PodExec {
  readonly shells = new Map<string, FakeShell>();
  readonly streams: FakeExecStream[] = [];
  readonly runs: (readonly string[])[] = [];
  /** Bytes per delivered output piece. */
  chunkBytes = 1 << 16;
  /** Make `open` fail as the API server's upgrade would (404: no such pod …). */
  failOpen: { httpStatus?: number; message: string } | undefined;
  /** The container has no svclab-term (an older workstation image). */
  keeperMissing = false;
  /** `open` never answers (an API server or kubelet that hangs). */
  stall = false;
  private clock: number;

  constructor(o: { base?: number } = {}) {
    this.clock = o.base ?? 1_796_000_000_000_000;
  }

  shell(target: PodTarget, name = 'workstation'): FakeShell | undefined {
    return this.shells.get(key(target, name));
  }

  get openStreams(): FakeExecStream[] {
    return this.streams.filter((s) => !s.closed);
  }

  async open(target: PodTarget, command: readonly string[], h: ExecHandlers): Promise<ExecStream> {
    await tick();
    if (this.stall) await new Promise(() => undefined);
    if (this.failOpen) throw Object.assign(new Error(this.failOpen.message), this.failOpen.httpStatus === undefined ? {} : { httpStatus: this.failOpen.httpStatus });
    let settle!: (e: ExecEnd) => void;
    const done = new Promise<ExecEnd>((r) => { settle = r; });
    let paused = false;
    let closed = false;
    let shell: FakeShell | undefined;
    // What `tail` would read next: the header's rest, then the log from `pos` (zeros where trimmed).
    let header = Buffer.alloc(0);
    let pos = 0;
    let scheduled = false;
    const finish = (end: ExecEnd) => {
      if (closed) return;
      closed = true;
      if (shell) shell.followers.delete(follow);
      settle(end);
    };
    const piece = (): Buffer | undefined => {
      const parts: Buffer[] = [];
      let room = this.chunkBytes;
      if (header.length) {
        parts.push(header.subarray(0, room));
        room -= parts[0]!.length;
        header = header.subarray(parts[0]!.length);
      }
      if (room > 0 && shell && pos < shell.log.length) {
        const n = Math.min(room, shell.log.length - pos);
        parts.push(Buffer.from(shell.log.subarray(pos, pos + n)));
        pos += n;
      }
      return parts.length ? Buffer.concat(parts) : undefined;
    };
    const pump = () => {
      scheduled = false;
      while (!closed && !paused) {
        const b = piece();
        if (!b) break;
        h.stdout(b);
      }
      // The shell ended and everything it printed was read: "exit=N" on stderr, a clean end.
      if (!closed && !paused && shell && !shell.alive && !header.length && pos >= shell.log.length) {
        h.stderr(Buffer.from(`svclab-term exit=${shell.exitCode}\n`));
        finish({ exitCode: 0, dropped: false });
      }
    };
    const follow = () => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(pump);
    };
    // With a client id, stdin is frames "AT LEN\n" + bytes; what the shell already got is skipped.
    let framing = Buffer.alloc(0);
    const framed = (data: Buffer) => {
      framing = Buffer.concat([framing, data]);
      for (;;) {
        const nl = framing.indexOf(0x0a);
        if (nl < 0) return;
        const m = /^(\d+|-) (\d+)$/.exec(framing.subarray(0, nl).toString());
        if (!m) throw new Error(`FakePodExec: bad input frame ${JSON.stringify(framing.subarray(0, nl).toString())}`);
        const len = Number(m[2]);
        if (framing.length < nl + 1 + len) return;
        const bytes = framing.subarray(nl + 1, nl + 1 + len);
        framing = framing.subarray(nl + 1 + len);
        if (m[1] === '-') { shell!.input(bytes); continue; }
        const at = Number(m[1]);
        const done = shell!.inputs.get(client!) ?? 0;
        if (at + len > done) {
          shell!.input(bytes.subarray(Math.max(0, done - at)));
          shell!.inputs.set(client!, at + len);
        }
      }
    };
    const stream: FakeExecStream = {
      command,
      write: (data) => {
        if (closed || !shell?.alive) return;
        if (client) framed(data);
        else shell.input(data);
      },
      pause: () => { paused = true; },
      resume: () => { paused = false; follow(); },
      close: () => finish({ dropped: true, message: 'closed by the runner' }),
      abort: () => finish({ dropped: true, message: 'the connection to the API server ended without a status' }),
      get paused() { return paused; },
      get closed() { return closed; },
      done,
    };
    this.streams.push(stream);
    if (this.keeperMissing || command[0] !== 'svclab-term') {
      setImmediate(() => { h.stderr(Buffer.from(`exec: "${command[0]}": executable file not found in $PATH\n`)); finish({ exitCode: 127, message: 'executable file not found', dropped: false }); });
      return stream;
    }
    const [, verb, name = '', sinceText = '0', cols = '80', rows = '24', lang = 'en', client] = command;
    if (verb !== 'attach') {
      setImmediate(() => this.answer(target, command, h, finish));
      return stream;
    }
    const k = key(target, name);
    shell = this.shells.get(k);
    if (!shell || !shell.alive) {
      this.clock += 1_000_000;
      shell = new FakeShell(Math.max(this.clock, (shell?.end ?? 0) + 1), Number(cols), Number(rows), lang === 'zh' ? '欢迎' : 'Welcome');
      this.shells.set(k, shell);
    } else {
      shell.cols = Number(cols);
      shell.rows = Number(rows);
    }
    const since = Number(sinceText);
    let missed = false;
    if (since >= shell.base) {
      pos = Math.min(since - shell.base, shell.log.length);
      if (pos < shell.oldest) { pos = shell.oldest; missed = true; }
    } else {
      pos = shell.oldest;
      missed = shell.oldest > 0;
    }
    // The header and the replay may split anywhere, as the socket may.
    let input = '-';
    if (client) {
      if (shell.inputs.has(client)) input = String(shell.inputs.get(client));
      else shell.inputs.set(client, 0);
    }
    header = Buffer.from(`svclab-term base=${shell.base} from=${shell.base + pos} end=${shell.end} missed=${missed ? 1 : 0} input=${input}\n`);
    shell.followers.add(follow);
    follow();
    return stream;
  }

  run(target: PodTarget, command: readonly string[], timeoutMs: number) {
    this.runs.push(command);
    return runThrough(this, target, command, timeoutMs);
  }

  private answer(target: PodTarget, command: readonly string[], h: ExecHandlers, finish: (e: ExecEnd) => void): void {
    const [, verb, name = '', cols, rows] = command;
    const shell = this.shells.get(key(target, name));
    if (verb === 'oldest' && shell) {
      h.stdout(Buffer.from(`${shell.base + shell.oldest}\n`));
      finish({ exitCode: 0, dropped: false });
      return;
    }
    if (verb === 'resize' && shell) {
      shell.cols = Number(cols);
      shell.rows = Number(rows);
      finish({ exitCode: 0, dropped: false });
      return;
    }
    h.stderr(Buffer.from(verb === 'resize' ? `svclab-term: no shell named ${name}\n` : `svclab-term: usage\n`));
    finish({ exitCode: 2, dropped: false });
  }
}

function key(t: PodTarget, name: string): string {
  return `${t.namespace}/${t.pod}/${t.container}/${name}`;
}

const tick = () => new Promise<void>((r) => setImmediate(r));
