// Recycle proves clean or deletes: against a recorded pool cluster, every object a learner
// left (namespaced or cluster-scoped, whatever its owner references) is deleted, what
// svclab provisioned is compared, and anything unexplained makes the cluster untrusted.
import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recycleCluster, takeBaseline, type RecycleDeps } from '../../src/pool/recycle.ts';
import { RecordedCluster } from './recorded-cluster.ts';

const CLUSTER = 'svclab-pool-1';

async function provisioned(): Promise<{ c: RecordedCluster; deps: RecycleDeps }> {
  const c = new RecordedCluster();
  const deps: RecycleDeps = {
    driver: { execOnNode: async () => { throw new Error('the recorded cluster is reached through deps.kubectl only'); } },
    dir: mkdtempSync(join(tmpdir(), 'svclab-recycle-')),
    kubectl: () => c.kubectl(),
    sleep: async () => {},
  };
  await takeBaseline(deps, CLUSTER);
  return { c, deps };
}

describe('recycle deletes everything the baseline does not explain', () => {
  it('a clean cluster recycles trusted, deleting nothing', async () => {
    const { deps, c } = await provisioned();
    const r = await recycleCluster(deps, CLUSTER);
    expect(r).toEqual({ trusted: true, reasons: [], deleted: [] });
    expect(c.deletes).toHaveLength(0);
  });

  it('a Pod owned by a Node is deleted; the static pods stay', async () => {
    const { deps, c } = await provisioned();
    const node = c.find('Node', 'pool-1-worker')!;
    c.add({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sneaky', namespace: 'default', ownerReferences: [RecordedCluster.ownerRef(node)] }, spec: {} });
    c.add({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sneaky-sys', namespace: 'kube-system', ownerReferences: [RecordedCluster.ownerRef(node)] }, spec: {} });
    const r = await recycleCluster(deps, CLUSTER);
    expect(r.deleted).toEqual(expect.arrayContaining(['Pod/default/sneaky', 'Pod/kube-system/sneaky-sys']));
    expect(c.has('Pod', 'sneaky', 'default')).toBe(false);
    expect(c.has('Pod', 'kube-apiserver-pool-1-control-plane', 'kube-system')).toBe(true);
    expect(r.trusted).toBe(true);
  });

  it('objects owned by anything the baseline does not explain go, with their owner', async () => {
    const { deps, c } = await provisioned();
    const cm = c.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner', namespace: 'default' }, data: {} });
    c.add({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'owned-by-cm', namespace: 'default', ownerReferences: [RecordedCluster.ownerRef(cm)] } });
    // Owned by a provisioned object, but not a kind that owner makes: a Secret "owned" by CoreDNS.
    const dns = c.find('Deployment', 'coredns', 'kube-system')!;
    c.add({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hide-me', namespace: 'kube-system', ownerReferences: [RecordedCluster.ownerRef(dns)] } });
    // A learner's Deployment in kube-system, with its ReplicaSet and pod.
    const d = c.add({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'miner', namespace: 'kube-system' }, spec: {} });
    const rs = c.add({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'miner-1', namespace: 'kube-system', ownerReferences: [RecordedCluster.ownerRef(d)] }, spec: {} });
    c.add({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'miner-1-a', namespace: 'kube-system', ownerReferences: [RecordedCluster.ownerRef(rs)] }, spec: {} });
    const r = await recycleCluster(deps, CLUSTER);
    expect(r.trusted).toBe(true);
    for (const [kind, name, ns] of [['ConfigMap', 'owner', 'default'], ['Secret', 'owned-by-cm', 'default'], ['Secret', 'hide-me', 'kube-system'], ['Deployment', 'miner', 'kube-system'], ['Pod', 'miner-1-a', 'kube-system']] as const) {
      expect(c.has(kind, name, ns), `${kind}/${ns}/${name}`).toBe(false);
    }
    // Pods of provisioned controllers stay (a new ReplicaSet of CoreDNS after a rollout included).
    expect(c.has('Pod', 'coredns-66bc-a', 'kube-system')).toBe(true);
    expect(c.has('ControllerRevision', 'kube-proxy-7d9', 'kube-system')).toBe(true);
  });

  it('webhooks, CRDs (with their objects), APIServices and cluster RBAC a learner made are deleted, webhooks and APIServices first', async () => {
    const { deps, c } = await provisioned();
    c.add({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'inject-everything' }, webhooks: [{ name: 'x.example.com' }] });
    c.add({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'deny-deletes' }, webhooks: [{ name: 'y.example.com' }] });
    c.add({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1beta1.metrics.example.com' }, spec: { service: { name: 'gone', namespace: 'default' } } });
    c.add({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' }, spec: { group: 'example.com', scope: 'Namespaced', names: { kind: 'Widget', plural: 'widgets' } } });
    c.add({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' } });
    c.add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'everything' }, rules: [] });
    c.add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'me-admin' }, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'svclab:learner' }] });
    c.add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'aggregate-more', labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }, rules: [] });
    // The aggregation controller folds the learner's role into admin.
    c.edit<{ rules: unknown[] }>('ClusterRole', 'admin').rules.push({ apiGroups: ['*'], resources: ['*'], verbs: ['*'] });
    c.add({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lab-02' } });
    c.add({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'lab-02' }, spec: {} });
    const r = await recycleCluster(deps, CLUSTER);
    expect(r.deleted).toEqual(expect.arrayContaining([
      'MutatingWebhookConfiguration/inject-everything', 'ValidatingWebhookConfiguration/deny-deletes', 'APIService/v1beta1.metrics.example.com',
      'CustomResourceDefinition/widgets.example.com', 'ClusterRole/everything', 'ClusterRoleBinding/me-admin', 'ClusterRole/aggregate-more', 'Namespace/lab-02',
    ]));
    expect(r.trusted).toBe(true);
    // Webhooks and APIServices in the first delete, CRDs in the last.
    expect(c.deletes[0]?.sort()).toEqual(['APIService/v1beta1.metrics.example.com', 'MutatingWebhookConfiguration/inject-everything', 'ValidatingWebhookConfiguration/deny-deletes']);
    expect(c.deletes.at(-1)).toEqual(['CustomResourceDefinition/widgets.example.com']);
    expect(c.has('Widget', 'w', 'default')).toBe(false);
    // What svclab provisioned of the same kinds is kept.
    for (const [kind, name] of [['ValidatingWebhookConfiguration', 'metallb-webhook-configuration'], ['CustomResourceDefinition', 'ipaddresspools.metallb.io'], ['APIService', 'v1.apps'], ['ClusterRoleBinding', 'svclab:learner']] as const) {
      expect(c.has(kind, name), `${kind}/${name}`).toBe(true);
    }
    expect(c.has('IPAddressPool', 'svclab', 'metallb-system')).toBe(true);
  });

  it('things that come and go by themselves do not make a cluster untrusted', async () => {
    const { deps, c } = await provisioned();
    c.remove('Secret', 'bootstrap-token-abcdef', 'kube-system'); // expired, cleaned by the controller manager
    c.remove('CertificateSigningRequest', 'csr-join-worker'); // cleaned after an hour
    const lease = c.edit<{ spec: { renewTime: string } }>('Lease', 'kube-scheduler', 'kube-system');
    lease.spec.renewTime = 't1';
    c.remove('Pod', 'coredns-66bc-a', 'kube-system'); // replaced by the ReplicaSet
    const rs = c.find('ReplicaSet', 'coredns-66bc', 'kube-system')!;
    c.add({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'coredns-66bc-c', namespace: 'kube-system', ownerReferences: [RecordedCluster.ownerRef(rs)] }, spec: {} });
    const r = await recycleCluster(deps, CLUSTER);
    expect(r).toMatchObject({ trusted: true, deleted: [] });
  });

  it('a rollout restart of kube-proxy (lab 05) is not a change; another edit of its pod template is', async () => {
    const { deps, c } = await provisioned();
    type Ds = { spec: { template: { metadata?: { annotations?: Record<string, string> }; spec: { containers: { image: string }[] } } } };
    c.edit<Ds>('DaemonSet', 'kube-proxy', 'kube-system').spec.template.metadata = { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-02T05:00:00Z' } };
    expect(await recycleCluster(deps, CLUSTER)).toMatchObject({ trusted: true, reasons: [] });
    const ds = c.edit<Ds>('DaemonSet', 'kube-proxy', 'kube-system');
    ds.spec.template.metadata!.annotations!['example.com/extra'] = 'x';
    expect((await recycleCluster(deps, CLUSTER)).reasons).toContain('DaemonSet/kube-system/kube-proxy was changed');
    delete ds.spec.template.metadata!.annotations!['example.com/extra'];
    ds.spec.template.spec.containers[0]!.image = 'evil:latest';
    expect((await recycleCluster(deps, CLUSTER)).reasons).toContain('DaemonSet/kube-system/kube-proxy was changed');
  });
});

describe("lab 11's node label (svclab.io/ingress=hostnetwork) and the standby hostNetwork DaemonSet", () => {
  type Ds = { status: { desiredNumberScheduled: number } };
  /** What the learner's `kubectl label node` does, with the DaemonSet controller's answer: a pod on that node. */
  function learnerLabels(c: RecordedCluster, node: string, value = 'hostnetwork'): void {
    c.edit<{ metadata: { labels: Record<string, string> } }>('Node', node).metadata.labels['svclab.io/ingress'] = value;
    const ds = c.find('DaemonSet', 'traefik-edge', 'traefik')!;
    (ds as unknown as Ds).status.desiredNumberScheduled = 1;
    c.add({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `traefik-edge-${node.slice(-3)}`, namespace: 'traefik', ownerReferences: [RecordedCluster.ownerRef(ds)] }, spec: { nodeName: node, hostNetwork: true } });
  }

  it('the standby DaemonSet, with or without its pod, is what svclab provisioned: not a change, not deleted', async () => {
    const { deps, c } = await provisioned();
    expect(await recycleCluster(deps, CLUSTER)).toEqual({ trusted: true, reasons: [], deleted: [] });
    learnerLabels(c, 'pool-1-worker');
    c.edit<{ metadata: { labels: Record<string, string> } }>('Node', 'pool-1-worker').metadata.labels = { 'kubernetes.io/hostname': 'pool-1-worker' };
    // (label already gone, pod still terminating): the pod is the DaemonSet's, its status is not compared.
    const r = await recycleCluster(deps, CLUSTER);
    expect(r).toEqual({ trusted: true, reasons: [], deleted: [] });
    expect(c.has('DaemonSet', 'traefik-edge', 'traefik')).toBe(true);
  });

  it('a node the learner labelled is restored: the label removed, the cluster trusted, nothing deleted', async () => {
    const { deps, c } = await provisioned();
    learnerLabels(c, 'pool-1-worker');
    const r = await recycleCluster(deps, CLUSTER);
    expect(r).toEqual({ trusted: true, reasons: [], deleted: [], restored: ['Node/pool-1-worker: svclab.io/ingress'] });
    expect(c.labelCalls).toEqual(['label node pool-1-worker svclab.io/ingress-']);
    expect(c.find('Node', 'pool-1-worker')!.metadata.labels).toEqual({ 'kubernetes.io/hostname': 'pool-1-worker' });
    expect(c.has('DaemonSet', 'traefik-edge', 'traefik')).toBe(true);
    // Whatever its value, and on the control plane too.
    const again = await provisioned();
    learnerLabels(again.c, 'pool-1-control-plane', 'other');
    expect(await recycleCluster(again.deps, CLUSTER)).toMatchObject({ trusted: true, restored: ['Node/pool-1-control-plane: svclab.io/ingress'] });
  });

  it('a node changed beyond that label is not "restored": it stays changed and the cluster is untrusted', async () => {
    const { deps, c } = await provisioned();
    learnerLabels(c, 'pool-1-worker');
    c.edit<{ metadata: { labels: Record<string, string> } }>('Node', 'pool-1-worker').metadata.labels['team'] = 'blue';
    const r = await recycleCluster(deps, CLUSTER);
    expect(r.trusted).toBe(false);
    expect(r.reasons).toContain('Node/pool-1-worker was changed');
    expect(c.labelCalls).toEqual([]);
  });
});

describe('recycle trusts only what matches the baseline', () => {
  it.each([
    ['the learner-access binding was changed', (c: RecordedCluster) => { c.edit<{ subjects: unknown[] }>('ClusterRoleBinding', 'svclab:learner').subjects.push({ kind: 'Group', name: 'system:masters' }); }, 'ClusterRoleBinding/svclab:learner was changed'],
    ['the admission policy was deleted', (c: RecordedCluster) => c.remove('ValidatingAdmissionPolicy', 'svclab-no-host-access'), 'ValidatingAdmissionPolicy/svclab-no-host-access is gone'],
    ["MetalLB's webhook was edited", (c: RecordedCluster) => { c.edit<{ webhooks: { clientConfig: { caBundle: string } }[] }>('ValidatingWebhookConfiguration', 'metallb-webhook-configuration').webhooks[0]!.clientConfig.caBundle = 'RVZJTA=='; }, 'ValidatingWebhookConfiguration/metallb-webhook-configuration was changed'],
    ['a CRD of the add-ons was deleted', (c: RecordedCluster) => c.remove('CustomResourceDefinition', 'ipaddresspools.metallb.io'), 'CustomResourceDefinition/ipaddresspools.metallb.io is gone'],
    ["kube-proxy's config was edited", (c: RecordedCluster) => { c.edit<{ data: Record<string, string> }>('ConfigMap', 'kube-proxy', 'kube-system').data['config.conf'] = 'mode: ipvs'; }, 'ConfigMap/kube-system/kube-proxy was changed'],
    ['a node joined', (c: RecordedCluster) => { c.add({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'rogue' }, spec: {}, status: {} }); }, 'Node/rogue is not in the baseline'],
  ])('%s → untrusted, naming it', async (_what, change, reason) => {
    const { deps, c } = await provisioned();
    change(c);
    const r = await recycleCluster(deps, CLUSTER);
    expect(r.trusted).toBe(false);
    expect(r.reasons).toContain(reason);
  });

  it('an object that will not go (a finalizer nobody removes) → untrusted, naming it', async () => {
    const { deps, c } = await provisioned();
    c.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'forever', namespace: 'default' }, data: {} });
    c.stuck.add('ConfigMap/default/forever');
    const r = await recycleCluster(deps, CLUSTER);
    expect(r.trusted).toBe(false);
    expect(r.reasons.join('\n')).toMatch(/could not be deleted: .*ConfigMap\/default\/forever/);
  });

  it('a baseline from an older svclab (a few kinds only) is not trusted', async () => {
    const { deps } = await provisioned();
    await writeFile(join(deps.dir, `${CLUSTER}.json`), JSON.stringify({ takenAt: 'x', objects: {}, namespaces: ['default'] }));
    const r = await recycleCluster(deps, CLUSTER);
    expect(r).toMatchObject({ trusted: false, reasons: [expect.stringMatching(/older svclab/)] });
  });
});
