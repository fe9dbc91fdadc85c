// The `dns` check: `dig +short` from a vantage point. A records against fixed
// addresses, a Service's ClusterIP, or the IPs of the ready pods behind a
// selector (headless Services); CNAME (ExternalName); SRV; search-domain expansion.
import { z } from 'zod';
import { checkBaseShape, k8sName, labelMap, namespaceSchema, regexText, strict, vantageSchema } from '../check-schema.ts';
import type { CheckContext, CheckKindDef, CheckResult } from '../check.ts';
import { matchesSelector, selectorString, type Pod } from '../kube-api.ts';
import { cannotRun, kubeOf, lastLine, listNames, pollCheck, say, vantageOf, type Observation } from '../poll-check.ts';
import { livePods } from './selector.ts';
import { noServiceHint, noServiceText } from '../service-facts.ts';

const ipv4 = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, 'an IPv4 address like 10.96.0.10');

export const dnsCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('dns'),
  from: vantageSchema.default('workstation'),
  name: z.string().regex(/^[A-Za-z0-9_*]([-A-Za-z0-9_.]*[A-Za-z0-9.])?$/, 'a DNS name like nginx.default.svc.cluster.local'),
  type: z.enum(['A', 'CNAME', 'SRV']).default('A'),
  /** `dig @server`; the vantage point's resolv.conf when omitted. */
  server: ipv4.optional(),
  /** `dig +search`: expand a short name with the search domains of resolv.conf (meaningful in a pod). */
  search: z.boolean().default(false),
  expect: strict({
    /** A records equal to these addresses. */
    addresses: z.array(ipv4).min(1).optional(),
    /** A records equal to the ClusterIP of this Service. */
    serviceIP: strict({ service: k8sName, namespace: namespaceSchema }).optional(),
    /** A records equal to the IPs of the ready pods a Service selects (headless), or that match `selector`. */
    podIPs: strict({ service: k8sName.optional(), selector: labelMap.optional(), namespace: namespaceSchema })
      .refine((p) => (p.service === undefined) !== (p.selector === undefined), { message: 'exactly one of service or selector' })
      .optional(),
    cname: z.string().min(1).optional(),
    /** SRV records: a port, optionally target names matching a regex, and how many. */
    srv: strict({ port: z.number().int().min(1).max(65535), target: regexText.optional(), count: z.number().int().min(1).optional() }).optional(),
    /** The name must not resolve. */
    none: z.boolean().optional(),
  }),
  timeoutSeconds: z.number().gt(0).max(30).default(5),
}).superRefine((c, ctx) => {
  const e = c.expect;
  const set = [e.addresses, e.serviceIP, e.podIPs, e.cname, e.srv, e.none].filter((v) => v !== undefined).length;
  if (set !== 1) ctx.addIssue({ code: 'custom', path: ['expect'], message: 'exactly one of addresses, serviceIP, podIPs, cname, srv or none' });
  const wants = e.cname !== undefined ? 'CNAME' : e.srv ? 'SRV' : 'A';
  if (set === 1 && !e.none && c.type !== wants) ctx.addIssue({ code: 'custom', path: ['type'], message: `${wants} for expect.${Object.keys(e)[0]}` });
});
export type DnsCheck = z.infer<typeof dnsCheckSchema>;

export function digArgv(check: Pick<DnsCheck, 'name' | 'type' | 'server' | 'search' | 'timeoutSeconds'>): string[] {
  const argv = ['dig', '+short', `+time=${Math.max(1, Math.round(check.timeoutSeconds))}`, '+tries=1'];
  argv.push(check.search ? '+search' : '+nosearch');
  if (check.server) argv.push(`@${check.server}`);
  argv.push(check.name, check.type);
  return argv;
}

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** dig +short lines, split into what each record type means. */
export function parseDigShort(stdout: string): { a: string[]; names: string[]; srv: SrvRecord[] } {
  const a: string[] = [];
  const names: string[] = [];
  const srv: SrvRecord[] = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith(';')) continue;
    const s = /^(\d+) (\d+) (\d+) (\S+)$/.exec(line);
    if (s) srv.push({ priority: Number(s[1]), weight: Number(s[2]), port: Number(s[3]), target: s[4]!.replace(/\.$/, '') });
    else if (/^\d{1,3}(\.\d{1,3}){3}$/.test(line)) a.push(line);
    else names.push(line.replace(/\.$/, '').toLowerCase());
  }
  return { a: [...new Set(a)].sort(numeric), names, srv };
}

function numeric(x: string, y: string): number {
  return x.localeCompare(y, 'en', { numeric: true });
}

export function isReady(p: Pod): boolean {
  return !!p.status?.podIP && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

const texts = {
  en: {
    noAnswer: (who: string, server: string) => `No DNS server answered ${who}${server}.`,
    noAnswerHint: 'Cluster DNS is CoreDNS behind the kube-dns Service (10.96.0.10): `kubectl -n kube-system get pods -l k8s-app=kube-dns`.',
    at: (s: string) => ` at ${s}`,
    nothing: (name: string, type: string) => `${name} does not resolve (no ${type} records).`,
    nothingHint: 'A Service name is NAME.NAMESPACE.svc.cluster.local; short names resolve only through the search domains in a pod\'s /etc/resolv.conf.',
    aWrong: (name: string, got: string[], want: string[]) => `${name} resolves to ${listNames(got)}; expected ${listNames(want)}.`,
    isClusterIP: ' That is the Service\'s ClusterIP: a Service with a ClusterIP gets one A record.',
    headlessHint: 'A headless Service (spec.clusterIP: None) gets one A record per ready pod; clusterIP cannot be changed in place, so delete and re-create the Service.',
    aOk: (name: string, got: string[]) => `${name} resolves to ${listNames(got, 6)}.`,
    noPods: (what: string) => `No ready pod matches ${what}, so there are no pod IPs to compare with.`,
    noPodsHint: 'Wait for the pods to become ready (`kubectl get pods -o wide`), or check the selector.',
    noSelector: (svc: string) => `Service ${svc} has no selector, so no pods are behind it.`,
    headless: (svc: string) => `Service ${svc} has no ClusterIP (it is headless).`,
    cnameWrong: (name: string, got: string) => `${name} ${got ? `is an alias of ${got}` : 'is not an alias (no CNAME record)'}; expected an alias of the external name.`,
    cnameHint: 'An ExternalName Service makes the cluster DNS answer with a CNAME to spec.externalName.',
    cnameOk: (name: string, target: string) => `${name} is an alias (CNAME) of ${target}.`,
    srvWrong: (name: string, port: number, got: string) => `${name} has no SRV record for port ${port}${got ? ` (it has ${got})` : ''}.`,
    srvHint: 'SRV records exist for named Service ports: _PORTNAME._PROTOCOL.SERVICE.NAMESPACE.svc.cluster.local.',
    srvCount: (name: string, n: number, want: number) => `${name} has ${n} SRV records; expected ${want}.`,
    srvOk: (name: string, n: number) => `${name} has ${n} SRV record${n === 1 ? '' : 's'}.`,
    resolvesAnyway: (name: string, got: string) => `${name} still resolves (${got}); expected no answer.`,
    noneOk: (name: string) => `${name} does not resolve, as expected.`,
  },
  zh: {
    noAnswer: (who: string, server: string) => `${who}${server}没有 DNS 服务器应答。`,
    noAnswerHint: '集群 DNS 是 kube-dns Service（10.96.0.10）背后的 CoreDNS：`kubectl -n kube-system get pods -l k8s-app=kube-dns`。',
    at: (s: string) => `（${s}）`,
    nothing: (name: string, type: string) => `${name} 解析不出来（没有 ${type} 记录）。`,
    nothingHint: 'Service 的完整名字是 NAME.NAMESPACE.svc.cluster.local；短名字只有在 Pod 里、借助 /etc/resolv.conf 的 search 域才能解析。',
    aWrong: (name: string, got: string[], want: string[]) => `${name} 解析到 ${listNames(got)}，期望 ${listNames(want)}。`,
    isClusterIP: '这是 Service 的 ClusterIP：有 ClusterIP 的 Service 只有一条 A 记录。',
    headlessHint: 'headless Service（spec.clusterIP: None）会为每个 ready 的 Pod 返回一条 A 记录；clusterIP 不能直接修改，需要删掉 Service 再重建。',
    aOk: (name: string, got: string[]) => `${name} 解析到 ${listNames(got, 6)}。`,
    noPods: (what: string) => `没有 ready 的 Pod 匹配 ${what}，没有可比较的 Pod IP。`,
    noPodsHint: '等 Pod 变为 ready（`kubectl get pods -o wide`），或检查 selector。',
    noSelector: (svc: string) => `Service ${svc} 没有 selector，背后没有 Pod。`,
    headless: (svc: string) => `Service ${svc} 没有 ClusterIP（它是 headless 的）。`,
    cnameWrong: (name: string, got: string) => `${name} ${got ? `是 ${got} 的别名` : '不是别名（没有 CNAME 记录）'}；期望它是外部名字的别名。`,
    cnameHint: 'ExternalName 类型的 Service 会让集群 DNS 返回指向 spec.externalName 的 CNAME。',
    cnameOk: (name: string, target: string) => `${name} 是 ${target} 的别名（CNAME）。`,
    srvWrong: (name: string, port: number, got: string) => `${name} 没有端口 ${port} 的 SRV 记录${got ? `（现有：${got}）` : ''}。`,
    srvHint: '命名的 Service 端口才有 SRV 记录：_PORTNAME._PROTOCOL.SERVICE.NAMESPACE.svc.cluster.local。',
    srvCount: (name: string, n: number, want: number) => `${name} 有 ${n} 条 SRV 记录，期望 ${want} 条。`,
    srvOk: (name: string, n: number) => `${name} 有 ${n} 条 SRV 记录。`,
    resolvesAnyway: (name: string, got: string) => `${name} 仍然能解析（${got}），期望没有应答。`,
    noneOk: (name: string) => `${name} 解析不出来，符合预期。`,
  },
};

export async function runDnsCheck(check: DnsCheck, ctx: CheckContext): Promise<CheckResult> {
  const t = say(ctx, texts);
  const e = check.expect;
  const name = check.name;
  const argv = digArgv(check);
  const expectedText = e.addresses
    ? `A ${e.addresses.join(', ')}`
    : e.serviceIP
      ? `A = ClusterIP of Service ${e.serviceIP.namespace}/${e.serviceIP.service}`
      : e.podIPs
        ? `A = IPs of the ready pods ${e.podIPs.service ? `behind Service ${e.podIPs.namespace}/${e.podIPs.service}` : `matching ${selectorString(e.podIPs.selector!)} in ${e.podIPs.namespace}`}`
        : e.cname
          ? `CNAME ${e.cname}`
          : e.srv
            ? `SRV port ${e.srv.port}${e.srv.target ? ` target /${e.srv.target}/` : ''}${e.srv.count ? ` ×${e.srv.count}` : ''}`
            : 'no answer';
  const expected = `${argv.join(' ')} from ${check.from}: ${expectedText}`;

  return pollCheck(check, ctx, async ({ timeoutMs }): Promise<Observation> => {
    // What the answer must be, from the API when it depends on the cluster.
    let want: string[] | undefined = e.addresses ? [...e.addresses].sort(numeric) : undefined;
    let clusterIP: string | undefined;
    if (e.serviceIP || e.podIPs?.service) {
      const ref = e.serviceIP ?? { service: e.podIPs!.service!, namespace: e.podIPs!.namespace };
      const svc = await kubeOf(ctx).getService(ref.namespace, ref.service);
      if (!svc) return { status: 'fail', message: say(ctx, noServiceText)(ref.service, ref.namespace), hint: say(ctx, noServiceHint)(ref.service, ref.namespace), expected, observed: `no Service ${ref.service}` };
      clusterIP = svc.spec?.clusterIP && svc.spec.clusterIP !== 'None' ? svc.spec.clusterIP : undefined;
      if (e.serviceIP) {
        if (!clusterIP) return { status: 'fail', message: t.headless(ref.service), expected, observed: 'clusterIP: None' };
        want = [clusterIP];
      } else {
        const sel = svc.spec?.selector;
        if (!sel || Object.keys(sel).length === 0) return { status: 'fail', message: t.noSelector(ref.service), expected, observed: 'no selector' };
        want = await readyPodIPs(ctx, e.podIPs!.namespace, sel, `Service ${ref.service} (${selectorString(sel)})`);
      }
    } else if (e.podIPs?.selector) {
      want = await readyPodIPs(ctx, e.podIPs.namespace, e.podIPs.selector, selectorString(e.podIPs.selector));
    }
    if (want && want.length === 0) {
      const what = e.podIPs?.service ? `Service ${e.podIPs.service}` : selectorString(e.podIPs?.selector ?? {});
      return { status: 'fail', message: t.noPods(what), hint: t.noPodsHint, expected, observed: 'no ready pods with an IP' };
    }

    const r = await vantageOf(ctx).exec(check.from, argv, { timeoutMs, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const why = cannotRun(r.exitCode, r.stderr, check.from, 'dig');
    if (why) return { status: 'error', message: why, expected, observed: why };
    if (r.exitCode === 9 || /no servers could be reached|connection timed out/i.test(r.stdout)) {
      return { status: 'fail', message: t.noAnswer(check.from === 'workstation' ? 'the workstation' : check.from, check.server ? t.at(check.server) : ''), hint: t.noAnswerHint, expected, observed: lastLine(`${r.stdout}\n${r.stderr}`) };
    }
    if (r.exitCode !== 0) return { status: 'error', message: `dig at ${check.from} exited ${r.exitCode}: ${lastLine(r.stderr || r.stdout)}`, expected, observed: lastLine(r.stderr || r.stdout) };
    const got = parseDigShort(r.stdout);
    const observed = `dig +short: ${r.stdout.trim().split('\n').join(', ') || '(empty)'}`;

    if (e.none) {
      const any = [...got.a, ...got.names, ...got.srv.map((s) => `${s.port} ${s.target}`)];
      return any.length ? { status: 'fail', message: t.resolvesAnyway(name, listNames(any)), expected, observed } : { status: 'pass', message: t.noneOk(name), expected, observed };
    }
    if (e.cname) {
      const want = e.cname.replace(/\.$/, '').toLowerCase();
      const first = got.names[0] ?? '';
      return first === want
        ? { status: 'pass', message: t.cnameOk(name, want), expected, observed }
        : { status: 'fail', message: t.cnameWrong(name, first), hint: t.cnameHint, expected, observed };
    }
    if (e.srv) {
      const srv = e.srv;
      const match = got.srv.filter((s) => s.port === srv.port && (!srv.target || new RegExp(srv.target).test(s.target)));
      const all = got.srv.map((s) => `${s.port} ${s.target}`).join(', ');
      if (match.length === 0) return { status: 'fail', message: t.srvWrong(name, srv.port, all), hint: t.srvHint, expected, observed };
      if (srv.count !== undefined && match.length !== srv.count) return { status: 'fail', message: t.srvCount(name, match.length, srv.count), expected, observed };
      return { status: 'pass', message: t.srvOk(name, match.length), expected, observed };
    }
    // A records.
    const wanted = want ?? [];
    if (got.a.length === 0) return { status: 'fail', message: t.nothing(name, 'A'), hint: t.nothingHint, expected, observed };
    if (got.a.length === wanted.length && got.a.every((ip, i) => ip === wanted[i])) return { status: 'pass', message: t.aOk(name, got.a), expected, observed };
    let message = t.aWrong(name, got.a, wanted);
    let hint: string | undefined;
    if (e.podIPs && clusterIP && got.a.length === 1 && got.a[0] === clusterIP) {
      message += t.isClusterIP;
      hint = t.headlessHint;
    }
    return { status: 'fail', message, ...(hint ? { hint } : {}), expected, observed };
  });
}

async function readyPodIPs(ctx: CheckContext, ns: string, selector: Record<string, string>, _what: string): Promise<string[]> {
  const pods = livePods(await kubeOf(ctx).listPods(ns, selector)).filter((p) => matchesSelector(p.metadata?.labels, selector));
  return [...new Set(pods.filter(isReady).map((p) => p.status!.podIP!))].sort(numeric);
}

export function explainDnsCheck(check: DnsCheck): string {
  const e = check.expect;
  const want = e.none ? 'does not resolve'
    : e.addresses ? `resolves to ${e.addresses.join(', ')}`
    : e.serviceIP ? `resolves to the ClusterIP of Service ${e.serviceIP.namespace}/${e.serviceIP.service}`
    : e.podIPs ? `resolves to the ready pod IPs of ${e.podIPs.service ? `Service ${e.podIPs.namespace}/${e.podIPs.service}` : `pods ${Object.entries(e.podIPs.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',')} in ${e.podIPs.namespace}`}`
    : e.cname ? `is a CNAME for ${e.cname}`
    : e.srv ? `has ${e.srv.count ?? 'some'} SRV record(s) on port ${e.srv.port}${e.srv.target ? ` with targets matching /${e.srv.target}/` : ''}`
    : 'resolves';
  return `from ${check.from}, ${check.type} ${check.name}${check.server ? ` @${check.server}` : ''} ${want}`;
}

export const dnsKind = { schema: dnsCheckSchema, run: runDnsCheck, explain: explainDnsCheck } satisfies CheckKindDef<DnsCheck>;
