// The admission policies' shape: matched on the learner group only, every pod-bearing
// kind covered, each refusal in both languages, updates with an unchanged pod spec let
// through, and CEL that at least parses as balanced text (the real tier runs it).
import { describe, expect, it } from 'vitest';
import { LEARNER_GROUP, REFUSALS, refusalText } from '../../src/access/index.ts';
import {
  DEFAULT_CAPABILITIES, HOST_ACCESS_POLICY, NAMESPACES_POLICY, NODES_POLICY, SERVICES_POLICY, hostAccessPolicy, learnerPolicyObjects, namespacesPolicy, nodesPolicy, servicesPolicy, type AdmissionPolicy,
} from '../../src/access/learner-policy.ts';

const CJK = /[\u4e00-\u9fff]/;

/** Quotes closed, brackets balanced outside string literals: what a CEL parser rejects first. */
function balanced(expr: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === "'" || c === '"') {
      const q = c;
      for (i++; i < expr.length && expr[i] !== q; i++) if (expr[i] === '\\') i++;
      if (i >= expr.length) return false;
    } else if ('([{'.includes(c)) stack.push(c);
    else if (c in pairs && stack.pop() !== pairs[c]) return false;
  }
  return stack.length === 0;
}

const expressions = (p: AdmissionPolicy) => [
  ...p.spec.matchConditions.map((m) => m.expression),
  ...(p.spec.variables ?? []).map((v) => v.expression),
  ...p.spec.validations.map((v) => v.expression),
];

describe('admission policies', () => {
  const objects = learnerPolicyObjects();

  it('are admissionregistration.k8s.io/v1, fail closed, and each has a Deny binding', () => {
    const policies = objects.filter((o) => o.kind === 'ValidatingAdmissionPolicy') as AdmissionPolicy[];
    expect(policies.map((p) => p.metadata.name)).toEqual([HOST_ACCESS_POLICY, NAMESPACES_POLICY, SERVICES_POLICY, NODES_POLICY]);
    for (const o of objects) expect(o.apiVersion).toBe('admissionregistration.k8s.io/v1');
    for (const p of policies) expect(p.spec.failurePolicy).toBe('Fail');
    const bindings = objects.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding');
    expect(bindings.map((b) => 'policyName' in b.spec && b.spec.policyName)).toEqual([HOST_ACCESS_POLICY, NAMESPACES_POLICY, SERVICES_POLICY, NODES_POLICY]);
    for (const b of bindings) expect((b.spec as { validationActions: string[] }).validationActions).toEqual(['Deny']);
  });

  it('judge only the learner group, and survive requests without groups', () => {
    for (const p of [hostAccessPolicy(), namespacesPolicy(), servicesPolicy(), nodesPolicy()]) {
      expect(p.spec.matchConditions).toHaveLength(1);
      const e = p.spec.matchConditions[0]!.expression;
      expect(e).toContain(`'${LEARNER_GROUP}' in request.userInfo.groups`);
      expect(e.startsWith('has(request.userInfo.groups) && ')).toBe(true);
    }
  });

  it('read optional request fields (namespace, name, subResource) only with has(): the server leaves empty ones out', () => {
    for (const p of [hostAccessPolicy(), namespacesPolicy(), servicesPolicy(), nodesPolicy()]) {
      for (const e of expressions(p)) expect(e.replace(/\(has\(request\.(namespace|name|subResource)\) \? request\.\1 : ''\)/g, ''), e).not.toMatch(/request\.(namespace|name|subResource)\b/);
    }
  });

  it('CEL expressions are balanced', () => {
    for (const p of [hostAccessPolicy(), namespacesPolicy(), servicesPolicy(), nodesPolicy()]) for (const e of expressions(p)) expect(balanced(e), e).toBe(true);
    expect(balanced("a('x)")).toBe(false);
    expect(balanced('a(b]')).toBe(false);
  });

  it('every refusal message speaks English and Chinese and says why', () => {
    for (const [id, r] of Object.entries(REFUSALS)) {
      expect(CJK.test(r.en), id).toBe(false);
      expect(CJK.test(r.zh), id).toBe(true);
      expect(r.en, id).toMatch(/this workshop/);
      expect(r.zh, id).toMatch(/本工作坊/);
      expect(refusalText(r)).toBe(`${r.en} / ${r.zh}`);
    }
    const messages = [hostAccessPolicy(), namespacesPolicy(), servicesPolicy(), nodesPolicy()].flatMap((p) => p.spec.validations.map((v) => v.message));
    expect(messages.sort()).toEqual(Object.values(REFUSALS).map(refusalText).sort());
  });
});

describe('host-access policy', () => {
  const p = hostAccessPolicy();
  const resources = p.spec.matchConstraints.resourceRules.flatMap((r) => r.resources.map((res) => `${r.apiGroups[0] ? `${r.apiGroups[0]}/` : ''}${res}`));

  it('covers every kind that carries a pod template, and ephemeral containers', () => {
    expect(resources.sort()).toEqual([
      'apps/daemonsets', 'apps/deployments', 'apps/replicasets', 'apps/statefulsets', 'batch/cronjobs', 'batch/jobs',
      'pods', 'pods/ephemeralcontainers', 'podtemplates', 'replicationcontrollers',
    ]);
    for (const r of p.spec.matchConstraints.resourceRules) expect(r.operations).toEqual(['CREATE', 'UPDATE']);
  });

  it('finds the pod spec of each kind', () => {
    const spec = p.spec.variables!.find((v) => v.name === 'spec')!.expression;
    for (const path of ["object.kind == 'Pod' ? object.spec", "object.kind == 'PodTemplate' ? object.template.spec", "object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec", 'object.spec.template.spec']) {
      expect(spec).toContain(path);
    }
    const containers = p.spec.variables!.find((v) => v.name === 'containers')!.expression;
    for (const c of ['containers', 'initContainers', 'ephemeralContainers']) expect(containers).toContain(`variables.spec.${c}`);
  });

  it('lets an update through when the pod spec is unchanged (lab 05: rollout restart of kube-proxy), and judges every other one in full', () => {
    expect(p.spec.variables!.find((v) => v.name === 'unchanged')!.expression).toBe('variables.oldSpec != null && variables.oldSpec == variables.spec');
    expect(p.spec.variables!.find((v) => v.name === 'oldSpec')!.expression).toContain("request.operation == 'UPDATE'");
    for (const v of p.spec.validations) expect(v.expression.startsWith('variables.unchanged || !(')).toBe(true);
  });

  it.each([
    ['privileged', 'c.securityContext.privileged == true'],
    ['hostNamespaces', 'variables.spec.hostPID == true'],
    ['hostNamespaces', 'variables.spec.hostIPC == true'],
    ['hostNetwork', 'variables.spec.hostNetwork == true'],
    ['hostPath', 'has(v.hostPath)'],
    ['hostPort', 'p.hostPort != 0'],
    ['capabilities', 'a.upperAscii() in variables.defaultCapabilities'],
  ] as const)('%s is refused by a rule that tests %s', (id, test) => {
    const v = p.spec.validations.find((x) => x.message === refusalText(REFUSALS[id]))!;
    expect(v.expression).toContain(test);
    expect(v.reason).toBe('Forbidden');
  });

  it('allows adding only what the runtime gives anyway, with or without CAP_', () => {
    const list = p.spec.variables!.find((v) => v.name === 'defaultCapabilities')!.expression;
    for (const c of DEFAULT_CAPABILITIES) {
      expect(list).toContain(`'${c}'`);
      expect(list).toContain(`'CAP_${c}'`);
    }
    for (const c of ['NET_ADMIN', 'SYS_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'ALL', 'BPF']) expect(list).not.toContain(`'${c}'`);
  });
});

describe('namespaces policy', () => {
  const p = namespacesPolicy();

  it('sees every write, delete and exec/attach/port-forward on any resource', () => {
    expect(p.spec.matchConstraints.resourceRules).toEqual([{ apiGroups: ['*'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'], resources: ['*/*'], scope: '*' }]);
  });

  it('names the add-ons and system namespaces, and judges a Namespace by its own name', () => {
    const [addons, system] = p.spec.validations;
    // Read-only, but for lab 12's NetworkPolicy in the ingress controller's namespace.
    expect(addons!.expression).toBe("!(variables.ns in ['traefik', 'metallb-system']) || (variables.ns == 'traefik' && request.resource.group == 'networking.k8s.io' && request.resource.resource == 'networkpolicies')");
    expect(system!.expression).toBe("!(variables.ns in ['kube-system', 'kube-public', 'kube-node-lease']) || variables.kubeProxy");
    expect(p.spec.variables!.find((v) => v.name === 'ns')!.expression).toBe("request.resource.group == '' && request.resource.resource == 'namespaces' ? (has(request.name) ? request.name : '') : (has(request.namespace) ? request.namespace : '')");
  });

  it("in kube-system lets through only UPDATEs of kube-proxy's ConfigMap and DaemonSet", () => {
    const kp = p.spec.variables!.find((v) => v.name === 'kubeProxy')!.expression;
    for (const part of ["(has(request.namespace) ? request.namespace : '') == 'kube-system'", "request.operation == 'UPDATE'", "(has(request.subResource) ? request.subResource : '') == ''", "(has(request.name) ? request.name : '') == 'kube-proxy'", "request.resource.resource == 'configmaps'", "request.resource.group == 'apps' && request.resource.resource == 'daemonsets'"]) {
      expect(kp).toContain(part);
    }
    const pods = p.spec.validations.find((v) => v.message === refusalText(REFUSALS.kubeProxyPods))!.expression;
    expect(pods).toContain('object.spec.template.spec == oldObject.spec.template.spec');
    const config = p.spec.validations.find((v) => v.message === refusalText(REFUSALS.kubeProxyConfig))!.expression;
    expect(config).toContain("k == 'config.conf'");
  });
});

describe('services policy', () => {
  const p = servicesPolicy();

  it('sees Services, Endpoints and EndpointSlices being made, changed or deleted', () => {
    expect(p.spec.matchConstraints.resourceRules.map((r) => [r.apiGroups, r.resources, r.operations])).toEqual([
      [[''], ['services', 'endpoints'], ['CREATE', 'UPDATE', 'DELETE']],
      [['discovery.k8s.io'], ['endpointslices'], ['CREATE', 'UPDATE', 'DELETE']],
    ]);
  });

  it('refuses new externalIPs but lets unchanged ones through', () => {
    const v = p.spec.validations.find((x) => x.message === refusalText(REFUSALS.externalIPs))!.expression;
    expect(v).toContain('size((has(object.spec.externalIPs) ? object.spec.externalIPs : [])) == 0');
    expect(v).toContain('(has(oldObject.spec.externalIPs) ? oldObject.spec.externalIPs : []) == (has(object.spec.externalIPs)');
  });

  it("keeps the Service kubernetes and its endpoints in default, judging a slice by its service-name label before and after", () => {
    const v = p.spec.validations.find((x) => x.message === refusalText(REFUSALS.apiService))!.expression;
    expect(v.startsWith("(has(request.namespace) ? request.namespace : '') != 'default' || ")).toBe(true);
    expect(v).toContain("object.metadata.labels['kubernetes.io/service-name'] == 'kubernetes'");
    expect(v).toContain("oldObject.metadata.labels['kubernetes.io/service-name'] == 'kubernetes'");
    expect(v).toContain("(has(request.name) ? request.name : '') != 'kubernetes'");
    expect(p.spec.variables).toBeUndefined();
  });
});

describe('nodes policy', () => {
  const p = nodesPolicy();
  const v = p.spec.validations[0]!;
  const variable = (name: string) => p.spec.variables!.find((x) => x.name === name)!.expression;

  it('sees the node object itself being made, changed or deleted (no subresource: RBAC grants none)', () => {
    expect(p.spec.matchConstraints.resourceRules).toEqual([{ apiGroups: [''], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['nodes'] }]);
    expect(p.spec.validations).toHaveLength(1);
    expect(v.message).toBe(refusalText(REFUSALS.nodeChange));
    expect(REFUSALS.nodeChange.en).toContain('svclab.io/ingress=hostnetwork');
    expect(REFUSALS.nodeChange.zh).toContain('svclab.io/ingress=hostnetwork');
  });

  it('allows an UPDATE only, that keeps every other label and sets the one label to its one value or removes it', () => {
    expect(v.expression.startsWith("request.operation == 'UPDATE' && variables.otherLabelsKept && variables.valueAllowed")).toBe(true);
    // both directions: no other label added or changed, none removed
    expect(variable('otherLabelsKept')).toBe(
      "variables.labels.all(k, k == 'svclab.io/ingress' || (k in variables.oldLabels && variables.oldLabels[k] == variables.labels[k]))"
      + " && variables.oldLabels.all(k, k == 'svclab.io/ingress' || k in variables.labels)",
    );
    expect(variable('valueAllowed')).toBe("!('svclab.io/ingress' in variables.labels) || variables.labels['svclab.io/ingress'] == 'hostnetwork'");
    expect(variable('oldLabels')).toContain('oldObject != null ?');
  });

  it('keeps annotations, finalizers, owners and the whole spec (taints, cordon) as they were', () => {
    for (const part of [
      '(has(object.metadata.annotations) ? object.metadata.annotations : {}) == (has(oldObject.metadata.annotations) ? oldObject.metadata.annotations : {})',
      '(has(object.metadata.finalizers) ? object.metadata.finalizers : []) == (has(oldObject.metadata.finalizers) ? oldObject.metadata.finalizers : [])',
      '(has(object.metadata.ownerReferences) ? object.metadata.ownerReferences : []) == (has(oldObject.metadata.ownerReferences)',
      '(has(object.spec) ? object.spec : {}) == (has(oldObject.spec) ? oldObject.spec : {})',
    ]) expect(v.expression).toContain(part);
  });
});
