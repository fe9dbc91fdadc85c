// A learner's whole path through lab 02 on a real cluster, through the runner's
// HTTP API exactly as the lab page drives it: Start lab (a workstation inside the
// cluster, the lab's objects applied), Check fails naming what is missing, the
// learner acts in the workstation and applies the fix from the editor, Check passes.
// Needs docker and current images; otherwise one SKIP line.
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRunner } from '../../src/cli/start.ts';
import { loadLabImages, realDeps, workstationImage } from '../../src/cli/wiring.ts';
import { kindBinary, nodeImageRef } from '../../src/cluster/cluster-tools.ts';
import { projectRoot } from '../../src/version.ts';

const CLUSTER = 'svclab-e2e';
const LAB = '02-selectors-and-endpoints';
const d = realDeps();

async function unavailable(): Promise<string | undefined> {
  try {
    await d.engine.info();
    await kindBinary(d.images);
    await nodeImageRef(d.images);
    await workstationImage(d.cacheDir)();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const reason = await unavailable();
if (reason) console.log(`SKIP learner lab 02 (real): ${reason}`);

interface CheckResponse { passed: boolean; results: { status: string; message: string; hint?: string }[] }

describe.skipIf(reason)('a learner completes lab 02 through the runner (real cluster)', () => {
  let base = '';
  let token = '';
  let close: () => Promise<void> = async () => undefined;
  let session = '';

  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const r = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, json: (r.status === 204 ? {} : await r.json()) as T };
  };
  const check = (step: string) => api<CheckResponse>('POST', `/api/sessions/${session}/steps/${step}/check`, { lang: 'en' });
  const inWorkstation = async (script: string) => {
    const r = await d.engine.exec(`svclab-ws-${session}`, ['sh', '-c', script], { timeoutMs: 120_000, user: 'learner' });
    expect(r.exitCode, r.stderr).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    const existing = (await d.driver.list()).find((c) => c.name === CLUSTER);
    if (existing) await d.driver.delete(CLUSTER);
    const image = await nodeImageRef(d.images);
    await d.driver.create({ name: CLUSTER, workers: 2, nodeImage: image, ports: [] });
    await loadLabImages(CLUSTER, d.cacheDir);
    const running = await startRunner({
      host: '127.0.0.1', port: 0, allowRemote: false, cacheDir: mkdtempSync(join(tmpdir(), 'svclab-e2e-')), out: () => undefined,
      workstationImage: workstationImage(d.cacheDir),
      cluster: { engine: d.engine, driver: d.driver, clusterFor: async () => CLUSTER },
    });
    close = running.close;
    const u = new URL(running.url);
    base = u.origin;
    token = u.searchParams.get('token')!;
  }, 600_000);

  afterAll(async () => {
    await close();
    await d.driver.delete(CLUSTER).catch(() => undefined);
  }, 180_000);

  it('starts the lab: a workstation inside the cluster with the lab objects applied', async () => {
    const r = await api<{ session: { id: string; cluster: string | null; state: string } }>('POST', '/api/sessions', { labId: LAB });
    expect(r.status).toBe(201);
    expect(r.json.session).toMatchObject({ state: 'ready', cluster: CLUSTER });
    session = r.json.session.id;
    const svc = await inWorkstation('kubectl get service nginx -o jsonpath={.spec.clusterIP}');
    expect(svc).toBe('10.97.97.97');
  }, 300_000);

  it('step 1: Check fails until the learner notes the empty endpoints, then passes', async () => {
    const before = await check('observe');
    expect(before.json.passed).toBe(false);
    expect(before.json.results[0]?.message).toMatch(/answers\/endpoints/);
    await inWorkstation('kubectl get endpointslices -l kubernetes.io/service-name=nginx && mkdir -p ~/answers && echo 0 > ~/answers/endpoints');
    const after = await check('observe');
    expect(after.json.results[0]?.status).toBe('pass');
  }, 180_000);

  it('step 2: Apply from the editor is dry-run then applied, and the endpoints appear', async () => {
    const before = await check('label-the-pods');
    expect(before.json.passed).toBe(false);
    const bad = await api<{ error: { code: string; details?: { line?: number } } }>('POST', `/api/sessions/${session}/apply`, { yaml: 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx\nspec:\n  replicas: "three"\n' });
    expect(bad.status).toBe(422);
    expect(bad.json.error.code).toBe('APPLY_REJECTED');
    const fix = readFileSync(join(projectRoot, 'labs', LAB, 'solution', 'deployment.yaml'), 'utf8');
    const ok = await api<{ applied: string }>('POST', `/api/sessions/${session}/apply`, { yaml: fix });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    expect(ok.json.applied).toMatch(/deployment.apps\/nginx/);
    const after = await check('label-the-pods');
    expect(after.json.results.map((x) => x.status)).toEqual(['pass']);
  }, 300_000);

  it('step 3: the Service answers on 10.97.97.97 from the workstation', async () => {
    const before = await check('reach-the-service');
    expect(before.json.passed).toBe(false);
    const page = await inWorkstation('curl -s --max-time 10 http://10.97.97.97/ | tee -a /dev/null; mkdir -p ~/answers && curl -s --max-time 10 http://10.97.97.97/ -o ~/answers/page.html');
    expect(page).toMatch(/Welcome to nginx!/);
    const after = await check('reach-the-service');
    expect(after.json.passed).toBe(true);
  }, 180_000);

  it('ends the session and removes its workstation', async () => {
    expect((await api('DELETE', `/api/sessions/${session}`)).status).toBe(204);
    const left = await d.engine.listContainers({ 'svclab.session': session });
    expect(left).toHaveLength(0);
  }, 60_000);
});
