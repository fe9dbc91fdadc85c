// The instructor page (/instructor/, /zh-cn/instructor/) against the runner's real app serving
// the built site. GET /api/status answers either a workshop fixture (a warm pool of four, four
// learners) or, without a pool, what runnerStatus() makes of the real session manager's
// sessions; it can also fail, and the browser can lose the runner or its token.
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { FakeContainerEngine } from '../../runner/src/engine/fake-container-engine.ts';
import { RunnerError } from '../../runner/src/errors.ts';
import { buildApp, noClusterApply } from '../../runner/src/http/app.ts';
import { labsPort } from '../../runner/src/http/lab-ports.ts';
import { loadLabs } from '../../runner/src/labs/load-labs.ts';
import { runnerStatus, type RunnerStatus } from '../../runner/src/pool/runner-status.ts';
import { SessionManager } from '../../runner/src/sessions/session-manager.ts';
import { ScriptedPtyFactory } from './support/fake-tier-stack.ts';
import { browserUnavailable, launchChromium, newContext, seriousAxeViolations, siteDir, snap, until, watchErrors } from './support/browser.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`SKIP instructor page browser tests: ${unavailable}`);

const root = join(import.meta.dirname, '../..');
const TOKEN = 'instructor-test-token-0123456789';

/** A workshop in full swing: the pool is used up, two learners wait. */
function workshop(idle = 0): RunnerStatus {
  return {
    pid: 1,
    at: new Date().toISOString(),
    pool: {
      size: 4,
      clusters: [
        { name: 'svclab-pool-1', state: 'claimed', forSeconds: 754 + idle, owner: 'k3Jx9q' },
        { name: 'svclab-pool-2', state: 'claimed', forSeconds: 61 + idle, owner: 'Ab12Cd' },
        { name: 'svclab-pool-3', state: 'provisioning', forSeconds: 42 + idle },
        { name: 'svclab-pool-4', state: 'recycling', forSeconds: 5 + idle },
      ],
      waiting: 2,
      provisionMs: { last: 95_000, average: 92_400, count: 5 },
    },
    sessions: [
      { id: 's3', learner: 'zz99yy', labId: '02-selectors-and-endpoints', state: 'waiting', cluster: null, stepsDone: 0, solvedWithHelp: 0, idleSeconds: 3 + idle, wait: { position: 2 } },
      { id: 's1', learner: 'k3Jx9q', labId: '02-selectors-and-endpoints', state: 'ready', cluster: 'svclab-pool-1', stepsDone: 3, solvedWithHelp: 1, idleSeconds: 125 + idle },
      { id: 's4', learner: 'Qw55er', labId: '10-externalname-and-loadbalancer', state: 'waiting', cluster: null, stepsDone: 0, solvedWithHelp: 0, idleSeconds: idle, wait: { position: 1, etaSeconds: 80 } },
      { id: 's2', learner: 'Ab12Cd', labId: '07-nodeport', state: 'applying', cluster: 'svclab-pool-2', stepsDone: 0, solvedWithHelp: 0, idleSeconds: 4000 + idle },
    ],
  };
}

describe.skipIf(unavailable)('instructor page (runner app, status fixture or real sessions)', () => {
  let browser: Browser;
  let origin = '';
  let sessions: SessionManager;
  let close: () => Promise<void> = async () => undefined;
  /** What GET /api/status answers next. */
  let mode: 'workshop' | 'shared' | 'fail' = 'workshop';
  let idle = 0;
  const url = (path: string) => `${origin}${path}?token=${TOKEN}`;

  beforeAll(async () => {
    const logger = pino({ level: 'silent' });
    const engine = new FakeContainerEngine();
    engine.addImage('svclab/workstation:fake');
    const { labs } = await loadLabs(root);
    sessions = new SessionManager({ engine, ptys: new ScriptedPtyFactory(), logger, workstationImage: async () => 'svclab/workstation:fake' });
    const app = await buildApp({
      logger,
      token: TOKEN,
      allowedOrigins: () => [origin],
      sessions,
      labs: labsPort(labs),
      checks: { run: async () => ({ results: [], passed: true }) },
      apply: noClusterApply,
      status: () => {
        if (mode === 'fail') throw new RunnerError('INTERNAL', { cause: new Error('status file at /tmp/x: EACCES') });
        return mode === 'workshop' ? workshop(idle) : runnerStatus(sessions, undefined);
      },
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

  async function open(path: string, opts: { viewport?: { width: number; height: number }; dark?: boolean } = {}): Promise<Page> {
    const ctx = opts.dark
      ? await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 720 }, colorScheme: 'dark', locale: 'zh-CN' })
      : await newContext(browser, opts.viewport);
    const p = await ctx.newPage();
    await p.goto(url(path));
    return p;
  }
  const rowTexts = (p: Page, table: string) =>
    p.locator(`table:has(caption:text-is("${table}")) tbody tr`).evaluateAll((trs) => trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((c) => (c as HTMLElement).innerText.replace(/\s+/g, ' ').trim())));
  const statusRequests = (p: Page) => {
    const seen: number[] = [];
    p.on('request', (r) => r.url().endsWith('/api/status') && seen.push(Date.now()));
    return seen;
  };

  it('shows the pool and the learners, sorted by lab then learner, with accessible tables (English)', async () => {
    mode = 'workshop';
    idle = 0;
    const p = await open('/instructor/');
    const errors = watchErrors(p);
    const clusters = 'Clusters in the pool';
    const learners = 'Learners and their labs, sorted by lab, then learner';
    await p.getByRole('table', { name: clusters }).waitFor({ timeout: 10_000 });
    await until(() => rowTexts(p, clusters), (r) => r.length === 4, 10_000, 'the pool rows');
    expect(await rowTexts(p, clusters)).toEqual([
      ['svclab-pool-1', 'claimed', '12 min 34 s', 'k3Jx9q'],
      ['svclab-pool-2', 'claimed', '1 min 1 s', 'Ab12Cd'],
      ['svclab-pool-3', 'provisioning', '42 s', 'none'],
      ['svclab-pool-4', 'recycling', '5 s', 'none'],
    ]);
    const pool = p.locator('section[aria-labelledby="svclab-board-pool"]');
    expect(await pool.getByRole('heading', { name: 'Warm pool' }).isVisible()).toBe(true);
    const poolText = await pool.innerText();
    expect(poolText).toContain('Pool size: 4 clusters.');
    expect(await pool.getByRole('list', { name: 'Clusters by state' }).innerText()).toMatch(/0 ready\s*2 claimed\s*1 provisioning\s*1 recycling/);
    expect(poolText).toContain('2 learners are waiting for a cluster.');
    expect(poolText).toContain('Average provisioning time: 1 min 32 s (measured over 5 clusters).');

    expect(await rowTexts(p, learners)).toEqual([
      ['k3Jx9q', 'Lab 02: Selectors and Endpoints', 'ready on svclab-pool-1', '3 (1 with help)', '2 min 5 s'],
      ['zz99yy', 'Lab 02: Selectors and Endpoints', 'waiting number 2 in line, no estimate yet', '0', '3 s'],
      ['Ab12Cd', "Lab 07: NodePort and the Client's Address", 'setting up the lab on svclab-pool-2', '0', '1 h 6 min'],
      ['Qw55er', expect.stringMatching(/^Lab 10/) as unknown as string, 'waiting number 1 in line, about 1 min 20 s', '0', '0 s'],
    ]);
    const table = p.getByRole('table', { name: learners });
    expect(await table.getByRole('columnheader').allInnerTexts()).toEqual(['Learner', 'Lab', 'State', 'Steps done', 'Idle']);
    expect(await table.getByRole('rowheader').allInnerTexts()).toEqual(['k3Jx9q', 'zz99yy', 'Ab12Cd', 'Qw55er']);
    expect(await table.locator('thead th[scope="col"]').count()).toBe(5);
    const link = table.getByRole('link', { name: 'Lab 02: Selectors and Endpoints' }).first();
    expect(await link.getAttribute('href')).toBe('/labs/02-selectors-and-endpoints/');
    expect(await p.getByRole('status').filter({ hasText: 'Pool:' }).innerText()).toBe('Pool: 0 ready, 2 claimed, 1 provisioning. Learners: 4 sessions, 2 waiting.');
    expect(await p.locator('[data-ref="updated"]').innerText()).toMatch(/^Updated \d\d:\d\d:\d\d\.$/);
    expect(await seriousAxeViolations(p)).toEqual([]);
    await snap(p, 'instructor-1-en');
    await p.locator('[data-ref="learners-table"]').screenshot({ path: join(root, 'test-results/screenshots/instructor-1b-en-table.png') });

    // Keyboard: Tab reaches the lesson links; a refresh (idle times move on) keeps the focus there.
    await link.focus();
    idle = 7;
    await until(() => rowTexts(p, clusters), (r) => r[0]?.[2] === '12 min 41 s', 8_000, 'a refresh');
    expect(await p.evaluate(() => (document.activeElement as HTMLAnchorElement | null)?.getAttribute('href'))).toBe('/labs/02-selectors-and-endpoints/');
    expect((await rowTexts(p, learners))[0]?.[4]).toBe('2 min 12 s');
    expect(errors).toEqual([]);
    await p.context().close();
  });

  it('speaks Chinese, links the Chinese lessons, fits a 390 px phone in the dark theme', async () => {
    mode = 'workshop';
    idle = 0;
    const p = await open('/zh-cn/instructor/', { viewport: { width: 390, height: 844 }, dark: true });
    const errors = watchErrors(p);
    const learners = '学员及其实验，按实验、再按学员排序';
    await p.getByRole('table', { name: '池中的集群' }).waitFor({ timeout: 10_000 });
    await until(() => rowTexts(p, learners), (r) => r.length === 4, 10_000, 'the learner rows');
    expect(await p.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect((await rowTexts(p, '池中的集群'))[2]).toEqual(['svclab-pool-3', '创建中', '42 秒', '无']);
    const rows = await rowTexts(p, learners);
    expect(rows[0]).toEqual(['k3Jx9q', expect.stringMatching(/02/) as unknown as string, '就绪 在 svclab-pool-1 上', '3（1 步借助了帮助）', '2 分 5 秒']);
    expect(rows[3]?.[2]).toBe('等待中 排第 1 位，约 1 分 20 秒');
    expect(await p.getByRole('table', { name: learners }).getByRole('link').first().getAttribute('href')).toBe('/zh-cn/labs/02-selectors-and-endpoints/');
    expect(await p.locator('section[aria-labelledby="svclab-board-pool"]').innerText()).toContain('平均创建时间：1 分 32 秒（实测，共 5 个集群）。');
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await seriousAxeViolations(p)).toEqual([]);
    await snap(p, 'instructor-2-zh-phone-dark');
    await p.locator('[data-ref="learners-table"]').screenshot({ path: join(root, 'test-results/screenshots/instructor-2b-zh-table.png') });
    expect(errors).toEqual([]);
    await p.context().close();
  });

  it('without a pool: one shared cluster, and the real sessions still listed', async () => {
    mode = 'shared';
    const res = await fetch(`${origin}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ labId: '01-why-services' }) });
    expect(res.status).toBeLessThan(300);
    const learner = runnerStatus(sessions, undefined).sessions[0]!.learner;
    const p = await open('/instructor/');
    const pool = p.locator('section[aria-labelledby="svclab-board-pool"]');
    await until(() => pool.innerText(), (t) => t.includes('One shared cluster'), 10_000, 'the shared-cluster note');
    expect(await pool.innerText()).toContain('One shared cluster (svclab-main); start with --pool for one cluster per learner.');
    expect(await p.getByRole('table', { name: 'Clusters in the pool' }).count()).toBe(0);
    const rows = await until(() => rowTexts(p, 'Learners and their labs, sorted by lab, then learner'), (r) => r.length === 1, 10_000, 'the session row');
    expect(rows[0]).toEqual([learner, 'Lab 01: Why Services?', expect.stringMatching(/^(ready|starting|setting up the lab)/) as unknown as string, '0', expect.stringMatching(/^\d+ s$/) as unknown as string]);
    expect(await seriousAxeViolations(p)).toEqual([]);
    await snap(p, 'instructor-3-shared');
    await p.context().close();
    await sessions.closeAll();
  });

  it('says what went wrong and what to do, backs off, keeps the last status, and recovers', async () => {
    mode = 'workshop';
    idle = 0;
    const p = await open('/instructor/');
    const errors = watchErrors(p);
    await p.getByRole('table', { name: 'Clusters in the pool' }).waitFor({ timeout: 10_000 });
    const box = p.locator('[data-ref="error"]');

    // The runner answers an error: its own message is not shown, ours is, with the code.
    mode = 'fail';
    await box.waitFor({ state: 'visible', timeout: 8_000 });
    let text = await box.innerText();
    expect(text).toContain('The runner could not report its status.');
    expect(text).toContain('Error code: INTERNAL');
    expect(text).not.toMatch(/EACCES|Something went wrong/);
    expect(text).toMatch(/Trying again in (10|9|8) s\./);
    expect(await p.locator('[data-ref="updated"]').innerText()).toMatch(/^Showing the status from \d\d:\d\d:\d\d\.$/);
    expect(await p.getByRole('table', { name: 'Clusters in the pool' }).isVisible()).toBe(true);
    expect(await p.getByRole('status').filter({ hasText: 'could not report' }).count()).toBe(1);

    // The runner is gone: a second failure in a row waits longer.
    await p.route('**/api/status', (r) => r.abort('connectionrefused'));
    await p.getByRole('button', { name: 'Try again now' }).click();
    await until(() => box.innerText(), (t) => t.includes('Cannot reach the svclab runner.'), 5_000, 'the unreachable message');
    text = await box.innerText();
    expect(text).toContain('Start the runner with npm start or svclab start --pool auto');
    expect(text).toMatch(/Trying again in (20|19|18) s\./);
    expect(text).not.toContain('Error code');
    expect(await seriousAxeViolations(p)).toEqual([]);
    await snap(p, 'instructor-4-unreachable');

    // Something that is not the runner answers (a static preview).
    await p.unroute('**/api/status');
    await p.route('**/api/status', (r) => r.fulfill({ status: 404, contentType: 'text/html', body: '<h1>Not found</h1>' }));
    await p.getByRole('button', { name: 'Try again now' }).click();
    await until(() => box.innerText(), (t) => t.includes('not served by the svclab runner'), 5_000, 'the not-the-runner message');
    await p.unroute('**/api/status');

    // Try again works while updates are paused: the runner is back.
    mode = 'workshop';
    const pause = p.getByRole('button', { name: 'Pause updates' });
    await pause.click();
    expect(await box.innerText()).not.toContain('Trying again');
    await p.getByRole('button', { name: 'Try again now' }).click();
    await box.waitFor({ state: 'hidden', timeout: 5_000 });
    expect(await p.locator('[data-ref="updated"]').innerText()).toBe('Updates are paused.');
    await pause.click();

    // The runner restarted with a new token: the cookie no longer works.
    await p.context().clearCookies();
    await p.getByRole('button', { name: 'Try again now' }).click();
    await until(() => box.innerText(), (t) => t.includes('did not accept this page’s token'), 5_000, 'the token message');
    expect(await box.innerText()).toContain('?token=');

    // Back: a fresh token URL, and the board is whole again.
    await p.goto(url('/instructor/'));
    await p.getByRole('table', { name: 'Clusters in the pool' }).waitFor({ timeout: 10_000 });
    expect(await box.isHidden()).toBe(true);
    await until(() => p.locator('[data-ref="updated"]').innerText(), (t) => t.startsWith('Updated'), 5_000, 'a fresh status');
    expect(errors).toEqual([]);
    await p.context().close();
  });

  it('asks nothing while the page is hidden or paused, and asks at once when it is back', async () => {
    mode = 'workshop';
    const p = await open('/instructor/');
    const seen = statusRequests(p);
    await p.getByRole('table', { name: 'Clusters in the pool' }).waitFor({ timeout: 10_000 });
    const setVisibility = (state: 'hidden' | 'visible') =>
      p.evaluate((s) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    await setVisibility('hidden');
    const before = seen.length;
    await new Promise((r) => setTimeout(r, 6_500));
    expect(seen.length).toBe(before);
    await setVisibility('visible');
    await until(async () => seen.length, (n) => n > before, 2_000, 'a request on becoming visible');

    // Pause from the keyboard.
    const pause = p.getByRole('button', { name: 'Pause updates' });
    await pause.focus();
    await p.keyboard.press('Enter');
    expect(await pause.getAttribute('aria-pressed')).toBe('true');
    expect(await p.locator('[data-ref="updated"]').innerText()).toBe('Updates are paused.');
    const paused = seen.length;
    await new Promise((r) => setTimeout(r, 6_000));
    expect(seen.length).toBe(paused);
    await p.keyboard.press('Enter');
    expect(await pause.getAttribute('aria-pressed')).toBe('false');
    await until(async () => seen.length, (n) => n > paused, 2_000, 'a request on resuming');
    await p.context().close();
  });
});
