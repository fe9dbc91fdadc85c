// The terminal against a real workstation container through the real runner
// (runner/test/support/stack.ts). Needs docker and the workstation image; without them it
// prints one SKIP line with the reason the stack gives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startStack, type Stack } from '../../runner/test/support/stack.ts';
import { LESSON, browserUnavailable, launchChromium, newContext, snap, startLab } from './support/browser.ts';
import { cutMidOutput, echoHello, reloadKeepsOutput } from './support/terminal-scenarios.ts';

const unavailable = browserUnavailable();
let stack: Stack | undefined;
let reason = unavailable;
if (!reason) {
  stack = await startStack();
  reason = stack.sessionsUnavailable;
  if (reason) {
    await stack.close();
    stack = undefined;
  }
}
if (reason) console.log(`SKIP workstation terminal in the browser: ${reason}`);

describe.skipIf(reason)('terminal in a real workstation container', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('types echo hello and reads hello back from the xterm screen', async () => {
    const page = await (await newContext(browser)).newPage();
    await echoHello(page, stack!.url, 'workstation-terminal');
    await page.context().close();
  });

  it('keeps the terminal output over a reload, shown once', async () => {
    const page = await (await newContext(browser)).newPage();
    await reloadKeepsOutput(page, stack!.url, 'workstation-reload');
    await page.context().close();
  });

  it('Check runs the step checks in the workstation and shows what they found', async () => {
    const page = await (await newContext(browser)).newPage();
    await page.goto(new URL(LESSON + new URL(stack!.url).search, stack!.url).toString());
    await startLab(page);
    await page.getByRole('button', { name: /^Check: Observe/ }).click();
    const step = page.locator('li.svclab-step[data-step="observe"]');
    // With or without a cluster the learner reads a verdict, a message and usually a hint.
    await expect.poll(() => step.locator('.svclab-check').count(), { timeout: 60_000 }).toBeGreaterThan(0);
    expect(await step.locator('.svclab-check').first().innerText()).toMatch(/\S/);
    await step.scrollIntoViewIfNeeded();
    await snap(page, 'workstation-check-observe');
    await page.context().close();
  });

  it('cuts the WebSocket during seq 1 20000; every line arrives exactly once', async () => {
    const page = await (await newContext(browser)).newPage();
    await cutMidOutput(page, stack!.url, 'workstation-reconnect');
    await page.context().close();
  });
});
