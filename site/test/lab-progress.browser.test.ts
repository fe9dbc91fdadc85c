// Terminal tabs, automatic re-checks, Solve, Reset lab, progress on the lesson index, and
// enlarged diagrams, in Chromium against the runner's real app with a scripted terminal
// (site/test/support/fake-tier-stack.ts): its Solve/Reset actions and node shells are the
// test's, everything else (routes, progress, sessions, terminals, replay) is the runner's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ChecksPort, LabActionsPort } from '../../runner/src/http/app.ts';
import { startFakeTierStack, type FakeTierStack } from './support/fake-tier-stack.ts';
import { LESSON, browserUnavailable, launchChromium, newContext, seriousAxeViolations, snap, startLab, terminalText, typeInTerminal, until, watchErrors } from './support/browser.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`SKIP lab progress browser tests: ${unavailable}`);

const LAB = '02-selectors-and-endpoints';

describe.skipIf(unavailable)('terminal tabs, checks, Solve, progress and Reset lab (scripted terminal)', () => {
  let stack: FakeTierStack;
  let browser: Browser;
  /** Per test: steps that pass (Check), steps Solve has solved, Reset calls, check concurrency. */
  let passing = new Set<string>();
  let solved = new Set<string>();
  let resets = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  /** The next check polls (like a real one before its deadline) until aborted or 20 s pass. */
  let slowNext = false;
  let abortedSeen = 0;
  const checks: ChecksPort = {
    run: async (_session, stepId, signal) => {
      if (slowNext) {
        slowNext = false;
        await new Promise<void>((r) => {
          const t = setTimeout(r, 20_000);
          signal.addEventListener('abort', () => (clearTimeout(t), abortedSeen++, r()), { once: true });
        });
      }
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 150));
      inFlight--;
      const passed = passing.has(stepId) || solved.has(stepId);
      return {
        passed,
        results: [{ checkId: `${stepId}-check`, kind: 'command', status: passed ? 'pass' : 'fail', message: passed ? `Step ${stepId} is right.` : `Step ${stepId} is not done yet.` }],
      };
    },
  };
  const actions: LabActionsPort = {
    solve: async (_session, stepId) => void solved.add(stepId),
    reset: async () => {
      resets++;
      solved.clear();
    },
  };
  const url = (path = LESSON) => `${stack.origin}${path}?token=${stack.token}`;

  beforeAll(async () => {
    stack = await startFakeTierStack(checks, { actions, nodeShells: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function page(): Promise<Page> {
    passing = new Set();
    solved = new Set();
    resets = 0;
    maxInFlight = 0;
    return (await newContext(browser)).newPage();
  }
  const progressText = (p: Page) => p.locator('[data-ref="progress"]').innerText();

  it('offers a tab per node shell; each tab keeps its own output', async () => {
    const p = await page();
    const errors = watchErrors(p);
    await p.goto(url());
    await startLab(p);
    const tabs = p.getByRole('tablist', { name: 'Terminals' });
    await tabs.waitFor();
    expect(await tabs.getByRole('tab').allInnerTexts()).toEqual(['workstation', 'svclab-main-control-plane (root)', 'svclab-main-worker (root)']);
    expect(await p.locator('[data-ref="node-note"]').innerText()).toMatch(/root shells in the node’s privileged container.*loopback/);

    await typeInTerminal(p, 'echo ws-mark\n');
    await until(() => terminalText(p), (t) => t.split('\n').some((l) => l.trim() === 'ws-mark'), 20_000, 'ws-mark in the workstation');

    await p.getByRole('tab', { name: 'svclab-main-control-plane (root)' }).click();
    expect(await p.getByRole('tab', { name: 'svclab-main-control-plane (root)' }).getAttribute('aria-selected')).toBe('true');
    await p.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 20_000 });
    await typeInTerminal(p, 'hostname\n');
    const cp = await until(() => terminalText(p), (t) => t.split('\n').some((l) => l.trim() === 'svclab-main-control-plane'), 20_000, 'hostname on the control plane');
    expect(cp).not.toContain('ws-mark');
    await snap(p, 'tabs-1-control-plane');

    // Back to the workstation: its output is there, the node's is not; nothing was reconnected.
    await p.getByRole('tab', { name: 'workstation' }).click();
    const ws = await terminalText(p);
    expect(ws).toContain('ws-mark');
    expect(ws).not.toContain('svclab-main-control-plane');
    await p.getByRole('tab', { name: 'svclab-main-control-plane (root)' }).click();
    expect(await terminalText(p)).toContain('svclab-main-control-plane');

    // A reload comes back to the node tab, its output replayed once by the runner.
    await p.reload();
    await p.getByRole('tab', { name: 'svclab-main-control-plane (root)', selected: true }).waitFor({ timeout: 20_000 });
    const replayed = await until(() => terminalText(p), (t) => t.includes('svclab-main-control-plane\n'), 20_000, 'the node tab replayed after reload');
    expect(replayed.split('\n').filter((l) => l.trim() === 'svclab-main-control-plane')).toHaveLength(1);

    // Keyboard: arrows move along the tabs (roving tabindex), the selected one is the Tab stop.
    await p.getByRole('tab', { name: 'svclab-main-control-plane (root)' }).focus();
    await p.keyboard.press('ArrowRight');
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('svclab-main-worker (root)');
    expect(await p.getByRole('tab', { name: 'svclab-main-worker (root)' }).getAttribute('aria-selected')).toBe('true');
    await p.keyboard.press('Home');
    expect(await p.getByRole('tab', { name: 'workstation' }).getAttribute('aria-selected')).toBe('true');
    expect(errors).toEqual([]);
    await p.context().close();
  });

  it('shows the workstation alone, without tabs, when the runner offers no node shells', async () => {
    const plain = await startFakeTierStack(checks);
    const p = await page();
    await p.goto(`${plain.origin}${LESSON}?token=${plain.token}`);
    await startLab(p);
    await p.waitForTimeout(500);
    expect(await p.locator('[data-ref="term-tabs"]').isHidden()).toBe(true);
    expect(await p.locator('[data-ref="node-note"]').isHidden()).toBe(true);
    await p.context().close();
    await plain.close();
  });

  it('Solve (after a confirm) applies the solution, re-checks and marks the step solved with help; the next step unlocks', async () => {
    const p = await page();
    await p.goto(url());
    await startLab(p);
    expect(await progressText(p)).toBe('0 of 3 steps done');
    expect(await p.getByRole('button', { name: /^Check: Label the pods/ }).isHidden()).toBe(true);
    const dialogs: string[] = [];
    p.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await p.getByRole('button', { name: /^Solve: Observe/ }).click();
    const step = p.locator(`li.svclab-step[data-step="observe"]`);
    await expect.poll(() => step.getAttribute('class')).toMatch(/svclab-step--solved/);
    expect(dialogs[0]).toMatch(/solved with help/);
    expect(await step.innerText()).toMatch(/Solved with help\./);
    expect(await step.innerText()).toMatch(/\(solved with help\)/);
    expect(await progressText(p)).toBe('1 of 3 steps done');
    await p.getByRole('button', { name: /^Check: Label the pods/ }).waitFor();
    const stored = await p.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? '{}'), `svclab:progress:${LAB}`);
    expect(stored.steps.observe.status).toBe('solved-with-help');
    await snap(p, 'solve-1-solved-with-help');

    // A reload takes the runner's progress (the step stays solved with help).
    await p.reload();
    await expect.poll(() => p.locator(`li.svclab-step[data-step="observe"]`).getAttribute('class')).toMatch(/svclab-step--solved/);
    await p.context().close();
  });

  it('Solve does nothing when the learner cancels the confirm', async () => {
    const p = await page();
    await p.goto(url());
    await startLab(p);
    p.on('dialog', (d) => void d.dismiss());
    await p.getByRole('button', { name: /^Solve: Observe/ }).click();
    await p.waitForTimeout(500);
    expect(solved.size).toBe(0);
    expect(await p.locator(`li.svclab-step[data-step="observe"]`).getAttribute('class')).not.toMatch(/solved/);
    await p.context().close();
  });

  it('re-checks the open step automatically, one at a time, and stops while the page is hidden', async () => {
    const p = await page();
    const checkRequests: number[] = [];
    p.on('request', (r) => r.url().includes('/steps/observe/check') && checkRequests.push(Date.now()));
    await p.goto(url());
    await startLab(p);
    expect(await p.locator('[data-ref="autocheck"]').innerText()).toMatch(/Re-checking automatically.*next in 5 s/);
    await until(async () => checkRequests.length, (n) => n >= 1, 9_000, 'the first automatic check');
    await expect.poll(() => p.locator('li.svclab-step[data-step="observe"]').innerText()).toMatch(/Step observe is not done yet/);
    // Backed off: the next one is announced at 10 s.
    await expect.poll(() => p.locator('[data-ref="autocheck"]').innerText()).toMatch(/next in 10 s/);
    // A learner's Check while nothing else runs, then hide the page.
    await p.getByRole('button', { name: /^Check: Observe/ }).click();
    await until(async () => checkRequests.length, (n) => n >= 2, 5_000, 'the manual check');
    await p.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const whenHidden = checkRequests.length;
    expect(await p.locator('[data-ref="autocheck"]').isHidden()).toBe(true);
    await p.waitForTimeout(11_000);
    expect(checkRequests.length).toBe(whenHidden);
    expect(maxInFlight).toBe(1);

    // Visible again: checking resumes from 5 s, and stops for good once the step passes.
    passing.add('observe');
    await p.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await expect.poll(() => p.locator('li.svclab-step[data-step="observe"]').getAttribute('class'), { timeout: 10_000 }).toMatch(/svclab-step--passed/);
    // The next step is now the open one: automatic checks move on to it.
    expect(await p.locator('[data-ref="autocheck"]').isVisible()).toBe(true);
    await p.context().close();
  }, 60_000);

  it('a learner’s Check does not wait for a slow automatic check: it is aborted, and the runner stops polling', async () => {
    const p = await page();
    abortedSeen = 0;
    slowNext = true;
    const started: string[] = [];
    p.on('request', (r) => r.url().includes('/steps/observe/check') && started.push(r.url()));
    await p.goto(url());
    await startLab(p);
    await until(async () => started.length, (n) => n >= 1, 9_000, 'the first automatic check');
    await p.waitForTimeout(300);
    const t0 = Date.now();
    await p.getByRole('button', { name: /^Check: Observe/ }).click();
    await expect.poll(() => p.locator('li.svclab-step[data-step="observe"]').innerText(), { timeout: 5_000 }).toMatch(/Step observe is not done yet/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    await expect.poll(() => abortedSeen).toBe(1);
    expect(await p.locator('li.svclab-step[data-step="observe"] .svclab-error-block').count()).toBe(0);
    await p.context().close();
  });

  it('Reset lab (after a confirm) clears the ticks, and the lesson index shows progress', async () => {
    const p = await page();
    passing.add('observe');
    await p.goto(url());
    await startLab(p);
    await p.getByRole('button', { name: /^Check: Observe/ }).click();
    await expect.poll(() => p.locator('li.svclab-step[data-step="observe"]').getAttribute('class')).toMatch(/svclab-step--passed/);
    expect(await progressText(p)).toBe('1 of 3 steps done');

    await p.goto(url('/'));
    const row = p.locator('.svclab-index li', { hasText: 'Lab 02' });
    await expect.poll(() => row.locator('[data-lab-progress]').innerText()).toBe('1/3 steps done');
    expect(await p.locator(`.svclab-index [data-lab-progress="01-why-services"]`).innerText()).toBe('Not started');
    await row.scrollIntoViewIfNeeded();
    await snap(p, 'index-1-progress');

    await p.goto(url());
    await p.getByRole('button', { name: 'Reset lab…' }).waitFor();
    p.on('dialog', (d) => void d.accept());
    passing.clear();
    await p.getByRole('button', { name: 'Reset lab…' }).click();
    await expect.poll(() => p.locator('[data-ref="status-text"]').innerText()).toMatch(/back at its starting state/);
    expect(resets).toBe(1);
    expect(await p.locator('li.svclab-step[data-step="observe"]').getAttribute('class')).not.toMatch(/passed/);
    expect(await progressText(p)).toBe('0 of 3 steps done');
    expect(await p.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? '{}').steps, `svclab:progress:${LAB}`)).toEqual({});
    await snap(p, 'reset-1-cleared');
    await p.goto(url('/'));
    await expect.poll(() => p.locator(`.svclab-index [data-lab-progress="${LAB}"]`).innerText()).toBe('Not started');
    await p.context().close();
  });

  it('fits the tabs, Solve and Reset lab on a 390 px phone; the Chinese index and panel speak Chinese', async () => {
    passing = new Set();
    const p = await (await newContext(browser, { width: 390, height: 844 })).newPage();
    await p.goto(url());
    await p.getByRole('link', { name: 'Lab panel ↓' }).click();
    await startLab(p);
    await p.getByRole('tablist', { name: 'Terminals' }).waitFor();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await p.locator('.svclab-lab__head').scrollIntoViewIfNeeded();
    await snap(p, 'phone-tabs-1');
    await p.locator('[data-ref="steps"]').scrollIntoViewIfNeeded();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await snap(p, 'phone-steps-1');

    await p.goto(url('/zh-cn/'));
    await expect.poll(() => p.locator('#svclab-index-heading').innerText()).toBe('全部实验');
    expect(await p.locator(`.svclab-index [data-lab-progress="${LAB}"]`).innerText()).toBe('未开始');
    expect(await p.locator('.svclab-index a').first().getAttribute('href')).toMatch(/^\/zh-cn\/labs\/01-/);
    await p.goto(url('/zh-cn/labs/02-selectors-and-endpoints/'));
    await p.getByRole('tablist', { name: '终端' }).waitFor();
    expect(await p.getByRole('button', { name: '重置实验…' }).count()).toBe(1);
    expect(await p.locator('[data-ref="progress"]').innerText()).toMatch(/已完成 0\/3 步/);
    await p.context().close();
  });

  it('reaches the new controls by keyboard, each with a name; diagrams enlarge in a dialog; no serious axe violations', async () => {
    const p = await page();
    await p.goto(url('/labs/01-why-services/'));
    await startLab(p);
    await p.getByRole('tablist', { name: 'Terminals' }).waitFor();
    await p.locator('body').focus();
    const reached: string[] = [];
    for (let i = 0; i < 120; i++) {
      await p.keyboard.press('Tab');
      const info = await p.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el.tagName !== 'BUTTON') return null;
        const name = el.getAttribute('aria-label') || el.textContent || '';
        return `${el.getAttribute('role') ?? 'button'}:${name.trim().replace(/\s+/g, ' ')}`;
      });
      if (info && !reached.includes(info)) reached.push(info);
      if (info?.startsWith('tab:')) {
        // Tab leaves the xterm only with F6; skip over it as a learner would.
        await p.keyboard.press('Tab');
        await p.keyboard.press('F6');
      }
    }
    expect(reached.some((r) => r.startsWith('button:Enlarge diagram: '))).toBe(true);
    expect(reached).toContain('button:Reset lab…');
    expect(reached).toContain('tab:workstation');
    expect(reached.some((r) => r.startsWith('button:Solve: '))).toBe(true);
    expect(reached.some((r) => r.startsWith('button:Unlock anyway: '))).toBe(true);

    // The diagram dialog: Enter opens it, focus goes to Close, Escape returns focus.
    const enlarge = p.getByRole('button', { name: /^Enlarge diagram: / }).first();
    await enlarge.focus();
    await p.keyboard.press('Enter');
    const dialog = p.getByRole('dialog');
    await dialog.waitFor();
    expect(await p.evaluate(() => document.activeElement?.textContent)).toMatch(/Close/);
    const width = (await dialog.locator('svg').boundingBox())!.width;
    expect(width).toBeGreaterThan(900);
    await snap(p, 'diagram-1-enlarged');

    const axe = () => seriousAxeViolations(p);
    expect(await axe()).toEqual([]);
    await p.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await p.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toMatch(/^Enlarge diagram: /);
    expect(await axe()).toEqual([]);
    await p.context().close();
  });
});
