// The `gateway-status` check: what the Gateway API controller says about the
// learner's objects, read from their status conditions. It follows the chain a
// request needs — GatewayClass accepted, Gateway Accepted and Programmed, each named
// listener Accepted / ResolvedRefs / Programmed, the route Accepted by this Gateway
// with its backendRefs resolved — and reports the first broken link with the
// controller's reason said as the cause the learner can fix (a Secret that does not
// exist, a hostname no listener has, a Service name that is a typo). A condition
// written for an older generation of the object counts as "not processed yet".
import { z } from 'zod';
import { checkBaseShape, k8sName, namespaceSchema, strict } from '../check-schema.ts';
import type { CheckContext, CheckKindDef, CheckResult } from '../check.ts';
import { KubeApiError, type KubeApi, type KubeObject, type Secret } from '../kube-api.ts';
import { kubeOf, listNames, pollCheck, say, type Observation } from '../poll-check.ts';

const GROUP = 'gateway.networking.k8s.io';
const V1 = `${GROUP}/v1`;

/** A listener's name (Gateway API SectionName). */
const sectionName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a listener name like http or https');

export const gatewayStatusCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('gateway-status'),
  /** The Gateway; the route (if any) is looked for in the same namespace. */
  gateway: k8sName,
  namespace: namespaceSchema,
  /** Listeners (by name) that must be Accepted, have their references resolved and be Programmed. */
  listeners: z.array(sectionName).default([]),
  /** A route that must be attached to this Gateway, Accepted, with its backendRefs resolved. */
  route: strict({
    name: k8sName,
    kind: z.enum(['HTTPRoute', 'GRPCRoute']).default('HTTPRoute'),
  }).optional(),
});
export type GatewayStatusCheck = z.infer<typeof gatewayStatusCheckSchema>;

interface Condition { type: string; status: string; reason?: string; message?: string; observedGeneration?: number }
interface ParentRef { group?: string; kind?: string; name: string; namespace?: string; sectionName?: string; port?: number }
interface BackendRef { group?: string; kind?: string; name: string; namespace?: string; port?: number; weight?: number }
interface Listener { name: string; port?: number; protocol?: string; hostname?: string; tls?: { mode?: string; certificateRefs?: { group?: string; kind?: string; name: string; namespace?: string }[] } }
interface Gateway extends KubeObject {
  spec?: { gatewayClassName?: string; listeners?: Listener[] };
  status?: { conditions?: Condition[]; listeners?: { name: string; conditions?: Condition[]; attachedRoutes?: number }[] };
}
interface Route extends KubeObject {
  spec?: { parentRefs?: ParentRef[]; hostnames?: string[]; rules?: { backendRefs?: BackendRef[] }[] };
  status?: { parents?: { parentRef: ParentRef; controllerName?: string; conditions?: Condition[] }[] };
}

const texts = {
  en: {
    noApi: 'this cluster has no Gateway API: its CRDs (gateway.networking.k8s.io) are not installed',
    noApiHint: 'svclab installs them with its add-ons when the gateway-api artifact is built: `svclab images build gateway-api`, then `svclab up` again.',
    noGateway: (gw: string, ns: string) => `There is no Gateway ${gw} in namespace ${ns}.`,
    noGatewayHint: 'Apply the Gateway from the editor; `kubectl get gateways` lists the ones that exist.',
    noClass: (gw: string, cls: string) => `Gateway ${gw} names gatewayClassName ${cls}, and there is no GatewayClass ${cls}, so no controller will ever serve it.`,
    noClassHint: '`kubectl get gatewayclasses` lists the classes; svclab\'s Traefik serves the class traefik.',
    classNotAccepted: (cls: string, ctl: string) => `GatewayClass ${cls} (controllerName ${ctl}) has not been accepted by its controller, so nothing serves Gateways of that class.`,
    classNotAcceptedHint: '`kubectl describe gatewayclass` shows its conditions; the controller for svclab\'s class is Traefik, in namespace traefik.',
    pending: (what: string) => `The controller has not reported on ${what} yet.`,
    pendingHint: 'It usually answers within seconds; press Check again. If it stays like this, `kubectl describe` the object and look at its conditions.',
    stale: (what: string, seen: number, gen: number) => `The controller's status on ${what} is for an older version of it (generation ${seen}; the object is at ${gen}): your last change is not processed yet.`,
    condition: (what: string, type: string, reason: string, msg: string) => `${what} is not ${type}: ${reason}${msg ? ` (“${msg}”)` : ''}.`,
    noListener: (gw: string, l: string, have: string[]) => `Gateway ${gw} has no listener named ${l} (it has ${have.length ? listNames(have) : 'none'}).`,
    noListenerHint: (l: string) => `Add an entry with \`name: ${l}\` under spec.listeners and Apply.`,
    port: (l: string, port: string, proto: string) => `Listener ${l} asks for ${proto} on port ${port}, and the controller has no entry point there: svclab's Traefik listens on 80 for HTTP and on 443 for HTTPS.`,
    portHint: 'Use port 80 with protocol HTTP, or port 443 with protocol HTTPS (the workstation reaches them as 127.0.0.1:30080 and :30443).',
    tlsConfig: (l: string, proto: string) => proto === 'HTTPS'
      ? `Listener ${l} is HTTPS but has no tls.certificateRefs, so there is no certificate to present.`
      : `Listener ${l} is ${proto} and has a tls block: only an HTTPS (or TLS) listener terminates TLS.`,
    tlsConfigHint: 'An HTTPS listener: `protocol: HTTPS`, `port: 443`, `tls: {mode: Terminate, certificateRefs: [{name: SECRET}]}`.',
    noSecret: (l: string, s: string, ns: string) => `Listener ${l} names Secret ${s} in tls.certificateRefs, and there is no Secret ${s} in namespace ${ns}.`,
    noSecretHint: (s: string, ns: string) => `Make it from your certificate and key: \`kubectl -n ${ns} create secret tls ${s} --cert=FILE.crt --key=FILE.key\`.`,
    badSecret: (l: string, s: string, keys: string[]) => `Listener ${l} names Secret ${s}, which has no usable tls.crt and tls.key (its keys: ${keys.join(', ') || 'none'}).`,
    badSecretHint: (s: string, ns: string) => `Make it again as a TLS Secret: \`kubectl -n ${ns} delete secret ${s}\`, then \`kubectl -n ${ns} create secret tls ${s} --cert=FILE.crt --key=FILE.key\`.`,
    certRef: (l: string, msg: string) => `The controller cannot use the certificate of listener ${l}: ${msg}.`,
    conflicted: (l: string, msg: string) => `Listener ${l} conflicts with another listener${msg ? ` (“${msg}”)` : ''}: two listeners on one port need different hostnames.`,
    noRoute: (kind: string, r: string, ns: string) => `There is no ${kind} ${r} in namespace ${ns}.`,
    noRouteHint: (kind: string) => `Apply the ${kind} from the editor; \`kubectl get ${kind.toLowerCase()}s\` lists the ones that exist.`,
    notParent: (kind: string, r: string, gw: string, refs: string[]) => `${kind} ${r} does not name Gateway ${gw} in spec.parentRefs (it names ${refs.length ? listNames(refs) : 'none'}), so it is not attached to it.`,
    notParentHint: (gw: string) => `Under spec.parentRefs list \`- name: ${gw}\`.`,
    notAllowed: (what: string) => `${what} is refused by the Gateway's listeners (NotAllowedByListeners): their allowedRoutes do not admit a route of this kind from this namespace.`,
    notAllowedHint: 'By default a listener admits routes from the Gateway\'s own namespace only (allowedRoutes.namespaces.from: Same).',
    noHost: (what: string, routeHosts: string[], listenerHosts: string[]) => `${what} is not accepted: none of its hostnames (${routeHosts.join(', ') || 'any'}) matches a hostname of the Gateway's listeners (${listenerHosts.join(', ') || 'any'}) (NoMatchingListenerHostname).`,
    noHostHint: 'A route attaches to a listener only when their hostnames intersect; a listener without a hostname takes every name.',
    noParent: (what: string, ref: string) => `${what} names a listener the Gateway does not have (${ref}) (NoMatchingParent).`,
    noParentHint: 'parentRefs[].sectionName must be the name of one of the Gateway\'s listeners (or leave it out to attach to all).',
    noBackend: (what: string, missing: string[], ns: string) => `${what}: its backendRefs name ${missing.length === 1 ? 'a Service' : 'Services'} that ${missing.length === 1 ? 'does' : 'do'} not exist in namespace ${ns}: ${missing.join(', ')} (BackendNotFound). Requests for that rule get an error from the controller.`,
    noBackendHint: '`kubectl get services` lists the Services; a backendRef names a Service and its port, like `- name: store-v1` with `port: 80`.',
    refNotPermitted: (what: string, msg: string) => `${what} points at a backend in another namespace, which that namespace does not allow (RefNotPermitted${msg ? `: “${msg}”` : ''}).`,
    refNotPermittedHint: 'A cross-namespace backendRef needs a ReferenceGrant in the backend\'s namespace; or use a Service in the route\'s own namespace.',
    ok: (parts: string[]) => `${parts.join('; ')}.`,
    okGateway: (gw: string) => `Gateway ${gw} is Accepted and Programmed`,
    okListener: (ls: string[]) => `listener${ls.length === 1 ? '' : 's'} ${ls.join(', ')} Programmed with ${ls.length === 1 ? 'its' : 'their'} references resolved`,
    okRoute: (what: string) => `${what} is Accepted by it, with its backends resolved`,
  },
  zh: {
    noApi: '这个集群没有 Gateway API：它的 CRD（gateway.networking.k8s.io）还没有安装',
    noApiHint: 'gateway-api 制品构建好之后，svclab 会随附加组件一起安装这些 CRD：先执行 `svclab images build gateway-api`，再重新执行 `svclab up`。',
    noGateway: (gw: string, ns: string) => `${ns} 命名空间里没有 Gateway ${gw}。`,
    noGatewayHint: '在编辑器里“应用”这个 Gateway；`kubectl get gateways` 会列出已有的 Gateway。',
    noClass: (gw: string, cls: string) => `Gateway ${gw} 的 gatewayClassName 是 ${cls}，但集群里没有 GatewayClass ${cls}，所以不会有任何 Controller 来处理它。`,
    noClassHint: '`kubectl get gatewayclasses` 会列出已有的类；svclab 的 Traefik 负责的类叫 traefik。',
    classNotAccepted: (cls: string, ctl: string) => `GatewayClass ${cls}（controllerName ${ctl}）还没有被它的 Controller 接受，所以这个类的 Gateway 没有人处理。`,
    classNotAcceptedHint: '`kubectl describe gatewayclass` 可以看到它的 conditions；svclab 的类由 traefik 命名空间里的 Traefik 负责。',
    pending: (what: string) => `Controller 还没有报告 ${what} 的状态。`,
    pendingHint: '通常几秒钟内就会有结果，再点一次“检查”。如果一直这样，用 `kubectl describe` 看看这个对象的 conditions。',
    stale: (what: string, seen: number, gen: number) => `Controller 写在 ${what} 上的状态针对的是旧版本（generation ${seen}，对象现在是 ${gen}）：你最近的修改还没有被处理。`,
    condition: (what: string, type: string, reason: string, msg: string) => `${what} 不是 ${type} 状态：${reason}${msg ? `（“${msg}”）` : ''}。`,
    noListener: (gw: string, l: string, have: string[]) => `Gateway ${gw} 没有名为 ${l} 的 listener（现有：${have.length ? listNames(have) : '无'}）。`,
    noListenerHint: (l: string) => `在 spec.listeners 下加一个 \`name: ${l}\` 的条目，然后“应用”。`,
    port: (l: string, port: string, proto: string) => `Listener ${l} 要在 ${port} 端口上提供 ${proto}，但 Controller 在那里没有入口点（entry point）：svclab 的 Traefik 在 80 端口提供 HTTP，在 443 端口提供 HTTPS。`,
    portHint: 'HTTP 用 80 端口，HTTPS 用 443 端口（工作站里对应 127.0.0.1:30080 和 :30443）。',
    tlsConfig: (l: string, proto: string) => proto === 'HTTPS'
      ? `Listener ${l} 是 HTTPS，但没有 tls.certificateRefs，没有证书可以出示。`
      : `Listener ${l} 是 ${proto}，却带了 tls 块：只有 HTTPS（或 TLS）listener 才终结 TLS。`,
    tlsConfigHint: 'HTTPS listener 的写法：`protocol: HTTPS`、`port: 443`、`tls: {mode: Terminate, certificateRefs: [{name: SECRET}]}`。',
    noSecret: (l: string, s: string, ns: string) => `Listener ${l} 在 tls.certificateRefs 里引用了 Secret ${s}，但 ${ns} 命名空间里没有 Secret ${s}。`,
    noSecretHint: (s: string, ns: string) => `用你的证书和私钥创建它：\`kubectl -n ${ns} create secret tls ${s} --cert=FILE.crt --key=FILE.key\`。`,
    badSecret: (l: string, s: string, keys: string[]) => `Listener ${l} 引用的 Secret ${s} 里没有可用的 tls.crt 和 tls.key（它的键：${keys.join(', ') || '无'}）。`,
    badSecretHint: (s: string, ns: string) => `重新按 TLS Secret 创建：先 \`kubectl -n ${ns} delete secret ${s}\`，再 \`kubectl -n ${ns} create secret tls ${s} --cert=FILE.crt --key=FILE.key\`。`,
    certRef: (l: string, msg: string) => `Controller 无法使用 listener ${l} 的证书：${msg}。`,
    conflicted: (l: string, msg: string) => `Listener ${l} 和另一个 listener 冲突${msg ? `（“${msg}”）` : ''}：同一端口上的两个 listener 需要不同的 hostname。`,
    noRoute: (kind: string, r: string, ns: string) => `${ns} 命名空间里没有 ${kind} ${r}。`,
    noRouteHint: (kind: string) => `在编辑器里“应用”这个 ${kind}；\`kubectl get ${kind.toLowerCase()}s\` 会列出已有的对象。`,
    notParent: (kind: string, r: string, gw: string, refs: string[]) => `${kind} ${r} 的 spec.parentRefs 里没有 Gateway ${gw}（写的是：${refs.length ? listNames(refs) : '无'}），所以它没有挂到这个 Gateway 上。`,
    notParentHint: (gw: string) => `在 spec.parentRefs 下写上 \`- name: ${gw}\`。`,
    notAllowed: (what: string) => `${what} 被 Gateway 的 listener 拒绝了（NotAllowedByListeners）：它们的 allowedRoutes 不接受来自这个命名空间的这类路由。`,
    notAllowedHint: '默认情况下，listener 只接受与 Gateway 同一命名空间的路由（allowedRoutes.namespaces.from: Same）。',
    noHost: (what: string, routeHosts: string[], listenerHosts: string[]) => `${what} 没有被接受：它的 hostname（${routeHosts.join(', ') || '任意'}）与 Gateway 各 listener 的 hostname（${listenerHosts.join(', ') || '任意'}）都不匹配（NoMatchingListenerHostname）。`,
    noHostHint: '只有 hostname 有交集时，路由才会挂到 listener 上；没有写 hostname 的 listener 接受所有名字。',
    noParent: (what: string, ref: string) => `${what} 引用了 Gateway 上不存在的 listener（${ref}）（NoMatchingParent）。`,
    noParentHint: 'parentRefs[].sectionName 必须是 Gateway 某个 listener 的名字（不写则挂到所有 listener 上）。',
    noBackend: (what: string, missing: string[], ns: string) => `${what}：backendRefs 引用的 Service 在 ${ns} 命名空间里不存在：${missing.join(', ')}（BackendNotFound）。这条规则的请求会收到 Controller 返回的错误。`,
    noBackendHint: '`kubectl get services` 会列出已有的 Service；backendRef 写的是 Service 名和端口，例如 `- name: store-v1` 加 `port: 80`。',
    refNotPermitted: (what: string, msg: string) => `${what} 指向另一个命名空间里的后端，而那个命名空间没有允许（RefNotPermitted${msg ? `：“${msg}”` : ''}）。`,
    refNotPermittedHint: '跨命名空间的 backendRef 需要后端所在命名空间里有一个 ReferenceGrant；或者改用路由自己命名空间里的 Service。',
    ok: (parts: string[]) => `${parts.join('；')}。`,
    okGateway: (gw: string) => `Gateway ${gw} 已被接受（Accepted）并已生效（Programmed）`,
    okListener: (ls: string[]) => `listener ${ls.join(', ')} 已生效，引用都已解析`,
    okRoute: (what: string) => `${what} 已被它接受，后端都已解析`,
  },
};
type T = (typeof texts)['en'];

function cond(conds: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conds?.find((c) => c.type === type);
}

/** Written for an older generation of the object than the one it has now. */
function isStale(c: Condition, generation: number | undefined): boolean {
  return generation !== undefined && c.observedGeneration !== undefined && c.observedGeneration < generation;
}

/** False for the object as it is now (not a verdict on an older generation): worth explaining. */
function currentlyFalse(c: Condition | undefined, generation: number | undefined): c is Condition {
  return !!c && c.status === 'False' && !isStale(c, generation);
}

/** A condition that is not (yet) True for the object's current generation, as an observation; undefined when it is. */
function notTrue(t: T, what: string, c: Condition | undefined, type: string, generation: number | undefined, expected: string): Observation | undefined {
  if (!c || (c.status === 'Unknown' && (c.reason === 'Pending' || !c.reason))) return { status: 'fail', message: t.pending(what), hint: t.pendingHint, expected, observed: `${what}: no ${type} condition yet` };
  if (generation !== undefined && c.observedGeneration !== undefined && c.observedGeneration < generation) {
    return { status: 'fail', message: t.stale(what, c.observedGeneration, generation), hint: t.pendingHint, expected, observed: `${what}: ${type} for generation ${c.observedGeneration} < ${generation}` };
  }
  if (c.status === 'True') return undefined;
  return { status: 'fail', message: t.condition(what, type, c.reason ?? '?', c.message ?? ''), expected, observed: `${what}: ${type}=${c.status} (${c.reason ?? ''}: ${c.message ?? ''})` };
}

async function readGatewayApi(kube: KubeApi, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
  return kube.getObject({ apiVersion: V1, kind, name, ...(namespace ? { namespace } : {}) });
}

export async function runGatewayStatusCheck(check: GatewayStatusCheck, ctx: CheckContext): Promise<CheckResult> {
  const t = say(ctx, texts);
  const ns = check.namespace;
  const gwName = check.gateway;
  const route = check.route;
  const expected = [
    `Gateway ${ns}/${gwName} Accepted and Programmed`,
    ...(check.listeners.length ? [`listeners ${check.listeners.join(', ')} Accepted, ResolvedRefs and Programmed`] : []),
    ...(route ? [`${route.kind} ${route.name} attached to it, Accepted and ResolvedRefs`] : []),
  ].join('; ');

  return pollCheck(check, ctx, async (): Promise<Observation> => {
    const kube = kubeOf(ctx);
    let gw: Gateway | undefined;
    try {
      gw = (await readGatewayApi(kube, 'Gateway', gwName, ns)) as Gateway | undefined;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return { status: 'error', message: t.noApi, hint: t.noApiHint, expected, observed: e.message, final: true };
      throw e;
    }
    if (!gw) return { status: 'fail', message: t.noGateway(gwName, ns), hint: t.noGatewayHint, expected, observed: `no Gateway ${ns}/${gwName}` };
    const gwWhat = `Gateway ${gwName}`;
    const gen = gw.metadata?.generation as number | undefined;

    // The class first: a Gateway of a class nobody serves never gets a status at all.
    const clsName = gw.spec?.gatewayClassName ?? '';
    const cls = (await readGatewayApi(kube, 'GatewayClass', clsName)) as (KubeObject & { spec?: { controllerName?: string }; status?: { conditions?: Condition[] } }) | undefined;
    if (!cls) return { status: 'fail', message: t.noClass(gwName, clsName), hint: t.noClassHint, expected, observed: `no GatewayClass ${clsName}` };
    if (cond(cls.status?.conditions, 'Accepted')?.status !== 'True') {
      return { status: 'fail', message: t.classNotAccepted(clsName, cls.spec?.controllerName ?? '?'), hint: t.classNotAcceptedHint, expected, observed: `GatewayClass ${clsName}: Accepted=${cond(cls.status?.conditions, 'Accepted')?.status ?? 'absent'}` };
    }

    const listeners = gw.spec?.listeners ?? [];
    const listenerStatus = (name: string) => gw.status?.listeners?.find((l) => l.name === name);
    for (const name of check.listeners) {
      if (!listeners.some((l) => l.name === name)) return { status: 'fail', message: t.noListener(gwName, name, listeners.map((l) => l.name)), hint: t.noListenerHint(name), expected, observed: `listeners: ${listeners.map((l) => l.name).join(', ') || 'none'}` };
    }
    // A broken listener first, the ones the check names before the others: the Gateway's own
    // condition only says "ListenersNotValid", and Traefik writes a broken listener's error
    // condition alone (no Accepted/Programmed beside it).
    const order = [...check.listeners, ...listeners.map((l) => l.name).filter((n) => !check.listeners.includes(n))];
    for (const name of order) {
      const spec = listeners.find((l) => l.name === name);
      const conds = listenerStatus(name)?.conditions ?? [];
      const what = `${gwWhat}, listener ${name}`;
      const conflicted = conds.find((c) => c.type === 'Conflicted' && c.status === 'True' && !isStale(c, gen));
      if (conflicted) return { status: 'fail', message: t.conflicted(name, conflicted.message ?? ''), expected, observed: `${what}: Conflicted=True (${conflicted.reason ?? ''})` };
      const broken = conds.find((c) => c.type !== 'Conflicted' && currentlyFalse(c, gen));
      if (!broken || !spec) continue;
      const bad = notTrue(t, what, broken, broken.type, gen, expected)!;
      const why = await explainListener(t, kube, ns, spec, broken);
      return why ? { ...bad, ...why, hintNamesObjects: true } : bad;
    }
    for (const type of ['Accepted', 'Programmed']) {
      const bad = notTrue(t, gwWhat, cond(gw.status?.conditions, type), type, gen, expected);
      if (bad) return bad;
    }
    for (const name of check.listeners) {
      for (const type of ['Accepted', 'ResolvedRefs', 'Programmed']) {
        const bad = notTrue(t, `${gwWhat}, listener ${name}`, cond(listenerStatus(name)?.conditions, type), type, gen, expected);
        if (bad) return bad;
      }
    }
    const parts = [t.okGateway(gwName), ...(check.listeners.length ? [t.okListener(check.listeners)] : [])];
    if (!route) return { status: 'pass', message: t.ok(parts), expected, observed: `Gateway ${gwName}: Accepted, Programmed${check.listeners.length ? `; listeners ${check.listeners.join(', ')}: Accepted, ResolvedRefs, Programmed` : ''}` };

    const r = (await readGatewayApi(kube, route.kind, route.name, ns)) as Route | undefined;
    if (!r) return { status: 'fail', message: t.noRoute(route.kind, route.name, ns), hint: t.noRouteHint(route.kind), expected, observed: `no ${route.kind} ${ns}/${route.name}` };
    const rWhat = `${route.kind} ${route.name}`;
    const isOurs = (p: ParentRef) => p.name === gwName && (p.namespace ?? ns) === ns && (p.kind ?? 'Gateway') === 'Gateway' && (p.group ?? GROUP) === GROUP;
    const refs = r.spec?.parentRefs ?? [];
    if (!refs.some(isOurs)) return { status: 'fail', message: t.notParent(route.kind, route.name, gwName, refs.map((p) => `${p.kind ?? 'Gateway'} ${p.name}`)), hint: t.notParentHint(gwName), expected, observed: `parentRefs: ${refs.map((p) => p.name).join(', ') || 'none'}` };
    const parents = (r.status?.parents ?? []).filter((p) => isOurs(p.parentRef));
    const rGen = r.metadata?.generation as number | undefined;
    if (parents.length === 0) return { status: 'fail', message: t.pending(`${rWhat} on Gateway ${gwName}`), hint: t.pendingHint, expected, observed: `${rWhat}: no status for parent ${gwName}` };
    for (const p of parents) {
      const ref = p.parentRef.sectionName ? `${gwName}/${p.parentRef.sectionName}` : gwName;
      const what = `${rWhat} (parent ${ref})`;
      for (const type of ['Accepted', 'ResolvedRefs']) {
        const c = cond(p.conditions, type);
        const bad = notTrue(t, what, c, type, rGen, expected);
        if (!bad) continue;
        const why = currentlyFalse(c, rGen) ? await explainRoute(t, kube, ns, what, ref, r, listeners, c) : undefined;
        return why ? { ...bad, ...why, hintNamesObjects: true } : bad;
      }
    }
    return { status: 'pass', message: t.ok([...parts, t.okRoute(rWhat)]), expected, observed: `Gateway ${gwName}: Accepted, Programmed; ${rWhat}: Accepted, ResolvedRefs` };
  });
}

/** The learner-facing cause of a listener condition that is False. */
async function explainListener(t: T, kube: KubeApi, ns: string, l: Listener, c: Condition): Promise<Pick<Observation, 'message' | 'hint'> | undefined> {
  switch (c.reason) {
    case 'PortUnavailable':
      return { message: t.port(l.name, String(l.port ?? '?'), l.protocol ?? '?'), hint: t.portHint };
    case 'InvalidTLSConfiguration':
      return { message: t.tlsConfig(l.name, l.protocol ?? '?'), hint: t.tlsConfigHint };
    case 'InvalidCertificateRef': {
      for (const ref of l.tls?.certificateRefs ?? []) {
        if ((ref.kind ?? 'Secret') !== 'Secret') continue;
        const sns = ref.namespace ?? ns;
        const s = (await kube.getObject({ apiVersion: 'v1', kind: 'Secret', name: ref.name, namespace: sns })) as Secret | undefined;
        if (!s) return { message: t.noSecret(l.name, ref.name, sns), hint: t.noSecretHint(ref.name, sns) };
        const keys = Object.keys(s.data ?? {});
        if (!s.data?.['tls.crt'] || !s.data?.['tls.key']) return { message: t.badSecret(l.name, ref.name, keys), hint: t.badSecretHint(ref.name, sns) };
      }
      if (!l.tls?.certificateRefs?.length) return { message: t.tlsConfig(l.name, 'HTTPS'), hint: t.tlsConfigHint };
      return { message: t.certRef(l.name, c.message ?? c.reason), hint: t.badSecretHint(l.tls.certificateRefs[0]!.name, ns) };
    }
    default:
      return undefined;
  }
}

/** The learner-facing cause of a route condition that is False. */
async function explainRoute(t: T, kube: KubeApi, ns: string, what: string, ref: string, r: Route, listeners: readonly Listener[], c: Condition): Promise<Pick<Observation, 'message' | 'hint'> | undefined> {
  switch (c.reason) {
    case 'NotAllowedByListeners':
      return { message: t.notAllowed(what), hint: t.notAllowedHint };
    case 'NoMatchingListenerHostname':
      return { message: t.noHost(what, r.spec?.hostnames ?? [], listeners.map((l) => l.hostname ?? '*')), hint: t.noHostHint };
    case 'NoMatchingParent':
      return { message: t.noParent(what, ref), hint: t.noParentHint };
    case 'RefNotPermitted':
      return { message: t.refNotPermitted(what, c.message ?? ''), hint: t.refNotPermittedHint };
    case 'BackendNotFound': {
      const missing: string[] = [];
      const backends = (r.spec?.rules ?? []).flatMap((rule) => rule.backendRefs ?? []).filter((b) => (b.kind ?? 'Service') === 'Service' && (b.group ?? '') === '');
      for (const name of new Set(backends.filter((b) => (b.namespace ?? ns) === ns).map((b) => b.name))) {
        if (!(await kube.getService(ns, name))) missing.push(name);
      }
      return missing.length ? { message: t.noBackend(what, missing, ns), hint: t.noBackendHint } : undefined;
    }
    default:
      return undefined;
  }
}

export function explainGatewayStatusCheck(check: GatewayStatusCheck): string {
  const parts = [`Gateway ${check.namespace}/${check.gateway} must be Accepted and Programmed`];
  if (check.listeners.length) parts.push(`listeners ${check.listeners.join(', ')} Accepted, ResolvedRefs and Programmed`);
  if (check.route) parts.push(`${check.route.kind} ${check.route.name} attached to it, Accepted and ResolvedRefs`);
  return parts.join('; ');
}

export const gatewayStatusKind = { schema: gatewayStatusCheckSchema, run: runGatewayStatusCheck, explain: explainGatewayStatusCheck } satisfies CheckKindDef<GatewayStatusCheck>;
