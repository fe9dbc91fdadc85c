// A refusal in the learner's words: the policies' own bilingual messages pass through,
// RBAC's "forbidden: User … cannot …" is translated, other errors are left alone.
import { describe, expect, it } from 'vitest';
import { REFUSALS, explainRefusal, refusalText } from '../../src/access/index.ts';

describe('explainRefusal', () => {
  it('recognises a policy refusal', () => {
    const msg = `Error from server (Forbidden): error when creating "STDIN": pods "x" is forbidden: ValidatingAdmissionPolicy 'svclab-learner-host-access' with binding 'svclab-learner-host-access' denied request: ${refusalText(REFUSALS.hostPath)}`;
    expect(explainRefusal(msg)).toEqual(REFUSALS.hostPath);
  });

  it('translates an RBAC refusal of the learner, naming what and why', () => {
    const crb = 'Error from server (Forbidden): clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "svclab:learner" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope';
    expect(explainRefusal(crb)).toEqual({
      en: "this workshop doesn't let you create clusterrolebindings.rbac.authorization.k8s.io: it would change who may do what in the cluster",
      zh: '本工作坊不允许 create clusterrolebindings.rbac.authorization.k8s.io：这会改变集群里谁能做什么',
    });
    const vap = 'validatingadmissionpolicies.admissionregistration.k8s.io "svclab-learner-host-access" is forbidden: User "svclab:learner" cannot delete resource "validatingadmissionpolicies" in API group "admissionregistration.k8s.io" at the cluster scope';
    expect(explainRefusal(vap)?.en).toBe("this workshop doesn't let you delete validatingadmissionpolicies.admissionregistration.k8s.io: it would switch off this workshop's safety rules");
    const secret = 'secrets "bootstrap-token-abcdef" is forbidden: User "svclab:learner" cannot get resource "secrets" in API group "" in the namespace "kube-system"';
    expect(explainRefusal(secret)?.en).toBe("this workshop doesn't let you get secrets in kube-system: Secrets are readable only in the namespace default");
    expect(explainRefusal('nodes "n" is forbidden: User "svclab:learner" cannot get resource "nodes/proxy" in API group "" at the cluster scope')?.zh).toContain('节点属于工作坊的机器');
  });

  it('leaves other errors and other users alone', () => {
    expect(explainRefusal('Error from server (NotFound): deployments.apps "web" not found')).toBeUndefined();
    expect(explainRefusal('pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"')).toBeUndefined();
  });
});
