// The live instructor page (/instructor/, /zh-cn/instructor/) against the runner's real app
// serving the built site, with fake containers and scripted Checks: learners' progress reaches the
// page over the event stream without a reload, the gate refuses a later step until the
// instructor unlocks it, and a broadcast appears on a learner's lab panel.
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { FakeContainerEngine } from '../../runner/src/engine/fake-container-engine.ts';
import { buildApp, noClusterApply } from '../../runner/src/http/app.ts';
import { labsPort } from '../../runner/src/http/lab-ports.ts';
import { loadLabs } from '../../runner/src/labs/load-labs.ts';
import { SessionManager } from '../../runner/src/sessions/session-manager.ts';
import { ScriptedPtyFactory } from './support/fake-tier-stack.ts';
import { browserUnavailable, launchChromium, newContext, seriousAxeViolations, siteDir, snap, until, watchErrors } from './support/browser.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`SKIP instructor page browser tests: ${unavailable}`);

const root = join(import.meta.dirname, '../..');
const TOKEN = 'instructor-test-token-0123456789';
const LAB = '02-selectors-and-endpoints';

describe.skipIf(unavailable)('instructor page (live room over the event stream)', () => {
  let browser: Browser;
  let origin = '';
  let steps: string[] = [];
  let close: () => Promise<void> = async () => undefined;
  const url = (path: string) => `${origin}${path}?token=${TOKEN}`;

  beforeAll(async () => {
    const logger = pino({ level: 'silent' });
    const engine = new FakeContainerEngine();
    engine.addImage('svclab/workstation:fake');
    const { labs } = await loadLabs(root);
    const port = labsPort(labs);
    steps = port.get(LAB).steps.map((s) => s.id);
    const sessions = new SessionManager({ engine, ptys: new ScriptedPtyFactory(), logger, workstationImage: async () => 'svclab/workstation:fake' });
    const app = await buildApp({
      logger, token: TOKEN, allowedOrigins: () => [origin], sessions, labs: port, apply: noClusterApply,
      // Step 2's check fails with a learner-facing message; every other step passes.
      checks: {
        run: async (_s, stepId) => stepId === steps[1]
          ? { passed: false, results: [{ checkId: 'selects-web', kind: 'endpoints', status: 'fail', message: 'Service web selects app=web; no pod has that label' }] }
          : { passed: true, results: [{ checkId: 'ok', kind: 'command', status: 'pass', message: 'ok' }] },
      },
      actions: { solve: async () => undefined, reset: async () => undefined },
      siteDir,
      version: '0.0.0-instructor-test',
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    close = async () => {
      await sessions.closeAll();
      await app.close();
    };
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await close();
  });

  /** What a learner's browser sends, as an API client. */
  async function api(method: string, path: string, learner: string, body?: unknown) {
    const res = await fetch(`${origin}${path}`, {
      method, headers: { authorization: `Bearer ${TOKEN}`, cookie: `svclab_learner=${learner}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, any> };
  }
  const start = async (learner: string) => (await api('POST', '/api/sessions', learner, { labId: LAB })).json.session.id as string;
  const check = (learner: string, id: string, step: string) => api('POST', `/api/sessions/${id}/steps/${step}/check`, learner, {});

  async function open(path: string, opts: { viewport?: { width: number; height: number }; zh?: boolean } = {}): Promise<Page> {
    const ctx = opts.zh
      ? await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 720 }, colorScheme: 'dark', locale: 'zh-CN' })
      : await newContext(browser, opts.viewport);
    const p = await ctx.newPage();
    p.on('dialog', (d) => void d.accept());
    await p.goto(url(path));
    return p;
  }
  const gridRows = (p: Page, caption: string) =>
    p.locator(`table:has(caption:text-is("${caption}")) tbody tr`).evaluateAll((trs) => trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((c) => (c as HTMLElement).innerText.replace(/\s+/g, ' ').trim())));

  it('shows learners × steps live, the failing check, gates and unlocks a step, and broadcasts to a lesson page (English)', async () => {
    const ada = await start('ada-learner-0001');
    expect((await check('ada-learner-0001', ada, steps[0]!)).json.passed).toBe(true);
    const p = await open('/instructor/');
    const errors = watchErrors(p);
    const caption = 'Selectors and endpoints: learners and their steps';
    const table = p.getByRole('table', { name: caption });
    await table.waitFor({ timeout: 10_000 });
    await until(() => gridRows(p, caption), (r) => r.length === 1, 10_000, 'the first learner');
    expect((await gridRows(p, caption))[0]!.slice(0, 3)).toEqual([expect.stringMatching(/^ada-le/), expect.stringMatching(/^passed \d+ s · 1 checks$/), expect.stringMatching(/^working/)]);
    expect(await table.getByRole('columnheader').first().innerText()).toBe('Learner');
    expect(await table.locator('thead th[scope="col"]').count()).toBe(steps.length + 3);
    expect(await table.getByRole('rowheader').count()).toBe(1);

    // A second learner starts and fails step 2: the page shows it without a reload.
    const requestsBefore = await p.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/')).length);
    const bob = await start('bob-learner-0002');
    await check('bob-learner-0002', bob, steps[0]!);
    await check('bob-learner-0002', bob, steps[1]!);
    await until(() => gridRows(p, caption), (r) => r.length === 2 && /1 failing/.test(r[1]![2]!), 5_000, 'bob live');
    const stuck = p.locator('section[aria-labelledby="svclab-failing-h"]');
    await until(() => stuck.innerText(), (t) => t.includes('1 of 1 learners'), 5_000, 'the failing check');
    expect(await stuck.innerText()).toContain('1× “Service web selects app=web; no pod has that label”');
    // One stream, no polling: no new API request while the updates came in.
    expect(await p.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/')).length)).toBe(requestsBefore);
    expect(await seriousAxeViolations(p)).toEqual([]);
    await snap(p, 'instructor-1-en-live');

    // Gate the lab at step 1: a Check of step 2 is refused by the runner.
    const lab = p.locator(`section[data-lab="${LAB}"]`);
    await lab.getByRole('button', { name: 'Gate: open step 1 only' }).click();
    const gate = () => lab.locator('[data-part="gate"]').innerText();
    await until(gate, (t) => t.includes(`Only step 1 of ${steps.length} is open`), 5_000, 'the gate');
    const locked = await check('ada-learner-0001', ada, steps[1]!);
    expect([locked.status, locked.json.error.code]).toEqual([403, 'STEP_LOCKED']);
    await lab.getByRole('button', { name: 'Unlock step 2 for everyone' }).click();
    await until(gate, (t) => t.includes(`Steps 1–2 of ${steps.length} are open`), 5_000, 'the unlock');
    expect((await check('ada-learner-0001', ada, steps[1]!)).status).toBe(200);

    // Broadcast: a learner's lesson page shows it at the top of the lab panel.
    const lesson = await open(`/labs/${LAB}/`);
    await p.getByLabel('Message to every learner').fill('Break until 11:00');
    await p.getByRole('button', { name: 'Send message' }).click();
    const banner = lesson.locator('svclab-broadcast');
    await until(() => banner.innerText().catch(() => ''), (t) => t.includes('Break until 11:00'), 5_000, 'the broadcast on the lesson');
    expect(await banner.innerText()).toMatch(/From your instructor:\s+Break until 11:00/);
    await lesson.context().close();

    // End one learner: their row leaves the grid.
    await table.getByRole('button', { name: /^End: bob-le/ }).click();
    await until(() => gridRows(p, caption), (r) => r.length === 1, 5_000, 'bob ended');
    expect(errors).toEqual([]);
    await p.context().close();
  });

  it('speaks Chinese and fits a 390 px phone in the dark theme', async () => {
    const p = await open('/zh-cn/instructor/', { viewport: { width: 390, height: 844 }, zh: true });
    const errors = watchErrors(p);
    await p.locator(`section[data-lab="${LAB}"] table`).waitFor({ timeout: 10_000 });
    expect(await p.getByRole('heading', { name: '学员卡住的检查' }).isVisible()).toBe(true);
    expect(await p.locator(`section[data-lab="${LAB}"] caption`).innerText()).toMatch(/：学员及其步骤$/);
    expect(await p.locator(`section[data-lab="${LAB}"] tbody td`).first().innerText()).toMatch(/已通过|进行中|未开始/);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await seriousAxeViolations(p)).toEqual([]);
    await snap(p, 'instructor-2-zh-phone-dark');
    expect(errors).toEqual([]);
    await p.context().close();
  });
});
