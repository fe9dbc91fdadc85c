// The `resource` check: an object exists (or is gone) and its fields match, each
// by equals / exists / matches / oneOf on a path like spec.ports[name=http].nodePort.
import { z } from 'zod';
import type { CheckContext, CheckKindDef, CheckResult } from '../check.ts';
import { checkBaseShape, k8sName, localizedSchema, regexText, strict } from '../check-schema.ts';
import type { KubeObject } from '../kube-api.ts';
import { kubeOf, langOf, pollCheck, say, type Observation } from '../poll-check.ts';

/**
 * A field path in an object: `spec.ports[0].nodePort`, `spec.ports[name=http].port`,
 * `metadata.labels["app.kubernetes.io/name"]`.
 */
export type PathSegment = { key: string } | { index: number } | { where: [string, string] };
export function parseFieldPath(path: string): PathSegment[] | undefined {
  const out: PathSegment[] = [];
  const re = /(?:^|\.)([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["([^"]+)"\]|\[([A-Za-z_][\w.-]*)=([^\]]+)\]/y;
  let at = 0;
  while (at < path.length) {
    re.lastIndex = at;
    const m = re.exec(path);
    // A key needs a dot before it, except the first, which must not have one.
    if (!m || (m[1] !== undefined && (at > 0) !== (path[at] === '.'))) return undefined;
    if (m[1] !== undefined) out.push({ key: m[1] });
    else if (m[2] !== undefined) out.push({ index: Number(m[2]) });
    else if (m[3] !== undefined) out.push({ key: m[3] });
    else out.push({ where: [m[4]!, m[5]!] });
    at = re.lastIndex;
  }
  return out.length > 0 ? out : undefined;
}

const fieldPath = z.string().min(1).refine((p) => parseFieldPath(p) !== undefined, {
  message: 'a field path like spec.ports[0].port, spec.ports[name=http].nodePort or metadata.labels["app.kubernetes.io/name"]',
});

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const fieldExpectationSchema = strict({
  path: fieldPath,
  equals: scalar.optional(),
  exists: z.boolean().optional(),
  matches: regexText.optional(),
  oneOf: z.array(scalar).min(1).optional(),
  /** What to tell the learner when this field is wrong. */
  message: localizedSchema.optional(),
}).refine((f) => [f.equals, f.exists, f.matches, f.oneOf].filter((v) => v !== undefined).length === 1, {
  message: 'exactly one of equals, exists, matches or oneOf',
});
export type FieldExpectation = z.infer<typeof fieldExpectationSchema>;

export const resourceCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('resource'),
  resource: strict({
    apiVersion: z.string().regex(/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/, 'an apiVersion like v1 or apps/v1'),
    kind: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'a Kubernetes kind like Service'),
    name: k8sName,
    /** Omit for cluster-scoped kinds (Node, IngressClass). */
    namespace: k8sName.optional(),
  }),
  /** true: pass when the object does NOT exist (a deleted pod, say). */
  absent: z.boolean().default(false),
  fields: z.array(fieldExpectationSchema).default([]),
});
export type ResourceCheck = z.infer<typeof resourceCheckSchema>;

const texts = {
  en: {
    missing: (what: string, where: string) => `There is no ${what}${where}.`,
    missingHint: (kind: string, ns: string | undefined) => `\`kubectl get ${kind.toLowerCase()}${ns ? ` -n ${ns}` : ''}\` lists what exists; apply the manifest that creates it.`,
    present: (what: string, where: string) => `${what}${where} still exists.`,
    gone: (what: string, where: string) => `${what}${where} is gone, as it should be.`,
    ok: (what: string, n: number) => (n === 0 ? `${what} exists.` : `${what} exists and its ${n === 1 ? 'field matches' : `${n} fields match`}.`),
    field: (what: string, path: string, got: string, want: string) => `${what}: ${path} is ${got}; expected ${want}.`,
    nothing: 'not set',
    equals: (v: string) => v,
    exists: (yes: boolean): string => (yes ? 'to be set' : 'to be unset'),
    matches: (r: string) => `to match /${r}/`,
    oneOf: (vs: string) => `one of ${vs}`,
    where: (ns: string) => ` in namespace ${ns}`,
  },
  zh: {
    missing: (what: string, where: string) => `${where}没有 ${what}。`,
    missingHint: (kind: string, ns: string | undefined) => `用 \`kubectl get ${kind.toLowerCase()}${ns ? ` -n ${ns}` : ''}\` 看看有哪些对象；应用创建它的 manifest。`,
    present: (what: string, where: string) => `${where}的 ${what} 仍然存在。`,
    gone: (what: string, where: string) => `${where}的 ${what} 已经不在了，符合预期。`,
    ok: (what: string, n: number) => (n === 0 ? `${what} 已存在。` : `${what} 已存在，${n} 个字段都符合要求。`),
    field: (what: string, path: string, got: string, want: string) => `${what}：${path} 的值是 ${got}，期望 ${want}。`,
    nothing: '未设置',
    equals: (v: string) => v,
    exists: (yes: boolean) => (yes ? '已设置' : '未设置'),
    matches: (r: string) => `匹配 /${r}/`,
    oneOf: (vs: string) => `${vs} 之一`,
    where: (ns: string) => `${ns} 命名空间`,
  },
};

export async function runResourceCheck(check: ResourceCheck, ctx: CheckContext): Promise<CheckResult> {
  const t = say(ctx, texts);
  const ref = check.resource;
  const what = `${ref.kind} ${ref.name}`;
  const where = ref.namespace ? t.where(ref.namespace) : '';
  const expected = check.absent
    ? `no ${what}${ref.namespace ? ` in namespace ${ref.namespace}` : ''}`
    : [`${what} exists`, ...check.fields.map((f) => `${f.path} ${describeExpectation(f, texts.en)}`)].join('; ');

  return pollCheck(check, ctx, async (): Promise<Observation> => {
    const obj = await kubeOf(ctx).getObject(ref);
    if (check.absent) {
      return obj
        ? { status: 'fail', message: t.present(what, where), expected, observed: `${what} exists` }
        : { status: 'pass', message: t.gone(what, where), expected, observed: `no ${what}` };
    }
    if (!obj) return { status: 'fail', message: t.missing(what, where), hint: t.missingHint(ref.kind, ref.namespace), expected, observed: `no ${what}` };
    const observed: string[] = [];
    for (const f of check.fields) {
      const value = valueAtPath(obj, parseFieldPath(f.path)!);
      observed.push(`${f.path}=${show(value, texts.en.nothing)}`);
      if (!satisfies(value, f)) {
        const message = f.message?.[langOf(ctx)] ?? t.field(what, f.path, show(value, t.nothing), describeExpectation(f, t));
        return { status: 'fail', message, expected, observed: observed.join('; ') };
      }
    }
    return { status: 'pass', message: t.ok(what, check.fields.length), expected, observed: observed.join('; ') || `${what} exists` };
  });
}

/** The value at a parsed path; undefined when any step is missing. */
export function valueAtPath(obj: unknown, path: readonly PathSegment[]): unknown {
  let v: unknown = obj;
  for (const seg of path) {
    if (v === null || v === undefined) return undefined;
    if ('index' in seg) v = Array.isArray(v) ? v[seg.index] : undefined;
    else if ('where' in seg) {
      const [k, want] = seg.where;
      v = Array.isArray(v) ? v.find((item) => item !== null && typeof item === 'object' && String((item as Record<string, unknown>)[k]) === want) : undefined;
    } else v = typeof v === 'object' ? (v as Record<string, unknown>)[seg.key] : undefined;
  }
  return v;
}

function satisfies(value: unknown, f: FieldExpectation): boolean {
  const present = value !== undefined && value !== null;
  if (f.exists !== undefined) return present === f.exists;
  if (!present || typeof value === 'object') return false;
  const s = String(value);
  if (f.equals !== undefined) return s === String(f.equals);
  if (f.matches !== undefined) return new RegExp(f.matches).test(s);
  if (f.oneOf !== undefined) return f.oneOf.some((o) => String(o) === s);
  return false;
}

function describeExpectation(f: FieldExpectation, t: (typeof texts)['en']): string {
  if (f.exists !== undefined) return t.exists(f.exists);
  if (f.equals !== undefined) return t.equals(JSON.stringify(f.equals));
  if (f.matches !== undefined) return t.matches(f.matches);
  return t.oneOf((f.oneOf ?? []).map((o) => JSON.stringify(o)).join(', '));
}

function show(value: unknown, nothing: string): string {
  if (value === undefined || value === null) return nothing;
  const s = JSON.stringify(value as KubeObject);
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}

export function explainResourceCheck(check: ResourceCheck): string {
  const r = check.resource;
  const what = `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
  if (check.absent) return `${what} must not exist`;
  const fields = check.fields.map((f) => `${f.path} ${describeExpectation(f, texts.en)}`);
  return `${what} must exist${fields.length ? ` with ${fields.join(', ')}` : ''}`;
}

export const resourceKind = { schema: resourceCheckSchema, run: runResourceCheck, explain: explainResourceCheck, services: (c) => (c.resource.kind === 'Service' && !c.absent ? [{ name: c.resource.name, namespace: c.resource.namespace ?? 'default', path: ['resource', 'name'] }] : []) } satisfies CheckKindDef<ResourceCheck>;
