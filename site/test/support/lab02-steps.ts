// A learner's page in lab 02 on a real cluster, shared by the real tiers that drive learners
// in Chromium (a workshop on one machine, svclab on Kubernetes): Start lab until the prompt,
// and step 1 done the learner's way (the terminal, then Check).
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { snap, terminalText, typeInTerminal, until } from './browser.ts';

export const statusText = (p: Page) => p.locator('[data-ref="status-text"]').innerText();

/** Start lab, then wait for the terminal's prompt (a real cluster is slower than the scripted shell). */
export async function startLabToPrompt(page: Page, who: string, o: { timeoutMs: number; shot: string }): Promise<void> {
  await page.getByRole('button', { name: 'Start lab' }).click();
  await page.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: o.timeoutMs }).catch(async (e: unknown) => {
    await snap(page, `${o.shot}-${who}-start-FAILED`).catch(() => undefined);
    throw new Error(`${who}: ${String(e)}\npanel: ${await page.locator('.svclab-lab__head').innerText().catch(() => '?')}`);
  });
  await expect.poll(() => statusText(page), { timeout: 30_000 }).toBe('Lab running.');
  await until(() => terminalText(page), (t) => /\$ $/m.test(t.trimEnd() + ' '), 60_000, `${who}'s prompt`);
}

/** Step 1 of lab 02: note the endpoints in the terminal, press Check, read "Step passed." */
export async function passObserve(page: Page, who: string): Promise<void> {
  await typeInTerminal(page, 'mkdir -p ~/answers && echo 0 > ~/answers/endpoints && echo noted-$((6*7))\n');
  await until(() => terminalText(page), (t) => /^noted-42$/m.test(t), 60_000, `${who}'s answer noted`);
  await page.getByRole('button', { name: /^Check: Observe/ }).click();
  await expect.poll(() => page.locator('li.svclab-step[data-step="observe"] .svclab-result').innerText(), { timeout: 240_000 }).toMatch(/Step passed\./);
}
