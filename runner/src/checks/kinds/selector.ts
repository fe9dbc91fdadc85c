// The `selector` check: a Service's selector against the labels of the pods in its
// namespace. On failure it names the near misses: pods that carry every label but
// one, and how that one differs ("pods nginx-* have role=logstore").
import { z } from 'zod';
import type { CheckContext, CheckKindDef, CheckResult } from '../check.ts';
import { checkBaseShape, k8sName, labelMap, namespaceSchema, strict } from '../check-schema.ts';
import { matchesSelector, selectorString, type Labels, type Pod } from '../kube-api.ts';
import { kubeOf, podGroup, pollCheck, say, type Observation } from '../poll-check.ts';
import { noServiceHint, noServiceText } from '../service-facts.ts';

export const selectorCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('selector'),
  service: k8sName,
  namespace: namespaceSchema,
  /** At least this many live pods must carry every label of the selector. */
  minPods: z.number().int().min(1).default(1),
  /** The selector the Service must have (so changing the Service instead of the pods fails). */
  selector: labelMap.optional(),
});
export type SelectorCheck = z.infer<typeof selectorCheckSchema>;

export interface NearMiss {
  /** The selector key the pods get wrong. */
  key: string;
  want: string;
  /** Their value for it; undefined when they lack the label. */
  have: string | undefined;
  /** A label key under which they carry the wanted value (a typo in the key). */
  typoKey?: string;
  pods: string[];
}

/** Pods that match every label of `selector` but one, grouped by how they miss. */
export function nearMisses(selector: Labels, pods: readonly Pod[]): NearMiss[] {
  const groups = new Map<string, NearMiss>();
  for (const pod of pods) {
    const labels = pod.metadata?.labels ?? {};
    const wrong = Object.entries(selector).filter(([k, v]) => labels[k] !== v);
    if (wrong.length !== 1) continue;
    const [key, want] = wrong[0]!;
    const have = labels[key];
    const typoKey = have === undefined ? Object.keys(labels).find((k) => !(k in selector) && labels[k] === want) : undefined;
    const id = `${key}\u0000${have ?? ''}\u0000${typoKey ?? ''}`;
    const g = groups.get(id) ?? { key, want, have, pods: [], ...(typoKey ? { typoKey } : {}) };
    g.pods.push(pod.metadata?.name ?? '?');
    groups.set(id, g);
  }
  return [...groups.values()].sort((a, b) => b.pods.length - a.pods.length);
}

export function livePods(pods: readonly Pod[]): Pod[] {
  return pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
}

const texts = {
  en: {
    pods: (names: string[]) => (names.length === 1 ? `pod ${names[0]}` : `pods ${podGroup(names)}`),
    have: (n: number) => (n === 1 ? 'has' : 'have'),
    miss: (m: NearMiss, who: string, verb: string) =>
      m.typoKey ? `${who} ${verb} ${m.typoKey}=${m.want}: the key is ${m.typoKey}, not ${m.key}` : m.have === undefined ? `${who} ${verb} no ${m.key} label` : `${who} ${verb} ${m.key}=${m.have}`,
    selects: (svc: string, sel: string) => `Service ${svc} selects ${sel}`,
    pass: (svc: string, sel: string, names: string[]) => `Service ${svc} selects ${sel}: ${names.length} pod${names.length === 1 ? '' : 's'} (${podGroup(names)}).`,
    tooFew: (n: number, min: number, names: string[]) => `; ${n === 0 ? 'no pod carries all of these labels' : `only ${n} pod${n === 1 ? '' : 's'} (${podGroup(names)}) ${n === 1 ? 'carries' : 'carry'} all of them`}, ${min} needed`,
    noneAtAll: (ns: string) => `; there are no pods in namespace ${ns}`,
    noneClose: (ns: string, total: number) => `; none of the ${total} pods in namespace ${ns} has these labels, and none misses by only one label`,
    noSelector: (svc: string) => `Service ${svc} has no selector, so Kubernetes picks no pods for it.`,
    noSelectorHint: 'Add spec.selector with the labels of the pods it should send traffic to.',
    changed: (svc: string, sel: string, want: string) => `Service ${svc} selects ${sel}, but this lab expects ${want}. Change the pods' labels, not the Service.`,
    changedHint: (svc: string, want: string) => `Put the selector back: \`kubectl set selector service ${svc} '${want}'\``,
    nearHint: 'A selector matches a label only when the key and the value are exactly the same; `kubectl get pods --show-labels` shows what the pods carry. Put the label in the pod template so new pods get it too.',
  },
  zh: {
    pods: (names: string[]) => (names.length === 1 ? `Pod ${names[0]}` : `Pod ${podGroup(names)}`),
    have: (_n: number) => '',
    miss: (m: NearMiss, who: string) =>
      m.typoKey ? `${who} 带的是 ${m.typoKey}=${m.want}：key 写成了 ${m.typoKey}，应为 ${m.key}` : m.have === undefined ? `${who} 没有 ${m.key} 这个 label` : `${who} 带的是 ${m.key}=${m.have}`,
    selects: (svc: string, sel: string) => `Service ${svc} 选择的是 ${sel}`,
    pass: (svc: string, sel: string, names: string[]) => `Service ${svc} 按 ${sel} 选中了 ${names.length} 个 Pod（${podGroup(names)}）。`,
    tooFew: (n: number, min: number, names: string[]) => `；${n === 0 ? '没有任何 Pod 带齐这些 label' : `只有 ${n} 个 Pod（${podGroup(names)}）带齐了这些 label`}，需要 ${min} 个`,
    noneAtAll: (ns: string) => `；${ns} 命名空间里没有任何 Pod`,
    noneClose: (ns: string, total: number) => `；${ns} 命名空间里的 ${total} 个 Pod 都不带这些 label，也没有只差一个 label 的`,
    noSelector: (svc: string) => `Service ${svc} 没有 selector，Kubernetes 不会为它选择任何 Pod。`,
    noSelectorHint: '加上 spec.selector，写上它要转发流量的那些 Pod 的 label。',
    changed: (svc: string, sel: string, want: string) => `Service ${svc} 现在选择的是 ${sel}，但本实验要求是 ${want}。要改的是 Pod 的 label，而不是 Service。`,
    changedHint: (svc: string, want: string) => `把 selector 改回去：\`kubectl set selector service ${svc} '${want}'\``,
    nearHint: '只有 key 和 value 都完全一致，selector 才算匹配；`kubectl get pods --show-labels` 能看到 Pod 实际带的 label。把 label 写进 Pod 模板，新建的 Pod 也会带上它。',
  },
};

export async function runSelectorCheck(check: SelectorCheck, ctx: CheckContext): Promise<CheckResult> {
  const t = say(ctx, texts);
  const { service: name, namespace: ns } = check;
  const expected = `Service ${ns}/${name}${check.selector ? ` with selector ${selectorString(check.selector)}` : ''} selects at least ${check.minPods} live pod${check.minPods === 1 ? '' : 's'}`;

  return pollCheck(check, ctx, async (): Promise<Observation> => {
    const kube = kubeOf(ctx);
    const svc = await kube.getService(ns, name);
    if (!svc) return { status: 'fail', message: say(ctx, noServiceText)(name, ns), hint: say(ctx, noServiceHint)(name, ns), expected, observed: `no Service ${name} in ${ns}` };
    const selector = svc.spec?.selector ?? {};
    const sel = selectorString(selector);
    if (Object.keys(selector).length === 0) return { status: 'fail', message: t.noSelector(name), hint: t.noSelectorHint, expected, observed: 'the Service has no selector' };
    if (check.selector && !sameLabels(selector, check.selector)) {
      const want = selectorString(check.selector);
      return { status: 'fail', message: t.changed(name, sel, want), hint: t.changedHint(name, want), expected, observed: `selector ${sel}` };
    }

    const pods = livePods(await kube.listPods(ns));
    const matched = pods.filter((p) => matchesSelector(p.metadata?.labels, selector)).map((p) => p.metadata?.name ?? '?');
    const observedBase = `selector ${sel}; ${pods.length} live pods in ${ns}; ${matched.length} match${matched.length ? ` (${matched.join(', ')})` : ''}`;
    if (matched.length >= check.minPods) return { status: 'pass', message: t.pass(name, sel, matched), expected, observed: observedBase };

    const misses = nearMisses(selector, pods);
    let message = t.selects(name, sel);
    if (misses.length > 0) {
      message += (ctx.lang === 'zh' ? '；' : '; ') + misses.map((m) => t.miss(m, t.pods(m.pods), t.have(m.pods.length))).join(ctx.lang === 'zh' ? '；' : '; ');
      if (matched.length > 0) message += t.tooFew(matched.length, check.minPods, matched);
    } else if (pods.length === 0) {
      message += t.noneAtAll(ns);
    } else if (matched.length > 0) {
      message += t.tooFew(matched.length, check.minPods, matched);
    } else {
      message += t.noneClose(ns, pods.length);
    }
    message += ctx.lang === 'zh' ? '。' : '.';
    const observed = `${observedBase}${misses.length ? `; near misses: ${misses.map((m) => `${m.pods.join(',')} ${m.key}=${m.have ?? '<none>'}`).join('; ')}` : ''}`;
    return { status: 'fail', message, hint: t.nearHint, expected, observed };
  });
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export function explainSelectorCheck(check: SelectorCheck): string {
  const sel = check.selector ? ` with selector ${Object.entries(check.selector).map(([k, v]) => `${k}=${v}`).join(',')}` : '';
  return `Service ${check.namespace}/${check.service}${sel} must select at least ${check.minPods} live pod${check.minPods === 1 ? '' : 's'}`;
}

export const selectorKind = { schema: selectorCheckSchema, run: runSelectorCheck, explain: explainSelectorCheck, services: (c) => [{ name: c.service, namespace: c.namespace, path: ['service'] }] } satisfies CheckKindDef<SelectorCheck>;
