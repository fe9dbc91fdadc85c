// Recycling a pooled cluster: what a learner made goes, and what svclab
// provisioned must still be as it was. The baseline is taken right after
// provisioning; a cluster that no longer matches it (kube-proxy reconfigured, a
// component edited, a node relabelled or tainted, a node not Ready) is not
// trusted and is deleted instead.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterDriver } from '../cluster/cluster-driver.ts';
import { nodeAdminKubectl } from '../cluster/node-shell.ts';
import type { Kubectl } from '../kube/kubectl.ts';

/** Kinds a learner makes in labs, and svclab's own components are made of: Kind → resource. */
export const KIND_RESOURCE: Record<string, string> = {
  Namespace: 'namespaces', Node: 'nodes', Deployment: 'deployments.apps', DaemonSet: 'daemonsets.apps', StatefulSet: 'statefulsets.apps',
  Service: 'services', Endpoints: 'endpoints', EndpointSlice: 'endpointslices.discovery.k8s.io', Ingress: 'ingresses.networking.k8s.io',
  IngressClass: 'ingressclasses.networking.k8s.io', Secret: 'secrets', ConfigMap: 'configmaps', NetworkPolicy: 'networkpolicies.networking.k8s.io',
  Job: 'jobs.batch', CronJob: 'cronjobs.batch', Pod: 'pods', ServiceAccount: 'serviceaccounts', Role: 'roles.rbac.authorization.k8s.io',
  RoleBinding: 'rolebindings.rbac.authorization.k8s.io', ClusterRole: 'clusterroles.rbac.authorization.k8s.io',
  ClusterRoleBinding: 'clusterrolebindings.rbac.authorization.k8s.io',
};

interface KObject {
  kind: string;
  metadata: { name: string; namespace?: string; uid: string; ownerReferences?: unknown[]; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: { conditions?: { type: string; status: string }[] };
  [k: string]: unknown;
}

export interface Baseline {
  takenAt: string;
  /** uid → content hash of what svclab provisioned (objects no controller owns). */
  objects: Record<string, { ref: string; hash: string }>;
  namespaces: string[];
}

/** Objects a controller keeps (pods of a Deployment, EndpointSlices, a Service's Endpoints) come and go by themselves. */
function controllerKept(o: KObject, serviceNames: Set<string>): boolean {
  if (o.metadata.ownerReferences?.length) return true;
  if (o.kind === 'Endpoints') return serviceNames.has(`${o.metadata.namespace}/${o.metadata.name}`);
  if (o.kind === 'Event') return true;
  return false;
}

function ref(o: KObject): string {
  return `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** What must not change: everything but metadata bookkeeping and status (nodes: labels, taints and readiness). */
function contentHash(o: KObject): string {
  if (o.kind === 'Node') {
    const ready = o.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    return sha({ labels: o.metadata.labels ?? {}, taints: (o.spec as { taints?: unknown } | undefined)?.taints ?? [], unschedulable: o.spec?.unschedulable ?? false, ready });
  }
  const { metadata: _m, status: _s, ...rest } = o;
  return sha({ ...rest, labels: o.metadata.labels ?? {} });
}

function sha(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);
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
}

function kubectlFor(deps: RecycleDeps, cluster: string): Kubectl {
  return deps.kubectl?.(cluster) ?? nodeAdminKubectl(deps.driver, cluster);
}

async function objects(deps: RecycleDeps, cluster: string): Promise<KObject[]> {
  const r = await kubectlFor(deps, cluster).get([Object.values(KIND_RESOURCE).join(',')], { allNamespaces: true, output: 'json' }, { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`kubectl get failed: ${r.stderr.trim().split('\n').at(-1)}`);
  return (JSON.parse(r.stdout) as { items: KObject[] }).items;
}

function baselineOf(items: KObject[]): Baseline {
  const services = new Set(items.filter((o) => o.kind === 'Service').map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
  const out: Baseline = { takenAt: new Date().toISOString(), objects: {}, namespaces: [] };
  for (const o of items) {
    if (o.kind === 'Namespace') out.namespaces.push(o.metadata.name);
    if (o.kind === 'Pod' || controllerKept(o, services)) continue;
    out.objects[o.metadata.uid] = { ref: ref(o), hash: contentHash(o) };
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
}

/** Delete what the learner made; then compare with the baseline. */
export async function recycleCluster(deps: RecycleDeps, cluster: string): Promise<RecycleReport> {
  let baseline: Baseline;
  try {
    baseline = JSON.parse(await readFile(join(deps.dir, `${cluster}.json`), 'utf8')) as Baseline;
  } catch {
    return { trusted: false, reasons: ['no baseline was recorded for this cluster'], deleted: [] };
  }
  const before = await objects(deps, cluster);
  const services = new Set(before.filter((o) => o.kind === 'Service').map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
  const keepNs = new Set(baseline.namespaces);
  const extraNs = before.filter((o) => o.kind === 'Namespace' && !keepNs.has(o.metadata.name)).map((o) => o.metadata.name);
  // In svclab's own namespaces: objects the learner made (not in the baseline, not kept by a controller).
  const made = before.filter((o) => o.kind !== 'Namespace' && o.kind !== 'Node' && !baseline.objects[o.metadata.uid] && !controllerKept(o, services)
    && !(o.metadata.namespace && extraNs.includes(o.metadata.namespace)) && !(o.kind === 'ConfigMap' && o.metadata.name === 'kube-root-ca.crt'));
  const deleted: string[] = [];
  if (extraNs.length) {
    const r = await kubectlFor(deps, cluster).delete(['namespace', ...extraNs], { wait: true, timeout: '90s' }, { timeoutMs: 120_000 });
    if (r.exitCode !== 0) return { trusted: false, reasons: [`namespaces could not be deleted: ${r.stderr.trim()}`], deleted };
    deleted.push(...extraNs.map((n) => `Namespace/${n}`));
  }
  if (made.length) {
    const list = { apiVersion: 'v1', kind: 'List', items: made.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) } })) };
    const r = await kubectlFor(deps, cluster).delete({ manifests: JSON.stringify(list) }, { ignoreNotFound: true, wait: true, timeout: '60s' }, { timeoutMs: 90_000 });
    if (r.exitCode !== 0) return { trusted: false, reasons: [`the learner's objects could not be deleted: ${r.stderr.trim()}`], deleted };
    deleted.push(...made.map(ref));
  }
  // Verify: every provisioned object is there, unchanged; every node Ready with its labels and taints.
  const after = await objects(deps, cluster);
  const byUid = new Map(after.map((o) => [o.metadata.uid, o]));
  const reasons: string[] = [];
  for (const [uid, want] of Object.entries(baseline.objects)) {
    const o = byUid.get(uid);
    if (!o) reasons.push(`${want.ref} is gone`);
    else if (contentHash(o) !== want.hash) reasons.push(`${want.ref} was changed`);
  }
  return { trusted: reasons.length === 0, reasons, deleted };
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
