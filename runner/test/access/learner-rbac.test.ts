// The learner's RBAC: what it must never hold (admission objects, RBAC writes,
// escalate/bind/impersonate, nodes/proxy, CSR approval, secrets and exec outside the
// work namespaces), and what every lab needs, read from the labs themselves.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { LEARNER_GROUP } from '../../src/access/index.ts';
import { learnerClusterRole, learnerRbacObjects, workspaceClusterRole, type PolicyRule } from '../../src/access/learner-rbac.ts';

const LABS = join(import.meta.dirname, '..', '..', '..', 'labs');

/** RBAC's own matching: a rule allows verb on group/resource (name) when each list holds it or '*'. */
function allows(rules: readonly PolicyRule[], verb: string, group: string, resource: string, name?: string): boolean {
  const has = (list: readonly string[], v: string) => list.includes(v) || list.includes('*');
  return rules.some((r) => has(r.verbs, verb) && has(r.apiGroups, group) && has(r.resources, resource) && (!r.resourceNames?.length || (name !== undefined && r.resourceNames.includes(name))));
}

const cluster = learnerClusterRole().rules;
const workspace = workspaceClusterRole().rules;
const all = [...cluster, ...workspace];

describe('learner RBAC never grants', () => {
  it('anything on admissionregistration (the policies do not guard themselves)', () => {
    expect(all.filter((r) => r.apiGroups.some((g) => g === 'admissionregistration.k8s.io' || g === '*'))).toEqual([]);
  });

  it('escalate, bind, impersonate, approve, or a wildcard verb', () => {
    const verbs = new Set(all.flatMap((r) => r.verbs));
    for (const v of ['escalate', 'bind', 'impersonate', 'approve', 'sign', '*']) expect(verbs.has(v), v).toBe(false);
  });

  it('writes on RBAC objects: no binding of oneself to cluster-admin', () => {
    for (const res of ['clusterrolebindings', 'rolebindings', 'clusterroles', 'roles']) {
      for (const v of ['create', 'update', 'patch', 'delete']) expect(allows(all, v, 'rbac.authorization.k8s.io', res), `${v} ${res}`).toBe(false);
    }
  });

  it('nodes/proxy, node writes, CSRs, tokens, PersistentVolumes, StorageClasses', () => {
    for (const v of ['get', 'create', 'update', 'patch']) {
      expect(allows(all, v, '', 'nodes/proxy'), `${v} nodes/proxy`).toBe(false);
      expect(allows(all, v, 'certificates.k8s.io', 'certificatesigningrequests/approval')).toBe(false);
    }
    // patch: lab 11's one node label (the node admission policy refuses every other change).
    expect(allows(all, 'patch', '', 'nodes')).toBe(true);
    for (const v of ['create', 'update', 'delete', 'deletecollection']) expect(allows(all, v, '', 'nodes'), `${v} nodes`).toBe(false);
    for (const v of ['update', 'patch']) expect(allows(all, v, '', 'nodes/status'), `${v} nodes/status`).toBe(false);
    for (const v of ['create', 'update', 'patch', 'delete']) {
      expect(allows(all, v, '', 'persistentvolumes')).toBe(false);
      expect(allows(all, v, 'storage.k8s.io', 'storageclasses')).toBe(false);
      expect(allows(all, v, 'certificates.k8s.io', 'certificatesigningrequests')).toBe(false);
      expect(allows(all, v, '', 'serviceaccounts/token')).toBe(false);
      expect(allows(all, v, '', 'pods/ephemeralcontainers')).toBe(false);
      expect(allows(all, v, 'networking.k8s.io', 'ingressclasses')).toBe(false);
      // GatewayClass traefik is svclab's (lab 14 reads it): a learner's class could name any controller.
      expect(allows(all, v, 'gateway.networking.k8s.io', 'gatewayclasses')).toBe(false);
      expect(allows(all, v, 'apiextensions.k8s.io', 'customresourcedefinitions')).toBe(false);
    }
    expect(all.filter((r) => r.apiGroups.includes('certificates.k8s.io'))).toEqual([]);
  });

  it('secret reads, exec, attach, port-forward or pods/proxy cluster-wide (kube-system holds bootstrap tokens and privileged pods)', () => {
    for (const v of ['get', 'list', 'watch']) expect(allows(cluster, v, '', 'secrets'), `${v} secrets`).toBe(false);
    for (const res of ['pods/exec', 'pods/attach', 'pods/portforward', 'pods/proxy', 'services/proxy']) {
      expect(allows(cluster, 'create', '', res), res).toBe(false);
      expect(allows(cluster, 'get', '', res), res).toBe(false);
    }
  });

  it('a resource wildcard except for reading the add-ons own API groups', () => {
    const wild = all.filter((r) => r.resources.includes('*'));
    expect(wild.flatMap((r) => r.verbs).sort()).toEqual(['get', 'list', 'watch']);
    expect(wild.flatMap((r) => r.apiGroups).sort()).toEqual(['metallb.io', 'traefik.containo.us', 'traefik.io']);
  });
});

describe('learner RBAC objects', () => {
  it('bind both roles to the learner group: cluster-wide lab rights, workspace rights in default only', () => {
    const objs = learnerRbacObjects();
    const bindings = objs.filter((o) => o.kind !== 'ClusterRole');
    expect(bindings.map((b) => [b.kind, b.metadata.namespace, 'roleRef' in b ? b.roleRef.name : ''])).toEqual([
      ['ClusterRoleBinding', undefined, 'svclab:learner'],
      ['RoleBinding', 'default', 'svclab:learner-workspace'],
    ]);
    for (const b of bindings) if ('subjects' in b) expect(b.subjects).toEqual([{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: LEARNER_GROUP }]);
    expect(learnerRbacObjects(['default', 'shop']).filter((o) => o.kind === 'RoleBinding').map((o) => o.metadata.namespace)).toEqual(['default', 'shop']);
  });

  it('workspace role: secrets read, exec/attach/port-forward', () => {
    expect(allows(workspace, 'get', '', 'secrets')).toBe(true);
    expect(allows(workspace, 'create', '', 'pods/exec')).toBe(true);
    expect(allows(workspace, 'get', '', 'pods/exec')).toBe(true);
  });
});

// ---- what the labs need, read from labs/*/ ----

const RESOURCE: Record<string, [group: string, resource: string]> = {
  Namespace: ['', 'namespaces'], Pod: ['', 'pods'], Service: ['', 'services'], ConfigMap: ['', 'configmaps'], Secret: ['', 'secrets'],
  Deployment: ['apps', 'deployments'], DaemonSet: ['apps', 'daemonsets'], StatefulSet: ['apps', 'statefulsets'],
  EndpointSlice: ['discovery.k8s.io', 'endpointslices'], Ingress: ['networking.k8s.io', 'ingresses'], NetworkPolicy: ['networking.k8s.io', 'networkpolicies'],
  Gateway: ['gateway.networking.k8s.io', 'gateways'], HTTPRoute: ['gateway.networking.k8s.io', 'httproutes'],
};

interface LabFile { setup?: { manifests?: string[] }; steps: { solution?: { manifests?: string[] } }[] }

const labObjects = readdirSync(LABS, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(LABS, d.name, 'lab.yaml'))).flatMap((d) => {
  const lab = parseYaml(readFileSync(join(LABS, d.name, 'lab.yaml'), 'utf8')) as LabFile;
  const files = [...(lab.setup?.manifests ?? []), ...lab.steps.flatMap((s) => s.solution?.manifests ?? [])];
  return files.flatMap((f) => parseAllDocuments(readFileSync(join(LABS, d.name, f), 'utf8')).map((doc) => ({ lab: d.name, file: f, obj: doc.toJS() as { kind: string } })));
});

describe('learner RBAC covers every lab', () => {
  it('reads the labs (12 labs, their setup and solution manifests)', () => {
    expect(new Set(labObjects.map((o) => o.lab)).size).toBeGreaterThanOrEqual(12);
    expect(labObjects.length).toBeGreaterThan(30);
  });

  it('every kind in a setup or solution manifest can be applied (server-side: patch), replaced and deleted', () => {
    const missing: string[] = [];
    for (const { lab, file, obj } of labObjects) {
      const gr = RESOURCE[obj.kind];
      if (!gr) {
        missing.push(`${lab}/${file}: kind ${obj.kind} is not in this test's table`);
        continue;
      }
      for (const v of ['get', 'create', 'patch', 'update', 'delete']) {
        // Secrets are read only in the work namespaces; everything else cluster-wide.
        const rules = obj.kind === 'Secret' && v === 'get' ? all : cluster;
        if (!allows(rules, v, gr[0], gr[1])) missing.push(`${lab}/${file}: ${v} ${obj.kind}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it.each([
    ['kubectl scale deployment', 'patch', 'apps', 'deployments/scale'],
    ['kubectl scale statefulset', 'patch', 'apps', 'statefulsets/scale'],
    ['kubectl rollout restart (lab 05: kube-proxy)', 'patch', 'apps', 'daemonsets'],
    ['kubectl rollout status', 'watch', 'apps', 'daemonsets'],
    ['kubectl -n kube-system edit configmap kube-proxy', 'patch', '', 'configmaps'],
    ['kubectl replace -f - (lab 05 solution)', 'update', '', 'configmaps'],
    ['kubectl create secret tls (lab 11)', 'create', '', 'secrets'],
    ['kubectl -n kube-system logs -l k8s-app=kube-proxy', 'get', '', 'pods/log'],
    ['kubectl get nodes -o wide (lab 03, 04)', 'list', '', 'nodes'],
    ['kubectl label node … svclab.io/ingress=hostnetwork (lab 11 step 5)', 'patch', '', 'nodes'],
    ['kubectl get servicecidrs (lab 04)', 'list', 'networking.k8s.io', 'servicecidrs'],
    ['kubectl get ingressclass (lab 11)', 'list', 'networking.k8s.io', 'ingressclasses'],
    ['kubectl -n metallb-system get pods (lab 10)', 'list', '', 'pods'],
    ['kubectl delete networkpolicy (lab 12)', 'delete', 'networking.k8s.io', 'networkpolicies'],
    ['kubectl label pods (lab 02)', 'patch', '', 'pods'],
    ['kubectl expose pod (lab 04)', 'create', '', 'services'],
    ['kubectl patch service (lab 07)', 'patch', '', 'services'],
    ['kubectl get events', 'list', 'events.k8s.io', 'events'],
    ['a Gateway API lab: HTTPRoute', 'create', 'gateway.networking.k8s.io', 'httproutes'],
    ['a Gateway API lab: Gateway', 'patch', 'gateway.networking.k8s.io', 'gateways'],
    ['a Gateway API lab: GatewayClass (read)', 'get', 'gateway.networking.k8s.io', 'gatewayclasses'],
    ['kubectl get gateways,httproutes (lab 14)', 'list', 'gateway.networking.k8s.io', 'httproutes'],
    ['kubectl -n traefik get service traefik (lab 11 step 4)', 'get', '', 'services'],
    ['MetalLB pools (read, lab 10)', 'list', 'metallb.io', 'ipaddresspools'],
    ['Traefik (read, lab 11)', 'get', 'apps', 'deployments'],
  ])('%s: %s %s/%s', (_what, verb, group, resource) => {
    expect(allows(cluster, verb, group, resource)).toBe(true);
  });
});
