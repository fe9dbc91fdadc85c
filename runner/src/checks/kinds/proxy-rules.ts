// The `proxy-rules` check: on a node, the rules kube-proxy wrote for a Service.
// iptables mode: KUBE-SERVICES → KUBE-SVC-… (matched by ClusterIP and port) → one
// KUBE-SEP-… jump per endpoint, each DNATing to a pod. nftables mode: the
// service-ips map of `table ip kube-proxy` → service-… chain → endpoint-… chains.
import { z } from 'zod';
import { checkBaseShape, k8sName, namespaceSchema, strict, vantageSchema } from '../check-schema.ts';
import type { CheckContext, CheckKindDef, CheckResult } from '../check.ts';
import { cannotRun, kubeOf, lastLine, listNames, pollCheck, say, vantageOf, type Observation } from '../poll-check.ts';
import { describePort, findServicePort, noServiceHint, noServiceText } from '../service-facts.ts';

export const proxyRulesCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('proxy-rules'),
  /** The node whose rules are read. */
  node: vantageSchema.refine((v) => v.startsWith('node:'), { message: 'a node vantage point like node:control-plane or node:worker' }).default('node:control-plane'),
  service: k8sName,
  namespace: namespaceSchema,
  /** The Service port (number or name); the first port when omitted. */
  port: z.union([z.number().int().min(1).max(65535), k8sName]).optional(),
  /** Which rules to read; auto: iptables-save when it has KUBE-SERVICES, else nft. */
  mode: z.enum(['auto', 'iptables', 'nftables']).default('auto'),
  /** Endpoint rules (KUBE-SEP jumps / endpoint chains) the Service's chain must have. */
  endpoints: z.number().int().min(0),
});
export type ProxyRulesCheck = z.infer<typeof proxyRulesCheckSchema>;

export interface ServiceRules {
  mode: 'iptables' | 'nftables';
  /** KUBE-SVC-… or service-…; undefined when the Service has no chain. */
  chain?: string;
  /** The endpoints the chain sends to, as ip:port. */
  endpoints: string[];
  /** The Service is listed as having no endpoints (nft no-endpoint-services / iptables REJECT). */
  noEndpoints: boolean;
}

const ESC = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** iptables-save -t nat output → the Service's chain and its KUBE-SEP jumps. */
export function parseIptablesNat(text: string, clusterIP: string, port: number, protocol: string): ServiceRules {
  const proto = protocol.toLowerCase();
  const lines = text.split('\n');
  const svcLine = lines.find((l) =>
    l.startsWith('-A KUBE-SERVICES ') && new RegExp(`-d ${ESC(clusterIP)}(/32)?\\s`).test(l) && new RegExp(`-p ${proto}\\b`).test(l) && new RegExp(`--dport ${port}\\b`).test(l) && /-j KUBE-SVC-/.test(l),
  );
  const chain = svcLine ? /-j (KUBE-SVC-[A-Z0-9]+)/.exec(svcLine)?.[1] : undefined;
  const noEndpoints = lines.some((l) => new RegExp(`-d ${ESC(clusterIP)}(/32)?\\s`).test(l) && /has no endpoints/.test(l) && new RegExp(`--dport ${port}\\b`).test(l));
  if (!chain) return { mode: 'iptables', endpoints: [], noEndpoints };
  const seps = lines.filter((l) => l.startsWith(`-A ${chain} `)).map((l) => /-j (KUBE-SEP-[A-Z0-9]+)/.exec(l)?.[1]).filter((s): s is string => !!s);
  const endpoints = [...new Set(seps)].map((sep) => {
    const dnat = lines.find((l) => l.startsWith(`-A ${sep} `) && /-j DNAT/.test(l));
    return (dnat && /--to-destination (\S+)/.exec(dnat)?.[1]) || sep;
  });
  return { mode: 'iptables', chain, endpoints, noEndpoints };
}

/** `nft list table ip kube-proxy` → the Service's chain and the endpoint chains it picks from. */
export function parseNftKubeProxy(text: string, clusterIP: string, port: number, protocol: string): ServiceRules {
  const proto = protocol.toLowerCase();
  // Elements carry the Service port's name as a comment: `10.97.97.97 . tcp . 80 comment "default/nginx:http" : goto …`.
  const key = `${ESC(clusterIP)} \\. ${proto} \\. ${port}(?: comment "[^"]*")? : goto`;
  const chain = new RegExp(`${key} (service-[^\\s,}]+)`).exec(text)?.[1];
  const noEndpoints = new RegExp(`${key} reject-chain`).test(text) || new RegExp(`${key} (?!service-)`).test(noEndpointMap(text));
  if (!chain) return { mode: 'nftables', endpoints: [], noEndpoints };
  const body = chainBody(text, chain);
  const eps = [...new Set([...body.matchAll(/goto (endpoint-[^\s,}]+)/g)].map((m) => m[1]!))];
  const endpoints = eps.map((ep) => {
    const m = /__(.+)\/(\d+)$/.exec(ep);
    return m ? `${m[1]}:${m[2]}` : ep;
  });
  return { mode: 'nftables', chain, endpoints, noEndpoints };
}

function chainBody(text: string, chain: string): string {
  const start = text.indexOf(`chain ${chain} {`);
  if (start < 0) return '';
  const end = text.indexOf('\n\t}', start);
  const end2 = end < 0 ? text.indexOf('}\n', start) : end;
  return text.slice(start, end2 < 0 ? undefined : end2);
}

function noEndpointMap(text: string): string {
  const start = text.indexOf('map no-endpoint-services {');
  if (start < 0) return '';
  const end = text.indexOf('\n\t}', start);
  return text.slice(start, end < 0 ? undefined : end);
}

export const IPTABLES_ARGV = ['iptables-save', '-t', 'nat'];
export const NFT_ARGV = ['nft', 'list', 'table', 'ip', 'kube-proxy'];

const texts = {
  en: {
    headless: (svc: string) => `Service ${svc} is headless (clusterIP: None): kube-proxy writes no rules for it; clients get the pod IPs from DNS.`,
    noPort: (svc: string, p: string | number, ports: string) => `Service ${svc} has no port ${p} (its ports: ${ports || 'none'}).`,
    noChain: (node: string, svc: string, addr: string, mode: string, none: boolean) =>
      `On node ${node}, kube-proxy (${mode}) has no chain for Service ${svc} (${addr})${none ? ': it lists the Service as having no endpoints and rejects its traffic' : ''}.`,
    noChainHint: 'kube-proxy sends a Service\'s traffic to its ready endpoints only; check `kubectl get endpointslices -l kubernetes.io/service-name=NAME`.',
    count: (node: string, svc: string, chain: string, n: number, eps: string[], want: number) =>
      `On node ${node}, Service ${svc}'s chain ${chain} has ${n} endpoint rule${n === 1 ? '' : 's'}${n ? ` (${listNames(eps)})` : ''}; expected ${want}.`,
    countHint: 'kube-proxy writes one endpoint rule per ready endpoint, shortly after the EndpointSlices change; compare with `kubectl get endpointslices -l kubernetes.io/service-name=NAME`.',
    ok: (node: string, svc: string, chain: string, n: number, eps: string[]) =>
      n === 0 ? `On node ${node}, Service ${svc} has no endpoint rules, as expected.` : `On node ${node}, Service ${svc}'s chain ${chain} sends to ${n} endpoint${n === 1 ? '' : 's'} (${listNames(eps)}).`,
    neither: (node: string) => `node ${node} has neither iptables KUBE-SERVICES rules nor an nftables table "ip kube-proxy": is kube-proxy running?`,
  },
  zh: {
    headless: (svc: string) => `Service ${svc} 是 headless 的（clusterIP: None）：kube-proxy 不会为它写规则，客户端从 DNS 拿到 Pod IP。`,
    noPort: (svc: string, p: string | number, ports: string) => `Service ${svc} 没有端口 ${p}（它的端口：${ports || '无'}）。`,
    noChain: (node: string, svc: string, addr: string, mode: string, none: boolean) =>
      `节点 ${node} 上，kube-proxy（${mode}）没有为 Service ${svc}（${addr}）建立链${none ? '：它把这个 Service 记为没有 endpoint，并拒绝发往它的流量' : ''}。`,
    noChainHint: 'kube-proxy 只会把 Service 的流量转发给 ready 的 endpoint；看看 `kubectl get endpointslices -l kubernetes.io/service-name=NAME`。',
    count: (node: string, svc: string, chain: string, n: number, eps: string[], want: number) =>
      `节点 ${node} 上，Service ${svc} 的链 ${chain} 有 ${n} 条 endpoint 规则${n ? `（${listNames(eps)}）` : ''}，期望 ${want} 条。`,
    countHint: 'kube-proxy 会为每个 ready 的 endpoint 写一条规则，EndpointSlice 变化后很快生效；和 `kubectl get endpointslices -l kubernetes.io/service-name=NAME` 对比一下。',
    ok: (node: string, svc: string, chain: string, n: number, eps: string[]) =>
      n === 0 ? `节点 ${node} 上，Service ${svc} 没有 endpoint 规则，符合预期。` : `节点 ${node} 上，Service ${svc} 的链 ${chain} 转发到 ${n} 个 endpoint（${listNames(eps)}）。`,
    neither: (node: string) => `节点 ${node} 上既没有 iptables 的 KUBE-SERVICES 规则，也没有 nftables 的 "ip kube-proxy" 表：kube-proxy 在运行吗？`,
  },
};

export async function runProxyRulesCheck(check: ProxyRulesCheck, ctx: CheckContext): Promise<CheckResult> {
  const t = say(ctx, texts);
  const { service: name, namespace: ns } = check;
  const node = check.node.slice('node:'.length);
  const expected = `${check.endpoints} endpoint rule${check.endpoints === 1 ? '' : 's'} for Service ${ns}/${name}${check.port !== undefined ? ` port ${check.port}` : ''} on ${check.node} (${check.mode})`;

  return pollCheck(check, ctx, async ({ timeoutMs }): Promise<Observation> => {
    const svc = await kubeOf(ctx).getService(ns, name);
    if (!svc) return { status: 'fail', message: say(ctx, noServiceText)(name, ns), hint: say(ctx, noServiceHint)(name, ns), expected, observed: `no Service ${name} in ${ns}` };
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') return { status: 'fail', message: t.headless(name), expected, observed: 'clusterIP: None' };
    const port = findServicePort(svc, check.port);
    if (!port) {
      const ports = (svc.spec?.ports ?? []).map(describePort).join(', ');
      return { status: 'fail', message: t.noPort(name, check.port ?? '', ports), expected, observed: `ports: ${ports || 'none'}` };
    }
    const addr = `${ip}:${port.port}/${(port.protocol ?? 'TCP').toLowerCase()}`;
    const vantage = vantageOf(ctx);
    const opts = { timeoutMs, ...(ctx.signal ? { signal: ctx.signal } : {}) };

    let rules: ServiceRules | undefined;
    if (check.mode !== 'nftables') {
      const r = await vantage.exec(check.node, IPTABLES_ARGV, opts);
      const why = cannotRun(r.exitCode, r.stderr, check.node, 'iptables-save');
      if (why) return { status: 'error', message: why, expected, observed: why };
      if (r.exitCode !== 0) return { status: 'error', message: `iptables-save on ${check.node} exited ${r.exitCode}: ${lastLine(r.stderr)}`, expected, observed: lastLine(r.stderr) };
      if (check.mode === 'iptables' || /^:KUBE-SERVICES /m.test(r.stdout)) rules = parseIptablesNat(r.stdout, ip, port.port, port.protocol ?? 'TCP');
    }
    if (!rules) {
      const r = await vantage.exec(check.node, NFT_ARGV, opts);
      const why = cannotRun(r.exitCode, r.stderr, check.node, 'nft');
      if (why) return { status: 'error', message: why, expected, observed: why };
      if (r.exitCode !== 0) {
        const missing = /No such file or directory|does not exist/i.test(r.stderr);
        return { status: 'error', message: missing ? t.neither(node) : `nft on ${check.node} exited ${r.exitCode}: ${lastLine(r.stderr)}`, expected, observed: lastLine(r.stderr) };
      }
      rules = parseNftKubeProxy(r.stdout, ip, port.port, port.protocol ?? 'TCP');
    }

    const observed = `${rules.mode}: ${rules.chain ? `${rules.chain} → ${rules.endpoints.join(', ') || 'no endpoints'}` : `no chain for ${addr}${rules.noEndpoints ? ' (listed as having no endpoints)' : ''}`}`;
    const n = rules.endpoints.length;
    if (n === check.endpoints) return { status: 'pass', message: t.ok(node, name, rules.chain ?? '', n, rules.endpoints), expected, observed };
    if (!rules.chain) return { status: 'fail', message: t.noChain(node, name, addr, rules.mode, rules.noEndpoints), hint: t.noChainHint, expected, observed };
    return { status: 'fail', message: t.count(node, name, rules.chain, n, rules.endpoints, check.endpoints), hint: t.countHint, expected, observed };
  });
}

export function explainProxyRulesCheck(check: ProxyRulesCheck): string {
  return `on ${check.node}, kube-proxy's ${check.mode === 'auto' ? 'iptables or nftables' : check.mode} rules for Service ${check.namespace}/${check.service}${check.port !== undefined ? ` port ${check.port}` : ''} have ${check.endpoints} endpoint rule(s)`;
}

export const proxyRulesKind = { schema: proxyRulesCheckSchema, run: runProxyRulesCheck, explain: explainProxyRulesCheck, services: (c) => [{ name: c.service, namespace: c.namespace, path: ['service'] }] } satisfies CheckKindDef<ProxyRulesCheck>;
