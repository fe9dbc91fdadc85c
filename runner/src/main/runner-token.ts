// The runner's token, kept across restarts so open tabs keep working after a crash or a
// restart: <cache>/runner-token, mode 0600 (the token opens a shell). `svclab start
// --new-token` makes a new one; a file others could read, or that holds no valid token,
// is replaced as if it had leaked.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TOKEN = /^[A-Za-z0-9_-]{32}$/;

export interface RunnerToken {
  token: string;
  /** Why a new token was made (first start, --new-token, an unsafe or broken file); undefined when the kept one was reused. */
  renewed?: 'first start' | 'asked for' | 'file readable by others' | 'file not valid';
  file: string;
}

export function runnerTokenFile(cacheDir: string): string {
  return join(cacheDir, 'runner-token');
}

export function loadRunnerToken(cacheDir: string, opts: { rotate?: boolean } = {}): RunnerToken {
  const file = runnerTokenFile(cacheDir);
  let renewed: RunnerToken['renewed'] = opts.rotate ? 'asked for' : undefined;
  if (!renewed) {
    try {
      const st = statSync(file);
      const text = readFileSync(file, 'utf8').trim();
      if ((st.mode & 0o077) !== 0) renewed = 'file readable by others';
      else if (!TOKEN.test(text)) renewed = 'file not valid';
      else return { token: text, file };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      renewed = 'first start';
    }
  }
  const token = randomBytes(24).toString('base64url');
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  // Written whole with 0600 from the start, then renamed: never a moment readable by others or half-written.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return { token, renewed, file };
}
