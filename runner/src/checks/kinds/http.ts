// The `http` check: curl from a vantage point to a ClusterIP, a Service name, a
// NodePort, a LoadBalancer IP or an Ingress host (Host header; SNI through
// --resolve), asserting status and body. `distinctBackends` sends N requests on
// fresh connections and counts the X-Served-By headers svclab/web sets.
import { z } from 'zod';
import { checkBaseShape, k8sName, regexText, serviceTargetSchema, strict, targetText, vantageSchema } from '../check-schema.ts';
import type { CheckContext, CheckKindDef, CheckResult } from '../check.ts';
import { cannotRun, kubeOf, langOf, listNames, pollCheck, say, tail, vantageOf, type Observation } from '../poll-check.ts';
import { hostLoopbackPort, hostMayReach, readyEndpointCount, resolveServiceTarget } from '../service-facts.ts';

export const httpCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('http'),
  from: vantageSchema.default('workstation'),
  /** A literal URL (http or https), or `target` resolved through the API. */
  url: z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'an http:// or https:// URL').optional(),
  target: serviceTargetSchema.optional(),
  scheme: z.enum(['http', 'https']).default('http'),
  path: z.string().regex(/^\/\S*$/, 'a path starting with /').default('/'),
  /** Virtual host: the Host header for http; for https also the SNI name (curl --resolve). */
  host: z.string().regex(/^[a-z0-9*]([-a-z0-9.]*[a-z0-9])?$/, 'a host name like web.example.com').optional(),
  /** https: accept a certificate curl cannot verify (the labs' self-signed ones). */
  insecure: z.boolean().default(true),
  expect: strict({
    status: z.number().int().min(100).max(599).default(200),
    body: regexText.optional(),
  }).default({ status: 200 }),
  /**
   * Send `requests` requests on fresh connections and count distinct X-Served-By headers
   * (svclab/web names the pod): min ≥ 2 asserts spreading, max 1 stickiness.
   */
  distinctBackends: strict({
    requests: z.number().int().min(2).max(50),
    min: z.number().int().min(1).optional(),
    max: z.number().int().min(1).optional(),
    /** The Service whose ready endpoints make the test meaningful; defaults to target.service. */
    service: k8sName.optional(),
    namespace: k8sName.optional(),
  }).optional(),
  timeoutSeconds: z.number().gt(0).max(30).default(5),
}).superRefine((c, ctx) => {
  if ((c.url === undefined) === (c.target === undefined)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'exactly one of url or target' });
  const d = c.distinctBackends;
  if (d) {
    if (d.min === undefined && d.max === undefined) ctx.addIssue({ code: 'custom', path: ['distinctBackends'], message: 'min or max (or both)' });
    if (d.min !== undefined && d.min > d.requests) ctx.addIssue({ code: 'custom', path: ['distinctBackends', 'min'], message: `a number ≤ requests (${d.requests})` });
    if (d.min !== undefined && d.max !== undefined && d.min > d.max) ctx.addIssue({ code: 'custom', path: ['distinctBackends', 'max'], message: `a number ≥ min (${d.min})` });
    if (!d.service && !c.target) ctx.addIssue({ code: 'custom', path: ['distinctBackends', 'service'], message: 'the Service behind the URL (needed to refuse a vacuous pass with one replica)' });
  }
});
export type HttpCheck = z.infer<typeof httpCheckSchema>;

const MARK = '@@svclab-http';

export interface HttpAnswer {
  /** 0 when no HTTP answer came (curl's 000). */
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface CurlPlan {
  argv: string[];
  /** What the learner would type: "http://10.96.0.20/ (Host: web.example.com)". */
  shown: string;
}

/** curl argv for `requests` requests on fresh connections; output parsed by parseCurlOutput. */
export function curlArgv(o: { scheme: 'http' | 'https'; address: string; port: number; path: string; host?: string; insecure: boolean; timeoutSeconds: number; requests: number }): CurlPlan {
  const argv = ['curl', '-sS', '--connect-timeout', String(Math.min(3, o.timeoutSeconds)), '--max-time', String(o.timeoutSeconds), '-D', '-', '-H', 'Connection: close', '-w', `\n${MARK} %{http_code}\n`];
  if (o.scheme === 'https' && o.insecure) argv.push('-k');
  let url: string;
  const hostPort = (h: string) => (o.port === (o.scheme === 'https' ? 443 : 80) ? h : `${h}:${o.port}`);
  if (o.host && o.scheme === 'https') {
    // SNI comes from the URL's host name: let curl resolve that name to the address.
    argv.push('--resolve', `${o.host}:${o.port}:${o.address}`);
    url = `https://${hostPort(o.host)}${o.path}`;
  } else {
    if (o.host) argv.push('-H', `Host: ${o.host}`);
    url = `${o.scheme}://${hostPort(o.address)}${o.path}`;
  }
  for (let i = 0; i < o.requests; i++) argv.push(url);
  return { argv, shown: `${url}${o.host && o.scheme === 'http' ? ` (Host: ${o.host})` : o.host ? ` (SNI ${o.host} → ${o.address})` : ''}` };
}

/** One answer per request, in order; headers lower-cased, the last header block when there were several. */
export function parseCurlOutput(stdout: string): HttpAnswer[] {
  const answers: HttpAnswer[] = [];
  const re = new RegExp(`\\n?${MARK} (\\d{3})\\n`, 'g');
  let from = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(stdout))) {
    const chunk = stdout.slice(from, m.index);
    from = re.lastIndex;
    const status = Number(m[1]);
    let rest = chunk;
    let headers: Record<string, string> = {};
    // -D - writes each header block (1xx, redirects, the answer) before the body.
    while (/^HTTP\/[\d.]+ \d{3}/.test(rest)) {
      const end = rest.search(/\r?\n\r?\n/);
      const block = end < 0 ? rest : rest.slice(0, end);
      headers = {};
      for (const line of block.split(/\r?\n/).slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      rest = end < 0 ? '' : rest.slice(end).replace(/^\r?\n\r?\n/, '');
    }
    answers.push({ status, headers, body: rest });
  }
  return answers;
}

/** curl's error for a request that got no answer, said as the cause a learner can act on. */
function curlErrors(stderr: string): string[] {
  return stderr.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('curl: ('));
}

const texts = {
  en: {
    refused: (u: string) => `The connection to ${u} was refused.`,
    refusedHint: 'kube-proxy rejects connections to a Service with no ready endpoints; check `kubectl get endpointslices -l kubernetes.io/service-name=NAME`. For a NodePort or external IP, check the Service type and port.',
    timeout: (u: string) => `Nothing answered at ${u} in time.`,
    timeoutHint: 'Check that the Service has ready endpoints and that the address and port are right (`kubectl get svc -o wide`).',
    resolve: (u: string) => `The name in ${u} does not resolve from there.`,
    resolveHint: 'Service names resolve through the cluster DNS (10.96.0.10), which pods use; check the spelling and the namespace.',
    tls: (u: string, e: string) => `The TLS handshake with ${u} failed: ${e}`,
    other: (u: string, e: string) => `The request to ${u} failed: ${e}`,
    status: (u: string, got: number, want: number) => `${u} answered HTTP ${got}; expected ${want}.`,
    body: (u: string, re: string, first: string) => `${u} answered, but the page does not match /${re}/${first ? `; it starts with "${first}"` : ''}.`,
    ok: (u: string, s: number) => `${u} answered HTTP ${s}.`,
    vacuous: (svc: string, n: number) =>
      `Service ${svc} has ${n} ready endpoint${n === 1 ? '' : 's'}; with fewer than 2 backends, how requests spread says nothing.`,
    vacuousHint: (svc: string) => `Run more replicas behind the Service (\`kubectl scale deployment ${svc} --replicas=3\`, if the Deployment has that name), then check again.`,
    noHeader: (u: string) => `${u} answers without an X-Served-By header, so the check cannot tell the backends apart.`,
    noHeaderHint: 'The lab backends are svclab/web pods, which name themselves in X-Served-By; is the Service selecting other pods?',
    tooFew: (n: number, d: number, names: string[], min: number) => `${n} requests reached ${d} backend${d === 1 ? '' : 's'} (${listNames(names)}); expected at least ${min}.`,
    tooFewHint: 'Requests on new connections are spread over the endpoints unless the Service has sessionAffinity: ClientIP.',
    tooMany: (n: number, d: number, names: string[], max: number) => `${n} requests reached ${d} backends (${listNames(names)}); expected at most ${max}.`,
    tooManyHint: 'The Service spreads new connections over its endpoints; `sessionAffinity: ClientIP` keeps a client on one pod.',
    spread: (n: number, d: number, names: string[]) => `${n} requests reached ${d} backend${d === 1 ? '' : 's'} (${listNames(names)}).`,
    hostOnly: (a: string) => `checks from the host only reach svclab's own addresses (loopback, the cluster's docker network); ${a} is neither`,
  },
  zh: {
    refused: (u: string) => `到 ${u} 的连接被拒绝了。`,
    refusedHint: 'Service 没有 ready 的 endpoint 时，kube-proxy 会直接拒绝连接；看看 `kubectl get endpointslices -l kubernetes.io/service-name=NAME`。如果访问的是 NodePort 或外部 IP，检查 Service 的类型和端口。',
    timeout: (u: string) => `${u} 在限定时间内没有响应。`,
    timeoutHint: '确认 Service 有 ready 的 endpoint，且地址和端口正确（`kubectl get svc -o wide`）。',
    resolve: (u: string) => `${u} 里的名字在那里解析不了。`,
    resolveHint: 'Service 名字通过集群 DNS（10.96.0.10）解析，Pod 会使用它；检查拼写和命名空间。',
    tls: (u: string, e: string) => `与 ${u} 的 TLS 握手失败：${e}`,
    other: (u: string, e: string) => `访问 ${u} 失败：${e}`,
    status: (u: string, got: number, want: number) => `${u} 返回 HTTP ${got}，期望 ${want}。`,
    body: (u: string, re: string, first: string) => `${u} 有响应，但页面不匹配 /${re}/${first ? `；开头是 "${first}"` : ''}。`,
    ok: (u: string, s: number) => `${u} 返回了 HTTP ${s}。`,
    vacuous: (svc: string, n: number) => `Service ${svc} 只有 ${n} 个 ready 的 endpoint；后端少于 2 个时，请求怎么分布说明不了任何问题。`,
    vacuousHint: (svc: string) => `给 Service 背后多跑几个副本（如果 Deployment 也叫这个名字：\`kubectl scale deployment ${svc} --replicas=3\`），再检查一次。`,
    noHeader: (u: string) => `${u} 的响应里没有 X-Served-By 头，检查无法区分后端。`,
    noHeaderHint: '实验的后端是 svclab/web Pod，会在 X-Served-By 里写上自己的名字；Service 是不是选中了别的 Pod？',
    tooFew: (n: number, d: number, names: string[], min: number) => `${n} 个请求只到达了 ${d} 个后端（${listNames(names)}），期望至少 ${min} 个。`,
    tooFewHint: '除非 Service 设置了 sessionAffinity: ClientIP，新连接上的请求会分散到各个 endpoint。',
    tooMany: (n: number, d: number, names: string[], max: number) => `${n} 个请求到达了 ${d} 个后端（${listNames(names)}），期望至多 ${max} 个。`,
    tooManyHint: 'Service 会把新连接分散到各个 endpoint；`sessionAffinity: ClientIP` 能让同一个客户端一直落在同一个 Pod 上。',
    spread: (n: number, d: number, names: string[]) => `${n} 个请求到达了 ${d} 个后端（${listNames(names)}）。`,
    hostOnly: (a: string) => `从主机发起的检查只能访问 svclab 自己的地址（回环地址、集群的 docker 网络）；${a} 都不是`,
  },
};

export async function runHttpCheck(check: HttpCheck, ctx: CheckContext): Promise<CheckResult> {
  const t = say(ctx, texts);
  const d = check.distinctBackends;
  const expectedBase = `HTTP ${check.expect.status}${check.expect.body ? ` with a body matching /${check.expect.body}/` : ''} from ${check.url ?? `Service ${check.target!.namespace}/${check.target!.service} via ${check.target!.via}`}${check.host ? ` (host ${check.host})` : ''}, seen from ${check.from}`;
  const expected = d ? `${expectedBase}; over ${d.requests} requests, ${d.min !== undefined ? `≥ ${d.min}` : ''}${d.min !== undefined && d.max !== undefined ? ' and ' : ''}${d.max !== undefined ? `≤ ${d.max}` : ''} distinct backends` : expectedBase;

  return pollCheck(check, ctx, async ({ timeoutMs }): Promise<Observation> => {
    const vantage = vantageOf(ctx);
    let scheme = check.scheme;
    let address: string;
    let port: number;
    let path = check.path;
    if (check.url) {
      const u = new URL(check.url);
      scheme = u.protocol === 'https:' ? 'https' : 'http';
      address = u.hostname;
      port = u.port ? Number(u.port) : scheme === 'https' ? 443 : 80;
      path = `${u.pathname}${u.search}`;
    } else {
      const r = await resolveServiceTarget(check.target!, kubeOf(ctx), () => vantage.nodes(), langOf(ctx));
      if (!r.ok) return { status: 'fail', message: r.message, ...(r.hint ? { hint: r.hint } : {}), expected, observed: r.observed };
      address = r.host;
      port = r.port;
    }
    if (check.from === 'host' && !hostMayReach(address, await vantage.nodes())) {
      return { status: 'error', message: t.hostOnly(address), expected, observed: `refused to run from the host: ${address}`, final: true };
    }
    if (check.from === 'host') {
      const mapped = await hostLoopbackPort(vantage, address, port);
      if ('error' in mapped) return { status: 'error', message: mapped.error, expected, observed: mapped.error, final: true };
      port = mapped.port;
    }

    // Spreading or stickiness over a single backend proves nothing: refuse before sending.
    if (d) {
      const svc = d.service ?? check.target!.service;
      const ns = d.namespace ?? check.target?.namespace ?? 'default';
      const n = await readyEndpointCount(kubeOf(ctx), ns, svc);
      if (n < 2) return { status: 'fail', message: t.vacuous(svc, n), hint: t.vacuousHint(svc), expected, observed: `${n} ready endpoint(s) behind Service ${ns}/${svc}` };
    }

    const requests = d?.requests ?? 1;
    // Each request may take timeoutSeconds; give the whole exec room for all of them.
    const plan = curlArgv({ scheme, address, port, path, ...(check.host ? { host: check.host } : {}), insecure: check.insecure, timeoutSeconds: check.timeoutSeconds, requests });
    const r = await vantage.exec(check.from, plan.argv, { timeoutMs: Math.max(timeoutMs, requests * check.timeoutSeconds * 1000 + 2000), ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const why = cannotRun(r.exitCode, r.stderr, check.from, 'curl');
    if (why) return { status: 'error', message: why, expected, observed: why };
    const answers = parseCurlOutput(r.stdout);
    const u = plan.shown;
    if (answers.length === 0) return { status: 'error', message: `curl at ${check.from} printed nothing the check understands (exit ${r.exitCode}: ${tail(r.stderr, 2)})`, expected, observed: tail(`${r.stdout}\n${r.stderr}`) };

    const failed = answers.find((a) => a.status === 0);
    if (failed) {
      const err = curlErrors(r.stderr)[0] ?? `exit code ${r.exitCode}`;
      const observed = `${answers.filter((a) => a.status === 0).length} of ${answers.length} requests got no answer: ${err}`;
      if (/\(7\)/.test(err)) return { status: 'fail', message: t.refused(u), hint: t.refusedHint, expected, observed };
      if (/\(28\)/.test(err)) return { status: 'fail', message: t.timeout(u), hint: t.timeoutHint, expected, observed };
      if (/\(6\)/.test(err)) return { status: 'fail', message: t.resolve(u), hint: t.resolveHint, expected, observed };
      if (/\((35|51|58|60)\)/.test(err)) return { status: 'fail', message: t.tls(u, err), expected, observed };
      return { status: 'fail', message: t.other(u, err), expected, observed };
    }
    const wrong = answers.find((a) => a.status !== check.expect.status);
    if (wrong) {
      return { status: 'fail', message: t.status(u, wrong.status, check.expect.status), expected, observed: `HTTP ${answers.map((a) => a.status).join(', ')}; body: ${tail(wrong.body, 3)}` };
    }
    if (check.expect.body) {
      const re = new RegExp(check.expect.body);
      const bad = answers.find((a) => !re.test(a.body));
      if (bad) {
        const first = bad.body.split('\n').map((l) => l.trim()).find(Boolean)?.slice(0, 80) ?? '';
        return { status: 'fail', message: t.body(u, check.expect.body, first), expected, observed: `HTTP ${bad.status}; body: ${tail(bad.body, 4)}` };
      }
    }
    if (!d) return { status: 'pass', message: t.ok(u, answers[0]!.status), expected, observed: `HTTP ${answers[0]!.status}; ${answers[0]!.body.length} bytes` };

    if (answers.some((a) => !a.headers['x-served-by'])) return { status: 'fail', message: t.noHeader(u), hint: t.noHeaderHint, expected, observed: `headers: ${Object.keys(answers[0]!.headers).join(', ')}` };
    const counts = new Map<string, number>();
    for (const a of answers) counts.set(a.headers['x-served-by']!, (counts.get(a.headers['x-served-by']!) ?? 0) + 1);
    const names = [...counts.keys()].sort();
    const observed = `${answers.length} requests: ${names.map((n) => `${n}×${counts.get(n)}`).join(', ')}`;
    if (d.min !== undefined && names.length < d.min) return { status: 'fail', message: t.tooFew(answers.length, names.length, names, d.min), hint: t.tooFewHint, expected, observed };
    if (d.max !== undefined && names.length > d.max) return { status: 'fail', message: t.tooMany(answers.length, names.length, names, d.max), hint: t.tooManyHint, expected, observed };
    return { status: 'pass', message: t.spread(answers.length, names.length, names), expected, observed };
  });
}

export function explainHttpCheck(check: HttpCheck): string {
  const to = check.url ?? `${check.scheme}://${check.target ? targetText(check.target) : '?'}${check.path}`;
  const host = check.host ? ` (Host ${check.host})` : '';
  const body = check.expect.body ? ` and a body matching /${check.expect.body}/` : '';
  const d = check.distinctBackends;
  const spread = d ? `; ${d.requests} requests reach ${d.min !== undefined ? `at least ${d.min}` : ''}${d.min !== undefined && d.max !== undefined ? ' and ' : ''}${d.max !== undefined ? `at most ${d.max}` : ''} distinct pods` : '';
  return `from ${check.from}, GET ${to}${host} answers ${check.expect.status}${body}${spread}`;
}

export const httpKind = { schema: httpCheckSchema, run: runHttpCheck, explain: explainHttpCheck, services: (c) => (c.target ? [{ name: c.target.service, namespace: c.target.namespace, path: ['target', 'service'] }] : []) } satisfies CheckKindDef<HttpCheck>;
