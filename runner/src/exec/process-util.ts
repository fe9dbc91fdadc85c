// Small process helpers shared by the image builder, the cluster driver and the
// session manager.

/** Is a process with this pid alive? (EPERM: it exists but belongs to someone else.) */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Turns output chunks into whole lines. */
export class LineSplitter {
  private buf = '';
  private readonly onLine: (line: string) => void;
  constructor(onLine: (line: string) => void) {
    this.onLine = onLine;
  }
  push(chunk: string): void {
    this.buf += chunk;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      this.onLine(this.buf.slice(0, i).replace(/\r$/, ''));
      this.buf = this.buf.slice(i + 1);
    }
  }
  flush(): void {
    if (this.buf) this.onLine(this.buf);
    this.buf = '';
  }
}
