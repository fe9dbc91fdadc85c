// A workshop for a room, end to end (issue 13's "done when"), in Chromium: the runner on an
// address of this machine other than loopback, over HTTPS with a self-signed certificate made
// as `svclab workshop start` makes it (the browser contexts ignore the certificate warning),
// a warm pool of 2 real clusters for 3 learners (reserve 2, capacity 3: the third learner waits
// in line). Three learners join in three browser contexts; each reaches only their own session
// and terminal (403 for another's); two pass lab 02's first step; the instructor page shows them
// live, gates step 2 (a learner's Check of step 2 is refused) and gives one learner 15 minutes
// more; one learner's cluster is deleted mid-lab and that learner — moved automatically by the
// cluster watch, ahead of the learner in line — resumes on a new cluster with their progress and
// applied objects intact, the page saying why.
// Needs docker, current images, Chromium, the built site, openssl, a non-loopback IPv4 address
// and SVCLAB_TEST_CREATE_CLUSTER=1 (it provisions svclab-wsroom-1, -2 and a replacement);
// otherwise one SKIP line.
import { existsSync, mkdtempSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { readLearnerKubeconfig } from '../../runner/src/access/index.ts';
import { nodeKubectl } from '../../runner/src/cluster/cluster-driver.ts';
import { controlPlaneNode, nodeShell } from '../../runner/src/cluster/node-shell.ts';
import { startRunner } from '../../runner/src/cli/start.ts';
import { realDeps, realPoolDeps, workstationImage } from '../../runner/src/cli/wiring.ts';
import { certificateNames, selfSignedCertificate } from '../../runner/src/cli/workshop.ts';
import { imagesStatus } from '../../runner/src/images/images.ts';
import { ClusterPool } from '../../runner/src/pool/cluster-pool.ts';
import { Workshop } from '../../runner/src/workshop/workshop.ts';
import { MemoryWorkshopStore } from '../../runner/src/workshop/workshop-store.ts';
import { browserUnavailable, launchChromium, root, snap, terminalText, typeInTerminal, until } from './support/browser.ts';
import { passObserve, startLabToPrompt } from './support/lab02-steps.ts';

const PREFIX = 'svclab-wsroom-';
const LAB = '02-selectors-and-endpoints';
const LESSON = '/labs/02-selectors-and-endpoints/';
const CODE = 'ROOM42';
const d = realDeps();

/** This machine's first IPv4 address that is not loopback (nor docker's bridge). */
function roomAddress(): string | undefined {
  const all = Object.entries(networkInterfaces()).flatMap(([name, list]) => (list ?? []).map((a) => ({ name, ...a })));
  const v4 = all.filter((a) => a.family === 'IPv4' && !a.internal);
  return (v4.find((a) => !/^(docker|br-|veth)/.test(a.name)) ?? v4[0])?.address;
}

async function plan(): Promise<string | undefined> {
  const noBrowser = browserUnavailable();
  if (noBrowser) return noBrowser;
  // startRunner serves the checkout's dist/ (SVCLAB_SITE_DIR is for the fake-tier tests' own server).
  if (!existsSync(join(root, 'dist', 'index.html'))) return 'the runner serves dist/, which is not built (run `astro build`)';
  if (process.env['SVCLAB_TEST_CREATE_CLUSTER'] !== '1') return 'set SVCLAB_TEST_CREATE_CLUSTER=1 to let it provision 3 pooled clusters (npm test does)';
  if (!roomAddress()) return 'this machine has no IPv4 address other than loopback';
  try {
    await d.engine.info();
    const stale = (await imagesStatus(d.images)).filter((s) => ['node', 'web', 'workstation', 'kind', 'traefik', 'metallb'].includes(s.name) && s.state !== 'current');
    if (stale.length) return `images not current: ${stale.map((s) => `${s.name} (${s.state})`).join(', ')} (run \`svclab images build\`)`;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return undefined;
}

const skip = await plan();
if (skip) console.log(`SKIP workshop room end to end (HTTPS, 3 learners, Chromium): ${skip}`);

describe.skipIf(skip !== undefined)('a workshop for a room over HTTPS on a non-loopback address (Chromium, real pool)', () => {
  const address = roomAddress()!;
  let browser: Browser;
  let origin = '';
  let workshop: Workshop;
  let close: () => Promise<void> = async () => undefined;
  const logger = pino({ level: process.env['SVCLAB_TEST_LOG'] ? 'info' : 'silent' });
  const pool = new ClusterPool(realPoolDeps(logger), { size: 2, prefix: PREFIX });
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const mark = (what: string) => { timings[what] = Math.round((Date.now() - t0) / 1000); };

  beforeAll(async () => {
    // Clusters an earlier run kept (SVCLAB_KEEP_CLUSTER=1) are adopted by pool.start() when they recycle clean, else deleted.
    const cacheDir = mkdtempSync(join(tmpdir(), 'svclab-wsroom-'));
    const pair = await selfSignedCertificate(d.runner, join(cacheDir, 'tls'), address);
    workshop = await Workshop.create({ store: new MemoryWorkshopStore() }, { labs: [LAB], capacity: 3, reserve: 2, durationMs: 2 * 3600_000, code: CODE });
    await pool.start();
    await pool.settled();
    mark('pool ready');
    if (pool.snapshot().clusters.filter((c) => c.state === 'ready').length !== 2) throw new Error(`the pool did not provision its clusters: ${JSON.stringify(pool.snapshot())}`);
    const running = await startRunner({
      host: address, port: 0, allowRemote: true, cacheDir, out: () => undefined,
      workstationImage: workstationImage(d.cacheDir), wiring: d,
      cluster: {
        engine: d.engine, driver: d.driver,
        clusterFor: (s, onWait) => pool.claim(s.learner, { onWait }),
        learnerKubeconfig: async (name) => {
          const k = await readLearnerKubeconfig(nodeShell(d.driver, name, controlPlaneNode(name)));
          if (!k) throw new Error(`cluster ${name} has no learner kubeconfig`);
          return k;
        },
      },
      pool, workshop,
      tls: { ...pair, names: certificateNames(pair.cert) },
      // Faster than a room's default (10 s; 3 down or 9 slow rounds), so the test waits less for the move.
      clusterWatch: { intervalMs: 3_000, failures: 2 },
    });
    close = running.close;
    origin = new URL(running.url).origin;
    expect(origin).toBe(`https://${address}:${running.port}`);
    browser = await launchChromium();
  }, 25 * 60_000);

  afterAll(async () => {
    console.log(`workshop room timings (s since start): ${JSON.stringify(timings)}`);
    await browser?.close();
    await close(); // closes the pool too
    if (process.env['SVCLAB_KEEP_CLUSTER'] === '1') return;
    for (const c of await d.driver.list()) if (c.name.startsWith(PREFIX)) await d.driver.delete(c.name).catch(() => undefined);
  }, 600_000);

  /** A learner's own browser (own cookies); the self-signed certificate is accepted as a learner would after comparing the fingerprint. */
  async function learnerContext(): Promise<BrowserContext> {
    return browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 }, locale: 'en-US', permissions: ['clipboard-read', 'clipboard-write'] });
  }

  async function joinAs(name: string): Promise<{ page: Page; ctx: BrowserContext }> {
    const ctx = await learnerContext();
    const page = await ctx.newPage();
    await page.goto(`${origin}/join/?code=${CODE}`);
    expect(new URL(page.url()).search).toBe(''); // the code left the address bar
    await page.getByLabel('Display name').fill(name);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.waitForURL(`${origin}/`);
    await page.goto(`${origin}${LESSON}`);
    return { page, ctx };
  }

  const status = (p: Page) => p.locator('[data-ref="status-text"]').innerText();
  const step = (p: Page, id: string) => p.locator(`li.svclab-step[data-step="${id}"]`);
  const me = async (ctx: BrowserContext) => (await ctx.request.get(`${origin}/api/workshop/me`)).json() as Promise<{ learner: { id: string }; sessions: { id: string; state: string }[]; workshop: { expiresAt: string }; moves: { from: string; to: string }[] }>;

  const startLab = (page: Page, who: string) => startLabToPrompt(page, who, { timeoutMs: 180_000, shot: 'wsroom' });

  /** A WebSocket to a session's terminal with this context's cookies, from the site's origin: resolves with the HTTP status. */
  async function terminalStatus(ctx: BrowserContext, sessionId: string): Promise<number> {
    const cookie = (await ctx.cookies(origin)).map((c) => `${c.name}=${c.value}`).join('; ');
    const ws = new WebSocket(`${origin.replace('https:', 'wss:')}/api/sessions/${sessionId}/terminal`, { origin, headers: { cookie }, rejectUnauthorized: false });
    return new Promise((resolve, reject) => {
      ws.once('open', () => { ws.close(); resolve(101); });
      ws.once('unexpected-response', (_q, r) => { resolve(r.statusCode ?? 0); r.resume(); });
      ws.once('error', reject);
    });
  }

  it('three learners join, stay apart, pass, are gated and watched; a deleted cluster is replaced under one of them with their work intact', async () => {
    const ana = await joinAs('Ana');
    const bo = await joinAs('Bo');
    const cy = await joinAs('Cy');
    mark('joined');
    await startLab(ana.page, 'Ana');
    await startLab(bo.page, 'Bo');
    mark('two labs running');
    // The third learner waits for a cluster (reserve 2 for capacity 3).
    await cy.page.getByRole('button', { name: 'Start lab' }).click();
    await expect.poll(() => status(cy.page), { timeout: 30_000 }).toBe('Every cluster is in use: you are number 1 in line.');
    // No expiry banner two hours before the end.
    expect(await ana.page.locator('svclab-workshop-notice').isHidden()).toBe(true);

    // Isolation: each reaches only their own session and terminal.
    const anaMe = await me(ana.ctx);
    const boMe = await me(bo.ctx);
    const anaSession = anaMe.sessions[0]!.id;
    const boSession = boMe.sessions[0]!.id;
    const peek = await bo.ctx.request.get(`${origin}/api/sessions/${anaSession}`);
    expect([peek.status(), (await peek.json()).error.code]).toEqual([403, 'SESSION_FORBIDDEN']);
    expect((await bo.ctx.request.get(`${origin}/api/sessions/${anaSession}/progress`)).status()).toBe(403);
    expect(await terminalStatus(bo.ctx, anaSession)).toBe(403);
    expect(await terminalStatus(cy.ctx, boSession)).toBe(403);
    expect(await terminalStatus(ana.ctx, anaSession)).toBe(101);
    const instructorOnly = await ana.ctx.request.get(`${origin}/api/instructor/snapshot`);
    expect(instructorOnly.status()).toBe(403);

    // The instructor page, live.
    const instructorCtx = await learnerContext();
    const instructor = await instructorCtx.newPage();
    await instructor.goto(`${origin}/instructor/?token=${workshop.instructorSecret}`);
    expect(new URL(instructor.url()).search).toBe(''); // the secret left the address bar
    const grid = instructor.locator('table:has(caption:text-is("Selectors and endpoints: learners and their steps")) tbody');
    await expect.poll(() => grid.locator('tr').count(), { timeout: 30_000 }).toBe(3);

    // Ana and Bo pass step 1; the instructor sees it without a reload.
    await passObserve(ana.page, 'Ana');
    await passObserve(bo.page, 'Bo');
    mark('two passed step 1');
    const cell = (name: string) => grid.locator(`tr:has(th:has-text("${name}")) td`).first();
    await expect.poll(() => cell('Ana').getAttribute('data-state'), { timeout: 30_000 }).toBe('passed');
    await expect.poll(() => cell('Bo').getAttribute('data-state'), { timeout: 30_000 }).toBe('passed');
    await snap(instructor, 'wsroom-instructor-two-passed');

    // Gate: only step 1 open. Ana's Check of step 2 is refused with the reason.
    await instructor.getByRole('button', { name: 'Gate: open step 1 only' }).click();
    await expect.poll(() => instructor.locator('section[data-lab] [data-part="gate"]').first().innerText(), { timeout: 20_000 }).toMatch(/Only step 1 of 3 is open/);
    await ana.page.getByRole('button', { name: /^Check: Label the pods/ }).click();
    await expect.poll(() => step(ana.page, 'label-the-pods').locator('.svclab-result').innerText(), { timeout: 60_000 }).toMatch(/not open yet/);

    // One learner gets 15 more minutes; the others keep the room's end.
    const before = Date.parse((await me(ana.ctx)).workshop.expiresAt);
    await instructor.getByRole('button', { name: 'Give Ana 15 more minutes' }).click();
    await expect.poll(async () => Date.parse((await me(ana.ctx)).workshop.expiresAt) - before, { timeout: 20_000 }).toBe(15 * 60_000);
    expect(Date.parse((await me(bo.ctx)).workshop.expiresAt)).toBe(before);

    // Bo applies an object (kept by the runner), then his cluster is deleted mid-lab.
    const applied = await bo.ctx.request.post(`${origin}/api/sessions/${boSession}/apply`, {
      headers: { origin }, data: { yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bo-notes\ndata:\n  endpoints: "0"\n' },
    });
    expect(applied.status()).toBe(200);
    const boCluster = pool.claimed().find((c) => c.owner === boMe.learner.id)!.name;
    const anaCluster = pool.claimed().find((c) => c.owner === anaMe.learner.id)!.name;
    mark('deleting Bo\'s cluster');
    await d.driver.delete(boCluster);

    // The watch notices, moves Bo ahead of Cy, and Bo's page follows and says why.
    await expect.poll(async () => (await me(bo.ctx)).moves.length, { timeout: 120_000 }).toBe(1);
    mark('Bo moved');
    const moved = (await me(bo.ctx)).moves[0]!;
    expect(moved.from).toBe(boSession);
    await expect.poll(() => bo.page.locator('[data-ref="moved"]').innerText(), { timeout: 30_000 }).toMatch(/Your cluster stopped answering/);
    await bo.page.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 15 * 60_000 }).catch(async (e: unknown) => {
      await snap(bo.page, 'wsroom-bo-resume-FAILED').catch(() => undefined);
      throw new Error(`Bo did not resume: ${String(e)}\npanel: ${await bo.page.locator('.svclab-lab__head').innerText().catch(() => '?')}\npool: ${JSON.stringify(pool.snapshot())}`);
    });
    mark('Bo resumed');
    await expect.poll(() => status(bo.page), { timeout: 30_000 }).toBe('Lab running.');
    await snap(bo.page, 'wsroom-bo-resumed');
    // Progress intact: step 1 still passed on the page and in the runner.
    await expect.poll(() => step(bo.page, 'observe').getAttribute('class'), { timeout: 30_000 }).toMatch(/svclab-step--passed/);
    const progress = await (await bo.ctx.request.get(`${origin}/api/sessions/${moved.to}/progress`)).json();
    expect(progress.steps.observe).toMatchObject({ status: 'passed' });
    // Applied objects intact: the ConfigMap is in the new cluster, and the lab's own objects too.
    const newCluster = pool.claimed().find((c) => c.owner === boMe.learner.id)!.name;
    const kubectl = (args: string[]) => d.driver.execOnNode(newCluster, `${newCluster}-control-plane`, nodeKubectl(args), { timeoutMs: 60_000 });
    expect((await kubectl(['get', 'configmap', 'bo-notes', '-o', 'jsonpath={.data.endpoints}'])).stdout).toBe('0');
    expect((await kubectl(['get', 'service', 'nginx', '-o', 'jsonpath={.spec.clusterIP}'])).stdout).toBe('10.97.97.97');
    // Bo's terminal is his again; Ana was not touched; Cy still waits.
    await until(() => terminalText(bo.page), (t) => /\$ $/m.test(t.trimEnd() + ' '), 60_000, "Bo's new prompt");
    expect(pool.claimed().find((c) => c.owner === anaMe.learner.id)?.name).toBe(anaCluster);
    expect((await me(ana.ctx)).sessions[0]).toMatchObject({ id: anaSession, state: 'ready' });
    expect(await status(cy.page)).toMatch(/in line/);
    await expect.poll(() => grid.locator('tr').count(), { timeout: 20_000 }).toBe(3);
    await expect.poll(() => cell('Bo').getAttribute('data-state'), { timeout: 30_000 }).toBe('passed');
    await snap(instructor, 'wsroom-instructor-after-move');
  }, 40 * 60_000);
});
