// Start lab when the runner cannot hand out a cluster at once (the warm pool is busy):
// POST /api/sessions answers 202 and the page polls. Against the runner's real app and
// session manager (site/test/support/fake-tier-stack.ts) whose start hooks wait in line,
// take their time or fail, as the pool and the cluster set-up do.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { RunnerError } from '../../runner/src/errors.ts';
import { startFakeTierStack, type FakeTierStack } from './support/fake-tier-stack.ts';
import { LESSON, LESSON_ZH, browserUnavailable, launchChromium, newContext, seriousAxeViolations, snap, until, watchErrors } from './support/browser.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`SKIP Start lab progress browser tests: ${unavailable}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(unavailable)('Start lab: waiting in line, phases, failure (runner app, scripted start)', () => {
  let stack: FakeTierStack;
  let browser: Browser;
  /** What the next start does. */
  let scenario: 'queue' | 'fail' = 'queue';
  /** The start moves on only when the test says so (a busy machine must not skip a phase). */
  const gates: (() => void)[] = [];
  const gate = () => new Promise<void>((r) => gates.push(r));
  const advance = async () => {
    await until(async () => gates.length, (n) => n > 0, 15_000, 'the start to reach its next gate');
    gates.shift()!();
  };
  const url = (path = LESSON) => `${stack.origin}${path}?token=${stack.token}`;

  beforeAll(async () => {
    stack = await startFakeTierStack(undefined, {
      startWaitMs: 300,
      start: {
        // The pool: second in line (about 8 s), then first (about 4 s), then a cluster.
        workstationNetwork: async (_session, onWait) => {
          onWait({ position: 2, etaSeconds: 8 });
          await gate();
          if (scenario === 'fail') throw new RunnerError('POOL_TIMEOUT');
          onWait({ position: 1, etaSeconds: 4 });
          await gate();
          return undefined;
        },
        // The lab's starting objects.
        prepare: async () => gate(),
      },
    });
    browser = await launchChromium();
  });
  afterEach(() => {
    for (const open of gates.splice(0)) open();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function page(viewport?: { width: number; height: number }): Promise<Page> {
    return (await newContext(browser, viewport)).newPage();
  }
  const status = (p: Page) => p.locator('[data-ref="status-text"]').innerText();
  const ticker = (p: Page) => p.locator('[data-ref="start-ticker"]').innerText();
  const phase = (p: Page, id: string) => p.locator(`[data-ref="phases"] li[data-phase="${id}"]`);

  it('shows the place in line and a countdown, then each phase, survives a reload, and ends ready', async () => {
    scenario = 'queue';
    const p = await page();
    const errors = watchErrors(p);
    await p.goto(url());
    await p.getByRole('button', { name: 'Start lab' }).click();
    await phase(p, 'waiting').and(p.locator('[data-state="running"]')).waitFor({ timeout: 10_000 });
    await expect.poll(() => status(p)).toBe('Every cluster is in use: you are number 2 in line.');
    // The estimate counts down between polls.
    const first = Number(/about (\d+) s/.exec(await until(() => ticker(p), (t) => /about \d+ s/.test(t), 5_000, 'the countdown'))![1]);
    expect(first).toBeLessThanOrEqual(8);
    await expect.poll(async () => Number(/about (\d+) s/.exec(await ticker(p))?.[1] ?? 99), { timeout: 3_000 }).toBeLessThan(first);
    expect(await p.locator('[data-ref="phases"]').getAttribute('aria-label')).toBe('Starting the lab');
    expect(await phase(p, 'claiming').getAttribute('data-state')).toBe('pending');
    expect(await phase(p, 'waiting').innerText()).toMatch(/Wait for a free cluster\s*\(in progress\)/);
    // The learner can give up while waiting.
    expect(await p.getByRole('button', { name: 'Cancel' }).isVisible()).toBe(true);
    expect(await p.locator('[data-ref="start"]').isHidden()).toBe(true);
    await snap(p, 'start-1-waiting');
    expect(await seriousAxeViolations(p)).toEqual([]);

    await advance();
    await expect.poll(() => status(p), { timeout: 10_000 }).toBe('Every cluster is in use: you are number 1 in line.');
    // A reload while waiting finds the same session and goes on showing its progress.
    await p.reload();
    await expect.poll(() => status(p), { timeout: 15_000 }).toBe('Every cluster is in use: you are number 1 in line.');
    await expect.poll(() => ticker(p)).toMatch(/^Preparing — ready in about [1-4] s\.$|^Preparing — taking a little longer/);
    await advance();
    await expect.poll(() => status(p), { timeout: 15_000 }).toBe('Starting the lab: Set up the lab’s objects (step 3 of 3)…');
    expect(await phase(p, 'claiming').getAttribute('data-state')).toBe('done');
    expect(await phase(p, 'applying').getAttribute('aria-current')).toBe('step');
    expect(await ticker(p)).toMatch(/^Time so far: \d+ s$/);
    await snap(p, 'start-2-applying');

    await advance();
    await expect.poll(() => status(p), { timeout: 15_000 }).toBe('Lab running.');
    await p.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 15_000 });
    expect(await p.locator('[data-ref="phases"]').isHidden()).toBe(true);
    expect(await p.locator('[data-ref="start-ticker"]').isHidden()).toBe(true);
    expect(await p.getByRole('button', { name: 'End lab' }).isVisible()).toBe(true);
    await snap(p, 'start-3-ready');
    expect(errors).toEqual([]);
    await p.context().close();
  });

  it('Cancel while waiting removes the session and puts the panel back', async () => {
    scenario = 'queue';
    const p = await page();
    await p.goto(url());
    await p.getByRole('button', { name: 'Start lab' }).click();
    await phase(p, 'waiting').waitFor({ timeout: 10_000 });
    const id = await p.evaluate(() => sessionStorage.getItem('svclab:session:02-selectors-and-endpoints'));
    expect(id).toBeTruthy();
    await p.getByRole('button', { name: 'Cancel' }).click();
    await p.getByRole('button', { name: 'Start lab' }).waitFor();
    expect(await p.locator('[data-ref="phases"]').isHidden()).toBe(true);
    expect(await status(p)).toMatch(/^Not started\./);
    const r = await fetch(`${stack.origin}/api/sessions/${id}`, { headers: { authorization: `Bearer ${stack.token}` } });
    expect(r.status).toBe(404);
    // Nothing comes back to life once the start it cancelled goes on (and fails) in the runner.
    await advance();
    await sleep(1500);
    expect(await status(p)).toMatch(/^Not started\./);
    await p.context().close();
  });

  it('in Chinese on a phone: a start that fails says why and what to do, in Chinese, without a code', async () => {
    scenario = 'fail';
    const p = await page({ width: 390, height: 844 });
    await p.goto(url(LESSON_ZH));
    await p.getByRole('link', { name: '实验面板 ↓' }).click();
    await p.getByRole('button', { name: '开始实验' }).click();
    await expect.poll(() => status(p), { timeout: 10_000 }).toBe('集群都在使用中：你排在第 2 位。');
    await expect.poll(() => ticker(p)).toMatch(/^正在准备，大约 \d+ 秒后就绪。$/);
    expect(await phase(p, 'waiting').innerText()).toMatch(/等待空闲集群\s*（?\(?进行中/);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await snap(p, 'start-zh-1-waiting-phone');
    await advance();
    await expect.poll(() => status(p), { timeout: 15_000 }).toBe('等了很久也没有集群空出来。');
    const head = await p.locator('.svclab-lab__head').innerText();
    expect(head).toMatch(/过几分钟再点“开始实验”/);
    expect(head).not.toMatch(/POOL_TIMEOUT|failed/);
    expect(await p.locator('[data-ref="phases"]').isHidden()).toBe(true);
    const again = p.getByRole('button', { name: '重新开始实验' });
    expect(await again.isEnabled()).toBe(true);
    expect(await p.evaluate(() => sessionStorage.getItem('svclab:session:02-selectors-and-endpoints'))).toBeNull();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await snap(p, 'start-zh-2-failed-phone');
    await p.context().close();
  });
});
