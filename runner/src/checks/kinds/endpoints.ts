// The `endpoints` check: the Service's EndpointSlices hold N ready addresses on
// the expected container port. A named targetPort is resolved through the pods'
// container ports, like the EndpointSlice controller does.
import { z } from 'zod';
import type { CheckContext, CheckKindDef, CheckResult } from '../check.ts';
import { checkBaseShape, k8sName, namespaceSchema, strict } from '../check-schema.ts';
import { matchesSelector, selectorString, type EndpointSlice, type Pod, type Service, type ServicePort } from '../kube-api.ts';
import { kubeOf, listNames, podGroup, pollCheck, say, type Observation } from '../poll-check.ts';
import { livePods, nearMisses } from './selector.ts';
import { describePort, endpointAddresses, findServicePort, noServiceHint, noServiceText } from '../service-facts.ts';

export const endpointsCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('endpoints'),
  service: k8sName,
  namespace: namespaceSchema,
  /** Exactly this many ready addresses; or a range with minReady/maxReady. */
  ready: z.number().int().min(0).optional(),
  minReady: z.number().int().min(0).optional(),
  maxReady: z.number().int().min(0).optional(),
  /** The Service port (number or name) whose endpoints count; the first port when omitted. */
  servicePort: z.union([z.number().int().min(1).max(65535), k8sName]).optional(),
  /** The container port the endpoints must carry; by default the Service's targetPort, names resolved through the pods. */
  targetPort: z.number().int().min(1).max(65535).optional(),
}).refine((c) => c.ready !== undefined || c.minReady !== undefined || c.maxReady !== undefined, {
  message: 'one of ready, minReady or maxReady',
}).refine((c) => c.ready === undefined || (c.minReady === undefined && c.maxReady === undefined), {
  message: 'either ready or minReady/maxReady, not both',
});
export type EndpointsCheck = z.infer<typeof endpointsCheckSchema>;

const texts = {
  en: {
    want: (c: EndpointsCheck) => (c.ready !== undefined ? `${c.ready}` : c.maxReady === undefined ? `at least ${c.minReady}` : c.minReady === undefined ? `at most ${c.maxReady}` : `${c.minReady}–${c.maxReady}`),
    eps: (n: number) => `${n} ready endpoint${n === 1 ? '' : 's'}`,
    pass: (svc: string, n: number, port: string, ips: string[]) => `Service ${svc} has ${n} ready endpoint${n === 1 ? '' : 's'}${port}${n ? ` (${listNames(ips)})` : ''}.`,
    onPort: (p: number) => ` on port ${p}`,
    count: (svc: string, n: number, want: string) => `Service ${svc} has ${n} ready endpoint${n === 1 ? '' : 's'}; expected ${want}.`,
    notReady: (pods: string[]) => ` Not ready yet: ${listNames(pods)} (a readiness probe failing, or still starting).`,
    noSelector: ' It has no selector, and no EndpointSlice was written for it by hand.',
    portName: (slices: string, got: string, want: string) =>
      ` EndpointSlice ${slices} lists port ${got}, but the Service port is ${want}: ports are matched by name, so its addresses don't count.`,
    matchesNone: (sel: string) => ` Its selector ${sel} matches no pod`,
    near: (pods: string[], key: string, have: string | undefined) => `: pods ${podGroup(pods)} have ${have === undefined ? `no ${key} label` : `${key}=${have}`}`,
    podsNotReady: (n: number, sel: string) => ` ${n} pod${n === 1 ? ' matches' : 's match'} ${sel}, but ${n === 1 ? 'it is' : 'they are'} not ready.`,
    noPort: (svc: string, want: string | number, ports: string) => `Service ${svc} has no port ${want} (its ports: ${ports || 'none'}).`,
    namedMissing: (svc: string, port: string, name: string, pods: string) =>
      `Service ${svc} port ${port} targets the container port named "${name}", but no container in ${pods} declares a port with that name, so they are not endpoints for it.`,
    namedHint: (name: string) => `Name the container port in the pod template (ports: - name: ${name}, containerPort: …) or give targetPort as a number.`,
    wrongPort: (svc: string, got: string, want: number) => `Service ${svc}'s endpoints are on port ${got}; expected ${want}.`,
    wrongPortHint: 'targetPort is the port the container listens on; compare it with containerPort in the pod template.',
    noPods: 'no pods',
  },
  zh: {
    want: (c: EndpointsCheck) => (c.ready !== undefined ? `${c.ready}` : c.maxReady === undefined ? `至少 ${c.minReady}` : c.minReady === undefined ? `至多 ${c.maxReady}` : `${c.minReady}–${c.maxReady}`),
    eps: (n: number) => `${n} 个 ready 的 endpoint`,
    pass: (svc: string, n: number, port: string, ips: string[]) => `Service ${svc} 有 ${n} 个 ready 的 endpoint${port}${n ? `（${listNames(ips)}）` : ''}。`,
    onPort: (p: number) => `，端口 ${p}`,
    count: (svc: string, n: number, want: string) => `Service ${svc} 有 ${n} 个 ready 的 endpoint，期望 ${want} 个。`,
    notReady: (pods: string[]) => `还没 ready 的：${listNames(pods)}（readiness probe 失败，或仍在启动）。`,
    noSelector: '它没有 selector，也没有手工创建的 EndpointSlice。',
    portName: (slices: string, got: string, want: string) => `EndpointSlice ${slices} 里的端口是 ${got}，而 Service 的端口是 ${want}：两者按名字对应，所以这些地址不算数。`,
    matchesNone: (sel: string) => `它的 selector ${sel} 没有匹配到任何 Pod`,
    near: (pods: string[], key: string, have: string | undefined) => `：Pod ${podGroup(pods)} ${have === undefined ? `没有 ${key} 这个 label` : `带的是 ${key}=${have}`}`,
    podsNotReady: (n: number, sel: string) => `有 ${n} 个 Pod 匹配 ${sel}，但还没有 ready。`,
    noPort: (svc: string, want: string | number, ports: string) => `Service ${svc} 没有端口 ${want}（它的端口：${ports || '无'}）。`,
    namedMissing: (svc: string, port: string, name: string, pods: string) =>
      `Service ${svc} 的端口 ${port} 指向名为 "${name}" 的容器端口，但 ${pods} 里没有容器声明这个名字的端口，所以它们不会成为 endpoint。`,
    namedHint: (name: string) => `在 Pod 模板里给容器端口命名（ports: - name: ${name}, containerPort: …），或者把 targetPort 写成数字。`,
    wrongPort: (svc: string, got: string, want: number) => `Service ${svc} 的 endpoint 端口是 ${got}，期望 ${want}。`,
    wrongPortHint: 'targetPort 是容器实际监听的端口，和 Pod 模板里的 containerPort 对比一下。',
    noPods: '没有 Pod',
  },
};

/** Slices with addresses whose ports don't carry the Service port's name (hand-written ones, usually). */
function misnamed(slices: readonly EndpointSlice[], portName: string): { slice: string; name: string | undefined }[] {
  return slices
    .filter((s) => (s.endpoints ?? []).length > 0 && (s.ports ?? []).length > 0 && !(s.ports ?? []).some((p) => (p.name ?? '') === portName))
    .flatMap((s) => (s.ports ?? []).map((p) => ({ slice: s.metadata?.name ?? '?', name: p.name || undefined })));
}

/** The container port a Service port sends to, with named targetPorts looked up in the pods. */
export function resolveTargetPort(port: ServicePort, pods: readonly Pod[]): { ports: number[]; name?: string } {
  const tp = port.targetPort;
  if (tp === undefined) return { ports: [port.port] };
  if (typeof tp === 'number') return { ports: [tp] };
  if (/^\d+$/.test(tp)) return { ports: [Number(tp)] };
  const found = new Set<number>();
  for (const pod of pods) {
    for (const c of pod.spec?.containers ?? []) {
      for (const p of c.ports ?? []) if (p.name === tp && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP')) found.add(p.containerPort);
    }
  }
  return { ports: [...found].sort((a, b) => a - b), name: tp };
}

export async function runEndpointsCheck(check: EndpointsCheck, ctx: CheckContext): Promise<CheckResult> {
  const t = say(ctx, texts);
  const { service: name, namespace: ns } = check;
  const want = texts.en.want(check);
  const expected = `${want} ready endpoints for Service ${ns}/${name}${check.servicePort !== undefined ? ` port ${check.servicePort}` : ''}${check.targetPort ? ` on container port ${check.targetPort}` : ''}`;
  const inRange = (n: number) =>
    check.ready !== undefined ? n === check.ready : (check.minReady === undefined || n >= check.minReady) && (check.maxReady === undefined || n <= check.maxReady);

  return pollCheck(check, ctx, async (): Promise<Observation> => {
    const kube = kubeOf(ctx);
    const svc: Service | undefined = await kube.getService(ns, name);
    if (!svc) return { status: 'fail', message: say(ctx, noServiceText)(name, ns), hint: say(ctx, noServiceHint)(name, ns), expected, observed: `no Service ${name} in ${ns}` };
    const port = findServicePort(svc, check.servicePort);
    if (!port && (check.servicePort !== undefined || (svc.spec?.ports ?? []).length > 0)) {
      const ports = (svc.spec?.ports ?? []).map(describePort).join(', ');
      return { status: 'fail', message: t.noPort(name, check.servicePort ?? '', ports), expected, observed: `ports: ${ports || 'none'}` };
    }
    const selector = svc.spec?.selector;
    const pods = selector && Object.keys(selector).length > 0 ? livePods(await kube.listPods(ns)) : [];
    const selected = selector ? pods.filter((p) => matchesSelector(p.metadata?.labels, selector)) : [];
    const slices = await kube.listEndpointSlices(ns, name);
    const addrs = endpointAddresses(slices, port ? port.name ?? '' : undefined);
    const ready = addrs.filter((a) => a.ready);
    const notReady = addrs.filter((a) => !a.ready);
    const observed = `${ready.length} ready (${ready.map((a) => `${a.ip}:${a.ports.join('/') || '?'}`).join(', ') || 'none'}); ${notReady.length} not ready${notReady.length ? ` (${notReady.map((a) => a.pod ?? a.ip).join(', ')})` : ''}`;

    // Which container port the endpoints must carry.
    let targetPort = check.targetPort;
    if (targetPort === undefined && port && selector) {
      const resolved = resolveTargetPort(port, selected);
      if (resolved.name !== undefined && resolved.ports.length === 0 && selected.length > 0) {
        const names = selected.map((p) => p.metadata?.name ?? '?');
        return {
          status: 'fail',
          message: t.namedMissing(name, describePort(port), resolved.name, `pods ${podGroup(names)}`),
          hint: t.namedHint(resolved.name),
          expected,
          observed: `${observed}; targetPort "${resolved.name}" not declared by ${names.join(', ')}`,
        };
      }
      if (resolved.ports.length === 1) targetPort = resolved.ports[0];
    }

    if (targetPort !== undefined) {
      const off = ready.filter((a) => a.ports.length > 0 && !a.ports.includes(targetPort));
      if (off.length > 0 && inRange(ready.length)) {
        const got = [...new Set(off.flatMap((a) => a.ports))].join(', ');
        return { status: 'fail', message: t.wrongPort(name, got, targetPort), hint: t.wrongPortHint, expected: `${expected} (container port ${targetPort})`, observed };
      }
    }

    if (inRange(ready.length)) {
      return { status: 'pass', message: t.pass(name, ready.length, targetPort !== undefined && ready.length ? t.onPort(targetPort) : '', ready.map((a) => a.ip)), expected, observed };
    }

    let message = t.count(name, ready.length, ctx.lang === 'zh' ? texts.zh.want(check) : want);
    if (notReady.length > 0) message += t.notReady(notReady.map((a) => a.pod ?? a.ip));
    else if (ready.length === 0 && port && misnamed(slices, port.name ?? '').length > 0) {
      const bad = misnamed(slices, port.name ?? '');
      const names = (n: string | undefined) => (n ? `named "${n}"` : 'without a name');
      message += t.portName(bad.map((b) => b.slice).join(', '), [...new Set(bad.map((b) => names(b.name)))].join(', '), names(port.name));
    } else if (ready.length === 0 && (!selector || Object.keys(selector).length === 0)) message += t.noSelector;
    else if (selector && selected.length === 0) {
      const sel = selectorString(selector);
      const miss = nearMisses(selector, pods)[0];
      message += t.matchesNone(sel) + (miss ? t.near(miss.pods, miss.key, miss.have) : '') + (ctx.lang === 'zh' ? '。' : '.');
    } else if (selector && selected.length > ready.length) {
      message += t.podsNotReady(selected.length - ready.length, selectorString(selector));
    }
    return { status: 'fail', message, expected, observed };
  });
}

export function explainEndpointsCheck(check: EndpointsCheck): string {
  const count = check.ready !== undefined ? `exactly ${check.ready}` : [check.minReady !== undefined ? `at least ${check.minReady}` : '', check.maxReady !== undefined ? `at most ${check.maxReady}` : ''].filter(Boolean).join(' and ');
  const port = check.servicePort !== undefined ? ` on port ${check.servicePort}` : '';
  return `Service ${check.namespace}/${check.service} must have ${count} ready endpoint address(es)${port}${check.targetPort !== undefined ? ` with target port ${check.targetPort}` : ''}`;
}

export const endpointsKind = { schema: endpointsCheckSchema, run: runEndpointsCheck, explain: explainEndpointsCheck, services: (c) => [{ name: c.service, namespace: c.namespace, path: ['service'] }] } satisfies CheckKindDef<EndpointsCheck>;
