// A workshop over HTTPS on a real socket: a self-signed certificate made by this machine's
// openssl, the learner's pass marked Secure, a terminal WebSocket from the https:// origin
// (the remote case that got 403 before), and `svclab workshop status|extend|end` pinning the
// certificate. SKIPs without openssl.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { certificateNames, selfSignedCertificate, workshopCommand, workshopStateFile } from '../../src/cli/workshop.ts';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { buildApp, noClusterApply } from '../../src/http/app.ts';
import { siteOrigins } from '../../src/http/auth.ts';
import type { Wiring } from '../../src/main/wiring.ts';
import { FakePtyFactory } from '../../src/pty/fake-pty-factory.ts';
import { SessionManager } from '../../src/sessions/session-manager.ts';
import { Workshop } from '../../src/workshop/workshop.ts';
import { MemoryWorkshopStore } from '../../src/workshop/workshop-store.ts';
import { fakeLabs } from '../support/fake-app.ts';

const shell = new ExecaRunner();
const openssl = await shell.run(['openssl', 'version'], { timeoutMs: 10_000 }).then((r) => r.exitCode === 0, () => false);
if (!openssl) console.log('SKIP workshop over HTTPS: no openssl binary on this machine');

let close: (() => Promise<void>) | undefined;
afterEach(async () => { await close?.(); close = undefined; });

function post(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; setCookie: string[]; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [], json: JSON.parse(Buffer.concat(chunks).toString() || '{}') }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('allowed origins for a remote workshop', () => {
  it('are https://ADDR:PORT and the certificate\'s names, not http:// or 0.0.0.0', () => {
    expect(siteOrigins('192.0.2.2', 4173, 'https', ['192.0.2.2', 'lab.example'])).toEqual(['https://192.0.2.2:4173', 'https://lab.example:4173']);
    expect(siteOrigins('fd00::2', 4173, 'https')).toEqual(['https://[fd00::2]:4173']);
  });
});

describe.skipIf(!openssl)('workshop over HTTPS', () => {
  it('joins with a Secure pass, opens a terminal from the https origin, and the CLI reaches it pinned to the certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svclab-ws-tls-'));
    const tls = await selfSignedCertificate(shell, join(dir, 'tls'), '127.0.0.1');
    expect(certificateNames(tls.cert)).toEqual(['127.0.0.1']);
    const workshop = await Workshop.create({ store: new MemoryWorkshopStore() }, { labs: ['02-selectors-and-endpoints'], capacity: 3, reserve: 0, durationMs: 3600_000, code: 'TLS123' });
    const engine = new FakeContainerEngine();
    engine.addImage('svclab/workstation:abc');
    const logger = pino({ level: 'silent' });
    const sessions = new SessionManager({ engine, ptys: new FakePtyFactory(), logger, workstationImage: async () => 'svclab/workstation:abc' });
    let origins: string[] = [];
    const app = await buildApp({
      logger, token: workshop.instructorSecret, allowedOrigins: () => origins, sessions, labs: fakeLabs, workshop, https: tls,
      checks: { run: async () => ({ results: [], passed: true }) }, apply: noClusterApply, version: '0.0.0-test',
    });
    close = () => app.close();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    origins = siteOrigins('127.0.0.1', port, 'https');
    const origin = `https://127.0.0.1:${port}`;

    const joined = await post(`${origin}/api/workshop/join`, { code: 'TLS123', name: 'Ana' }, { origin });
    expect(joined.status).toBe(200);
    const pass = joined.setCookie.find((c) => c.startsWith(`svclab_pass_${port}=`))!;
    expect(pass).toMatch(/; Secure/);
    expect(pass).toMatch(/; HttpOnly/);
    expect(pass).toMatch(/; SameSite=Strict/);
    const cookie = pass.split(';')[0]!;
    const started = await post(`${origin}/api/sessions`, { labId: '02-selectors-and-endpoints' }, { origin, cookie });
    expect(started.status).toBe(201);
    const id = (started.json as { session: { id: string } }).session.id;
    const ws = new WebSocket(`wss://127.0.0.1:${port}/api/sessions/${id}/terminal`, { origin, headers: { cookie }, rejectUnauthorized: false });
    await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('unexpected-response', (_q, r) => rej(new Error(`HTTP ${r.statusCode}`))); ws.once('error', rej); });
    ws.close();
    // The http:// origin of before is not the site any more.
    const plain = await post(`${origin}/api/sessions`, { labId: '02-selectors-and-endpoints' }, { origin: `http://127.0.0.1:${port}`, cookie });
    expect(plain.status).toBe(403);

    // svclab workshop status | extend | end, through the state file (secret, pinned fingerprint).
    const cache = join(dir, 'cache');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(cache);
    const fingerprint256 = new X509Certificate(tls.cert).fingerprint256;
    writeFileSync(workshopStateFile(cache), JSON.stringify({ origin, secret: workshop.instructorSecret, fingerprint256, pid: process.pid }), { mode: 0o600 });
    const lines: string[] = [];
    const noWiring = () => { throw new Error('status needs no wiring'); };
    expect(await workshopCommand(['status'], (l) => lines.push(l), noWiring as () => Wiring, cache)).toBe(0);
    expect(lines.join('\n')).toMatch(/1\/3 learners/);
    expect(lines.join('\n')).toMatch(/Ana .*02-selectors-and-endpoints ready/);
    const before = workshop.expiresAt;
    await workshopCommand(['extend', '30m'], (l) => lines.push(l), noWiring as () => Wiring, cache);
    expect(workshop.expiresAt - before).toBe(30 * 60_000);
    // Another certificate on that address: refused, nothing sent.
    writeFileSync(workshopStateFile(cache), JSON.stringify({ origin, secret: workshop.instructorSecret, fingerprint256: 'AA:BB', pid: process.pid }), { mode: 0o600 });
    await expect(workshopCommand(['end'], () => undefined, noWiring as () => Wiring, cache)).rejects.toMatchObject({ message: expect.stringContaining('another certificate') });
    expect(workshop.times().ended).toBe(false);
  });
});
