// Real tier: every check kind against a live svclab cluster, failing on a broken
// state and passing once it is fixed. Runs in its own namespace (removed after) on
// SVCLAB_CHECKS_CLUSTER, else a running svclab-main, else (npm test) a cluster of its
// own (support/test-cluster.ts). Otherwise it prints one SKIP line.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckContext, CheckResult } from '../../src/checks/check.ts';
import { systemClock } from '../../src/checks/check.ts';
import { ClientNodeKubeApi } from '../../src/checks/kube-api.ts';
import { ClusterVantageExec } from '../../src/checks/vantage.ts';
import { nodeKubectl, type ClusterDriver } from '../../src/cluster/cluster-driver.ts';
import type { DockerEngine } from '../../src/engine/docker-engine.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { checkSchema, runCheck, type Check } from '../../src/checks/registry.ts';
import { nodeToolsPod } from '../support/node-tools-pod.ts';
import { testCluster } from '../support/test-cluster.ts';

const runner = new ExecaRunner();

const found = await testCluster({ prefix: 'svclab-chk', env: 'SVCLAB_CHECKS_CLUSTER', existing: 'svclab-main' });
const real = await (async (): Promise<{ skip: string } | { driver: ClusterDriver; engine: DockerEngine; cluster: string; webImage: string; owned: boolean; remove(): Promise<void> }> => {
  if ('skip' in found) return found;
  const web = (await found.engine.listImages()).find((i) => i.ref.startsWith('svclab/web:'))?.ref;
  if (!web) {
    await found.remove();
    return { skip: 'the svclab/web image is not built (run `svclab images build`)' };
  }
  return { driver: found.driver, engine: found.engine, cluster: found.name, webImage: web, owned: found.owned, remove: found.remove };
})();
if ('skip' in real) console.log(`SKIP checks (real): ${real.skip}`);

const TIMEOUT = 240_000;
const ns = `svclab-chk-${randomBytes(3).toString('hex')}`;

describe.skipIf('skip' in real)('check kinds on a live cluster', () => {
  if ('skip' in real) return;
  const { driver, engine, cluster, webImage } = real;
  const cp = `${cluster}-control-plane`;
  let ctx: CheckContext;

  const kubectl = async (args: string[], input?: string) => {
    const r = await driver.execOnNode(cluster, cp, nodeKubectl(args), { timeoutMs: 180_000, ...(input !== undefined ? { input } : {}) });
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (objects: unknown[]) => kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));

  const web = (role: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web', role } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'web', image: webImage, imagePullPolicy: 'Never', env: [{ name: 'PORT', value: '8080' }], ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 } }],
        },
      },
    },
  });
  const service = (type: 'ClusterIP' | 'NodePort') => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: ns },
    spec: { type, selector: { app: 'web', role: 'logstor' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  });
  const headless = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-hl', namespace: ns }, spec: { clusterIP: 'None', selector: { app: 'web', role: 'logstor' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };

  // TLS: openssl s_server from the node's own /usr (the pause image has nothing), serving a Secret's certificate.
  const tlsPod = (pause: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'tls', namespace: ns, labels: { app: 'tls' } },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{
        name: 'tls', image: pause, imagePullPolicy: 'Never',
        command: ['/usr/bin/openssl', 's_server', '-accept', '8443', '-cert', '/certs/tls.crt', '-key', '/certs/tls.key', '-www'],
        volumeMounts: [{ name: 'usr', mountPath: '/usr', readOnly: true }, { name: 'lib', mountPath: '/lib', readOnly: true }, { name: 'lib64', mountPath: '/lib64', readOnly: true }, { name: 'certs', mountPath: '/certs', readOnly: true }],
      }],
      volumes: [
        { name: 'usr', hostPath: { path: '/usr', type: 'Directory' } },
        { name: 'lib', hostPath: { path: '/usr/lib', type: 'Directory' } },
        { name: 'lib64', hostPath: { path: '/usr/lib64', type: 'Directory' } },
        { name: 'certs', secret: { secretName: 'tls' } },
      ],
    },
  });
  // A client pod for the pod vantage point: the node's dig through hostPath, the cluster's resolv.conf.
  const clientPod = (pause: string) => nodeToolsPod('client', ns, pause);
  const tlsService = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'tls', namespace: ns }, spec: { selector: { app: 'tls' }, ports: [{ port: 443, targetPort: 8443 }] } };
  const tlsSecret = (cn: string) =>
    driver.execOnNode(cluster, cp, ['sh', '-c', [
      'set -e; d=$(mktemp -d); cd "$d"',
      'openssl req -x509 -newkey rsa:2048 -nodes -days 1 -keyout k -out c -subj "/CN=$1" -addext "subjectAltName=DNS:$1" 2>/dev/null',
      'kubectl --kubeconfig=/etc/kubernetes/admin.conf -n "$2" create secret tls tls --cert c --key k --dry-run=client -o yaml | kubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f - >/dev/null',
      'rm -rf "$d"',
    ].join('\n'), 'sh', cn, ns], { timeoutMs: 60_000 });
  let pause = '';

  // One check of each kind; `quick` checks give up early on the broken state.
  const checks: Record<string, Record<string, unknown>> = {
    selector: { kind: 'selector', service: 'web', namespace: ns, minPods: 2 },
    endpoints: { kind: 'endpoints', service: 'web', namespace: ns, ready: 2 },
    resource: { kind: 'resource', resource: { apiVersion: 'v1', kind: 'Service', name: 'web', namespace: ns }, fields: [{ path: 'spec.type', equals: 'NodePort' }, { path: 'spec.ports[name=http].nodePort', exists: true }] },
    http: { kind: 'http', from: 'node:control-plane', target: { service: 'web', namespace: ns }, expect: { status: 200, body: 'Welcome to nginx!' } },
    'http-spread': { kind: 'http', from: 'node:worker', target: { service: 'web', namespace: ns }, distinctBackends: { requests: 12, min: 2 } },
    'http-nodeport': { kind: 'http', from: 'host', target: { service: 'web', namespace: ns, via: 'nodePort' } },
    dns: { kind: 'dns', from: 'node:control-plane', server: '10.96.0.10', name: `web-hl.${ns}.svc.cluster.local`, expect: { podIPs: { service: 'web-hl', namespace: ns } } },
    'dns-search': { kind: 'dns', from: `pod:${ns}/client`, name: 'web-hl', search: true, expect: { podIPs: { service: 'web-hl', namespace: ns } } },
    tls: { kind: 'tls', from: 'node:control-plane', target: { service: 'tls', namespace: ns }, servername: 'shop.example.com', expect: { san: ['shop.example.com'], selfSigned: true } },
    'proxy-rules': { kind: 'proxy-rules', node: 'node:control-plane', service: 'web', namespace: ns, endpoints: 2 },
    command: { kind: 'command', argv: ['sh', '-c', `test "$(kubectl --kubeconfig=/etc/kubernetes/admin.conf -n ${ns} get service web -o jsonpath={.spec.type})" = NodePort`] },
  };
  const check = (id: string, deadlineSeconds: number): Check =>
    checkSchema.parse({ id, description: { en: id, zh: id }, deadlineSeconds, intervalSeconds: Math.min(2, deadlineSeconds), ...checks[id] });
  const run = async (id: string, deadlineSeconds: number): Promise<CheckResult> => {
    const t = Date.now();
    const r = await runCheck(check(id, deadlineSeconds), ctx);
    console.log(`  ${id}: ${r.status} in ${((Date.now() - t) / 1000).toFixed(1)} s — ${r.message}${r.status === 'pass' ? '' : ` [observed: ${r.details?.observed ?? ''}]`}`);
    return r;
  };

  beforeAll(async () => {
    const kube = new ClientNodeKubeApi(await driver.kubeconfig(cluster, 'host'));
    // The command check runs its argv in "the workstation"; here the control-plane node stands in for it.
    ctx = { engine, workstation: cp, lang: 'en', kube, vantage: new ClusterVantageExec({ engine, workstation: cp, cluster: { driver, name: cluster }, host: runner }), ...systemClock };
    await driver.loadImage(cluster, webImage);
    const images = JSON.parse((await driver.execOnNode(cluster, cp, ['crictl', 'images', '-o', 'json'], { timeoutMs: 30_000 })).stdout) as { images: { repoTags: string[] }[] };
    pause = images.images.flatMap((i) => i.repoTags).find((t) => /\/pause:/.test(t)) ?? '';
    await kubectl(['create', 'namespace', ns]);
    // Broken: the pods carry role=logstore, the Service selects role=logstor and is a ClusterIP; the TLS cert is for another name.
    await apply([web('logstore'), service('ClusterIP'), headless, tlsService]);
    await tlsSecret('wrong.example.com');
    await apply([tlsPod(pause), clientPod(pause)]);
    await kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=150s']);
    await kubectl(['-n', ns, 'wait', '--for=condition=Ready', 'pod/tls', 'pod/client', '--timeout=60s']);
  }, TIMEOUT);

  afterAll(async () => {
    if (real.owned) return real.remove();
    await driver.execOnNode(cluster, cp, nodeKubectl(['delete', 'namespace', ns, '--wait=false']), { timeoutMs: 60_000 }).catch(() => undefined);
  }, 120_000);

  describe('broken state: each kind fails', () => {
    it('selector names the near miss', async () => {
      const r = await run('selector', 4);
      expect(r.status).toBe('fail');
      expect(r.message).toMatch(/^Service web selects app=web,role=logstor; pods web-[a-z0-9]+-\* have role=logstore\.$/);
    }, TIMEOUT);
    it('endpoints: none ready, and why', async () => {
      const r = await run('endpoints', 4);
      expect(r.status).toBe('fail');
      expect(r.message).toMatch(/^Service web has 0 ready endpoints; expected 2\. Its selector app=web,role=logstor matches no pod: pods web-[a-z0-9]+-\* have role=logstore\.$/);
    }, TIMEOUT);
    it('resource: a ClusterIP Service is not a NodePort', async () => {
      expect(await run('resource', 4)).toMatchObject({ status: 'fail', message: 'Service web: spec.type is "ClusterIP"; expected "NodePort".' });
    }, TIMEOUT);
    it('http: kube-proxy refuses a Service without endpoints; spreading refuses to pass vacuously; no NodePort', async () => {
      const r = await run('http', 4);
      expect(r.status).toBe('fail');
      expect(r.message).toMatch(/^The connection to http:\/\/10\.\d+\.\d+\.\d+\/ was refused\.$/);
      expect(await run('http-spread', 4)).toMatchObject({ status: 'fail', message: expect.stringContaining('Service web has 0 ready endpoints') });
      expect(await run('http-nodeport', 4)).toMatchObject({ status: 'fail', message: 'Service web is of type ClusterIP, so it has no nodePort.' });
    }, TIMEOUT);
    it('dns: no ready pods behind the headless Service', async () => {
      expect(await run('dns', 4)).toMatchObject({ status: 'fail', message: 'No ready pod matches Service web-hl, so there are no pod IPs to compare with.' });
      expect((await run('dns-search', 4)).status).toBe('fail');
    }, TIMEOUT);
    it('tls: the certificate is for another name', async () => {
      expect(await run('tls', 4)).toMatchObject({ status: 'fail', message: 'The certificate served for shop.example.com does not cover shop.example.com (its DNS names: wrong.example.com).' });
    }, TIMEOUT);
    it('proxy-rules: no chain for a Service without endpoints', async () => {
      const r = await run('proxy-rules', 4);
      expect(r.status).toBe('fail');
      expect(r.message).toMatch(/^On node control-plane, kube-proxy \((iptables|nftables)\) has no chain for Service web/);
    }, TIMEOUT);
    it('command: exits non-zero', async () => {
      expect((await run('command', 4)).status).toBe('fail');
    }, TIMEOUT);
  });

  describe('fixed state: each kind passes', () => {
    beforeAll(async () => {
      await apply([web('logstor'), service('NodePort')]);
      await tlsSecret('shop.example.com');
      await kubectl(['-n', ns, 'delete', 'pod', 'tls', '--wait=true']);
      await apply([tlsPod(pause)]);
      await kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=150s']);
    }, TIMEOUT);

    for (const id of Object.keys(checks)) {
      it(id, async () => {
        const r = await run(id, 90);
        expect(r.status, `${r.message}\n${r.details?.observed ?? ''}`).toBe('pass');
      }, TIMEOUT);
    }
  });
});
