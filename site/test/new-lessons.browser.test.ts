// The four labs added for Kubernetes 1.34 (13 troubleshooting, 14 Gateway API, 15 traffic
// policies, 16 conntrack), each lesson opened in English and Chinese: the lesson renders with
// its own lab panel (every step of the lab listed, the page in its language), the page throws
// nothing, and axe finds no serious or critical violation. Runs wherever Chromium and dist/ exist.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { ChecksPort } from '../../runner/src/http/app.ts';
import { loadLab } from '../../runner/src/labs/load-labs.ts';
import { projectRoot } from '../../runner/src/version.ts';
import { startFakeTierStack, type FakeTierStack } from './support/fake-tier-stack.ts';
import { browserUnavailable, launchChromium, newContext, seriousAxeViolations, watchErrors } from './support/browser.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`SKIP new lessons browser tests: ${unavailable}`);

const NEW_LABS = ['13-troubleshooting-services', '14-gateway-api', '15-traffic-policies', '16-conntrack'];
const checks: ChecksPort = { run: async () => ({ passed: false, results: [] }) };

describe.skipIf(unavailable)('the new lessons in both languages', () => {
  let stack: FakeTierStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startFakeTierStack(checks);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const cases = NEW_LABS.flatMap((id) => [['en', id], ['zh', id]] as const);
  it.each(cases)('%s lesson of %s: its lab panel, no page error, axe clean', async (lang, id) => {
    const loaded = await loadLab(projectRoot, id);
    if (loaded.status !== 'ok') throw new Error(`${id} does not load`);
    const lab = loaded.lab;
    const p = await (await newContext(browser)).newPage();
    const errors = watchErrors(p);
    const path = `${lang === 'zh' ? '/zh-cn' : ''}/labs/${id}/`;
    const res = await p.goto(`${stack.origin}${path}?token=${stack.token}`);
    expect(res?.status(), path).toBe(200);
    expect(await p.getAttribute('html', 'lang')).toBe(lang === 'zh' ? 'zh-CN' : 'en');
    // English headings are title-cased ("Traffic Policies"); the words are the lab's title.
    expect((await p.locator('h1').first().innerText()).toLowerCase()).toContain((lang === 'zh' ? lab.title.zh : lab.title.en).toLowerCase());
    // The panel hydrated with this lab's steps, titled in the page's language.
    const steps = p.locator('[data-ref="steps"] button');
    await steps.first().waitFor();
    const text = (await p.locator('[data-ref="steps"]').innerText()).replace(/\s+/g, ' ');
    for (const step of lab.steps) expect(text, `${path}: step ${step.id}`).toContain(lang === 'zh' ? step.title.zh : step.title.en);

    const violations = await seriousAxeViolations(p);
    expect(violations, path).toEqual([]);
    expect(errors, path).toEqual([]);
    await p.context().close();
  });
});
