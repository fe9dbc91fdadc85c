import type { PtyFactory, PtyProcess, PtySpawnOptions } from './pty-factory.ts';

/**
 * A terminal with a tiny line discipline: input is echoed, and on Enter the line
 * is handed to `onLine`, whose return value is printed. Tests drive output
 * directly with `emit`. Pausing holds output back exactly like a real pty does.
 */
export class FakePty implements PtyProcess {
  readonly pid: number;
  cols: number;
  rows: number;
  paused = false;
  killed = false;
  readonly spawnedArgv: readonly string[];
  private dataListeners: ((d: string) => void)[] = [];
  private exitListeners: ((e: { exitCode: number }) => void)[] = [];
  private held: string[] = [];
  private line = '';
  private readonly onLine: (line: string) => string;

  constructor(argv: readonly string[], opts: PtySpawnOptions, pid: number, onLine: (line: string) => string) {
    this.onLine = onLine;
    this.spawnedArgv = argv;
    this.cols = opts.cols;
    this.rows = opts.rows;
    this.pid = pid;
  }

  onData(l: (d: string) => void): void { this.dataListeners.push(l); }
  onExit(l: (e: { exitCode: number }) => void): void { this.exitListeners.push(l); }

  write(data: string): void {
    for (const ch of data) {
      if (ch === '\r' || ch === '\n') {
        const line = this.line;
        this.line = '';
        this.emit(`\r\n${this.onLine(line)}`);
      } else {
        this.line += ch;
        this.emit(ch);
      }
    }
  }

  emit(data: string): void {
    if (this.killed) return;
    if (this.paused) { this.held.push(data); return; }
    for (const l of this.dataListeners) l(data);
  }

  resize(cols: number, rows: number): void { this.cols = cols; this.rows = rows; }
  pause(): void { this.paused = true; }
  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const d of held) this.emit(d);
  }

  get heldBytes(): number { return this.held.reduce((n, d) => n + d.length, 0); }

  exit(exitCode = 0): void {
    this.killed = true;
    for (const l of this.exitListeners) l({ exitCode });
  }

  kill(): void { if (!this.killed) this.exit(129); }
}

export class FakePtyFactory implements PtyFactory {
  readonly spawned: FakePty[] = [];
  private readonly onLine: (line: string) => string;

  constructor(onLine: (line: string) => string = (line) => (line.startsWith('echo ') ? `${line.slice(5)}\r\n$ ` : '$ ')) {
    this.onLine = onLine;
  }

  spawn(argv: readonly string[], opts: PtySpawnOptions): FakePty {
    const p = new FakePty(argv, opts, 1000 + this.spawned.length, this.onLine);
    this.spawned.push(p);
    return p;
  }
}
