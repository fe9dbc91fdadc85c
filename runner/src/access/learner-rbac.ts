// What the learner group may do, as RBAC. The labs are the measure: they create and
// edit Deployments, Services, EndpointSlices, Ingresses, NetworkPolicies, StatefulSets,
// ConfigMaps, Secrets and their own namespaces, scale and restart workloads, read
// nodes, kube-system, Traefik and MetalLB, and (lab 05) edit kube-proxy's ConfigMap
// and restart its DaemonSet. Gateway API routes are granted for the labs to come.
//
// Writes are granted cluster-wide because learners create namespaces of their own
// (lab 06: blue, green) and RBAC cannot follow a namespace nobody has made yet; the
// admission policy (learner-policy.ts) is what keeps svclab's and the system's
// namespaces read-only. Nodes: patch only, for lab 11's one label (svclab.io/ingress=
// hostnetwork, which puts the standby hostNetwork Traefik on that node); the admission
// policy refuses any other change to a node. Never granted: anything on admissionregistration, RBAC writes,
// escalate/bind/impersonate, CSR approval, node create/update/delete, nodes/proxy and nodes/status, service
// account tokens, PersistentVolumes and StorageClasses (a PV can name any host path).
// Secrets can be read, and pods exec'd into, only in the work namespaces (default):
// kube-system holds bootstrap tokens, and its pods run privileged.

import { LEARNER_GROUP, MANAGED_LABELS } from './learner-identity.ts';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

interface Meta {
  name: string;
  namespace?: string;
  labels: Record<string, string>;
}
const subject = { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: LEARNER_GROUP };

export interface ClusterRole { apiVersion: 'rbac.authorization.k8s.io/v1'; kind: 'ClusterRole'; metadata: Meta; rules: PolicyRule[] }
export interface RoleBindingObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRoleBinding' | 'RoleBinding';
  metadata: Meta;
  subjects: (typeof subject)[];
  roleRef: { apiGroup: 'rbac.authorization.k8s.io'; kind: 'ClusterRole'; name: string };
}

export const LEARNER_ROLE = 'svclab:learner';
export const WORKSPACE_ROLE = 'svclab:learner-workspace';
/** Namespaces where the learner may also read Secrets and exec into pods. */
export const DEFAULT_WORK_NAMESPACES: readonly string[] = ['default'];

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];

const LAB_WRITES: PolicyRule[] = [
  { apiGroups: [''], resources: ['pods', 'services', 'endpoints', 'configmaps', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale'], verbs: WRITE },
  // Write, not read: `kubectl create secret tls` (lab 11). Reading is a work-namespace right.
  { apiGroups: [''], resources: ['secrets'], verbs: WRITE },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['create', 'update', 'patch', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'deployments/scale', 'replicasets/scale', 'statefulsets/scale'], verbs: WRITE },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: WRITE },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: WRITE },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: WRITE },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['gateways', 'httproutes', 'grpcroutes', 'tlsroutes', 'tcproutes', 'udproutes', 'referencegrants', 'backendtlspolicies'], verbs: WRITE },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: WRITE },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: WRITE },
  // `kubectl label node` (lab 11 step 5) is a patch. The node policy (learner-policy.ts)
  // lets it add or remove one label and nothing else; RBAC alone would allow any change.
  { apiGroups: [''], resources: ['nodes'], verbs: ['patch'] },
];

const READS: PolicyRule[] = [
  {
    apiGroups: [''],
    resources: ['pods', 'pods/log', 'services', 'endpoints', 'configmaps', 'namespaces', 'nodes', 'events', 'serviceaccounts', 'persistentvolumeclaims',
      'persistentvolumes', 'replicationcontrollers', 'replicationcontrollers/scale', 'limitranges', 'resourcequotas', 'podtemplates'],
    verbs: READ,
  },
  { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'controllerrevisions', 'deployments/scale', 'replicasets/scale', 'statefulsets/scale'], verbs: READ },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingressclasses', 'networkpolicies', 'servicecidrs', 'ipaddresses'], verbs: READ },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'tlsroutes', 'tcproutes', 'udproutes', 'referencegrants', 'backendtlspolicies'], verbs: READ },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: READ },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: READ },
  { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: READ },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ },
  // The add-ons' own resources (MetalLB pools and advertisements, Traefik routes): lab 10 and 11 look.
  { apiGroups: ['metallb.io', 'traefik.io', 'traefik.containo.us'], resources: ['*'], verbs: READ },
  // Seeing one's own and the cluster's roles answers "why was I refused?".
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'], verbs: READ },
];

const WORKSPACE_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['secrets'], verbs: READ },
  // Websocket exec/attach/port-forward start with a GET, SPDY with a POST.
  { apiGroups: [''], resources: ['pods/exec', 'pods/attach', 'pods/portforward'], verbs: ['get', 'create'] },
];

export function learnerClusterRole(): ClusterRole {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: LEARNER_ROLE, labels: { ...MANAGED_LABELS } }, rules: [...READS, ...LAB_WRITES] };
}

export function workspaceClusterRole(): ClusterRole {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: WORKSPACE_ROLE, labels: { ...MANAGED_LABELS } }, rules: WORKSPACE_RULES };
}

function binding(kind: 'ClusterRoleBinding' | 'RoleBinding', role: string, namespace?: string): RoleBindingObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: { name: role, ...(namespace ? { namespace } : {}), labels: { ...MANAGED_LABELS } },
    subjects: [{ ...subject }],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  };
}

/** Roles first, then their bindings: the learner's rights in the cluster. */
export function learnerRbacObjects(workNamespaces: readonly string[] = DEFAULT_WORK_NAMESPACES): (ClusterRole | RoleBindingObject)[] {
  return [
    learnerClusterRole(),
    workspaceClusterRole(),
    binding('ClusterRoleBinding', LEARNER_ROLE),
    ...workNamespaces.map((ns) => binding('RoleBinding', WORKSPACE_ROLE, ns)),
  ];
}
