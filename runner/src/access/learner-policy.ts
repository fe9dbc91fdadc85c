// The admission policies that keep a learner inside their cluster: ValidatingAdmissionPolicy
// (CEL, admissionregistration.k8s.io/v1, built into the API server: no extra component),
// matched on the learner group, so svclab's own admin requests and the cluster's
// controllers are never judged by them.
//
// Three policies:
// - host access: a pod (or anything with a pod template: Deployment, DaemonSet, Job…,
//   since the pods those make are created by a controller, not by the learner) must not
//   be privileged, share the node's PID/IPC/network namespaces, mount a hostPath, bind a
//   hostPort or add capabilities beyond the container runtime's defaults. An UPDATE whose
//   pod spec is unchanged passes whatever the spec holds (lab 05's `rollout restart` of
//   the privileged, hostNetwork kube-proxy DaemonSet only touches template annotations);
//   any other change to such a spec is judged in full. Judging only the fields that
//   changed would let a learner keep `privileged: true` and change the command.
// - svclab's namespaces: no learner write (nor exec/attach/port-forward) in the add-ons'
//   namespaces or the system ones (NetworkPolicies in traefik excepted, for lab 12), except lab 05's two: kube-system's kube-proxy
//   ConfigMap (its config.conf only) and kube-proxy DaemonSet (restart, pods unchanged).
//   RBAC has to grant lab writes cluster-wide (learners make their own namespaces);
//   this policy is what makes those namespaces read-only.
// - services: no externalIPs (a Service with them captures traffic to any address,
//   CVE-2020-8554), and the Service kubernetes in default, the API server's own address
//   for every pod, keeps its endpoints: a learner's EndpointSlice for it would send
//   the add-ons' API calls to a pod of theirs.
//
// - nodes: a learner's update of a node (RBAC grants patch only) may add the label
//   svclab.io/ingress=hostnetwork, with that one value, or remove it; nothing else
//   changes: no other label, annotation, taint, cordon or other spec field. That label
//   puts svclab's standby hostNetwork Traefik DaemonSet on the node (lab 11 step 5):
//   the learner chooses where it runs, never what runs.
//
// Not covered on purpose: seccomp/AppArmor profiles, SELinux options, procMount and
// sysctls (the node kernel refuses unsafe sysctls; kind nodes have no SELinux; none of
// these reaches the host without one of the fields above).

import { HOSTNETWORK_INGRESS_LABEL } from '../addons/manifests.ts';
import { ADDON_NAMESPACES, LEARNER_GROUP, MANAGED_LABELS, SYSTEM_NAMESPACES } from './learner-identity.ts';

/** A refusal in the learner's words: English, then Chinese, in one message (the API has one string). */
export interface Refusal {
  en: string;
  zh: string;
}

export const REFUSALS = {
  privileged: {
    en: "this workshop doesn't allow privileged containers: they would reach the host",
    zh: '本工作坊不允许特权容器：它们能触及宿主机',
  },
  hostNamespaces: {
    en: "this workshop doesn't allow hostPID or hostIPC: the pod would see the node's processes",
    zh: '本工作坊不允许 hostPID 或 hostIPC：Pod 会看到节点上的进程',
  },
  hostNetwork: {
    en: "this workshop doesn't allow hostNetwork pods: they would use the node's own network",
    zh: '本工作坊不允许 hostNetwork Pod：它们会直接使用节点自己的网络',
  },
  hostPath: {
    en: "this workshop doesn't allow hostPath volumes: they would open the node's files",
    zh: '本工作坊不允许 hostPath 卷：它们能打开节点上的文件',
  },
  hostPort: {
    en: "this workshop doesn't allow hostPort: it would open a port on the node itself; use a Service (NodePort or LoadBalancer) instead",
    zh: '本工作坊不允许 hostPort：它会直接在节点上开端口；请改用 Service（NodePort 或 LoadBalancer）',
  },
  capabilities: {
    en: "this workshop doesn't allow adding Linux capabilities beyond the container defaults (such as NET_ADMIN or SYS_ADMIN): they would reach the node's kernel",
    zh: '本工作坊不允许添加容器默认之外的 Linux capabilities（如 NET_ADMIN、SYS_ADMIN）：它们能触及节点的内核',
  },
  addonNamespaces: {
    en: `this workshop keeps the ${ADDON_NAMESPACES.join(' and ')} namespaces read-only: every lab relies on the ingress controller and the load balancer there`,
    zh: `本工作坊中 ${ADDON_NAMESPACES.join(' 和 ')} 命名空间是只读的：所有实验都依赖其中的 Ingress Controller 和负载均衡器`,
  },
  systemNamespaces: {
    en: "in the cluster's system namespaces this workshop lets you change only kube-proxy's ConfigMap and restart its DaemonSet (kube-system)",
    zh: '在集群的系统命名空间里，本工作坊只允许修改 kube-proxy 的 ConfigMap 和重启它的 DaemonSet（kube-system）',
  },
  kubeProxyConfig: {
    en: "in kube-proxy's ConfigMap this workshop lets you change config.conf only",
    zh: '在 kube-proxy 的 ConfigMap 里，本工作坊只允许修改 config.conf',
  },
  externalIPs: {
    en: "this workshop doesn't allow externalIPs on a Service: they would capture traffic meant for other addresses; use type LoadBalancer instead",
    zh: '本工作坊不允许 Service 使用 externalIPs：它们会截获发往其他地址的流量；请改用 LoadBalancer 类型',
  },
  apiService: {
    en: "this workshop keeps the Service kubernetes in default and its endpoints as they are: every pod reaches the API server through it",
    zh: '本工作坊不允许修改 default 中的 Service kubernetes 及其 endpoint：所有 Pod 都通过它访问 API Server',
  },
  kubeProxyPods: {
    en: "this workshop lets you restart kube-proxy's DaemonSet, not change its pods: they run privileged on every node",
    zh: '本工作坊只允许重启 kube-proxy 的 DaemonSet，不允许修改它的 Pod：它们以特权身份运行在每个节点上',
  },
  nodeChange: {
    en: `on a node this workshop lets you set or remove only the label ${HOSTNETWORK_INGRESS_LABEL.key}=${HOSTNETWORK_INGRESS_LABEL.value} (lab 11); its other labels, annotations, taints and spec stay as the workshop set them`,
    zh: `在节点上，本工作坊只允许添加或删除标签 ${HOSTNETWORK_INGRESS_LABEL.key}=${HOSTNETWORK_INGRESS_LABEL.value}（实验 11）；节点的其他标签、注解、污点和 spec 都保持工作坊设定的样子`,
  },
} as const satisfies Record<string, Refusal>;

export type RefusalId = keyof typeof REFUSALS;

/** The one string the API server returns: "english / 中文". */
export function refusalText(r: Refusal): string {
  return `${r.en} / ${r.zh}`;
}

/**
 * Capabilities containerd gives every container unless told otherwise; adding one of
 * these changes nothing. NET_RAW is among them, NET_ADMIN and SYS_ADMIN are not.
 */
export const DEFAULT_CAPABILITIES = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
] as const;

export const HOST_ACCESS_POLICY = 'svclab-learner-host-access';
export const NAMESPACES_POLICY = 'svclab-learner-namespaces';
export const SERVICES_POLICY = 'svclab-learner-services';
export const NODES_POLICY = 'svclab-learner-nodes';
export const POLICY_NAMES = [HOST_ACCESS_POLICY, NAMESPACES_POLICY, SERVICES_POLICY, NODES_POLICY] as const;

export interface Validation {
  expression: string;
  message: string;
  reason: 'Forbidden';
}

export interface AdmissionPolicy {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingAdmissionPolicy';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    failurePolicy: 'Fail';
    matchConstraints: { resourceRules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[]; scope?: string }[] };
    matchConditions: { name: string; expression: string }[];
    /** Left out when there are none: the server drops an empty list, and checkLearnerAccess compares. */
    variables?: { name: string; expression: string }[];
    validations: Validation[];
  };
}

export interface AdmissionPolicyBinding {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingAdmissionPolicyBinding';
  metadata: { name: string; labels: Record<string, string> };
  spec: { policyName: string; validationActions: ['Deny'] };
}

// The API server leaves empty request fields out (no namespace for a cluster-scoped
// object, no subResource, no name for generateName): reading one is an error, and with
// failurePolicy Fail an error refuses. So every optional field is read with a default.
const NAMESPACE = "(has(request.namespace) ? request.namespace : '')";
const NAME = "(has(request.name) ? request.name : '')";
const SUBRESOURCE = "(has(request.subResource) ? request.subResource : '')";

const cel = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const celList = (items: readonly string[]) => `[${items.map(cel).join(', ')}]`;

// Requests from users without groups (some loopback clients) must not make the match
// condition fail: with failurePolicy Fail, an error there would refuse them.
const IS_LEARNER = `has(request.userInfo.groups) && ${cel(LEARNER_GROUP)} in request.userInfo.groups`;

/** Where an object of the matched kinds keeps its pod spec. */
function podSpecOf(o: 'object' | 'oldObject'): string {
  return [
    `${o}.kind == 'Pod' ? ${o}.spec`,
    `${o}.kind == 'PodTemplate' ? ${o}.template.spec`,
    `${o}.kind == 'CronJob' ? ${o}.spec.jobTemplate.spec.template.spec`,
    // ReplicationController's template is optional in the schema.
    `has(${o}.spec.template) ? ${o}.spec.template.spec : {}`,
  ].join(' : ');
}

const listOrEmpty = (path: string) => `(has(variables.spec.${path}) ? variables.spec.${path} : [])`;
const flag = (path: string) => `(has(variables.spec.${path}) && variables.spec.${path} == true)`;
const reject = (id: RefusalId, refused: string): Validation => ({
  expression: `variables.unchanged || !(${refused})`,
  message: refusalText(REFUSALS[id]),
  reason: 'Forbidden',
});

export function hostAccessPolicy(): AdmissionPolicy {
  const rule = (apiGroups: string[], resources: string[]) => ({ apiGroups, apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources });
  const caps = DEFAULT_CAPABILITIES.flatMap((c) => [c, `CAP_${c}`]);
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: HOST_ACCESS_POLICY, labels: { ...MANAGED_LABELS } },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          rule([''], ['pods', 'pods/ephemeralcontainers', 'replicationcontrollers', 'podtemplates']),
          rule(['apps'], ['deployments', 'replicasets', 'statefulsets', 'daemonsets']),
          rule(['batch'], ['jobs', 'cronjobs']),
        ],
      },
      matchConditions: [{ name: 'is-learner', expression: IS_LEARNER }],
      variables: [
        { name: 'spec', expression: podSpecOf('object') },
        { name: 'oldSpec', expression: `request.operation == 'UPDATE' && oldObject != null ? (${podSpecOf('oldObject')}) : null` },
        { name: 'unchanged', expression: 'variables.oldSpec != null && variables.oldSpec == variables.spec' },
        { name: 'containers', expression: `${listOrEmpty('containers')} + ${listOrEmpty('initContainers')} + ${listOrEmpty('ephemeralContainers')}` },
        { name: 'defaultCapabilities', expression: celList(caps) },
      ],
      validations: [
        reject('privileged', 'variables.containers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true)'),
        reject('hostNamespaces', `${flag('hostPID')} || ${flag('hostIPC')}`),
        reject('hostNetwork', flag('hostNetwork')),
        reject('hostPath', `has(variables.spec.volumes) && variables.spec.volumes.exists(v, has(v.hostPath))`),
        reject('hostPort', 'variables.containers.exists(c, has(c.ports) && c.ports.exists(p, has(p.hostPort) && p.hostPort != 0))'),
        // containerd upper-cases a capability and adds CAP_: "net_admin" is NET_ADMIN too.
        reject('capabilities', 'variables.containers.exists(c, has(c.securityContext) && has(c.securityContext.capabilities) && has(c.securityContext.capabilities.add) && c.securityContext.capabilities.add.exists(a, !(a.upperAscii() in variables.defaultCapabilities)))'),
      ],
    },
  };
}

export function namespacesPolicy(): AdmissionPolicy {
  const kubeProxy = [
    `${NAMESPACE} == 'kube-system'`,
    "request.operation == 'UPDATE'",
    `${SUBRESOURCE} == ''`,
    `${NAME} == 'kube-proxy'`,
    "((request.resource.group == '' && request.resource.resource == 'configmaps') || (request.resource.group == 'apps' && request.resource.resource == 'daemonsets'))",
  ].join(' && ');
  const data = (o: string, field: string) => `(has(${o}.${field}) ? ${o}.${field} : {})`;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: NAMESPACES_POLICY, labels: { ...MANAGED_LABELS } },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'], resources: ['*/*'], scope: '*' }],
      },
      matchConditions: [{ name: 'is-learner', expression: IS_LEARNER }],
      variables: [
        // A Namespace object is judged by its own name (deleting the namespace traefik).
        // (Not "namespace": a reserved word in CEL.)
        { name: 'ns', expression: `request.resource.group == '' && request.resource.resource == 'namespaces' ? ${NAME} : ${NAMESPACE}` },
        { name: 'kubeProxy', expression: kubeProxy },
      ],
      validations: [
        // Lab 12 limits the ingress controller's egress with a NetworkPolicy in its namespace:
        // it can only cut traffic in the learner's own cluster, and a recycle deletes it.
        { expression: `!(variables.ns in ${celList(ADDON_NAMESPACES)}) || (variables.ns == 'traefik' && request.resource.group == 'networking.k8s.io' && request.resource.resource == 'networkpolicies')`, message: refusalText(REFUSALS.addonNamespaces), reason: 'Forbidden' },
        { expression: `!(variables.ns in ${celList(SYSTEM_NAMESPACES)}) || variables.kubeProxy`, message: refusalText(REFUSALS.systemNamespaces), reason: 'Forbidden' },
        {
          expression: `!variables.kubeProxy || request.resource.resource != 'configmaps' || (${data('object', 'binaryData')} == ${data('oldObject', 'binaryData')}`
            + ` && ${data('object', 'data')}.all(k, k == 'config.conf' || (k in ${data('oldObject', 'data')} && ${data('oldObject', 'data')}[k] == ${data('object', 'data')}[k]))`
            + ` && ${data('oldObject', 'data')}.all(k, k in ${data('object', 'data')}))`,
          message: refusalText(REFUSALS.kubeProxyConfig),
          reason: 'Forbidden',
        },
        {
          expression: "!variables.kubeProxy || request.resource.resource != 'daemonsets' || object.spec.template.spec == oldObject.spec.template.spec",
          message: refusalText(REFUSALS.kubeProxyPods),
          reason: 'Forbidden',
        },
      ],
    },
  };
}

export function servicesPolicy(): AdmissionPolicy {
  const serviceName = (o: string) => `${o} != null && has(${o}.metadata.labels) && 'kubernetes.io/service-name' in ${o}.metadata.labels && ${o}.metadata.labels['kubernetes.io/service-name'] == 'kubernetes'`;
  const ips = (o: string) => `(has(${o}.spec.externalIPs) ? ${o}.spec.externalIPs : [])`;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: SERVICES_POLICY, labels: { ...MANAGED_LABELS } },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          { apiGroups: [''], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['services', 'endpoints'] },
          { apiGroups: ['discovery.k8s.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['endpointslices'] },
        ],
      },
      matchConditions: [{ name: 'is-learner', expression: IS_LEARNER }],
      validations: [
        {
          // Unchanged externalIPs pass, as the host-access policy lets unchanged pod specs pass.
          expression: `request.operation == 'DELETE' || request.resource.resource != 'services' || size(${ips('object')}) == 0 || (oldObject != null && ${ips('oldObject')} == ${ips('object')})`,
          message: refusalText(REFUSALS.externalIPs),
          reason: 'Forbidden',
        },
        {
          expression: `${NAMESPACE} != 'default' || (request.resource.resource == 'endpointslices' ? !(${serviceName('object')}) && !(${serviceName('oldObject')}) : ${NAME} != 'kubernetes')`,
          message: refusalText(REFUSALS.apiService),
          reason: 'Forbidden',
        },
      ],
    },
  };
}

export function nodesPolicy(): AdmissionPolicy {
  const key = cel(HOSTNETWORK_INGRESS_LABEL.key);
  const field = (o: string, path: string, empty: '{}' | '[]') => `(has(${o}.${path}) ? ${o}.${path} : ${empty})`;
  const same = (path: string, empty: '{}' | '[]') => `${field('object', path, empty)} == ${field('oldObject', path, empty)}`;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: NODES_POLICY, labels: { ...MANAGED_LABELS } },
    spec: {
      failurePolicy: 'Fail',
      // The node itself, not nodes/status (RBAC grants no subresource of nodes).
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['nodes'] }] },
      matchConditions: [{ name: 'is-learner', expression: IS_LEARNER }],
      variables: [
        { name: 'labels', expression: field('object', 'metadata.labels', '{}') },
        { name: 'oldLabels', expression: `oldObject != null ? ${field('oldObject', 'metadata.labels', '{}')} : {}` },
        // Every label but the one: the same keys with the same values before and after.
        {
          name: 'otherLabelsKept',
          expression: `variables.labels.all(k, k == ${key} || (k in variables.oldLabels && variables.oldLabels[k] == variables.labels[k])) && variables.oldLabels.all(k, k == ${key} || k in variables.labels)`,
        },
        { name: 'valueAllowed', expression: `!(${key} in variables.labels) || variables.labels[${key}] == ${cel(HOSTNETWORK_INGRESS_LABEL.value)}` },
      ],
      validations: [{
        // Taints, cordon, podCIDR, providerID are in spec; finalizers and owners in metadata.
        expression: `request.operation == 'UPDATE' && variables.otherLabelsKept && variables.valueAllowed && ${same('metadata.annotations', '{}')}`
          + ` && ${same('metadata.finalizers', '[]')} && ${same('metadata.ownerReferences', '[]')} && ${same('spec', '{}')}`,
        message: refusalText(REFUSALS.nodeChange),
        reason: 'Forbidden',
      }],
    },
  };
}

export function policyBinding(policyName: string): AdmissionPolicyBinding {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: policyName, labels: { ...MANAGED_LABELS } },
    spec: { policyName, validationActions: ['Deny'] },
  };
}

/** The policies and their bindings, in the order to apply them. */
export function learnerPolicyObjects(): (AdmissionPolicy | AdmissionPolicyBinding)[] {
  return [hostAccessPolicy(), namespacesPolicy(), servicesPolicy(), nodesPolicy(), ...POLICY_NAMES.map(policyBinding)];
}
