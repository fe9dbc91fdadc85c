// The workshop's notices on a learner's lab page, in Chromium, against the runner's real app
// in workshop mode (fake containers, a scripted shell, a clock the test moves): no banner while
// the end is far, "This workshop ends at HH:MM — in N min" within the last five minutes (and in
// Chinese); the instructor's "+15 min" on the learner's row takes it away again; and when the
// runner moves the learner's session to a new cluster the page follows it and says why, the
// step still ticked.
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeContainerEngine } from '../../runner/src/engine/fake-container-engine.ts';
import { buildApp, noClusterApply } from '../../runner/src/http/app.ts';
import { labsPort } from '../../runner/src/http/lab-ports.ts';
import { loadLabs } from '../../runner/src/labs/load-labs.ts';
import { SessionManager } from '../../runner/src/sessions/session-manager.ts';
import { SessionMover } from '../../runner/src/workshop/session-mover.ts';
import { Workshop } from '../../runner/src/workshop/workshop.ts';
import { MemoryWorkshopStore } from '../../runner/src/workshop/workshop-store.ts';
import { ScriptedPtyFactory } from './support/fake-tier-stack.ts';
import { browserUnavailable, launchChromium, siteDir, snap, watchErrors } from './support/browser.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`SKIP workshop notice browser tests: ${unavailable}`);

const root = join(import.meta.dirname, '../..');
const LAB = '02-selectors-and-endpoints';
const CODE = 'NOTICE42';
const MIN = 60_000;

describe.skipIf(unavailable)('workshop notices on the lab page', () => {
  let browser: Browser;
  let origin = '';
  let offset = 0;
  let workshop: Workshop;
  let sessions: SessionManager;
  let close: () => Promise<void> = async () => undefined;
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    const engine = new FakeContainerEngine();
    engine.addImage('svclab/workstation:fake');
    const { labs } = await loadLabs(root);
    sessions = new SessionManager({ engine, ptys: new ScriptedPtyFactory(), logger, workstationImage: async () => 'svclab/workstation:fake' });
    workshop = await Workshop.create({ store: new MemoryWorkshopStore(), now: () => Date.now() + offset }, { labs: [LAB], capacity: 5, reserve: 0, durationMs: 2 * 3600_000, code: CODE });
    let origins: string[] = [];
    const app = await buildApp({
      logger, token: workshop.instructorSecret, allowedOrigins: () => origins, sessions, labs: labsPort(labs), workshop,
      checks: { run: async () => ({ passed: true, results: [{ checkId: 'ok', kind: 'command', status: 'pass', message: 'ok' }] }) },
      apply: noClusterApply, siteDir, version: '0.0.0-notice-test',
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    origins = [origin];
    close = async () => { await sessions.closeAll(); await app.close(); };
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await close();
  });

  async function learner(name: string, zh = false): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: zh ? 'zh-CN' : 'en-US', timezoneId: 'UTC' });
    const page = await ctx.newPage();
    await page.goto(`${origin}${zh ? '/zh-cn' : ''}/join/?code=${CODE}`);
    await page.locator('#svclab-join-name').fill(name);
    await page.locator('svclab-join button[type="submit"]').click();
    await page.waitForURL(/\/(zh-cn\/)?$/);
    await page.goto(`${origin}${zh ? '/zh-cn' : ''}/labs/${LAB}/`);
    return page;
  }
  const expiry = (p: Page) => p.locator('svclab-workshop-notice [data-ref="expiry"]');

  it('shows the banner only within the last five minutes, in both languages; +15 min for one learner takes it away', async () => {
    const ana = await learner('Ana');
    const errors = watchErrors(ana);
    await ana.getByRole('button', { name: 'Start lab' }).click();
    await ana.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 30_000 });
    await ana.waitForTimeout(1500); // the notice has asked /me at least once
    expect(await ana.locator('svclab-workshop-notice').isHidden()).toBe(true);

    // 4 minutes before the end (the runner's clock): the banner appears at the next poll.
    offset = workshop.expiresAt - Date.now() - 4 * MIN + 10_000;
    const end = new Date(workshop.expiresAt).toISOString().slice(11, 16);
    await expect.poll(() => expiry(ana).innerText().catch(() => ''), { timeout: 15_000 }).toBe(`This workshop ends at ${end} — in 4 min.`);
    expect(await ana.locator('svclab-workshop-notice').isVisible()).toBe(true);
    await snap(ana, 'workshop-notice-1-expiry-en');

    const li = await learner('Li', true);
    await expect.poll(() => expiry(li).innerText().catch(() => ''), { timeout: 25_000 }).toBe(`本次工作坊将于 ${end} 结束——还剩 4 分钟。`);

    // The instructor gives Ana 15 more minutes from her row: her banner goes; Li's stays.
    const instructor = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    instructor.on('dialog', (d) => void d.accept());
    await instructor.goto(`${origin}/instructor/?token=${workshop.instructorSecret}`);
    await instructor.getByRole('button', { name: 'Give Ana 15 more minutes' }).click();
    await expect.poll(() => instructor.locator('[data-ref="control-result"]').innerText(), { timeout: 10_000 }).toBe('Done (1 affected).');
    await expect.poll(() => expiry(ana).isHidden(), { timeout: 15_000 }).toBe(true);
    expect(await expiry(li).isVisible()).toBe(true);
    expect(errors).toEqual([]);
    offset = 0;
    await ana.context().close();
    await li.context().close();
    await instructor.context().close();
  });

  it('follows a session the runner moved to a new cluster, says why, and keeps the ticks', async () => {
    const bo = await learner('Bo');
    const errors = watchErrors(bo);
    await bo.getByRole('button', { name: 'Start lab' }).click();
    await bo.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 30_000 });
    await bo.getByRole('button', { name: /^Check: Observe/ }).click();
    await expect.poll(() => bo.locator('li.svclab-step[data-step="observe"] .svclab-result').innerText(), { timeout: 15_000 }).toMatch(/Step passed\./);
    const boId = (await bo.evaluate(() => fetch('/api/workshop/me').then((r) => r.json()))).learner.id as string;
    const before = sessions.list().find((s) => s.learner === boId)!;
    // What the cluster watch does when Bo's cluster stops answering.
    const mover = new SessionMover({ sessions, pool: { discard: () => 'svclab-pool-9' }, workshop, logger });
    const [move] = await mover.move(before.learner, 'svclab-pool-9');
    expect(move).toMatchObject({ from: before.id });
    await expect.poll(() => bo.locator('svclab-workshop-notice [data-ref="moved"]').innerText().catch(() => ''), { timeout: 15_000 }).toMatch(/^Your cluster stopped answering, so svclab moved your lab to a new one\./);
    await bo.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 30_000 });
    await expect.poll(() => bo.evaluate(() => sessionStorage.getItem('svclab:session:02-selectors-and-endpoints')), { timeout: 15_000 }).toBe(move!.to);
    await expect.poll(() => bo.locator('[data-ref="status-text"]').innerText(), { timeout: 15_000 }).toBe('Lab running.');
    await expect.poll(() => bo.locator('li.svclab-step[data-step="observe"]').getAttribute('class'), { timeout: 15_000 }).toMatch(/svclab-step--passed/);
    await snap(bo, 'workshop-notice-2-moved');
    expect(errors).toEqual([]);
    await bo.context().close();
  });
});
