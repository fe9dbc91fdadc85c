// A workshop on a real warm pool of one cluster, in Chromium: two learners (two browser
// contexts, so two learner cookies). Alice's Start lab claims the ready cluster and her
// lab runs in it; Bob's Start lab waits — "number 1 in line" — while Alice works; when
// Alice presses End lab her cluster is reset and verified, and Bob's lab starts in it with
// none of Alice's objects left. The instructor page lists both learners, one waiting. Needs docker,
// current images, Chromium, dist/ and SVCLAB_TEST_CREATE_CLUSTER=1 (it provisions
// svclab-poolsite-1); otherwise one SKIP line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRunner } from '../../runner/src/cli/start.ts';
import { realDeps, realPoolDeps, workstationImage } from '../../runner/src/cli/wiring.ts';
import { nodeKubectl } from '../../runner/src/cluster/cluster-driver.ts';
import { imagesStatus } from '../../runner/src/images/images.ts';
import { ClusterPool } from '../../runner/src/pool/cluster-pool.ts';
import { browserUnavailable, launchChromium, newContext, snap, terminalText, typeInTerminal, until } from './support/browser.ts';

const PREFIX = 'svclab-poolsite-';
const d = realDeps();

async function plan(): Promise<string | undefined> {
  const noBrowser = browserUnavailable();
  if (noBrowser) return noBrowser;
  if (process.env['SVCLAB_TEST_CREATE_CLUSTER'] !== '1') return 'set SVCLAB_TEST_CREATE_CLUSTER=1 to let it provision a pooled cluster (npm test does)';
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
if (skip) console.log(`SKIP workshop on a real warm pool (browser): ${skip}`);

describe.skipIf(skip !== undefined)('a workshop on a real warm pool (Chromium)', () => {
  let browser: Browser;
  let origin = '';
  let token = '';
  let close: () => Promise<void> = async () => undefined;
  const pool = new ClusterPool(realPoolDeps(pino({ level: 'silent' })), { size: 1, prefix: PREFIX });

  beforeAll(async () => {
    await pool.start();
    await pool.settled();
    if (pool.snapshot().clusters[0]?.state !== 'ready') throw new Error(`the pool did not provision its cluster: ${JSON.stringify(pool.snapshot())}`);
    const running = await startRunner({
      host: '127.0.0.1', port: 0, allowRemote: false, cacheDir: mkdtempSync(join(tmpdir(), 'svclab-pool-site-')), out: () => undefined,
      workstationImage: workstationImage(d.cacheDir),
      cluster: { engine: d.engine, driver: d.driver, clusterFor: (s, onWait) => pool.claim(s.learner, { onWait }) },
      pool,
    });
    close = running.close;
    const u = new URL(running.url);
    origin = u.origin;
    token = u.searchParams.get('token')!;
    browser = await launchChromium();
  }, 20 * 60_000);

  afterAll(async () => {
    await browser?.close();
    await close(); // closes the pool too
    if (process.env['SVCLAB_KEEP_CLUSTER'] === '1') return;
    for (const c of await d.driver.list()) if (c.name.startsWith(PREFIX)) await d.driver.delete(c.name).catch(() => undefined);
  }, 300_000);

  const lesson = `/labs/02-selectors-and-endpoints/`;
  const status = (p: Page) => p.locator('[data-ref="status-text"]').innerText();
  async function learnerPage(): Promise<Page> {
    const page = await (await newContext(browser)).newPage();
    await page.goto(`${origin}${lesson}?token=${token}`);
    return page;
  }
  const kubectl = (args: string[]) => d.driver.execOnNode(`${PREFIX}1`, `${PREFIX}1-control-plane`, nodeKubectl(args), { timeoutMs: 60_000 });

  it('Alice gets the ready cluster; Bob waits in line, then gets it reset when Alice stops', async () => {
    const alice = await learnerPage();
    await alice.getByRole('button', { name: 'Start lab' }).click();
    await alice.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 120_000 });
    await expect.poll(() => status(alice), { timeout: 30_000 }).toBe('Lab running.');
    await until(() => terminalText(alice), (t) => /\$ $/m.test(t.trimEnd() + ' '), 30_000, "Alice's prompt");
    await typeInTerminal(alice, 'kubectl create namespace alice-was-here\n');
    await until(() => terminalText(alice), (t) => /namespace\/alice-was-here created/.test(t), 60_000, "Alice's namespace");
    await snap(alice, 'pool-alice-running');

    const bob = await learnerPage();
    await bob.getByRole('button', { name: 'Start lab' }).click();
    await expect.poll(() => status(bob), { timeout: 30_000 }).toBe('Every cluster is in use: you are number 1 in line.');
    expect(await bob.locator('[data-ref="phases"] li[data-phase="waiting"]').getAttribute('data-state')).toBe('running');
    await snap(bob, 'pool-bob-waiting');

    // The instructor sees both learners: one running lab 02, one waiting.
    const instructor = await (await newContext(browser)).newPage();
    await instructor.goto(`${origin}/instructor/?token=${token}`);
    // Lab 02's learner × step table has both learners, and the pool says one of them waits.
    const grid = instructor.locator('table:has(caption:text-is("Selectors and endpoints: learners and their steps")) tbody tr');
    await expect.poll(() => grid.count(), { timeout: 20_000 }).toBe(2);
    await expect.poll(() => instructor.locator('[data-ref="pool-waiting"]').innerText(), { timeout: 20_000 }).toBe('1 learner is waiting for a cluster.');
    await snap(instructor, 'pool-instructor');

    await alice.getByRole('button', { name: 'End lab' }).click();
    await bob.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 180_000 });
    await expect.poll(() => status(bob), { timeout: 30_000 }).toBe('Lab running.');
    await snap(bob, 'pool-bob-running');
    // The same cluster, reset: Alice's namespace is gone, the lab's starting objects are there.
    const ns = await kubectl(['get', 'namespace', 'alice-was-here', '--ignore-not-found', '-o', 'name']);
    expect(ns.stdout.trim()).toBe('');
    const svc = await kubectl(['get', 'service', 'nginx', '-o', 'jsonpath={.spec.clusterIP}']);
    expect(svc.stdout).toBe('10.97.97.97');
    expect(pool.snapshot().clusters.map((c) => c.state)).toEqual(['claimed']);
  }, 600_000);
});
