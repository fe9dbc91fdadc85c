// Learner access: the identity a learner's kubectl uses inside a svclab cluster in
// workshop mode and in `svclab validate`. Not cluster-admin: RBAC for what the labs
// need, and ValidatingAdmissionPolicies (built into the API server) that refuse what
// would reach the node or the host. Single-learner `npm start` keeps admin on loopback.
//
// API (everything else in this folder is internal):
//
//   installLearnerAccess({ controlPlane }, { workNamespaces?, validityHours?, onStep?, signal? })
//     → Promise<LearnerAccess>
//     controlPlane: a root Shell on the control-plane node,
//       nodeShell(driver, cluster, controlPlaneNode(cluster)) from cluster/node-shell.ts.
//     Applies (with admin.conf, server-side, field manager svclab) the RBAC and the
//     policies, issues or reuses the learner's certificate, and waits until the
//     policies are in force. Idempotent. Steps report like the bring-up's
//     (access-identity, access-rbac, access-policy, access-verify).
//     LearnerAccess.kubeconfig: for the workstation's ~/.kube/config (server
//       https://127.0.0.1:6443, user svclab:learner, namespace default).
//     LearnerAccess.nodeKubeconfigPath: the same credentials on the control-plane
//       node, for `kubectl --kubeconfig=…` run there as the learner (validate, tests).
//
//   readLearnerKubeconfig(controlPlane) → Promise<string | undefined>
//     The workstation kubeconfig again, read from the node (no install; undefined when
//     access was never installed): for a session's workstation on a pooled cluster.
//   checkLearnerAccess({ controlPlane }) → { ok, problems[] }
//     Every object still there and as installed ("ValidatingAdmissionPolicy/… is gone").
//   learnerAccessBaseline() → { kinds: Kind → resource, objects: AccessObjectRef[] }
//     What a pool baseline should record so a recycle can tell if access was changed.
//   learnerAccessObjects() → the objects themselves (RBAC, then policies and bindings).
//
//   explainRefusal(serverMessage) → { en, zh } | undefined
//     A refusal in the learner's words: the policies' own messages, and RBAC's
//     "forbidden: User "svclab:learner" cannot …" translated.
//   REFUSALS, refusalText(): the policies' messages ("english / 中文").
//   LEARNER_USER 'svclab:learner', LEARNER_GROUP 'svclab:learners'.
//
// What the learner may do, in plain words: create, change and delete the objects
// labs use (workloads, Services, EndpointSlices, Ingresses, NetworkPolicies, Gateway
// API routes, ConfigMaps, Secrets, their own namespaces) in any namespace but the
// add-ons' (traefik, metallb-system) and the system ones; read almost everything,
// Secrets only in default; exec into pods only in default; in kube-system only edit
// kube-proxy's config.conf and restart its DaemonSet; on a node, set or remove the one
// label svclab.io/ingress=hostnetwork (lab 11: it places svclab's standby hostNetwork
// Traefik there) and change nothing else. What they can't: privileged
// containers, hostPID/hostIPC/hostNetwork, hostPath, hostPort, added capabilities
// beyond the runtime's defaults; externalIPs on Services; touching the Service
// kubernetes or its endpoints in default; anything on admission policies, RBAC writes,
// escalate/bind/impersonate, CSRs, nodes/proxy, PersistentVolumes.
//
// Lab setup that needs host access itself (lab 03's and lab 12's hostNetwork stand-ins)
// must be applied by svclab as admin, not as the learner.

export {
  installLearnerAccess, checkLearnerAccess, learnerAccessBaseline, learnerAccessObjects,
  type LearnerAccess, type LearnerAccessDeps, type LearnerAccessOptions, type AccessObjectRef,
} from './install.ts';
export { readLearnerKubeconfig, LEARNER_USER, LEARNER_GROUP, LEARNER_KUBECONFIG_PATH, WORKSTATION_SERVER, ADDON_NAMESPACES, SYSTEM_NAMESPACES } from './learner-identity.ts';
export { REFUSALS, refusalText, type Refusal, type RefusalId } from './learner-policy.ts';
export { DEFAULT_WORK_NAMESPACES } from './learner-rbac.ts';
export { explainRefusal } from './refusal.ts';
