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
  let connections = 0;
  let cut = false;
  // The cut happens in the proxy the moment the first frame carrying line 1xxx passes, so it
  // lands mid-output even when a real shell prints all 20000 lines in a blink; the frames
  // after it are dropped on the floor, as on a real network failure.
  await page.routeWebSocket(/\/api\/sessions\/[^/]+\/terminal/, (ws) => {
    connections++;
    const server = ws.connectToServer();
    server.onMessage((message) => {
      if (cut && connections === 1) return;
      ws.send(message);
      if (!cut && typeof message === 'string' && /"type":"data"/.test(message) && /\\n1\d{3}\\r/.test(message)) {
        cut = true;
        void ws.close({ code: 4000, reason: 'test cut' }).catch(() => undefined);
        void server.close({ code: 4000, reason: 'test cut' }).catch(() => undefined);
      }
    });
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
  await until(async () => cut, (c) => c, 60_000, 'the cut');
  await page.locator('[data-ref="term-state"][data-state="reconnecting"]').waitFor({ timeout: 5_000 });
  expect(await out()).not.toMatch(/\r?\n20000\r?\n/); // the cut really was mid-output
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

/** A reload mid-lab finds the same shell, its earlier output replayed once, and can type on. */
export async function reloadKeepsOutput(page: Page, url: string, shot: string): Promise<void> {
  await page.goto(new URL(LESSON + new URL(url).search, url).toString());
  await startLab(page);
  const marker = `mark-${Date.now().toString(36)}`;
  await typeInTerminal(page, `echo ${marker}\n`);
  await until(() => terminalText(page), (t) => t.split('\n').some((l) => l.trim() === marker), 20_000, 'the marker before reload');
  await page.reload();
  await page.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 30_000 });
  const text = await until(() => terminalText(page), (t) => t.split('\n').some((l) => l.trim() === marker), 20_000, 'the marker replayed after reload');
  expect(text.split('\n').filter((l) => l.trim() === marker)).toHaveLength(1);
  await typeInTerminal(page, 'echo after-reload\n');
  await until(() => terminalText(page), (t) => t.split('\n').some((l) => l.trim() === 'after-reload'), 20_000, 'output after reload');
  await snap(page, `${shot}-after-reload`);
}
