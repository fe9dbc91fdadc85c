// A cluster of recorded objects behind a kubectl Shell, for recycle tests without docker:
// `kubectl api-resources`, `get <kinds> -A -o json` and `delete -f -` over a store shaped like
// a freshly provisioned svclab pool cluster (kind, kube-proxy, CoreDNS, MetalLB's webhook and
// CRDs, Traefik with its standby hostNetwork DaemonSet, learner access). `kubectl label node
// NAME KEY-` removes labels. Deleting an owner deletes what it owns (the garbage
// collector); an object marked `stuck` never goes (a finalizer nobody removes).
import { commandResult, type CommandResult, type Shell } from '../../src/exec/shell.ts';
import { Kubectl } from '../../src/kube/kubectl.ts';

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid: string; ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[]; labels?: Record<string, string> };
  [k: string]: unknown;
}

/** kind → [resource as api-resources names it, namespaced] */
const RESOURCES: Record<string, [string, boolean]> = {
  Namespace: ['namespaces', false], Node: ['nodes', false], Pod: ['pods', true], Service: ['services', true], Endpoints: ['endpoints', true],
  ConfigMap: ['configmaps', true], Secret: ['secrets', true], ServiceAccount: ['serviceaccounts', true], Event: ['events', true],
  Deployment: ['deployments.apps', true], ReplicaSet: ['replicasets.apps', true], DaemonSet: ['daemonsets.apps', true], ControllerRevision: ['controllerrevisions.apps', true],
  EndpointSlice: ['endpointslices.discovery.k8s.io', true], Lease: ['leases.coordination.k8s.io', true], CSINode: ['csinodes.storage.k8s.io', false],
  CertificateSigningRequest: ['certificatesigningrequests.certificates.k8s.io', false], IPAddress: ['ipaddresses.networking.k8s.io', false],
  ClusterRole: ['clusterroles.rbac.authorization.k8s.io', false], ClusterRoleBinding: ['clusterrolebindings.rbac.authorization.k8s.io', false],
  Role: ['roles.rbac.authorization.k8s.io', true], RoleBinding: ['rolebindings.rbac.authorization.k8s.io', true],
  MutatingWebhookConfiguration: ['mutatingwebhookconfigurations.admissionregistration.k8s.io', false],
  ValidatingWebhookConfiguration: ['validatingwebhookconfigurations.admissionregistration.k8s.io', false],
  ValidatingAdmissionPolicy: ['validatingadmissionpolicies.admissionregistration.k8s.io', false],
  ValidatingAdmissionPolicyBinding: ['validatingadmissionpolicybindings.admissionregistration.k8s.io', false],
  CustomResourceDefinition: ['customresourcedefinitions.apiextensions.k8s.io', false], APIService: ['apiservices.apiregistration.k8s.io', false],
  IngressClass: ['ingressclasses.networking.k8s.io', false],
};

export class RecordedCluster {
  objects: Obj[] = [];
  /** Each `kubectl delete -f -`: the refs it was given. */
  readonly deletes: string[][] = [];
  /** Refs (Kind/ns/name) a delete leaves in place. */
  readonly stuck = new Set<string>();
  /** Each `kubectl label …`, its arguments after kubectl. */
  readonly labelCalls: string[] = [];
  private n = 0;

  constructor() { this.provision(); }

  kubectl(): Kubectl {
    const shell: Shell = { run: async (argv, opts) => this.run(argv, opts.input) };
    return new Kubectl({ shell, requestTimeout: '30s' });
  }

  add(o: Omit<Obj, 'metadata'> & { metadata: Omit<Obj['metadata'], 'uid'> & { uid?: string } }): Obj {
    const obj = { ...o, metadata: { ...o.metadata, uid: o.metadata.uid ?? `uid-${++this.n}` } } as Obj;
    this.objects.push(obj);
    return obj;
  }

  find(kind: string, name: string, namespace?: string): Obj | undefined {
    return this.objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
  }

  /** An object to edit in place, seen as the shape the test needs. */
  edit<T>(kind: string, name: string, namespace?: string): T {
    const o = this.find(kind, name, namespace);
    if (!o) throw new Error(`no ${kind} ${name}`);
    return o as unknown as T;
  }

  has(kind: string, name: string, namespace?: string): boolean { return this.find(kind, name, namespace) !== undefined; }

  remove(kind: string, name: string, namespace?: string): void {
    const o = this.find(kind, name, namespace);
    if (o) this.drop(o);
  }

  static ownerRef(o: Obj): NonNullable<Obj['metadata']['ownerReferences']>[number] {
    return { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true };
  }

  private resourceOf(kind: string): [string, boolean] | undefined {
    if (RESOURCES[kind]) return RESOURCES[kind];
    const crd = this.objects.find((o) => o.kind === 'CustomResourceDefinition' && (o.spec as { names: { kind: string } }).names.kind === kind);
    if (!crd) return undefined;
    const spec = crd.spec as { group: string; scope: string; names: { plural: string } };
    return [`${spec.names.plural}.${spec.group}`, spec.scope === 'Namespaced'];
  }

  private run(argv: readonly string[], input: string | undefined): CommandResult {
    const args = argv.filter((a) => !/^--(kubeconfig|request-timeout|context)=/.test(a));
    if (args[0] !== 'kubectl') return commandResult(argv, { exitCode: 127, stderr: `${args[0]}: not found` });
    const [verb, target] = [args[1], args[2]];
    if (verb === 'api-resources') {
      const names = new Set<string>(Object.values(RESOURCES).map(([r]) => r));
      for (const o of this.objects) if (o.kind === 'CustomResourceDefinition') names.add(this.resourceOf((o.spec as { names: { kind: string } }).names.kind)![0]);
      return commandResult(argv, { stdout: `${[...names].join('\n')}\n` });
    }
    if (verb === 'get' && target) {
      const wanted = new Set(target.split(','));
      const unknown = [...wanted].filter((w) => !Object.values(RESOURCES).some(([r]) => r === w) && !this.objects.some((o) => this.resourceOf(o.kind)?.[0] === w));
      if (unknown.length && unknown.some((u) => !u.includes('.'))) return commandResult(argv, { exitCode: 1, stderr: `error: the server doesn't have a resource type "${unknown[0]}"` });
      const items = this.objects.filter((o) => wanted.has(this.resourceOf(o.kind)?.[0] ?? ''));
      return commandResult(argv, { stdout: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
    }
    if (verb === 'label' && target === 'node') {
      // kubectl label node NAME KEY- …: removals only (what recycle does).
      const node = this.find('Node', args[3] ?? '');
      if (!node) return commandResult(argv, { exitCode: 1, stderr: `Error from server (NotFound): nodes "${args[3]}" not found` });
      this.labelCalls.push(args.slice(1).join(' '));
      const labels = { ...(node.metadata.labels ?? {}) };
      for (const a of args.slice(4)) if (a.endsWith('-')) delete labels[a.slice(0, -1)];
      node.metadata.labels = labels;
      return commandResult(argv, { stdout: `node/${node.metadata.name} unlabeled` });
    }
    if (verb === 'delete' && target === '-f') {
      const list = JSON.parse(input ?? '{"items":[]}') as { items: Obj[] };
      this.deletes.push(list.items.map(ref));
      const stuck: string[] = [];
      for (const want of list.items) {
        const o = this.find(want.kind, want.metadata.name, want.metadata.namespace);
        if (!o) continue;
        if (this.stuck.has(ref(o))) { stuck.push(ref(o)); continue; }
        this.drop(o);
      }
      if (stuck.length) return commandResult(argv, { exitCode: 1, stderr: `error: timed out waiting for the condition on ${stuck.join(', ')}` });
      return commandResult(argv, { stdout: list.items.map((o) => `${o.kind.toLowerCase()} "${o.metadata.name}" deleted`).join('\n') });
    }
    return commandResult(argv, { exitCode: 1, stderr: `fake: ${args.join(' ')} is not recorded` });
  }

  /** Delete, as the API server and garbage collector would: a namespace's contents, an owner's dependents. */
  private drop(o: Obj): void {
    this.objects = this.objects.filter((x) => x !== o);
    if (o.kind === 'Namespace') for (const x of this.objects.filter((x) => x.metadata.namespace === o.metadata.name)) this.drop(x);
    for (const x of this.objects.filter((x) => x.metadata.ownerReferences?.some((r) => r.uid === o.metadata.uid))) this.drop(x);
    if (o.kind === 'CustomResourceDefinition') {
      const kind = (o.spec as { names: { kind: string } }).names.kind;
      this.objects = this.objects.filter((x) => x.kind !== kind);
    }
  }

  /** What `svclab up` + learner access leave: a small but real-shaped pool cluster. */
  private provision(): void {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'metallb-system', 'traefik']) {
      this.add({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      this.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: ns }, data: { 'ca.crt': 'CA' } });
      this.add({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } });
    }
    const nodes = ['pool-1-control-plane', 'pool-1-worker', 'pool-1-worker2'].map((name) => this.add({
      apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] },
    }));
    for (const node of nodes) {
      this.add({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: node.metadata.name, namespace: 'kube-node-lease', ownerReferences: [RecordedCluster.ownerRef(node)] }, spec: { renewTime: 't0' } });
      this.add({ apiVersion: 'storage.k8s.io/v1', kind: 'CSINode', metadata: { name: node.metadata.name, ownerReferences: [RecordedCluster.ownerRef(node)] }, spec: { drivers: [] } });
    }
    const cp = nodes[0]!;
    for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      this.add({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${c}-${cp.metadata.name}`, namespace: 'kube-system', ownerReferences: [RecordedCluster.ownerRef(cp)] }, spec: { nodeName: cp.metadata.name } });
    }
    for (const l of ['kube-controller-manager', 'kube-scheduler', 'apiserver-abc123']) {
      this.add({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: l, namespace: 'kube-system' }, spec: { holderIdentity: 'x', renewTime: 't0' } });
    }
    this.add({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token', data: { expiration: 'MjAyNg==' } });
    this.add({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'csr-join-worker' }, spec: { signerName: 'kubernetes.io/kube-apiserver-client-kubelet' } });
    // kube-proxy: a DaemonSet, its ControllerRevision and pods.
    const kp = this.add({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, spec: { template: { spec: { containers: [{ name: 'kube-proxy', image: 'kube-proxy:v1.34.4' }] } } } });
    this.add({ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'kube-proxy-7d9', namespace: 'kube-system', ownerReferences: [RecordedCluster.ownerRef(kp)] }, revision: 1 });
    for (const node of nodes) this.add({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `kube-proxy-${node.metadata.name.slice(-3)}`, namespace: 'kube-system', ownerReferences: [RecordedCluster.ownerRef(kp)] }, spec: {} });
    this.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': 'mode: iptables' } });
    // CoreDNS: Deployment → ReplicaSet → pods, Service → Endpoints, EndpointSlice, IPAddress.
    const dns = this.add({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'coredns', namespace: 'kube-system' }, spec: { replicas: 2 } });
    const rs = this.add({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'coredns-66bc', namespace: 'kube-system', ownerReferences: [RecordedCluster.ownerRef(dns)] }, spec: { replicas: 2 } });
    for (const p of ['coredns-66bc-a', 'coredns-66bc-b']) this.add({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p, namespace: 'kube-system', ownerReferences: [RecordedCluster.ownerRef(rs)] }, spec: {} });
    this.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: '.:53 { forward . /etc/resolv.conf }' } });
    for (const [name, ns] of [['kube-dns', 'kube-system'], ['kubernetes', 'default']] as const) {
      const svc = this.add({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { clusterIP: name === 'kubernetes' ? '10.96.0.1' : '10.96.0.10' } });
      this.add({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns }, subsets: [] });
      this.add({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-x1`, namespace: ns, ownerReferences: [RecordedCluster.ownerRef(svc)] }, endpoints: [] });
      this.add({ apiVersion: 'networking.k8s.io/v1', kind: 'IPAddress', metadata: { name: (svc.spec as { clusterIP: string }).clusterIP }, spec: { parentRef: { group: '', resource: 'services', namespace: ns, name } } });
    }
    // API groups, cluster RBAC (one aggregated role), MetalLB's webhook and CRD with its pool.
    for (const g of ['v1.', 'v1.apps', 'v1.metallb.io']) this.add({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: g }, spec: { group: g.slice(3), version: 'v1', service: null } });
    this.add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'cluster-admin' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] });
    this.add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'admin' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }] }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }] });
    this.add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'kubeadm:cluster-admins' }, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'Group', name: 'kubeadm:cluster-admins' }] });
    this.add({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'metallb-webhook-configuration' }, webhooks: [{ name: 'ipaddresspoolvalidationwebhook.metallb.io', clientConfig: { caBundle: 'Q0E=' } }] });
    this.add({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'ipaddresspools.metallb.io' }, spec: { group: 'metallb.io', scope: 'Namespaced', names: { kind: 'IPAddressPool', plural: 'ipaddresspools' } } });
    this.add({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'svclab', namespace: 'metallb-system' }, spec: { addresses: ['172.18.255.200-172.18.255.250'] } });
    this.add({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'traefik' }, spec: { controller: 'traefik.io/ingress-controller' } });
    // Traefik's hostNetwork DaemonSet on standby (nodeport mode): no node carries its label, so no pod.
    const edge = this.add({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'traefik-edge', namespace: 'traefik' }, spec: { template: { spec: { hostNetwork: true, nodeSelector: { 'svclab.io/ingress': 'hostnetwork' }, containers: [{ name: 'traefik', image: 'svclab/traefik:v3.6.12' }] } } }, status: { desiredNumberScheduled: 0 } });
    this.add({ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'traefik-edge-5f6', namespace: 'traefik', ownerReferences: [RecordedCluster.ownerRef(edge)] }, revision: 1 });
    // Learner access: RBAC and the admission policy that keeps learners off the host.
    this.add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'svclab:learner' }, rules: [{ apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'create'] }] });
    this.add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'svclab:learner' }, roleRef: { kind: 'ClusterRole', name: 'svclab:learner' }, subjects: [{ kind: 'User', name: 'svclab:learner' }] });
    this.add({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name: 'svclab-no-host-access' }, spec: { validations: [{ expression: '!object.spec.hostNetwork' }] } });
    this.add({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: 'svclab-no-host-access' }, spec: { policyName: 'svclab-no-host-access', validationActions: ['Deny'] } });
  }
}

export function ref(o: Pick<Obj, 'kind' | 'metadata'>): string {
  return `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}
