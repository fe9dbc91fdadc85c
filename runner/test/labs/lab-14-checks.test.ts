// Lab 14 against recorded states: the TLS step's curl script (verification on,
// trusting only the learner's certificate) and the lab's shape — every check of a
// step can fail before its solution, by construction of what the step changes.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labScripts, missingTools, repoRoot, unmappedExitCodes } from './lab-script-harness.ts';

/** The stub curl (body, status and exit status from the environment): no request leaves the test. */
const STUB_BIN = path.join(repoRoot, 'runner/test/labs/fixtures/bin');

const missing = missingTools(['sh']);
if (missing.length) console.log(`SKIP lab 14 check scripts: ${missing.join(', ')} not installed on this machine`);

describe.skipIf(missing.length > 0)('lab 14 check scripts', () => {
  const lab = labScripts('14-gateway-api');
  const cert = async () => {
    await mkdir(path.join(lab.home, 'tls'), { recursive: true });
    await writeFile(path.join(lab.home, 'tls', 'store.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  };
  const tls = (env: Record<string, string>) => lab.check('gateway-tls', 'verified-with-own-cert', { PATH: `${STUB_BIN}:${process.env.PATH}`, ...env });

  it('every exit code a script uses is mapped in lab.yaml', () => {
    expect(unmappedExitCodes(lab.lab)).toEqual([]);
  });

  it('no certificate file yet: fails at once (retry: false), naming the file', async () => {
    const r = await tls({ SVCLAB_CURL_EXIT: '0', SVCLAB_HTTP_BODY: 'Welcome to the store (v1)' });
    expect(r).toMatchObject({ exitCode: 3, out: expect.stringContaining('tls/store.crt is missing or empty') });
  });

  it("Traefik's default certificate (no https listener yet): curl refuses it, exit 4", async () => {
    await cert();
    const r = await tls({ SVCLAB_CURL_EXIT: '60' });
    expect(r.exitCode).toBe(4);
    const check = lab.lab.steps.find((s) => s.id === 'gateway-tls')!.checks.find((c) => c.id === 'verified-with-own-cert')!;
    expect(check.kind === 'command' && check.failures.find((f) => f.exitCode === 4)?.hint?.en).toMatch(/default certificate/);
  });

  it('verified HTTPS that is not the store page fails; the store page passes', async () => {
    await cert();
    expect((await tls({ SVCLAB_CURL_EXIT: '0', SVCLAB_HTTP_BODY: 'Welcome to the docs' })).exitCode).toBe(7);
    expect(await tls({ SVCLAB_CURL_EXIT: '0', SVCLAB_HTTP_BODY: 'Welcome to the store (v2)' })).toMatchObject({ exitCode: 0, out: expect.stringContaining('curl trusts it') });
  });

  it('the split step counts pods behind Service store, which selects both versions (so one version alone cannot pass)', () => {
    const step = lab.lab.steps.find((s) => s.id === 'weighted-split')!;
    const c = step.checks[0]!;
    expect(c.kind === 'http' && c.distinctBackends).toMatchObject({ service: 'store', min: 2 });
    expect(c.kind === 'http' && c.expect.body).toBe('Welcome to the store \\(v[12]\\)');
  });
});
