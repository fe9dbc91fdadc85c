// Chromium for the browser tests: Debian's /usr/bin/chromium through playwright-core (never a
// downloaded browser), screenshots under test-results/screenshots/, and the lab panel's
// debugging handle (<svclab-lab>.svclab) reached from page code.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const root = join(import.meta.dirname, '../../..');
export const CHROMIUM = process.env.SVCLAB_CHROMIUM ?? '/usr/bin/chromium';
const shotsDir = join(root, 'test-results/screenshots');
/** The built site the tests serve: dist/, or SVCLAB_SITE_DIR (a private `astro build --outDir`). */
export const siteDir = process.env.SVCLAB_SITE_DIR ?? join(root, 'dist');

/** Why browser tests cannot run here, or undefined when they can. */
export function browserUnavailable(): string | undefined {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
  if (!existsSync(join(siteDir, 'index.html'))) return `the site is not built (run \`astro build\`; looked in ${siteDir})`;
  return undefined;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** Per page: console errors and failed requests, named when startLab gives up (a flake explains itself). */
const trouble = new WeakMap<Page, string[]>();

export async function newContext(browser: Browser, viewport = { width: 1280, height: 720 }): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport, permissions: ['clipboard-read', 'clipboard-write'], locale: 'en-US' });
  context.on('page', (page) => {
    const seen: string[] = [];
    trouble.set(page, seen);
    page.on('console', (m) => m.type() === 'error' && seen.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => seen.push(`request failed: ${r.method()} ${r.url()} (${r.failure()?.errorText ?? '?'})`));
    page.on('response', (r) => r.status() >= 400 && seen.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`));
  });
  return context;
}

export async function snap(page: Page, name: string): Promise<string> {
  mkdirSync(shotsDir, { recursive: true });
  const path = join(shotsDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

export const LESSON = '/labs/02-selectors-and-endpoints/';
export const LESSON_ZH = '/zh-cn/labs/02-selectors-and-endpoints/';

/** Collects page errors so a test can assert the page stayed healthy. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

export async function startLab(page: Page): Promise<void> {
  await page.getByRole('button', { name: /^(Start lab|Start lab again|开始实验|重新开始实验)$/ }).click();
  await page
    .locator('[data-ref="term-state"][data-state="open"]')
    .waitFor({ timeout: 90_000 })
    .catch(async (e: unknown) => {
      await snap(page, 'start-lab-FAILED').catch(() => undefined);
      const panel = await page.locator('.svclab-lab__head').innerText().catch(() => '?');
      const term = await page.locator('[data-ref="terminal"]').innerHTML().catch(() => '?');
      const seen = (trouble.get(page) ?? []).slice(-20).join('\n');
      throw new Error(`${String(e)}\npanel: ${panel}\nterminal: ${term.slice(0, 400)}\npage trouble:\n${seen || '(none)'}`);
    });
}

export async function terminalText(page: Page): Promise<string> {
  return page.evaluate(() => (document.querySelector('svclab-lab') as unknown as { svclab: { terminalText(): string } }).svclab.terminalText());
}

export async function typeInTerminal(page: Page, text: string): Promise<void> {
  // The visible tab's terminal (node tabs keep their own xterm in a hidden pane).
  await page.locator('.xterm').filter({ visible: true }).first().click();
  await page.keyboard.type(text);
}

export async function editorValue(page: Page): Promise<string> {
  return page.evaluate(() => (document.querySelector('svclab-lab') as unknown as { svclab: { controller: { editor?: { value(): string } } } }).svclab.controller.editor?.value() ?? '');
}

export async function markers(page: Page): Promise<{ owner: string; message: string; line: number }[]> {
  return page.evaluate(() => (document.querySelector('svclab-lab') as unknown as { svclab: { markers(): Promise<{ owner: string; message: string; line: number }[]> } }).svclab.markers());
}

export async function openEditor(page: Page, summary = /YAML editor|YAML 编辑器/): Promise<void> {
  await page.locator('summary', { hasText: summary }).click();
  await page.locator('.monaco-editor .view-lines').waitFor({ timeout: 60_000 });
}

/** Replace the editor's text the way a learner pasting would (typing would auto-indent). */
export async function pasteIntoEditor(page: Page, text: string): Promise<void> {
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.keyboard.press('ControlOrMeta+V');
}

export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${String(last).slice(-500)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await fn();
  }
  return last;
}

/** Serious and critical axe-core violations on the page, as "rule: targets" lines. */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  const { readFileSync } = await import('node:fs');
  const { createRequire } = await import('node:module');
  const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  // Expressive Code makes a code block that scrolls sideways focusable (tabindex=0, role=region)
  // from requestIdleCallback: on a busy machine the page is idle late, so wait for that promise
  // (the same condition axe's scrollable-region-focusable checks; never kept, axe reports it).
  await page
    .waitForFunction(() => [...document.querySelectorAll<HTMLElement>('.expressive-code pre')].every((p) => p.scrollWidth <= p.clientWidth || p.getAttribute('tabindex') !== null), undefined, { timeout: 15_000 })
    .catch(() => undefined);
  await page.addScriptTag({ content: readFileSync(axePath, 'utf8') });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    // Starlight's header search button: its visible text adds the shortcut (Ctrl K) to its
    // accessible name "Search" (label-content-name-mismatch). Not svclab markup.
    const res = await axe.run({ exclude: [['button[data-open-modal]']] });
    return res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}
