// `svclab status --store kube`: a workshop run by the Helm chart, read from its custom
// resources (Workshop, LearnerSession, Environment) — the same objects the instructor
// page reads — printed with the CRDs' own printer columns, so this, `kubectl get
// svclabsessions -A` and the instructor page agree by construction: the columns and
// their JSONPaths come from the CRD files, not from a second list kept here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { RunnerError } from '../errors.ts';
import { ClientNodeKubeObjects, KubeObjectsError, type CustomResource, type KubeObject, type KubeObjects } from '../kube-store/kube-objects.ts';

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
}

/** The chart's CRD files, by resource. */
export const CRD_FILES: Record<CustomResource, string> = {
  workshops: 'workshops.svclab.dev.yaml',
  learnersessions: 'learnersessions.svclab.dev.yaml',
  environments: 'environments.svclab.dev.yaml',
};

/** What `kubectl get` prints for a resource (priority 0 columns; NAME first). */
export function printerColumns(crdsDir: string, r: CustomResource): PrinterColumn[] {
  const file = join(crdsDir, CRD_FILES[r]);
  let crd: { spec?: { versions?: { served?: boolean; additionalPrinterColumns?: PrinterColumn[] }[] } };
  try {
    crd = parse(readFileSync(file, 'utf8')) as typeof crd;
  } catch (e) {
    throw new RunnerError('INTERNAL', { message: `The CRD ${file} can't be read (${(e as Error).message}).`, hint: 'Run svclab from a checkout: the chart lives in deploy/helm/svclab.' });
  }
  const cols = crd.spec?.versions?.find((v) => v.served)?.additionalPrinterColumns ?? [];
  return cols.filter((c) => !c.priority);
}

/** A CRD printer column's JSONPath (the simple `.a.b.c` form the chart's CRDs use). */
export function evalJsonPath(obj: unknown, path: string): unknown {
  if (!/^(\.[A-Za-z0-9_-]+)+$/.test(path)) throw new RunnerError('INTERNAL', { message: `Printer column path ${path} is not of the form .a.b.c, which svclab status reads.` });
  let v: unknown = obj;
  for (const k of path.slice(1).split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** kubectl's short age: 45s, 12m, 3h, 2d. */
export function age(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : s < 172_800 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86_400)}d`;
}

function cell(v: unknown, type: string, now: number): string {
  if (v === undefined || v === null || v === '') return '<none>';
  if (type === 'date' && typeof v === 'string') return age(v, now);
  if (Array.isArray(v)) return JSON.stringify(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One table: NAME then the CRD's columns, padded like kubectl. */
export function table(objects: readonly KubeObject[], cols: readonly PrinterColumn[], now: number): string[] {
  const head = ['NAME', ...cols.map((c) => c.name.toUpperCase())];
  const rows = [...objects].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((o) => [o.metadata.name, ...cols.map((c) => cell(evalJsonPath(o, c.jsonPath), c.type, now))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd());
}

export async function kubeStatusLines(objects: KubeObjects, crdsDir: string, now = Date.now()): Promise<string[]> {
  const out: string[] = [];
  const titles: Record<CustomResource, string> = { workshops: 'Workshops', learnersessions: 'Learners (LearnerSession)', environments: 'Environments' };
  for (const r of ['workshops', 'learnersessions', 'environments'] as const) {
    let list: KubeObject[];
    try {
      list = await objects.list(r);
    } catch (e) {
      throw explain(e, objects.namespace);
    }
    out.push(`${titles[r]} in namespace ${objects.namespace}: ${list.length}`);
    if (list.length) out.push(...table(list, printerColumns(crdsDir, r), now).map((l) => `  ${l}`));
  }
  return out;
}

function explain(e: unknown, namespace: string): RunnerError {
  if (e instanceof KubeObjectsError) {
    const hint = e.reason === 'not-found'
      ? 'The svclab CRDs are not installed in this cluster: install the chart (helm install svclab deploy/helm/svclab) or apply deploy/kustomize.'
      : e.reason === 'forbidden'
        ? `Your kubeconfig's user may not list svclab.dev objects in namespace ${namespace}.`
        : 'Check the kubeconfig (--kubeconfig FILE or $KUBECONFIG) and that the API server answers.';
    return new RunnerError('CLUSTER_FAILED', { message: `Reading svclab's custom resources failed: ${e.message}`, hint, details: { reason: e.reason, namespace } });
  }
  return new RunnerError('CLUSTER_FAILED', { message: `Reading svclab's custom resources failed: ${String(e)}`, hint: 'Check the kubeconfig and that the API server answers.' });
}

/** `svclab status --store kube [--namespace NS] [--kubeconfig FILE]`. */
export async function kubeStatusCommand(args: readonly string[], out: (line: string) => void, crdsDir: string, env: NodeJS.ProcessEnv = process.env, objectsFor = (o: { namespace: string; kubeconfig: string }): KubeObjects => new ClientNodeKubeObjects(o)): Promise<number> {
  let values: { store?: string; namespace?: string; kubeconfig?: string };
  try {
    ({ values } = parseArgs({ args: [...args], options: { store: { type: 'string' }, namespace: { type: 'string', short: 'n' }, kubeconfig: { type: 'string' } } }));
  } catch (e) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `svclab status: ${(e as Error).message}`, hint: 'Usage: svclab status [--store kube [--namespace NS] [--kubeconfig FILE]]' });
  }
  if (values.store !== 'kube') {
    throw new RunnerError('INVALID_ARGUMENT', { message: `svclab status --store ${JSON.stringify(values.store)}: the only store it reads besides this machine's is kube.`, hint: 'svclab status (this machine), or svclab status --store kube --namespace NS' });
  }
  const file = values.kubeconfig ?? env['KUBECONFIG']?.split(':')[0] ?? (env['HOME'] ? join(env['HOME'], '.kube', 'config') : undefined);
  let kubeconfig: string;
  try {
    if (!file) throw new Error('no file');
    kubeconfig = readFileSync(file, 'utf8');
  } catch {
    throw new RunnerError('INVALID_ARGUMENT', { message: `No kubeconfig to read the workshop with${file ? ` (${file} can't be read)` : ''}.`, hint: 'Pass --kubeconfig FILE, or set $KUBECONFIG.' });
  }
  const namespace = values.namespace ?? 'svclab';
  for (const l of await kubeStatusLines(objectsFor({ namespace, kubeconfig }), crdsDir)) out(l);
  return 0;
}
