// kill -9 the runner under an open lab page, start it again on the same port: the tab
// reconnects to the same session, a reload replays the terminal history the runner
// persisted (the command typed before the kill), and ~/answers/x is still there.
// The runner is a child process (runner/test/support/runner-child.ts) in this test's own
// cache dir, serving the built site (dist/, or SVCLAB_SITE_DIR as for the other browser tests). Needs Chromium, dist/, docker and the
// workstation image; without them, one SKIP line.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, kill9, sessionsUnavailable, startRunnerProcess, stopRunner, type RunnerProcess } from '../../runner/test/support/runner-process.ts';
import { CHROMIUM, LESSON, launchChromium, newContext, siteDir, snap, startLab, terminalText, typeInTerminal, until } from './support/browser.ts';

async function unavailable(): Promise<string | undefined> {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM}`;
  if (!existsSync(join(siteDir, 'index.html'))) return `the site is not built (run \`astro build\`; looked in ${siteDir})`;
  return sessionsUnavailable();
}

const reason = await unavailable();
if (reason) console.log(`SKIP durable session in the browser (kill -9 and restart the runner): ${reason}`);

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', timeout: 60_000 }).trim();
const hasLine = (t: string, line: string) => t.split('\n').some((l) => l.trim() === line);

describe.skipIf(reason)('a lab page survives kill -9 of the runner', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'svclab-durable-browser-'));
  let runner: RunnerProcess | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await stopRunner(runner);
    const mine = `label=svclab.state-dir=${join(cacheDir, 'sessions')}`;
    for (const c of docker('ps', '-aq', '--filter', mine).split('\n').filter(Boolean)) docker('rm', '-f', c);
    for (const v of docker('volume', 'ls', '-q', '--filter', mine).split('\n').filter(Boolean)) docker('volume', 'rm', v);
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('the open tab reconnects, a reload replays the command typed before the kill, ~/answers/x is kept', async () => {
    const port = await freePort();
    runner = await startRunnerProcess({ cacheDir, port });
    browser = await launchChromium();
    const page = await (await newContext(browser)).newPage();
    await page.goto(new URL(LESSON + new URL(runner.url).search, runner.url).toString());
    await startLab(page);
    const mark = `durable-${Date.now().toString(36)}`;
    await typeInTerminal(page, `mkdir -p ~/answers && echo ${mark} > ~/answers/x && echo typed-${mark}\n`);
    await until(() => terminalText(page), (t) => hasLine(t, `typed-${mark}`), 30_000, 'the command ran');
    await page.waitForTimeout(600); // the runner writes the history 250 ms after a change
    await snap(page, 'durable-1-before-kill');

    await kill9(runner);
    await page.locator('[data-ref="term-state"][data-state="reconnecting"]').waitFor({ timeout: 15_000 });
    await snap(page, 'durable-2-runner-killed');
    runner = await startRunnerProcess({ cacheDir, port });

    // The same tab, no reload: it reconnects to the same session (same token, same port).
    await page.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 60_000 });
    await snap(page, 'durable-3-reconnected');
    // A reload starts from an empty screen: what it shows now comes from the history the runner persisted.
    await page.reload();
    await page.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 30_000 });
    await until(() => terminalText(page), (t) => hasLine(t, `typed-${mark}`), 20_000, 'the command replayed after the restart');
    await typeInTerminal(page, 'cat ~/answers/x\n');
    await until(() => terminalText(page), (t) => hasLine(t, mark), 30_000, '~/answers/x read back');
    await snap(page, 'durable-4-after-restart');
    expect(runner.out.join('\n')).toMatch(/took back 1 session\(s\) of an earlier runner/);
    await page.context().close();
  });
});
