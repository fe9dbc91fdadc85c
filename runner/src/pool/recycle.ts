// Recycling a pooled cluster: what a learner made goes, and what svclab
// provisioned must still be as it was. The baseline is taken right after
// provisioning and covers every kind the API server lists (namespaced and
// cluster-scoped: webhooks, CRDs, APIServices, cluster RBAC, the learner-access
// objects, admission policies …). On recycle, every object the baseline does not
// explain is deleted — webhooks and APIServices first, since a learner's broken one
// can block every other delete — whatever its owner references say: an owner only
// explains an object when a controller makes that kind (a ReplicaSet's Pod, a
// Service's EndpointSlice, a Node's static pod recorded in the baseline). Then the
// cluster is listed again: anything still unexplained, or a provisioned object gone
// or changed (kube-proxy reconfigured, a component edited, a node relabelled or
// tainted or not Ready), and the cluster is not trusted: the pool deletes it and
// provisions another. The one change a learner may make to a node (lab 11's label
// svclab.io/ingress, which places the standby hostNetwork Traefik there) is undone
// first: the label is removed, and the DaemonSet's pod goes with it.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HOSTNETWORK_INGRESS_LABEL } from '../addons/manifests.ts';
import type { ClusterDriver } from '../cluster/cluster-driver.ts';
import { nodeAdminKubectl } from '../cluster/node-shell.ts';
import type { Kubectl } from '../kube/kubectl.ts';

/** Never listed: they come and go by themselves and a learner's are harmless. */
const UNLISTED = new Set(['events', 'events.events.k8s.io']);

/** Kinds whose objects come and go or change by themselves: never required to stay, never compared. */
const VOLATILE = new Set(['Lease', 'CertificateSigningRequest', 'IPAddress']);

/** Which kinds each owner kind makes (the only owner references that explain an object). */
const MAKES: Record<string, readonly string[]> = {
  Deployment: ['ReplicaSet'],
  ReplicaSet: ['Pod'],
  DaemonSet: ['Pod', 'ControllerRevision'],
  StatefulSet: ['Pod', 'ControllerRevision', 'PersistentVolumeClaim'],
  Job: ['Pod'],
  CronJob: ['Job'],
  Service: ['EndpointSlice'],
  // A Node owns its Lease and CSINode, and the mirror pods of its static pods (those are
  // checked by name against the baseline: a learner can point any Pod at a Node).
  Node: ['Lease', 'CSINode', 'Pod'],
};

/** Deleted before anything else: a learner's webhook or unavailable APIService can make every other delete fail or hang. */
const FIRST = new Set(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'APIService']);

interface OwnerRef { kind: string; name: string; uid: string; controller?: boolean }

interface KObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid: string; ownerReferences?: OwnerRef[]; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: { conditions?: { type: string; status: string }[] };
  type?: string;
  [k: string]: unknown;
}

export interface Baseline {
  /** 2: every listable kind. A baseline without it (an older svclab's, a few kinds only) is not trusted. */
  version?: number;
  takenAt: string;
  /** uid → content hash of what svclab provisioned (objects no controller owns). */
  objects: Record<string, { ref: string; hash: string }>;
  namespaces: string[];
  /** Node-owned pods at provisioning (the static pods' mirrors), by ref. */
  staticPods?: string[];
  /** Objects that explain themselves by name but may come back under another uid or change (leader Leases, Endpoints, bootstrap tokens …), by ref. */
  kept?: string[];
}

const BASELINE_VERSION = 2;

function ref(o: Pick<KObject, 'kind' | 'metadata'>): string {
  return `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** What must not change: everything but metadata bookkeeping and status (nodes: labels, taints and readiness). */
function contentHash(o: KObject): string {
  if (o.kind === 'Node') {
    const ready = o.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    return sha({ labels: o.metadata.labels ?? {}, taints: (o.spec as { taints?: unknown } | undefined)?.taints ?? [], unschedulable: o.spec?.unschedulable ?? false, ready });
  }
  const { metadata: _m, status: _s, ...rest } = o;
  // An aggregated ClusterRole's rules are filled in by a controller from other roles' labels.
  if (o.kind === 'ClusterRole' && o.aggregationRule) delete rest.rules;
  return sha({ ...withoutRestart(rest), labels: o.metadata.labels ?? {} });
}

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/**
 * `kubectl rollout restart` (lab 05 restarts kube-proxy) only stamps the pod template with
 * the time: the same pods come back with the same spec, so it is not a change of what svclab
 * provisioned. Any other edit of the template still is.
 */
function withoutRestart(rest: Record<string, unknown>): Record<string, unknown> {
  const spec = rest.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined;
  const annotations = spec?.template?.metadata?.annotations;
  if (!annotations || !(RESTARTED_AT in annotations)) return rest;
  const { [RESTARTED_AT]: _t, ...others } = annotations;
  const metadata = { ...spec.template!.metadata };
  if (Object.keys(others).length) metadata.annotations = others;
  else delete metadata.annotations;
  const template = { ...spec.template, metadata };
  if (!Object.keys(metadata).length) delete (template as { metadata?: unknown }).metadata;
  return { ...rest, spec: { ...spec, template } };
}

/** Node labels a learner may set or remove (the access policy allows nothing else on a node): a recycle removes them. */
const LEARNER_NODE_LABELS: readonly string[] = [HOSTNETWORK_INGRESS_LABEL.key];

function withoutLearnerLabels(o: KObject): KObject {
  const labels = o.metadata.labels ?? {};
  if (!LEARNER_NODE_LABELS.some((k) => k in labels)) return o;
  return { ...o, metadata: { ...o.metadata, labels: Object.fromEntries(Object.entries(labels).filter(([k]) => !LEARNER_NODE_LABELS.includes(k))) } };
}

/**
 * Nodes whose only difference from the baseline is a learner's label, with the labels to
 * remove. A node changed in any other way is left as it is (the comparison then names it).
 */
export function learnerNodeLabels(items: readonly KObject[], baseline: Baseline): { node: string; labels: string[] }[] {
  return items.filter((o) => o.kind === 'Node').flatMap((o) => {
    const want = baseline.objects[o.metadata.uid];
    if (!want || contentHash(o) === want.hash || contentHash(withoutLearnerLabels(o)) !== want.hash) return [];
    return [{ node: o.metadata.name, labels: LEARNER_NODE_LABELS.filter((k) => k in (o.metadata.labels ?? {})) }];
  });
}

function sha(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);
}

/** A bootstrap token expires and kube-controller-manager deletes it: not something to keep. */
function expires(o: KObject): boolean {
  return o.kind === 'Secret' && o.type === 'bootstrap.kubernetes.io/token';
}

export interface RecycleDeps {
  driver: Pick<ClusterDriver, 'execOnNode'>;
  /** Where baselines are kept: <cache>/pool/<cluster>.json. */
  dir: string;
  /**
   * Who recycles: svclab itself, as admin (a learner may have made anything). The
   * caller chooses the shell, as for LabActions; admin kubectl on the control-plane node by default.
   */
  kubectl?: (cluster: string) => Kubectl;
  /** Waits between the checks after deleting (the API is eventually consistent); tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
}

function kubectlFor(deps: RecycleDeps, cluster: string): Kubectl {
  return deps.kubectl?.(cluster) ?? nodeAdminKubectl(deps.driver, cluster);
}

/** Every object of every kind the API server can list and delete (events aside). */
async function objects(deps: RecycleDeps, cluster: string): Promise<KObject[]> {
  const k = kubectlFor(deps, cluster);
  // Exit 1 with a partial list when an aggregated API is down (a learner's APIService): use what it lists.
  const kinds = await k.run(['api-resources', '--verbs=list,delete', '-o', 'name'], { timeoutMs: 60_000 });
  const resources = kinds.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !UNLISTED.has(l));
  if (!resources.length) throw new Error(`kubectl api-resources failed: ${kinds.stderr.trim().split('\n').at(-1)}`);
  const r = await k.get([resources.join(',')], { allNamespaces: true, output: 'json' }, { timeoutMs: 90_000 });
  if (r.exitCode !== 0) throw new Error(`kubectl get failed: ${r.stderr.trim().split('\n').at(-1)}`);
  return (JSON.parse(r.stdout) as { items: KObject[] }).items;
}

function baselineOf(items: KObject[]): Baseline {
  const out: Baseline = { version: BASELINE_VERSION, takenAt: new Date().toISOString(), objects: {}, namespaces: [], staticPods: [], kept: [] };
  for (const o of items) {
    if (o.kind === 'Namespace') out.namespaces.push(o.metadata.name);
    const owners = o.metadata.ownerReferences ?? [];
    if (o.kind === 'Pod' && owners.some((r) => r.kind === 'Node')) out.staticPods!.push(ref(o));
    if (owners.length) continue; // explained by their owner
    if (o.kind === 'Pod' || o.kind === 'Endpoints' || VOLATILE.has(o.kind) || expires(o)) out.kept!.push(ref(o));
    else out.objects[o.metadata.uid] = { ref: ref(o), hash: contentHash(o) };
  }
  return out;
}

/** Record the provisioned state of a new pooled cluster. */
export async function takeBaseline(deps: RecycleDeps, cluster: string): Promise<Baseline> {
  const b = baselineOf(await objects(deps, cluster));
  await mkdir(deps.dir, { recursive: true });
  await writeFile(join(deps.dir, `${cluster}.json`), JSON.stringify(b));
  return b;
}

export async function forgetBaseline(deps: RecycleDeps, cluster: string): Promise<void> {
  await rm(join(deps.dir, `${cluster}.json`), { force: true });
}

export interface RecycleReport {
  trusted: boolean;
  /** Why not, naming the object. */
  reasons: string[];
  deleted: string[];
  /** Learner labels removed from nodes ("Node/NAME: svclab.io/ingress"); left out when none. */
  restored?: string[];
}

/**
 * The objects the baseline does not explain. Explained: in the baseline (by uid, or by
 * name for the kinds that come back under another uid); a baseline namespace's kube-root-ca.crt; a Service's Endpoints; an IPAddress of an
 * explained Service; an object whose controlling owner is explained and makes its kind
 * (a Node's Pod only when it is a static pod of the baseline).
 */
export function unexplained(items: readonly KObject[], baseline: Baseline): KObject[] {
  const byUid = new Map(items.map((o) => [o.metadata.uid, o]));
  const byRef = new Map(items.map((o) => [ref(o), o]));
  const keepNs = new Set(baseline.namespaces);
  const staticPods = new Set(baseline.staticPods ?? []);
  const kept = new Set(baseline.kept ?? []);
  const memo = new Map<string, boolean>();
  const explained = (o: KObject, depth = 0): boolean => {
    const uid = o.metadata.uid;
    const known = memo.get(uid);
    if (known !== undefined) return known;
    memo.set(uid, false); // an owner cycle explains nothing
    let ok: boolean;
    const ns = o.metadata.namespace;
    const owners = o.metadata.ownerReferences ?? [];
    if (o.kind === 'Node') ok = true; // nodes are compared, never deleted
    else if (ns !== undefined && !keepNs.has(ns)) ok = false;
    else if (o.kind === 'Namespace') ok = keepNs.has(o.metadata.name);
    else if (baseline.objects[uid] || (!owners.length && kept.has(ref(o)))) ok = true;
    else if (owners.length) {
      ok = depth < 8 && owners.some((r) => {
        const owner = byUid.get(r.uid);
        if (!owner || owner.kind !== r.kind || !(MAKES[r.kind] ?? []).includes(o.kind)) return false;
        if (o.kind === 'Pod' && r.kind === 'Node' && !staticPods.has(ref(o))) return false;
        return explained(owner, depth + 1);
      });
    } else if (o.kind === 'ConfigMap' && o.metadata.name === 'kube-root-ca.crt') ok = true;
    else if (o.kind === 'Endpoints') {
      const svc = byRef.get(`Service/${ns}/${o.metadata.name}`);
      ok = svc !== undefined && explained(svc, depth + 1);
    } else if (o.kind === 'IPAddress') {
      const p = (o.spec as { parentRef?: { resource?: string; namespace?: string; name?: string } } | undefined)?.parentRef;
      const svc = p?.resource === 'services' ? byRef.get(`Service/${p.namespace}/${p.name}`) : undefined;
      ok = svc !== undefined && explained(svc, depth + 1);
    } else ok = false;
    memo.set(uid, ok);
    return ok;
  };
  return items.filter((o) => !explained(o));
}

/** Why the cluster is not as provisioned: unexplained objects left, provisioned ones gone or changed. */
function differences(items: readonly KObject[], baseline: Baseline): string[] {
  const byUid = new Map(items.map((o) => [o.metadata.uid, o]));
  const reasons: string[] = [];
  for (const o of unexplained(items, baseline)) reasons.push(`${ref(o)} is still there after the recycle deleted it`);
  for (const o of items) if (o.kind === 'Node' && !baseline.objects[o.metadata.uid]) reasons.push(`${ref(o)} is not in the baseline`);
  for (const [uid, want] of Object.entries(baseline.objects)) {
    const o = byUid.get(uid);
    if (!o) reasons.push(`${want.ref} is gone`);
    else if (contentHash(o) !== want.hash) reasons.push(`${want.ref} was changed`);
  }
  return reasons;
}

function asList(items: readonly KObject[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) } })) });
}

/** Delete everything the baseline does not explain; then compare the cluster with the baseline. */
export async function recycleCluster(deps: RecycleDeps, cluster: string): Promise<RecycleReport> {
  let baseline: Baseline;
  try {
    baseline = JSON.parse(await readFile(join(deps.dir, `${cluster}.json`), 'utf8')) as Baseline;
  } catch {
    return { trusted: false, reasons: ['no baseline was recorded for this cluster'], deleted: [] };
  }
  if (baseline.version !== BASELINE_VERSION) {
    return { trusted: false, reasons: ['the baseline was recorded by an older svclab that did not list every kind'], deleted: [] };
  }
  const k = kubectlFor(deps, cluster);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const items = await objects(deps, cluster);
  const extra = unexplained(items, baseline).filter((o) => o.kind !== 'Node');
  const deleted: string[] = [];
  const remove = async (what: string, list: readonly KObject[]): Promise<string | undefined> => {
    if (!list.length) return undefined;
    const r = await k.delete({ manifests: asList(list) }, { ignoreNotFound: true, wait: true, timeout: '60s' }, { timeoutMs: 90_000 });
    if (r.exitCode !== 0) return `${what} could not be deleted: ${r.stderr.trim().split('\n').at(-1) ?? ''}`;
    deleted.push(...list.map(ref));
    return undefined;
  };
  const namespaces = extra.filter((o) => o.kind === 'Namespace');
  const inExtraNs = new Set(namespaces.map((o) => o.metadata.name));
  const failed = await remove('webhooks and APIServices', extra.filter((o) => FIRST.has(o.kind)))
    ?? await remove('namespaces', namespaces)
    // Objects in a deleted namespace went with it; CRDs last, after their custom objects.
    ?? await remove("the learner's objects", extra.filter((o) => !FIRST.has(o.kind) && o.kind !== 'Namespace' && o.kind !== 'CustomResourceDefinition' && !(o.metadata.namespace && inExtraNs.has(o.metadata.namespace))))
    ?? await remove('custom resource definitions', extra.filter((o) => o.kind === 'CustomResourceDefinition'));
  if (failed) return { trusted: false, reasons: [failed], deleted };
  const restored: string[] = [];
  for (const { node, labels } of learnerNodeLabels(items, baseline)) {
    const r = await k.run(['label', 'node', node, ...labels.map((l) => `${l}-`)], { timeoutMs: 60_000 });
    if (r.exitCode !== 0) return { trusted: false, reasons: [`the label ${labels.join(', ')} could not be removed from Node/${node}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`], deleted };
    restored.push(`Node/${node}: ${labels.join(', ')}`);
  }
  // Verify, a few times: controllers finish what the deletes started (an IPAddress released, an aggregated role recomputed).
  let reasons: string[] = [];
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await sleep(2_000);
    reasons = differences(await objects(deps, cluster), baseline);
    if (!reasons.length) break;
  }
  return { trusted: reasons.length === 0, reasons, deleted, ...(restored.length ? { restored } : {}) };
}

/** The API answers and every node is Ready; a busy machine gets a few tries before a cluster is called unhealthy. */
export async function clusterHealthy(deps: RecycleDeps, cluster: string, attempts = 3): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 2_000));
    const r = await kubectlFor(deps, cluster).get(['nodes'], { output: 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}' }, { timeoutMs: 20_000 }).catch(() => undefined);
    if (!r || r.exitCode !== 0) continue;
    const states = r.stdout.trim().split('\n').filter(Boolean);
    if (states.length > 0 && states.every((s) => s === 'True')) return true;
  }
  return false;
}
