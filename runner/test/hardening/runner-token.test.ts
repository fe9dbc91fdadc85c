// The runner token survives restarts (open tabs keep working), is kept 0600, and is
// replaced when asked (--new-token) or when its file could have leaked.
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRunnerToken, runnerTokenFile } from '../../src/main/runner-token.ts';

const cache = () => mkdtempSync(join(tmpdir(), 'svclab-token-'));

describe('runner token', () => {
  it('is made once with mode 0600 and the same after a restart', () => {
    const dir = cache();
    const first = loadRunnerToken(dir);
    expect(first).toMatchObject({ renewed: 'first start', token: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) });
    expect(statSync(runnerTokenFile(dir)).mode & 0o777).toBe(0o600);
    const again = loadRunnerToken(dir);
    expect(again.token).toBe(first.token);
    expect(again.renewed).toBeUndefined();
  });

  it('--new-token makes a new one, kept from then on', () => {
    const dir = cache();
    const first = loadRunnerToken(dir);
    const rotated = loadRunnerToken(dir, { rotate: true });
    expect(rotated.renewed).toBe('asked for');
    expect(rotated.token).not.toBe(first.token);
    expect(loadRunnerToken(dir).token).toBe(rotated.token);
    expect(statSync(runnerTokenFile(dir)).mode & 0o777).toBe(0o600);
  });

  it('a file others can read, or one without a valid token, is replaced', () => {
    const dir = cache();
    const first = loadRunnerToken(dir);
    chmodSync(runnerTokenFile(dir), 0o644);
    const replaced = loadRunnerToken(dir);
    expect(replaced).toMatchObject({ renewed: 'file readable by others' });
    expect(replaced.token).not.toBe(first.token);
    expect(statSync(runnerTokenFile(dir)).mode & 0o777).toBe(0o600);
    writeFileSync(runnerTokenFile(dir), 'short\n', { mode: 0o600 });
    expect(loadRunnerToken(dir).renewed).toBe('file not valid');
  });
});
