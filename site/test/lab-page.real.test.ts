// A learner on the lesson pages, in Chromium, against the real runner and a real kind
// cluster of this suite's own (svclab-e2e-site: not svclab-e2e, which the runner's e2e
// test deletes and recreates). Lab 02: a check fails naming the label, the learner
// fixes it in the terminal and the YAML editor, the check passes and the next step
// unlocks; a reload keeps the terminal output and the editor text. Lab 11: a
// self-signed certificate made with openssl in the terminal, a TLS Secret, a TLS
// Ingress applied from the editor, and the TLS checks pass. Nothing uses Solve. The
// editor's Diff reads the live Deployment in lab 02.
//
// Runs when docker, the images, Chromium and dist/ exist and the cluster is running, or
// SVCLAB_TEST_CREATE_CLUSTER=1 lets it make one (`svclab up --name svclab-e2e-site`,
// components included); otherwise one SKIP line. The cluster is removed at the end
// unless SVCLAB_KEEP_CLUSTER=1.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { startRunner } from '../../runner/src/cli/start.ts';
import { realDeps, workstationImage } from '../../runner/src/cli/wiring.ts';
import { kindBinary, nodeImageRef } from '../../runner/src/cluster/cluster-tools.ts';
import { imageRef } from '../../runner/src/images/images.ts';
import { browserUnavailable, editorValue, launchChromium, newContext, openEditor, pasteIntoEditor, root, seriousAxeViolations, snap, terminalText, typeInTerminal, until } from './support/browser.ts';

const CLUSTER = 'svclab-e2e-site';
const d = realDeps();

type Plan = { skip: string } | { create: boolean };

async function plan(): Promise<Plan> {
  const noBrowser = browserUnavailable();
  if (noBrowser) return { skip: noBrowser };
  try {
    await d.engine.info();
    await kindBinary(d.images);
    await nodeImageRef(d.images);
    await workstationImage(d.cacheDir)();
    await imageRef(d.images, 'web');
  } catch (e) {
    return { skip: e instanceof Error ? e.message : String(e) };
  }
  const running = (await d.driver.list()).some((c) => c.name === CLUSTER && c.state === 'running');
  if (running) return { create: false };
  if (process.env['SVCLAB_TEST_CREATE_CLUSTER'] === '1') return { create: true };
  return { skip: `no cluster ${CLUSTER} is running (set SVCLAB_TEST_CREATE_CLUSTER=1, or run \`node bin/svclab.mjs up --name ${CLUSTER}\`)` };
}

const p = await plan();
if ('skip' in p) console.log(`SKIP lab pages on a real cluster (browser): ${p.skip}`);

const started = Date.now();
const secs = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const log = (line: string) => console.log(`[lab-page.real ${secs()}] ${line}`);

describe.skipIf('skip' in p)('a learner on the lab pages (real cluster, Chromium)', () => {
  let browser: Browser;
  let origin = '';
  let token = '';
  let close: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    if ('create' in p && p.create) {
      // A half-made cluster of this name (an interrupted run) goes first.
      if ((await d.driver.list()).some((c) => c.name === CLUSTER)) await d.driver.delete(CLUSTER);
      log(`creating ${CLUSTER} with svclab up (components included)`);
      const r = await execa('node', ['bin/svclab.mjs', 'up', '--name', CLUSTER], { cwd: root, all: true, reject: false, timeout: 15 * 60_000 });
      if (r.exitCode !== 0) throw new Error(`svclab up --name ${CLUSTER} failed (${r.exitCode}):\n${(r.all ?? '').slice(-3000)}`);
      log(`${CLUSTER} is up`);
    } else log(`reusing the running ${CLUSTER}`);
    const running = await startRunner({
      host: '127.0.0.1', port: 0, allowRemote: false, cacheDir: mkdtempSync(join(tmpdir(), 'svclab-site-real-')), out: () => undefined,
      workstationImage: workstationImage(d.cacheDir),
      cluster: { engine: d.engine, driver: d.driver, clusterFor: async () => CLUSTER },
    });
    close = running.close;
    const u = new URL(running.url);
    origin = u.origin;
    token = u.searchParams.get('token')!;
    browser = await launchChromium();
  }, 20 * 60_000);

  afterAll(async () => {
    await browser?.close();
    await close();
    if (process.env['SVCLAB_KEEP_CLUSTER'] === '1') log(`keeping ${CLUSTER} (SVCLAB_KEEP_CLUSTER=1)`);
    else {
      await d.driver.delete(CLUSTER).catch((e: unknown) => log(`could not delete ${CLUSTER}: ${String(e)}`));
      log(`deleted ${CLUSTER}`);
    }
  }, 300_000);

  const lessonUrl = (lab: string) => `${origin}/labs/${lab}/?token=${token}`;
  const step = (page: Page, id: string) => page.locator(`li.svclab-step[data-step="${id}"]`);
  const stepResult = (page: Page, id: string) => step(page, id).locator('.svclab-result');

  /** Start lab, and wait (a real cluster is slower than the scripted shell) for the lab to run. */
  async function startRealLab(page: Page, shot: string): Promise<void> {
    await page.getByRole('button', { name: 'Start lab' }).click();
    await page.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 300_000 }).catch(async (e: unknown) => {
      await snap(page, `${shot}-start-FAILED`).catch(() => undefined);
      throw new Error(`${String(e)}\npanel: ${await page.locator('.svclab-lab__head').innerText().catch(() => '?')}`);
    });
    await expect.poll(() => page.locator('[data-ref="status-text"]').innerText()).toBe('Lab running.');
    await until(() => terminalText(page), (t) => /\$ $/m.test(t.trimEnd() + ' '), 30_000, 'the shell prompt');
  }

  /** Type a command at the prompt and wait for what it prints. */
  async function run(page: Page, command: string, expectOut: RegExp, timeoutMs = 60_000): Promise<string> {
    await typeInTerminal(page, `${command}\n`);
    return until(() => terminalText(page), (t) => expectOut.test(t), timeoutMs, `${expectOut} after \`${command}\``);
  }

  /**
   * The verdict the learner reads after pressing a button: what `box` shows once it holds
   * something new (an automatic check in flight may leave the old text up for a moment).
   */
  async function pressAndRead(page: Page, button: Locator, box: Locator, done: RegExp, timeout: number): Promise<string> {
    await box.evaluate((el) => el.querySelectorAll(':scope > *').forEach((c) => c.setAttribute('data-old', '')));
    await button.scrollIntoViewIfNeeded();
    await button.click();
    const fresh = box.locator(':scope > :not([data-old])').first();
    await expect.poll(async () => ((await fresh.count()) ? box.innerText() : ''), { timeout }).toMatch(done);
    return box.innerText();
  }

  async function check(page: Page, id: string, title: RegExp): Promise<{ passed: boolean; text: string }> {
    const text = await pressAndRead(page, page.getByRole('button', { name: title }), stepResult(page, id), /Step passed\.|Not there yet\.|could not look/, 240_000);
    return { passed: /Step passed\./.test(text), text };
  }

  const apply = (page: Page) => pressAndRead(page, page.getByRole('button', { name: 'Apply', exact: true }), page.locator('[data-ref="apply-result"]'), /Applied\.|\b[A-Z_]{4,}\b/, 120_000);

  it('lab 02: Check names the missing label; the learner fixes it in the terminal and the editor; the next step unlocks', async () => {
    const t0 = Date.now();
    const page = await (await newContext(browser)).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(lessonUrl('02-selectors-and-endpoints'));
    await snap(page, 'real-02-1-lesson');
    await startRealLab(page, 'real-02');
    log(`lab 02 running after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    await snap(page, 'real-02-2-ready');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // Step 1: the check fails until the learner has counted the endpoints and noted the number.
    const observe = await check(page, 'observe', /^Check: Observe/);
    expect(observe.passed).toBe(false);
    expect(observe.text).toMatch(/~\/answers\/endpoints is missing or empty/);
    await snap(page, 'real-02-3-observe-fails');
    await run(page, 'kubectl get endpointslices -l kubernetes.io/service-name=nginx', /^nginx-\S+\s+IPv4/m);
    await run(page, 'mkdir -p ~/answers && echo 0 > ~/answers/endpoints && echo noted-$((6*7))', /^noted-42$/m);
    expect((await check(page, 'observe', /^Check: Observe/)).passed).toBe(true);
    await expect.poll(() => step(page, 'observe').getAttribute('class')).toMatch(/svclab-step--passed/);
    // Step 2 was locked until now.
    await expect(step(page, 'label-the-pods').getAttribute('class')).resolves.not.toMatch(/svclab-step--locked/);
    await snap(page, 'real-02-4-observe-passes');

    // Step 2: none of the pods carries role=logstor; then the learner mislabels them.
    const none = await check(page, 'label-the-pods', /^Check: Label the pods/);
    expect(none.passed).toBe(false);
    expect(none.text).toMatch(/None of the app=nginx pods has the label role=logstor yet\./);
    await run(page, 'kubectl label pods -l app=nginx role=logstore && echo labelled-all', /^labelled-all$/m);
    const typo = await check(page, 'label-the-pods', /^Check: Label the pods/);
    expect(typo.passed).toBe(false);
    expect(typo.text).toMatch(/not with the value logstor/);
    expect(typo.text).toMatch(/role=logstore; the Service selects role=logstor/); // what the check saw
    // The script the check ran is one summary line that opens to the whole of it.
    const script = step(page, 'label-the-pods').locator('details.svclab-script').first();
    expect(await script.locator('summary').innerText()).toMatch(/^exit code 0 from: sh -c/);
    expect(await script.getAttribute('open')).toBeNull();
    expect(typo.text).not.toMatch(/kc get --raw/);
    await step(page, 'label-the-pods').scrollIntoViewIfNeeded();
    await snap(page, 'real-02-5-typo-named');

    // The lasting fix: role: logstor in the pod template, in the editor.
    await openEditor(page);
    const starting = await editorValue(page);
    expect(starting).toContain('kind: Deployment');
    const fixed = starting.replace('      labels:\n        app: nginx\n', '      labels:\n        app: nginx\n        role: logstor\n');
    expect(fixed).not.toBe(starting);
    await pasteIntoEditor(page, fixed);
    await until(() => editorValue(page), (v) => v === fixed, 10_000, 'the edited YAML');

    // A reload mid-lab: the terminal output comes back and the editor keeps the learner's text.
    await page.reload();
    await page.locator('[data-ref="term-state"][data-state="open"]').waitFor({ timeout: 60_000 });
    await until(() => terminalText(page), (t) => /^noted-42$/m.test(t) && /^labelled-all$/m.test(t), 30_000, 'the earlier output replayed');
    await openEditor(page);
    expect(await editorValue(page)).toBe(fixed);
    await snap(page, 'real-02-6-after-reload');

    // Diff against the live Deployment: the cluster's pods template has no role label yet.
    await page.getByRole('button', { name: /^Diff/ }).click();
    await page.locator('[data-ref="diff-view"]').waitFor({ state: 'visible', timeout: 60_000 });
    const diff = (await until(
      () => page.evaluate(() => (document.querySelector('svclab-lab') as unknown as { svclab: { diff(): { live: string; mine: string; changes?: number } | undefined } }).svclab.diff()),
      (x) => (x?.changes ?? 0) > 0,
      30_000,
      'the live diff',
    ))!;
    expect(diff.live).toMatch(/^kind: Deployment$/m);
    expect(diff.live).not.toMatch(/role: logstor/);
    expect(diff.live).not.toMatch(/resourceVersion|managedFields|last-applied/);
    expect(diff.mine).toMatch(/^ {8}role: logstor$/m);
    await page.locator('[data-ref="diff-view"]').scrollIntoViewIfNeeded();
    await snap(page, 'real-02-6b-diff');
    await page.getByRole('button', { name: 'Close diff' }).click();

    const applied = await apply(page);
    expect(applied).toMatch(/Applied\./);
    expect(applied).toMatch(/deployment\.apps\/nginx/);
    await snap(page, 'real-02-7-applied');
    await run(page, 'kubectl rollout status deployment/nginx --timeout=120s', /successfully rolled out/, 150_000);
    const label = await check(page, 'label-the-pods', /^Check: Label the pods/);
    expect(label.passed, label.text).toBe(true);
    expect(label.text).toMatch(/3 ready endpoints|selects app=nginx,role=logstor/);
    await expect(step(page, 'reach-the-service').getAttribute('class')).resolves.not.toMatch(/svclab-step--locked/);
    await expect(page.getByRole('button', { name: /^Check: Reach the Service/ }).isVisible()).resolves.toBe(true);
    await snap(page, 'real-02-8-label-passes');

    // Step 3: the Service answers on its ClusterIP.
    await run(page, 'curl -s http://10.97.97.97/ -o ~/answers/page.html && grep -q "Welcome to nginx" ~/answers/page.html && echo page-saved', /^page-saved$/m);
    expect((await check(page, 'reach-the-service', /^Check: Reach the Service/)).passed).toBe(true);
    await expect.poll(() => page.locator('[data-ref="progress"]').innerText()).toBe('3 of 3 steps done');
    await snap(page, 'real-02-9-all-done');
    expect(errors).toEqual([]);
    log(`lab 02 done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    await page.getByRole('button', { name: 'End lab' }).click();
    await page.getByRole('button', { name: 'Start lab' }).waitFor();
    await page.context().close();
  }, 900_000);

  it('lab 11: openssl in the terminal, a TLS Secret, a TLS Ingress from the editor, and the TLS checks pass', async () => {
    const t0 = Date.now();
    const page = await (await newContext(browser)).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(lessonUrl('11-ingress-and-tls'));
    await startRealLab(page, 'real-11');
    log(`lab 11 running after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    await snap(page, 'real-11-1-ready');

    // Step 1 (host routing), the learner's way: the editor's Ingress plus a rule for the shop.
    await openEditor(page);
    expect(await page.locator('[data-ref="editor-step"]').inputValue()).toBe('host-routing');
    const routing = await editorValue(page);
    expect(routing).toContain('host: blog.svclab.test');
    expect(routing).not.toContain('host: shop.svclab.test');
    const shopRule = ['    - host: shop.svclab.test', '      http:', '        paths:', '          - path: /', '            pathType: Prefix', '            backend:', '              service:', '                name: shop', '                port:', '                  number: 80', ''].join('\n');
    await pasteIntoEditor(page, routing.replace(/\n*$/, '\n') + shopRule);
    expect(await apply(page)).toMatch(/^ingress\.networking\.k8s\.io\/sites (serverside-applied|created|configured)$/m);
    const routed = await check(page, 'host-routing', /^Check: Route two hosts/);
    expect(routed.passed, routed.text).toBe(true);
    await snap(page, 'real-11-2-routing-passes');

    // Step 2: before anything is done, the checks say what is missing.
    const before = await check(page, 'tls-by-sni', /^Check: Serve shop\.svclab\.test over TLS/);
    expect(before.passed).toBe(false);
    expect(before.text).toMatch(/shop-tls/);
    expect(before.text).toMatch(/no certificate at ~\/tls\/shop\.crt/);
    await step(page, 'tls-by-sni').scrollIntoViewIfNeeded();
    await snap(page, 'real-11-3-tls-fails');

    // The certificate, with openssl, and the TLS Secret, in the terminal.
    await run(
      page,
      'mkdir -p ~/tls && cd ~/tls && openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout shop.key -out shop.crt -subj /CN=shop.svclab.test -addext subjectAltName=DNS:shop.svclab.test 2>/dev/null && openssl x509 -in shop.crt -noout -subject',
      /^subject=\s*CN\s*=\s*shop\.svclab\.test$/m,
    );
    // On a reused cluster an earlier run's Secret is still there (a new session resets only
    // the lab's manifests; the Secret came from a command), as it would be for a learner
    // doing the lab a second time: out with it first.
    await run(page, 'kubectl delete secret shop-tls --ignore-not-found && echo old-secret-gone', /^old-secret-gone$/m);
    await run(page, 'kubectl create secret tls shop-tls --cert=shop.crt --key=shop.key', /secret\/shop-tls created/);
    await snap(page, 'real-11-4-cert-and-secret');

    // The TLS Ingress: the step's YAML plus a tls entry, applied from the editor.
    await page.locator('[data-ref="editor-step"]').selectOption('tls-by-sni');
    const tlsStart = await until(() => editorValue(page), (v) => v.includes('host: shop.svclab.test') && !v.includes('secretName'), 10_000, "step 2's YAML");
    const withTls = tlsStart.replace('  ingressClassName: traefik\n', '  ingressClassName: traefik\n  tls:\n    - hosts:\n        - shop.svclab.test\n      secretName: shop-tls\n');
    expect(withTls).not.toBe(tlsStart);
    await pasteIntoEditor(page, withTls);
    expect(await apply(page)).toMatch(/^ingress\.networking\.k8s\.io\/sites (serverside-applied|configured)$/m);
    await snap(page, 'real-11-5-tls-applied');
    const after = await check(page, 'tls-by-sni', /^Check: Serve shop\.svclab\.test over TLS/);
    expect(after.passed, after.text).toBe(true);
    expect(await step(page, 'tls-by-sni').locator('.svclab-check--pass').count()).toBe(3);
    await step(page, 'tls-by-sni').scrollIntoViewIfNeeded();
    await snap(page, 'real-11-6-tls-passes');
    // What the learner can see for themselves: curl trusting only their certificate.
    await run(page, 'curl -s --cacert ~/tls/shop.crt --resolve shop.svclab.test:30443:127.0.0.1 https://shop.svclab.test:30443/ | grep -o "Welcome to the shop" | head -1', /^Welcome to the shop$/m);
    expect(errors).toEqual([]);
    log(`lab 11 done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    await page.getByRole('button', { name: 'End lab' }).click();
    await page.getByRole('button', { name: 'Start lab' }).waitFor();
    await page.context().close();
  }, 900_000);
});
