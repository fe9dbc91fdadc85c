import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeLogger, redactLine } from '../../src/logger.ts';

let dir: string | undefined;
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); dir = undefined; });

const TOKEN = 'Zk3v9QpL2mXr8TtY1aB4cD6eF7gH0jK5';

describe('logger: no secret in any log line', () => {
  it('scrubs the token from request URLs, cookies and auth headers (the lines runner.log held)', () => {
    const line = JSON.stringify({ req: { url: `/api/health?token=${TOKEN}`, headers: { cookie: `svclab_token=${TOKEN}; svclab_learner=abc.def; svclab_pass_4173=pass.sig`, authorization: `Bearer ${TOKEN}` } } });
    const out = redactLine(line);
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain('abc.def');
    expect(out).not.toContain('pass.sig'); // per-port cookie names
    expect(out).toContain('/api/health?token=[redacted]');
  });

  it('scrubs a known secret wherever it appears, even in free text', () => {
    expect(redactLine(`{"msg":"listening at http://127.0.0.1:4173/#t=${TOKEN} ok"}`, [TOKEN])).not.toContain(TOKEN);
  });

  it('writes log files with mode 0600 and never the token', async () => {
    dir = mkdtempSync(join(tmpdir(), 'svclab-log-'));
    const file = join(dir, 'logs', 'runner.log');
    const logger = makeLogger({ destination: file, secrets: () => [TOKEN] });
    logger.info({ url: `/?token=${TOKEN}` }, 'incoming request');
    logger.info(`token is ${TOKEN}`);
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    await new Promise((r) => setTimeout(r, 50));
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('incoming request');
    expect(text).not.toContain(TOKEN);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
