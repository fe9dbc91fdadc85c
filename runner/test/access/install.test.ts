// installLearnerAccess against a FakeShell standing for the control-plane node: the
// certificate kept or issued, what is applied and how, the probe that waits for the
// policies to be in force, and checkLearnerAccess telling a changed or missing object.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  LEARNER_KUBECONFIG_PATH, REFUSALS, checkLearnerAccess, readLearnerKubeconfig, installLearnerAccess, learnerAccessBaseline, learnerAccessObjects, refusalText,
} from '../../src/access/index.ts';
import { containedIn } from '../../src/access/install.ts';
import { kubeconfigCertificate, workstationLearnerKubeconfig } from '../../src/access/learner-identity.ts';
import { isRunnerError } from '../../src/errors.ts';
import { FakeShell } from '../../src/exec/fake-shell.ts';

const KUBEADM_OUT = readFileSync(join(import.meta.dirname, 'fixtures', 'kubeadm-learner.conf'), 'utf8');
const NOT_AFTER = kubeconfigCertificate(KUBEADM_OUT).notAfter;
const ADMIN = ['kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', '--request-timeout=30s'];
const LEARNER = ['kubectl', `--kubeconfig=${LEARNER_KUBECONFIG_PATH}`, '--request-timeout=30s'];
const DENIED = `Error from server (Forbidden): error when creating "STDIN": pods "svclab-access-probe" is forbidden: ValidatingAdmissionPolicy 'svclab-learner-host-access' with binding 'svclab-learner-host-access' denied request: ${refusalText(REFUSALS.privileged)}`;

/** A control-plane node: a kept kubeconfig or none, kubeadm, admin apply, and the learner's answers. */
function node(o: { kept?: string; probes?: { exitCode: number; stderr?: string }[]; canI?: Record<string, string> } = {}) {
  const shell = new FakeShell();
  let saved: string | undefined;
  shell.on(['cat', LEARNER_KUBECONFIG_PATH], () => (o.kept ? { stdout: o.kept } : { exitCode: 1, stderr: 'No such file or directory' }));
  shell.on(['kubeadm', 'kubeconfig', 'user'], { stdout: KUBEADM_OUT });
  shell.on(['sh', '-c'], (_argv, opts) => { saved = opts.input; return {}; });
  shell.on([...ADMIN, 'apply'], { stdout: 'serverside-applied' });
  const canI: Record<string, string> = { clusterrolebindings: 'no', deployments: 'yes', ...o.canI };
  shell.on([...LEARNER, 'auth', 'can-i', 'create'], (argv) => {
    const answer = canI[argv[6]!]!;
    return { exitCode: answer === 'yes' ? 0 : 1, stdout: `${answer}\n` };
  });
  const probes = [...(o.probes ?? [{ exitCode: 1, stderr: DENIED }])];
  shell.on([...LEARNER, 'apply'], () => probes.length > 1 ? probes.shift()! : probes[0]!);
  return { shell, saved: () => saved };
}

const fast = { now: (() => { let t = 0; return () => (t += 1000); })(), sleep: async () => undefined };

describe('installLearnerAccess', () => {
  it('issues a certificate with kubeadm for svclab:learner in svclab:learners, keeps it root-only on the node, and returns a workstation kubeconfig', async () => {
    const n = node();
    const events: string[] = [];
    const access = await installLearnerAccess({ controlPlane: n.shell, ...fast }, { onStep: (e) => events.push(`${e.id}:${e.state}`) });
    const kubeadm = n.shell.calls.find((c) => c.argv[0] === 'kubeadm')!.argv;
    expect(kubeadm).toEqual(['kubeadm', 'kubeconfig', 'user', '--config=/kind/kubeadm.conf', '--client-name=svclab:learner', '--org=svclab:learners', '--validity-period=720h']);
    expect(n.saved()).toBe(KUBEADM_OUT);
    expect(n.shell.calls.find((c) => c.argv[0] === 'sh')!.argv[2]).toBe(`umask 077 && cat > ${LEARNER_KUBECONFIG_PATH}`);
    expect(access.reused).toBe(false);
    expect(access.certificate.notAfter).toEqual(NOT_AFTER);
    const kc = parseYaml(access.kubeconfig) as { clusters: { cluster: { server: string } }[]; users: { name: string }[]; contexts: { context: { namespace: string } }[] };
    expect(kc.clusters[0]!.cluster.server).toBe('https://127.0.0.1:6443');
    expect(kc.users[0]!.name).toBe('svclab:learner');
    expect(kc.contexts[0]!.context.namespace).toBe('default');
    expect(events.filter((e) => e.endsWith(':ok'))).toEqual(['access-identity:ok', 'access-rbac:ok', 'access-policy:ok', 'access-verify:ok']);
  });

  it('applies with admin credentials, server-side, as field manager svclab: RBAC first, then the policies', async () => {
    const n = node();
    await installLearnerAccess({ controlPlane: n.shell, ...fast });
    const applies = n.shell.calls.filter((c) => c.argv.slice(0, 4).join(' ') === [...ADMIN, 'apply'].join(' '));
    expect(applies.map((c) => c.argv.slice(3))).toEqual([
      ['apply', '--server-side', '--force-conflicts', '--field-manager=svclab', '-f', '-'],
      ['apply', '--server-side', '--force-conflicts', '--field-manager=svclab', '-f', '-'],
    ]);
    const kinds = applies.map((c) => (parseYaml(c.opts.input!) as { items: { kind: string }[] }).items.map((i) => i.kind));
    expect(kinds).toEqual([
      ['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'RoleBinding'],
      [...Array(4).fill('ValidatingAdmissionPolicy'), ...Array(4).fill('ValidatingAdmissionPolicyBinding')],
    ]);
  });

  it('keeps a certificate with time left; replaces one about to expire', async () => {
    const kept = node({ kept: KUBEADM_OUT });
    const a = await installLearnerAccess({ controlPlane: kept.shell, ...fast });
    expect(a.reused).toBe(true);
    expect(kept.shell.calls.some((c) => c.argv[0] === 'kubeadm')).toBe(false);

    const old = node({ kept: KUBEADM_OUT });
    const { issueLearnerKubeconfig } = await import('../../src/access/learner-identity.ts');
    const r = await issueLearnerKubeconfig(old.shell, { now: () => new Date(NOT_AFTER.getTime() - 3600_000) });
    expect(r.reused).toBe(false);
    expect(old.shell.calls.some((c) => c.argv[0] === 'kubeadm')).toBe(true);
  });

  it('waits until the API server enforces the policy (a privileged pod first accepted, then refused)', async () => {
    const n = node({ probes: [{ exitCode: 0 }, { exitCode: 0 }, { exitCode: 1, stderr: DENIED }] });
    const events: string[] = [];
    await installLearnerAccess({ controlPlane: n.shell, ...fast }, { onStep: (e) => { if (e.state === 'ok' && e.detail) events.push(e.detail); } });
    expect(events.at(-1)).toBe('a privileged pod is refused (after 3 tries)');
    const probe = n.shell.calls.filter((c) => c.argv[3] === 'apply' && c.argv[1]!.includes('learner'));
    expect(probe[0]!.argv.slice(3)).toEqual(['apply', '--server-side', '--dry-run=server', '-f', '-']);
    expect(probe[0]!.opts.input).toContain('privileged: true');
  });

  it('fails naming the step when the policy never refuses', async () => {
    const n = node({ probes: [{ exitCode: 0 }] });
    const e = await installLearnerAccess({ controlPlane: n.shell, ...fast, enforceTimeoutMs: 5_000 }).catch((x: unknown) => x);
    expect(isRunnerError(e) && e.code).toBe('CLUSTER_FAILED');
    expect((e as Error).message).toMatch(/admission policy is not in force: a privileged pod was accepted/);
  });

  it('fails when the learner could bind themselves to cluster-admin', async () => {
    const n = node({ canI: { clusterrolebindings: 'yes' } });
    const e = await installLearnerAccess({ controlPlane: n.shell, ...fast }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/auth can-i create clusterrolebindings` as svclab:learner answers "yes", not "no"/);
  });

  it('fails with kubeadm\'s words when the certificate cannot be issued', async () => {
    const n = node();
    n.shell.on(['kubeadm'], { exitCode: 1, stderr: 'open /etc/kubernetes/pki/ca.key: no such file or directory' });
    const e = await installLearnerAccess({ controlPlane: n.shell, ...fast }).catch((x: unknown) => x);
    expect(isRunnerError(e) && e.code).toBe('CLUSTER_FAILED');
    expect((e as Error).message).toContain('ca.key: no such file or directory');
  });
});

describe('learner kubeconfig', () => {
  it('is read back from the node without installing, or undefined where access was never installed', async () => {
    const kc = await readLearnerKubeconfig(node({ kept: KUBEADM_OUT }).shell);
    expect(kc).toBe(workstationLearnerKubeconfig(KUBEADM_OUT));
    expect(kc).toContain('server: https://127.0.0.1:6443');
    expect(await readLearnerKubeconfig(node().shell)).toBeUndefined();
  });

  it('refuses a kubeconfig without a key', () => {
    expect(() => workstationLearnerKubeconfig(KUBEADM_OUT.replace(/client-key-data: .*/, ''))).toThrow(/lacks the CA, the certificate or the key/);
  });
});

describe('checkLearnerAccess and the baseline', () => {
  const live = () => new Map(learnerAccessObjects().map((o) => [`${o.metadata.name}/${o.kind}`, structuredClone(o) as unknown as Record<string, unknown>]));
  function cluster(objects: Map<string, Record<string, unknown>>) {
    const shell = new FakeShell();
    const kinds = learnerAccessBaseline().kinds;
    shell.on([...ADMIN, 'get'], (argv) => {
      const [resource, name] = [argv[4]!, argv[5]!];
      const kind = Object.entries(kinds).find(([, r]) => r === resource)![0];
      const o = objects.get(`${name}/${kind}`);
      // What the server adds must not count as a change.
      return { stdout: o ? JSON.stringify({ ...o, metadata: { ...(o.metadata as object), uid: 'u1', resourceVersion: '7' }, status: {} }) : '' };
    });
    return shell;
  }

  it('is ok on the objects as installed, with server fields added', async () => {
    expect(await checkLearnerAccess({ controlPlane: cluster(live()) })).toEqual({ ok: true, problems: [] });
  });

  it('names a policy that is gone and a role that was changed', async () => {
    const objects = live();
    objects.delete('svclab-learner-host-access/ValidatingAdmissionPolicyBinding');
    const role = objects.get('svclab:learner/ClusterRole')!;
    (role.rules as unknown[]).push({ apiGroups: ['*'], resources: ['*'], verbs: ['*'] });
    expect(await checkLearnerAccess({ controlPlane: cluster(objects) })).toEqual({
      ok: false,
      problems: ['ClusterRole/svclab:learner was changed', 'ValidatingAdmissionPolicyBinding/svclab-learner-host-access is gone'],
    });
  });

  it('lists every object with its resource for a pool baseline', () => {
    const b = learnerAccessBaseline();
    expect(b.objects.map((o) => `${o.resource} ${o.namespace ?? '-'} ${o.name}`)).toEqual([
      'clusterroles.rbac.authorization.k8s.io - svclab:learner',
      'clusterroles.rbac.authorization.k8s.io - svclab:learner-workspace',
      'clusterrolebindings.rbac.authorization.k8s.io - svclab:learner',
      'rolebindings.rbac.authorization.k8s.io default svclab:learner-workspace',
      'validatingadmissionpolicies.admissionregistration.k8s.io - svclab-learner-host-access',
      'validatingadmissionpolicies.admissionregistration.k8s.io - svclab-learner-namespaces',
      'validatingadmissionpolicies.admissionregistration.k8s.io - svclab-learner-services',
      'validatingadmissionpolicies.admissionregistration.k8s.io - svclab-learner-nodes',
      'validatingadmissionpolicybindings.admissionregistration.k8s.io - svclab-learner-host-access',
      'validatingadmissionpolicybindings.admissionregistration.k8s.io - svclab-learner-namespaces',
      'validatingadmissionpolicybindings.admissionregistration.k8s.io - svclab-learner-services',
      'validatingadmissionpolicybindings.admissionregistration.k8s.io - svclab-learner-nodes',
    ]);
  });

  it('containedIn: server defaults may be added; list lengths and values must match', () => {
    expect(containedIn({ a: [1, { b: 2 }] }, { a: [1, { b: 2, c: 3 }], d: 4 })).toBe(true);
    expect(containedIn({ a: [1] }, { a: [1, 2] })).toBe(false);
    expect(containedIn({ a: { b: 2 } }, { a: { b: 3 } })).toBe(false);
    expect(containedIn({ a: 1 }, undefined)).toBe(false);
  });
});
