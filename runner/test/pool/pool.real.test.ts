// Real tier: a warm pool of one real cluster (kind + lab image + Traefik + MetalLB + learner access).
// A claim hands out a ready cluster; what a learner made is gone after release and
// the cluster is handed out again; a cluster whose provisioned state was changed
// (kube-proxy's ConfigMap edited) is reported untrusted, naming the object, and is
// deleted and replaced: the pool refills. Needs docker, current images and
// SVCLAB_TEST_CREATE_CLUSTER=1; otherwise one SKIP line.
import { controlPlaneNode, nodeAdminKubectl, nodeShell } from '../../src/cluster/node-shell.ts';
import { checkLearnerAccess } from '../../src/access/index.ts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWiring, LEARNER_ACCESS_ON_PROVISION, poolStateDir, realPoolDeps } from '../../src/main/wiring.ts';
import { isRunnerError } from '../../src/errors.ts';
import { imagesStatus } from '../../src/images/images.ts';
import { ClusterPool } from '../../src/pool/cluster-pool.ts';
import { clusterHealthy, recycleCluster } from '../../src/pool/recycle.ts';

const PREFIX = 'svclab-pooltest-';
const d = buildWiring();

const skip = await (async (): Promise<string | undefined> => {
  if (process.env['SVCLAB_TEST_CREATE_CLUSTER'] !== '1') return 'set SVCLAB_TEST_CREATE_CLUSTER=1 to let it create a cluster (npm test does)';
  try {
    await d.engine.info();
    const st = await imagesStatus(d.images);
    const notCurrent = st.filter((s) => ['node', 'web', 'kind', 'traefik', 'metallb', 'kubernetes'].includes(s.name) && s.state !== 'current');
    if (notCurrent.length) return `images not current: ${notCurrent.map((s) => `${s.name} (${s.state})`).join(', ')} (run \`svclab images build\`)`;
  } catch (e) {
    return isRunnerError(e) ? `${e.code}: ${e.message}` : String(e);
  }
  return undefined;
})();
if (skip) console.log(`SKIP warm pool (real): ${skip}`);

describe.skipIf(skip !== undefined)('warm pool on real clusters', () => {
  const logger = pino({ level: 'silent' });
  const deps = realPoolDeps(d, logger);
  const pool = new ClusterPool(deps, { size: 1, prefix: PREFIX });
  const rdeps = { driver: d.driver, dir: poolStateDir() };
  let name = '';
  const kubectl = async (args: string[], input?: string) => {
    const r = await nodeAdminKubectl(d.driver, name).run(args, { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
    return r;
  };

  beforeAll(async () => {
    // Leftovers of an earlier run of this suite are adopted or removed by start().
    await pool.start();
    await pool.settled();
  });

  afterAll(async () => {
    await pool.close();
    if (process.env['SVCLAB_KEEP_CLUSTER'] === '1') return;
    for (const c of await d.driver.list()) if (c.name.startsWith(PREFIX)) await d.driver.delete(c.name).catch(() => undefined);
  });

  it('hands out a ready cluster with every component', async () => {
    expect(pool.snapshot().clusters.map((c) => c.state)).toEqual(['ready']);
    name = await pool.claim('alice');
    expect(name).toBe(`${PREFIX}1`);
    expect(await clusterHealthy(rdeps, name)).toBe(true);
    const ready = await kubectl(['get', 'deploy', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.readyReplicas}{"\\n"}{end}']);
    expect(ready.stdout).toMatch(/traefik=1/);
    expect(ready.stdout).toMatch(/controller=1/); // MetalLB
    // The provisioning pipeline's learner-access step ran (when on): RBAC and admission policies as installed.
    if (LEARNER_ACCESS_ON_PROVISION) expect(await checkLearnerAccess({ controlPlane: nodeShell(d.driver, name, controlPlaneNode(name)) })).toEqual({ ok: true, problems: [] });
  });

  it("removes what the learner made on release, verifies the rest, and hands the cluster out again", async () => {
    const made = await kubectl(['apply', '-f', '-'], `apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Secret
metadata: { name: shop-tls, namespace: default }
stringData: { a: b }
---
apiVersion: v1
kind: Service
metadata: { name: nginx, namespace: default }
spec: { clusterIP: 10.97.97.97, selector: { app: nginx }, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: lonely, namespace: default, labels: { app: nginx } }
spec: { containers: [{ name: web, image: svclab/web:latest, imagePullPolicy: Never }] }
`);
    expect(made.exitCode, made.stderr).toBe(0);
    await pool.release('alice');
    expect(pool.snapshot().clusters.map((c) => c.state)).toEqual(['ready']);
    const left = await kubectl(['get', 'ns/shop', 'secret/shop-tls', 'svc/nginx', 'pod/lonely', '-n', 'default', '--ignore-not-found', '-o', 'name']);
    expect(left.stdout.trim()).toBe('');
    expect(await pool.claim('bob')).toBe(name);
  });

  it('reports a cluster whose provisioned state changed as untrusted, naming the object; the pool replaces it', async () => {
    const edit = await kubectl(['-n', 'kube-system', 'patch', 'configmap', 'kube-proxy', '--type', 'merge', '-p', '{"data":{"svclab-test":"edited"}}']);
    expect(edit.exitCode, edit.stderr).toBe(0);
    const report = await recycleCluster(rdeps, name);
    expect(report.trusted).toBe(false);
    expect(report.reasons).toContain('ConfigMap/kube-system/kube-proxy was changed');
    await pool.release('bob'); // recycling fails the same way: delete and provision anew
    expect(pool.snapshot().clusters.map((c) => c.state)).toEqual(['provisioning']);
    await pool.settled();
    expect(pool.snapshot().clusters.map((c) => c.state)).toEqual(['ready']);
    name = await pool.claim('carol');
    const cm = await kubectl(['-n', 'kube-system', 'get', 'configmap', 'kube-proxy', '-o', 'jsonpath={.data.svclab-test}']);
    expect(cm.stdout).toBe('');
  });
});
