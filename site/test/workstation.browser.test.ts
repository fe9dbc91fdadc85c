// The terminal against a real workstation container through the real runner
// (runner/test/support/stack.ts). Needs docker and the workstation image; without them it
// prints one SKIP line with the reason the stack gives.
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startStack, type Stack } from '../../runner/test/support/stack.ts';
import { browserUnavailable, launchChromium, newContext } from './support/browser.ts';
import { cutMidOutput, echoHello } from './support/terminal-scenarios.ts';

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

  it('cuts the WebSocket during seq 1 20000; every line arrives exactly once', async () => {
    const page = await (await newContext(browser)).newPage();
    await cutMidOutput(page, stack!.url, 'workstation-reconnect');
    await page.context().close();
  });
});
