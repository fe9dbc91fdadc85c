// Check engine latency: every check kind run N times against a passing setup on a
// cluster this script creates (svclab-bench-checks, 1 control plane + 1 worker, no
// host ports) and removes at the end, also on failure or Ctrl-C. Prints p50/p95 per
// kind, API kinds (resource, selector, endpoints) against one bare API GET through
// the same client, vantage-point kinds (http, dns, tls, proxy-rules, command)
// against a bare `docker exec NODE true`; the command kind also against a bare
// `kubectl get` in the same container. Baselines are measured in the same rounds,
// interleaved with the checks, so load from other clusters hits both alike.
// Bounded: N rounds (default 20), BUDGET_S seconds of measuring (default 300).
// Traffic: loopback (the API server's published port) and the cluster's containers.
import { kindBinary, nodeImageRef } from '../../runner/src/cluster/cluster-tools.ts';
import { nodeKubectl } from '../../runner/src/cluster/cluster-driver.ts';
import type { CheckContext, CheckResult } from '../../runner/src/checks/check.ts';
import { systemClock } from '../../runner/src/checks/check.ts';
import { ClientNodeKubeApi } from '../../runner/src/checks/kube-api.ts';
import { runCheck } from '../../runner/src/checks/run-checks.ts';
import { ClusterVantageExec } from '../../runner/src/checks/vantage.ts';
import { realDeps } from '../../runner/src/cli/wiring.ts';
import { imageRef } from '../../runner/src/images/images.ts';
import { checkSchema, type Check, type CheckKind } from '../../runner/src/labs/lab-schema.ts';

const N = Math.max(1, Math.min(200, Number(process.env.N ?? 20)));
const BUDGET_MS = Math.max(10, Number(process.env.BUDGET_S ?? 300)) * 1000;
const CLUSTER = 'svclab-bench-checks';
const NS = 'bench';

const d = realDeps();
let nodeImage: string;
let webImage: string;
try {
  await d.engine.info();
  await kindBinary(d.images);
  nodeImage = await nodeImageRef(d.images);
  webImage = await imageRef(d.images, 'web');
} catch (e) {
  console.log(`SKIP bench checks: ${(e as Error).message}`);
  process.exit(0);
}
if ((await d.driver.list()).some((c) => c.name === CLUSTER)) {
  console.log(`SKIP bench checks: a cluster named ${CLUSTER} already exists (another run?); remove it with \`svclab down --name ${CLUSTER}\``);
  process.exit(0);
}

const abort = new AbortController();
let removing: Promise<void> | undefined;
const teardown = () => (removing ??= d.driver.delete(CLUSTER).catch(() => undefined));
process.once('SIGINT', () => {
  console.log(`interrupted: removing ${CLUSTER}…`);
  abort.abort();
  void teardown().then(() => process.exit(130));
});

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const cp = `${CLUSTER}-control-plane`;

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await d.driver.execOnNode(CLUSTER, cp, nodeKubectl(args), { timeoutMs: 180_000, ...(input !== undefined ? { input } : {}) });
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} (exit ${r.exitCode}): ${r.stderr.trim().slice(-500)}`);
  return r.stdout;
}

/** The passing state every check below expects: the same objects as the checks' real test tier, fixed. */
async function setup(): Promise<void> {
  await d.driver.loadImage(CLUSTER, webImage);
  const images = JSON.parse((await d.driver.execOnNode(CLUSTER, cp, ['crictl', 'images', '-o', 'json'], { timeoutMs: 30_000 })).stdout) as { images: { repoTags: string[] }[] };
  const pause = images.images.flatMap((i) => i.repoTags).find((t) => /\/pause:/.test(t));
  if (!pause) throw new Error('no pause image on the control-plane node');
  const hostTools = [{ name: 'usr', mountPath: '/usr', readOnly: true }, { name: 'lib', mountPath: '/lib', readOnly: true }, { name: 'lib64', mountPath: '/lib64', readOnly: true }];
  const hostToolVolumes = [
    { name: 'usr', hostPath: { path: '/usr', type: 'Directory' } },
    { name: 'lib', hostPath: { path: '/usr/lib', type: 'Directory' } },
    { name: 'lib64', hostPath: { path: '/usr/lib64', type: 'Directory' } },
  ];
  await kubectl(['create', 'namespace', NS]);
  const tls = await d.driver.execOnNode(CLUSTER, cp, ['sh', '-c', [
    'set -e; d=$(mktemp -d); cd "$d"',
    'openssl req -x509 -newkey rsa:2048 -nodes -days 1 -keyout k -out c -subj "/CN=shop.example.com" -addext "subjectAltName=DNS:shop.example.com" 2>/dev/null',
    `kubectl --kubeconfig=/etc/kubernetes/admin.conf -n ${NS} create secret tls tls --cert c --key k >/dev/null`,
    'rm -rf "$d"',
  ].join('\n')], { timeoutMs: 60_000 });
  if (tls.exitCode !== 0) throw new Error(`could not make the TLS secret: ${tls.stderr}`);
  const objects = [
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 2, selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web', role: 'logstor' } },
          spec: { containers: [{ name: 'web', image: webImage, imagePullPolicy: 'Never', env: [{ name: 'PORT', value: '8080' }], ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 } }] },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { type: 'NodePort', selector: { app: 'web', role: 'logstor' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-hl', namespace: NS }, spec: { clusterIP: 'None', selector: { app: 'web', role: 'logstor' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'tls', namespace: NS }, spec: { selector: { app: 'tls' }, ports: [{ port: 443, targetPort: 8443 }] } },
    {
      // openssl s_server from the node's own /usr: the pause image has nothing.
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tls', namespace: NS, labels: { app: 'tls' } },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'tls', image: pause, imagePullPolicy: 'Never', command: ['/usr/bin/openssl', 's_server', '-accept', '8443', '-cert', '/certs/tls.crt', '-key', '/certs/tls.key', '-www'], volumeMounts: [...hostTools, { name: 'certs', mountPath: '/certs', readOnly: true }] }],
        volumes: [...hostToolVolumes, { name: 'certs', secret: { secretName: 'tls' } }],
      },
    },
  ];
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  await kubectl(['-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=180s']);
  await kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'pod/tls', '--timeout=120s']);
}

const API_KINDS = ['resource', 'selector', 'endpoints'] as const;
const VANTAGE_KINDS = ['http', 'dns', 'tls', 'proxy-rules', 'command', 'observed-command'] as const;
const specs: Record<CheckKind, Record<string, unknown>> = {
  resource: { resource: { apiVersion: 'v1', kind: 'Service', name: 'web', namespace: NS }, fields: [{ path: 'spec.type', equals: 'NodePort' }, { path: 'spec.ports[name=http].nodePort', exists: true }] },
  selector: { service: 'web', namespace: NS, minPods: 2 },
  endpoints: { service: 'web', namespace: NS, ready: 2 },
  http: { from: 'node:control-plane', target: { service: 'web', namespace: NS }, expect: { status: 200 } },
  dns: { from: 'node:control-plane', server: '10.96.0.10', name: `web-hl.${NS}.svc.cluster.local`, expect: { podIPs: { service: 'web-hl', namespace: NS } } },
  tls: { from: 'node:control-plane', target: { service: 'tls', namespace: NS }, servername: 'shop.example.com', expect: { san: ['shop.example.com'], selfSigned: true } },
  'proxy-rules': { node: 'node:control-plane', service: 'web', namespace: NS, endpoints: 2 },
  // The command kind runs in "the workstation"; the control-plane node stands in for it (it has kubectl and admin.conf).
  command: { argv: ['sh', '-c', `test "$(kubectl --request-timeout=10s --kubeconfig=/etc/kubernetes/admin.conf -n ${NS} get service web -o jsonpath={.spec.type})" = NodePort`] },
  // A node observation handed to a script: the conntrack table has entries.
  'observed-command': { observe: { from: 'node:control-plane', argv: ['conntrack', '-C'] }, argv: ['sh', '-c', 'test "$1" -ge 0', 'sh'] },
  // Parsed but not timed yet: the bench's passing state has no Gateway (it needs the Gateway API add-on and Traefik's status).
  'gateway-status': { gateway: 'web', namespace: NS },
};
const checks = Object.fromEntries(Object.entries(specs).map(([kind, spec]) => [kind, checkSchema.parse({ id: `bench-${kind}`, kind, description: { en: kind, zh: kind }, deadlineSeconds: 30, intervalSeconds: 2, ...spec })])) as Record<CheckKind, Check>;

function pct(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

let exitCode = 0;
try {
  const t0 = performance.now();
  console.log(`bench checks: creating ${CLUSTER} (1 control plane + 1 worker)…`);
  await d.driver.create({ name: CLUSTER, workers: 1, nodeImage, ports: [] }, { signal: abort.signal });
  console.log(`  cluster up in ${s(performance.now() - t0)}; setting up the passing state…`);
  const t1 = performance.now();
  await setup();
  console.log(`  passing state ready in ${s(performance.now() - t1)}`);

  const kube = new ClientNodeKubeApi(await d.driver.kubeconfig(CLUSTER, 'host'));
  // One context per round, like one Check press in the runner: the API client is
  // kept (ClusterCheckContexts caches it), the vantage port is new (it lists the nodes once).
  const context = (): CheckContext => ({ engine: d.engine, workstation: cp, lang: 'en', kube, vantage: new ClusterVantageExec({ engine: d.engine, workstation: cp, cluster: { driver: d.driver, name: CLUSTER }, host: d.runner }), ...systemClock, signal: abort.signal });
  const baselines = {
    'api GET': () => kube.getService(NS, 'web'),
    'exec true': () => d.driver.execOnNode(CLUSTER, cp, ['true'], { timeoutMs: 30_000 }),
    'exec kubectl get': () => d.driver.execOnNode(CLUSTER, cp, nodeKubectl(['-n', NS, 'get', 'service', 'web', '-o', 'name']), { timeoutMs: 30_000 }),
  } as const;
  type Name = CheckKind | keyof typeof baselines;
  const times = new Map<Name, number[]>();
  const notPassed: string[] = [];
  const runOne = async (kind: CheckKind, ctx: CheckContext): Promise<CheckResult> => {
    let r: CheckResult | undefined;
    const ms = await timed(async () => { r = await runCheck(checks[kind], ctx); });
    if (r!.status === 'pass') (times.get(kind) ?? times.set(kind, []).get(kind)!).push(ms);
    else notPassed.push(`${kind}: ${r!.status}: ${r!.message}`);
    return r!;
  };

  // Warm-up: every kind must pass once, or the figures would time failures.
  const warm = context();
  for (const kind of [...API_KINDS, ...VANTAGE_KINDS]) {
    const r = await runOne(kind, warm);
    if (r.status !== 'pass') throw new Error(`the ${kind} check does not pass on the bench's setup: ${r.message} (${r.details?.observed ?? ''})`);
  }
  times.clear();
  for (const f of Object.values(baselines)) await f();

  const started = performance.now();
  let rounds = 0;
  while (rounds < N && performance.now() - started < BUDGET_MS && !abort.signal.aborted) {
    const ctx = context();
    for (const [name, f] of Object.entries(baselines) as [Name, () => Promise<unknown>][]) {
      const ms = await timed(f);
      (times.get(name) ?? times.set(name, []).get(name)!).push(ms);
    }
    for (const kind of [...API_KINDS, ...VANTAGE_KINDS]) await runOne(kind, ctx);
    rounds++;
  }

  // Ctrl-C: the SIGINT handler removes the cluster and exits; no figures from a cut-short run.
  if (abort.signal.aborted) await new Promise(() => undefined);
  const fmt = (ms: number) => `${ms.toFixed(0).padStart(5)} ms`;
  const line = (name: string, xs: readonly number[], base?: readonly number[]) => {
    const ratio = base ? `   ×${(pct(xs, 50) / pct(base, 50)).toFixed(1).padStart(5)} p50  ×${(pct(xs, 95) / pct(base, 95)).toFixed(1).padStart(5)} p95` : '';
    return `  ${name.padEnd(18)} n=${String(xs.length).padStart(3)}  p50 ${fmt(pct(xs, 50))}  p95 ${fmt(pct(xs, 95))}${ratio}`;
  };
  const get = (n: Name) => times.get(n) ?? [];
  console.log(`check kinds on ${CLUSTER}, ${rounds} round(s) in ${s(performance.now() - started)} (passing runs only; ratios: check / baseline)`);
  console.log('baselines');
  for (const n of Object.keys(baselines) as Name[]) console.log(line(n, get(n)));
  console.log('API checks (vs api GET: one read of the Service through @kubernetes/client-node)');
  for (const k of API_KINDS) console.log(line(k, get(k), get('api GET')));
  console.log('vantage-point checks (vs exec true: docker exec into the control-plane node)');
  for (const k of VANTAGE_KINDS) console.log(line(k, get(k), get('exec true')));
  console.log(`  command vs exec kubectl get: ×${(pct(get('command'), 50) / pct(get('exec kubectl get'), 50)).toFixed(1)} p50  ×${(pct(get('command'), 95) / pct(get('exec kubectl get'), 95)).toFixed(1)} p95`);
  if (notPassed.length) {
    console.log(`${notPassed.length} run(s) did not pass and are left out of the figures:`);
    for (const m of notPassed.slice(0, 10)) console.log(`  ${m}`);
  }
} catch (e) {
  if (abort.signal.aborted) await new Promise(() => undefined);
  console.error(`bench checks failed: ${(e as Error).message}`);
  exitCode = 1;
} finally {
  console.log(`removing ${CLUSTER}…`);
  await teardown();
}
process.exit(exitCode);
