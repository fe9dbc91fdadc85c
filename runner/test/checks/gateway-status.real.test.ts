// Real tier for the gateway-status kind: Traefik's own conditions on a live svclab
// cluster with the Gateway API add-on. Broken one link at a time (a listener's
// Secret missing, a backendRef naming no Service), then fixed: each broken state
// fails with the cause named, the fixed one passes. The cluster: SVCLAB_GATEWAY_CLUSTER
// names one, else a running svclab-gw; under `npm test` (SVCLAB_TEST_CREATE_CLUSTER=1)
// one of its own with svclab's add-ons, removed after; otherwise one SKIP line. Works
// in its own namespace, removed after.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckContext, CheckResult } from '../../src/checks/check.ts';
import { systemClock } from '../../src/checks/check.ts';
import { ClientNodeKubeApi } from '../../src/checks/kube-api.ts';
import { checkSchema, runCheck } from '../../src/checks/registry.ts';
import { nodeKubectl } from '../../src/cluster/cluster-driver.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { testCluster } from '../support/test-cluster.ts';

const real = await testCluster({
  prefix: 'svclab-gw', env: 'SVCLAB_GATEWAY_CLUSTER', existing: 'svclab-gw', addons: true,
  check: async ({ driver, name }) => {
    const crd = await driver.execOnNode(name, `${name}-control-plane`, nodeKubectl(['get', 'crd', 'gateways.gateway.networking.k8s.io']), { timeoutMs: 30_000 });
    return crd.exitCode === 0 ? undefined : `${name} has no Gateway API CRDs (svclab images build gateway-api, then svclab up)`;
  },
});
if ('skip' in real) console.log(`SKIP gateway-status (real): ${real.skip}`);

const TIMEOUT = 240_000;
const ns = `svclab-gw-${randomBytes(3).toString('hex')}`;

describe.skipIf('skip' in real)('gateway-status on Traefik', () => {
  if ('skip' in real) return;
  const { driver, engine, name: NAME } = real;
  const cp = `${NAME}-control-plane`;
  let ctx: CheckContext;
  const kubectl = async (args: string[], input?: string) => {
    const r = await driver.execOnNode(NAME, cp, nodeKubectl(args), { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (objects: unknown[]) => kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  const gateway = (listeners: unknown[]) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'web', namespace: ns }, spec: { gatewayClassName: 'traefik', listeners } });
  const http = { name: 'http', protocol: 'HTTP', port: 80 };
  const https = { name: 'https', protocol: 'HTTPS', port: 443, hostname: `${ns}.svclab.test`, tls: { mode: 'Terminate', certificateRefs: [{ name: 'gw-tls' }] } };
  const route = (backend: string) => ({
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'site', namespace: ns },
    spec: { parentRefs: [{ name: 'web' }], hostnames: [`${ns}.svclab.test`], rules: [{ backendRefs: [{ name: backend, port: 80 }] }] },
  });
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'site', namespace: ns }, spec: { selector: { app: 'site' }, ports: [{ port: 80 }] } };
  let tlsSecret: unknown;
  // Any parseable pair will do for the listener to resolve its reference: a throwaway one.
  const secret = async () => ({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'gw-tls', namespace: ns }, data: await throwawayCert(`${ns}.svclab.test`) });
  const run = async (over: Record<string, unknown>, deadlineSeconds: number): Promise<CheckResult> => {
    const t = Date.now();
    const check = checkSchema.parse({ id: 'gw', kind: 'gateway-status', description: { en: 'gw', zh: 'gw' }, deadlineSeconds, intervalSeconds: 2, gateway: 'web', namespace: ns, ...over });
    const r = await runCheck(check, ctx);
    console.log(`  ${JSON.stringify(over)}: ${r.status} in ${((Date.now() - t) / 1000).toFixed(1)} s — ${r.message}`);
    return r;
  };

  beforeAll(async () => {
    ctx = { engine, workstation: cp, lang: 'en', kube: new ClientNodeKubeApi(await driver.kubeconfig(NAME, 'host')), ...systemClock };
    await kubectl(['create', 'namespace', ns]);
  }, TIMEOUT);
  afterAll(async () => {
    if (real.owned) return real.remove();
    await driver.execOnNode(NAME, cp, nodeKubectl(['delete', 'namespace', ns, '--wait=false']), { timeoutMs: 60_000 }).catch(() => undefined);
  }, 120_000);

  it('no Gateway: fails, naming where it looked', async () => {
    expect(await run({}, 4)).toMatchObject({ status: 'fail', message: `There is no Gateway web in namespace ${ns}.` });
  }, TIMEOUT);

  it('an https listener whose Secret does not exist: Traefik says InvalidCertificateRef, the check names the Secret', async () => {
    await apply([gateway([http, https]), service, route('sitee')]);
    const r = await run({ listeners: ['https'] }, 30);
    expect(r).toMatchObject({ status: 'fail', message: `Listener https names Secret gw-tls in tls.certificateRefs, and there is no Secret gw-tls in namespace ${ns}.` });
  }, TIMEOUT);

  it('a backendRef naming no Service (the listener fixed first: the check reports the first broken link): BackendNotFound names the Service', async () => {
    await apply([tlsSecret ??= await secret()]);
    const r = await run({ route: { name: 'site' } }, 30);
    expect(r.status).toBe('fail');
    expect(r.message).toBe(`HTTPRoute site (parent web): its backendRefs name a Service that does not exist in namespace ${ns}: sitee (BackendNotFound). Requests for that rule get an error from the controller.`);
  }, TIMEOUT);

  it('fixed: the Secret made, the backendRef corrected, every link passes', async () => {
    await apply([route('site')]);
    const r = await run({ listeners: ['http', 'https'], route: { name: 'site' } }, 60);
    expect(r.status, r.message).toBe('pass');
  }, TIMEOUT);
});

async function throwawayCert(name: string): Promise<Record<string, string>> {
  const runner = new ExecaRunner();
  const { mkdtemp, readFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(`${tmpdir()}/svclab-gw-`);
  try {
    const r = await runner.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', `${dir}/k`, '-out', `${dir}/c`, '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`], { timeoutMs: 30_000 });
    if (r.exitCode !== 0) throw new Error(`openssl: ${r.stderr}`);
    return { 'tls.crt': (await readFile(`${dir}/c`)).toString('base64'), 'tls.key': (await readFile(`${dir}/k`)).toString('base64') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
