import * as pty from 'node-pty';
import type { PtyFactory, PtyProcess, PtySpawnOptions } from './pty-factory.ts';

export class NodePtyFactory implements PtyFactory {
  spawn(argv: readonly string[], opts: PtySpawnOptions): PtyProcess {
    const [file, ...args] = argv;
    if (!file) throw new Error('NodePtyFactory.spawn: empty argv');
    const p = pty.spawn(file, args, {
      name: 'xterm-256color',
      cols: opts.cols,
      rows: opts.rows,
      env: { ...process.env, ...opts.env } as Record<string, string>,
      encoding: 'utf8',
    });
    return {
      pid: p.pid,
      onData: (l) => { p.onData(l); },
      onExit: (l) => { p.onExit(l); },
      write: (d) => p.write(d),
      resize: (c, r) => p.resize(c, r),
      pause: () => p.pause(),
      resume: () => p.resume(),
      kill: (s) => { try { p.kill(s); } catch { /* already exited */ } },
    };
  }
}
