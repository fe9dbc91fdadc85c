// What the doctor reads from the machine besides commands: files under /proc and
// /sys, free disk, the user. An interface so tests describe a host instead of needing one.

import { accessSync, constants, existsSync, readFileSync, statfsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export interface DoctorHost {
  nodeVersion: string;
  isRoot: boolean;
  /** The file's text, or undefined when it can't be read. */
  readFile(path: string): string | undefined;
  exists(path: string): boolean;
  /** Bytes available to this user on the filesystem holding path (or its nearest existing parent). */
  freeBytes(path: string): number | undefined;
  /** The executable `name` resolves to on PATH, like `command -v`. */
  which(name: string): string | undefined;
}

export function nodeDoctorHost(): DoctorHost {
  return {
    nodeVersion: process.versions.node,
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    readFile(path) {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    exists: (path) => existsSync(path),
    freeBytes(path) {
      let p = path;
      while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
      try {
        const s = statfsSync(p);
        return s.bavail * s.bsize;
      } catch {
        return undefined;
      }
    },
    which(name) {
      for (const dir of (process.env['PATH'] ?? '').split(delimiter).filter(Boolean)) {
        try {
          accessSync(join(dir, name), constants.X_OK);
          return join(dir, name);
        } catch { /* next */ }
      }
      return undefined;
    },
  };
}

/** A described host for tests: files by path, everything else by field. */
export class FakeDoctorHost implements DoctorHost {
  nodeVersion = '24.21.0';
  isRoot = true;
  files = new Map<string, string>();
  paths = new Set<string>();
  free: number | undefined = 100 * 2 ** 30;
  /** name → path for which(). */
  executables = new Map<string, string>();

  readFile(path: string): string | undefined {
    return this.files.get(path);
  }
  exists(path: string): boolean {
    return this.paths.has(path) || this.files.has(path);
  }
  freeBytes(_path: string): number | undefined {
    return this.free;
  }
  which(name: string): string | undefined {
    return this.executables.get(name);
  }
}
