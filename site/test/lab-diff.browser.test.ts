// The editor's Diff: the learner's YAML against the live objects, through the runner's real
// POST /api/sessions/:id/live route (YAML parsed by the runner) with a test ApplyPort that
// plays the cluster: Deployment nginx exists as the lab started it, anything else does not.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ApplyPort } from '../../runner/src/http/app.ts';
import { RunnerError } from '../../runner/src/errors.ts';
import { startFakeTierStack, type FakeTierStack } from './support/fake-tier-stack.ts';
import { LESSON, LESSON_ZH, browserUnavailable, editorValue, launchChromium, markers, newContext, openEditor, pasteIntoEditor, root, seriousAxeViolations, snap, startLab, until, watchErrors } from './support/browser.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`SKIP editor diff browser tests: ${unavailable}`);

/** Deployment nginx as the cluster returns it: the lab's manifest, no comments, a server default. */
const LIVE_NGINX = readFileSync(join(root, 'labs/02-selectors-and-endpoints/manifests/deployment.yaml'), 'utf8')
  .split('\n')
  .filter((l) => !/^\s*#/.test(l))
  .join('\n')
  .replace('spec:\n  replicas: 3\n', 'spec:\n  progressDeadlineSeconds: 600\n  replicas: 3\n');

const SERVICE = ['---', '# A second object the cluster does not have yet.', 'apiVersion: v1', 'kind: Service', 'metadata:', '  name: web-extra', 'spec:', '  selector:', '    app: nginx', '  ports:', '    - port: 80', ''].join('\n');

type DiffState = { live: string; mine: string; changes: number | undefined } | undefined;
const diffState = (p: Page) => p.evaluate(() => (document.querySelector('svclab-lab') as unknown as { svclab: { diff(): DiffState } }).svclab.diff());

describe.skipIf(unavailable)('editor Diff against the live objects (runner app, test cluster port)', () => {
  let stack: FakeTierStack;
  let browser: Browser;
  let liveCalls = 0;
  const apply: ApplyPort = {
    apply: async () => {
      throw new RunnerError('NO_CLUSTER');
    },
    live: async (_session, _yaml, manifests) => {
      liveCalls++;
      return manifests.map((m) => ({ ...m, live: m.kind === 'Deployment' && m.name === 'nginx' ? LIVE_NGINX : null }));
    },
  };
  const url = (path = LESSON) => `${stack.origin}${path}?token=${stack.token}`;

  beforeAll(async () => {
    stack = await startFakeTierStack(undefined, { apply });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function page(viewport?: { width: number; height: number }): Promise<Page> {
    return (await newContext(browser, viewport)).newPage();
  }
  const scripts = (p: Page) => p.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('.js')));

  it('shows the learner’s document against the live one, "not created yet" for a new object, by keyboard, and closes with Escape', async () => {
    const p = await page();
    const errors = watchErrors(p);
    await p.goto(url());
    await startLab(p);
    await openEditor(p);
    expect((await scripts(p)).some((n) => /yaml-diff/.test(n))).toBe(false); // loaded on first Diff only
    const starting = await editorValue(p);
    const mine = starting.replace('        app: nginx\n', '        app: nginx\n        role: logstor\n').replace(/\n*$/, '\n') + SERVICE;
    await pasteIntoEditor(p, mine);

    const diffButton = p.getByRole('button', { name: 'Diff: compare your YAML with the live objects in the cluster' });
    // Keyboard only: Tab from Apply reaches Diff, Enter presses it.
    await p.getByRole('button', { name: 'Apply', exact: true }).focus();
    await p.keyboard.press('Tab');
    expect(await p.evaluate(() => document.activeElement?.getAttribute('data-ref'))).toBe('diff');
    expect(await diffButton.count()).toBe(1);
    await p.keyboard.press('Enter');
    await p.locator('[data-ref="diff-view"]').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('Your YAML against the cluster');
    const d = (await until(() => diffState(p), (x) => (x?.changes ?? 0) > 0, 30_000, 'the computed diff'))!;
    expect(liveCalls).toBe(1);
    expect(d.live).toBe(LIVE_NGINX);
    // The learner's side: the Deployment document only, without its comments.
    expect(d.mine).toContain('role: logstor');
    expect(d.mine).not.toMatch(/^\s*#/m);
    expect(d.mine).not.toContain('web-extra');
    expect(d.mine.startsWith('apiVersion: apps/v1\n')).toBe(true);
    // What the learner sees: their new label as an inserted line, the server's default as removed.
    await expect.poll(() => p.locator('[data-ref="diff-host"] .line-insert').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => p.locator('[data-ref="diff-host"] .char-delete').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(async () => (await p.locator('[data-ref="diff-host"]').innerText()).replace(/\u00a0/g, ' ')).toMatch(/role: logstor/);
    expect(await p.locator('[data-ref="diff-pick"]').isVisible()).toBe(true);
    await p.locator('[data-ref="diff-view"]').scrollIntoViewIfNeeded();
    await snap(p, 'diff-1-deployment');
    expect(await seriousAxeViolations(p)).toEqual([]);

    // The second document names an object the cluster does not have.
    await p.getByRole('combobox', { name: /^Object/ }).selectOption({ label: 'Service web-extra' });
    expect(await p.locator('[data-ref="diff-note"]').innerText()).toBe('Service web-extra is not created yet: Apply creates it.');
    expect(await p.locator('[data-ref="diff-host"]').isHidden()).toBe(true);
    await snap(p, 'diff-2-not-created');
    await p.getByRole('combobox', { name: /^Object/ }).selectOption({ label: 'Deployment default/nginx' });
    expect(await p.locator('[data-ref="diff-host"]').isVisible()).toBe(true);

    // Escape closes the diff and puts focus back on Diff; the learner's text is untouched.
    await p.getByRole('combobox', { name: /^Object/ }).focus();
    await p.keyboard.press('Escape');
    await expect.poll(() => p.locator('[data-ref="diff-view"]').isHidden()).toBe(true);
    expect(await p.evaluate(() => document.activeElement?.getAttribute('data-ref'))).toBe('diff');
    expect(await diffState(p)).toBeUndefined();
    expect(await editorValue(p)).toBe(mine);
    expect(errors).toEqual([]);
    await p.context().close();
  });

  it('keeps AA contrast in the dark theme too, diff and editor open', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 }, colorScheme: 'dark', permissions: ['clipboard-read', 'clipboard-write'] });
    const p = await ctx.newPage();
    await p.goto(url());
    expect(await p.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await startLab(p);
    await openEditor(p);
    const starting = await editorValue(p);
    await pasteIntoEditor(p, starting.replace('        app: nginx\n', '        app: nginx\n        role: logstor\n'));
    await p.getByRole('button', { name: /^Diff/ }).click();
    await expect.poll(() => p.locator('[data-ref="diff-host"] .char-delete').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(() => p.locator('[data-ref="diff-host"] .line-insert').count()).toBeGreaterThan(0);
    await p.locator('[data-ref="diff-view"]').scrollIntoViewIfNeeded();
    await snap(p, 'diff-4-dark');
    expect(await seriousAxeViolations(p)).toEqual([]);
    await ctx.close();
  });

  it('maps a YAML error to the line, like Apply, and keeps the text', async () => {
    const p = await page();
    await p.goto(url());
    await startLab(p);
    await openEditor(p);
    const bad = ['apiVersion: v1', 'kind: Service', 'metadata:', '  name: web', '  name: web2', ''].join('\n');
    await pasteIntoEditor(p, bad);
    const calls = liveCalls;
    await p.getByRole('button', { name: /^Diff/ }).click();
    const result = p.locator('[data-ref="apply-result"]');
    await expect.poll(() => result.innerText()).toMatch(/YAML_INVALID[\s\S]*line 5/);
    expect(await result.innerText()).toMatch(/Each key may appear once/); // the hint
    const pinned = await until(() => markers(p), (m) => m.some((x) => x.owner === 'svclab-apply'), 10_000, 'the error as a marker');
    expect(pinned.find((x) => x.owner === 'svclab-apply')!.line).toBe(5);
    expect(liveCalls).toBe(calls); // the runner stopped at the YAML
    expect(await p.locator('[data-ref="diff-view"]').isHidden()).toBe(true);
    expect(await editorValue(p)).toBe(bad);
    await snap(p, 'diff-3-yaml-error');
    await p.context().close();
  });

  it('in Chinese on a 390 px phone: 对比 opens the diff without sideways scrolling', async () => {
    const p = await page({ width: 390, height: 844 });
    await p.goto(url(LESSON_ZH));
    await p.getByRole('link', { name: '实验面板 ↓' }).click();
    await startLab(p);
    await openEditor(p);
    const diff = p.getByRole('button', { name: '对比：把你的 YAML 与集群中的实际对象对比' });
    await diff.scrollIntoViewIfNeeded();
    await diff.click();
    await p.locator('[data-ref="diff-view"]').waitFor({ state: 'visible', timeout: 30_000 });
    await until(() => diffState(p), (x) => x?.changes !== undefined, 30_000, 'the computed diff');
    expect(await p.locator('[data-ref="diff-view"] h4').innerText()).toBe('你的 YAML 与集群中的对象');
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await p.locator('[data-ref="diff-view"]').scrollIntoViewIfNeeded();
    await snap(p, 'diff-zh-phone');
    await p.getByRole('button', { name: '关闭对比' }).click();
    expect(await p.locator('[data-ref="diff-view"]').isHidden()).toBe(true);
    await p.context().close();
  });
});
