// Terminal scenarios shared by the fake tier (scripted shell) and the real tier (workstation
// container): the same learner actions, the same expectations.
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { LESSON, snap, startLab, terminalText, typeInTerminal, until } from './browser.ts';

export async function echoHello(page: Page, url: string, shot: string): Promise<void> {
  await page.goto(new URL(LESSON + new URL(url).search, url).toString());
  await snap(page, `${shot}-1-lesson`);
  await startLab(page);
  await snap(page, `${shot}-2-started`);
  await typeInTerminal(page, 'echo hello\n');
  const text = await until(() => terminalText(page), (t) => t.split('\n').some((l) => l.trim() === 'hello'), 20_000, '"hello" on the xterm screen');
  expect(text).toContain('echo hello');
  // What the learner sees, not just the buffer: the rendered rows.
  await expect.poll(() => page.locator('.xterm-rows').innerText()).toMatch(/^hello$/m);
  await snap(page, `${shot}-3-echo-hello`);
}

/**
 * Cut the WebSocket while `seq 1 20000` is printing; after the reconnect every line must have
 * reached xterm exactly once and in order.
 */
export async function cutMidOutput(page: Page, url: string, shot: string): Promise<{ connections: number }> {
  const live: { close(): Promise<void> }[] = [];
  let connections = 0;
  await page.routeWebSocket(/\/api\/sessions\/[^/]+\/terminal/, (ws) => {
    connections++;
    const server = ws.connectToServer();
    live.push({ close: async () => void (await Promise.all([ws.close({ code: 4000, reason: 'test cut' }), server.close({ code: 4000, reason: 'test cut' })])) });
  });
  await page.goto(new URL(LESSON + new URL(url).search, url).toString());
  await startLab(page);
  await page.evaluate(() => {
    const w = window as unknown as { __out: string };
    w.__out = '';
    (document.querySelector('svclab-lab') as unknown as { svclab: { tapTerminal(fn: (d: string) => void): void } }).svclab.tapTerminal((d) => (w.__out += d));
  });
  const out = () => page.evaluate(() => (window as unknown as { __out: string }).__out);
  await typeInTerminal(page, 'seq 1 20000\n');
  await until(out, (o) => /\r?\n2\d{3}\r?\n/.test(o), 30_000, 'the first couple of thousand lines');
  const before = await out();
  expect(before).not.toMatch(/\r?\n20000\r?\n/); // still mid-output
  await live.at(-1)!.close();
  await page.locator('[data-ref="term-state"][data-state="reconnecting"]').waitFor({ timeout: 5_000 });
  await snap(page, `${shot}-1-reconnecting`);
  await until(out, (o) => /\r?\n20000\r?\n/.test(o), 60_000, 'line 20000 after the reconnect');
  await page.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 10_000 });
  const numbers = (await out())
    .split(/\r?\n/)
    .map((l) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim())
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
  const expected = Array.from({ length: 20000 }, (_, i) => i + 1);
  // Compare compactly: a mismatch names the first wrong position.
  const firstBad = expected.findIndex((n, i) => numbers[i] !== n);
  expect({ count: numbers.length, firstBad, at: firstBad >= 0 ? numbers.slice(Math.max(0, firstBad - 2), firstBad + 3) : [] }).toEqual({ count: 20000, firstBad: -1, at: [] });
  await expect.poll(() => terminalText(page)).toMatch(/^20000$/m);
  await snap(page, `${shot}-2-after-reconnect`);
  expect(connections).toBeGreaterThanOrEqual(2);
  return { connections };
}
