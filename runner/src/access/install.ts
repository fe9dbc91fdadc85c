// Installing learner access into a running cluster, as ordered named steps with
// progress: the learner's certificate, their RBAC, the admission policies, and a
// probe that the policies are in force (a privileged pod refused for the learner,
// cluster-admin out of reach). Running it again converges (server-side apply) and
// reuses the learner's certificate. checkLearnerAccess tells whether the objects are
// still as installed, for a pool's recycle.

import { isDeepStrictEqual } from 'node:util';
import { stringify as stringifyYaml } from 'yaml';
import { runSteps, type BringUpStep, type StepsOutcome } from '../cluster/bring-up-steps.ts';
import type { StepEvent } from '../cluster/cluster-driver.ts';
import { RunnerError } from '../errors.ts';
import { lastLine, outputTail, type Shell } from '../exec/shell.ts';
import { ADMIN_KUBECONFIG, Kubectl, SVCLAB_FIELD_MANAGER } from '../kube/kubectl.ts';
import {
  LEARNER_GROUP, LEARNER_KUBECONFIG_PATH, LEARNER_USER, issueLearnerKubeconfig, workstationLearnerKubeconfig, type LearnerCertificate,
} from './learner-identity.ts';
import { REFUSALS, learnerPolicyObjects } from './learner-policy.ts';
import { DEFAULT_WORK_NAMESPACES, learnerRbacObjects } from './learner-rbac.ts';

export interface LearnerAccessDeps {
  /** A root shell on the cluster's control-plane node: nodeShell(driver, cluster, controlPlaneNode(cluster)). */
  controlPlane: Shell;
  /** How long to wait for the API server to enforce new policies. */
  enforceTimeoutMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface LearnerAccessOptions {
  /** Namespaces where the learner may also read Secrets and exec into pods (default: default). */
  workNamespaces?: readonly string[];
  /** Lifetime of a newly issued certificate (default 30 days); a kept one with less than a day left is replaced. */
  validityHours?: number;
  onStep?: (e: StepEvent) => void;
  signal?: AbortSignal;
}

export interface LearnerAccess extends StepsOutcome {
  /** For the workstation's ~/.kube/config: server https://127.0.0.1:6443, the learner's certificate. */
  kubeconfig: string;
  /** The same credentials on the control-plane node (root only), for `kubectl --kubeconfig` there. */
  nodeKubeconfigPath: string;
  user: string;
  group: string;
  certificate: LearnerCertificate;
  /** The certificate was kept from an earlier install. */
  reused: boolean;
}

/** A Kubernetes object svclab made for learner access: its kind, resource and name. */
export interface AccessObjectRef {
  kind: string;
  /** kubectl's resource.group name, e.g. validatingadmissionpolicies.admissionregistration.k8s.io */
  resource: string;
  name: string;
  namespace?: string;
}

const RESOURCE_OF: Record<string, string> = {
  ClusterRole: 'clusterroles.rbac.authorization.k8s.io',
  ClusterRoleBinding: 'clusterrolebindings.rbac.authorization.k8s.io',
  RoleBinding: 'rolebindings.rbac.authorization.k8s.io',
  ValidatingAdmissionPolicy: 'validatingadmissionpolicies.admissionregistration.k8s.io',
  ValidatingAdmissionPolicyBinding: 'validatingadmissionpolicybindings.admissionregistration.k8s.io',
};

interface Obj { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } }

/** Every object installLearnerAccess applies, in order: RBAC, then the policies and their bindings. */
export function learnerAccessObjects(o: Pick<LearnerAccessOptions, 'workNamespaces'> = {}): Obj[] {
  return [...learnerRbacObjects(o.workNamespaces ?? DEFAULT_WORK_NAMESPACES), ...learnerPolicyObjects()];
}

/**
 * What a pool's baseline should record so that a recycle can tell whether learner
 * access was removed or changed: the kinds (as kind → resource, for `kubectl get`) and
 * each object. A learner can't touch them; this is the check that they didn't.
 */
export function learnerAccessBaseline(o: Pick<LearnerAccessOptions, 'workNamespaces'> = {}): { kinds: Record<string, string>; objects: AccessObjectRef[] } {
  const objects = learnerAccessObjects(o).map((x) => ({ kind: x.kind, resource: RESOURCE_OF[x.kind]!, name: x.metadata.name, ...(x.metadata.namespace ? { namespace: x.metadata.namespace } : {}) }));
  return { kinds: { ...RESOURCE_OF }, objects };
}

const asList = (items: readonly unknown[]) => stringifyYaml({ apiVersion: 'v1', kind: 'List', items }, { lineWidth: 0 });

/** A pod the learner must not make: the probe that the host-access policy is in force (dry run, nothing stored). */
function probePod(namespace: string): string {
  return asList([{
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'svclab-access-probe', namespace },
    spec: { containers: [{ name: 'probe', image: 'svclab/web:latest', securityContext: { privileged: true } }] },
  }]);
}

/**
 * Give `controlPlane`'s cluster a learner identity that is not cluster-admin, and
 * return its kubeconfig. Throws a RunnerError naming the step when a step fails
 * (CLUSTER_FAILED, with the command and its output tail in details).
 */
export async function installLearnerAccess(deps: LearnerAccessDeps, o: LearnerAccessOptions = {}): Promise<LearnerAccess> {
  const admin = new Kubectl({ shell: deps.controlPlane, kubeconfig: ADMIN_KUBECONFIG, requestTimeout: '30s' });
  const learner = admin.with({ kubeconfig: LEARNER_KUBECONFIG_PATH });
  const work = o.workNamespaces ?? DEFAULT_WORK_NAMESPACES;
  const signal = o.signal ? { signal: o.signal } : {};
  let issued: Awaited<ReturnType<typeof issueLearnerKubeconfig>> | undefined;

  const apply = async (step: string, objects: readonly unknown[]) => {
    const r = await admin.apply(asList(objects), { serverSide: true, forceConflicts: true, fieldManager: SVCLAB_FIELD_MANAGER }, { timeoutMs: 90_000, ...signal });
    if (r.exitCode !== 0) throw stepError(step, r);
    return `${objects.length} objects`;
  };

  const step = (id: string, title: string, run: () => Promise<string | void>): BringUpStep => ({ id, title, run });
  const steps: BringUpStep[] = [
    step('access-identity', `Learner access: certificate for ${LEARNER_USER} (group ${LEARNER_GROUP})`, async () => {
      issued = await issueLearnerKubeconfig(deps.controlPlane, { ...(o.validityHours ? { validityHours: o.validityHours } : {}), ...signal });
      return `${issued.reused ? 'kept' : 'issued'}, valid until ${issued.certificate.notAfter.toISOString()}`;
    }),
    step('access-rbac', 'Learner access: roles and bindings', () => apply('access-rbac', learnerRbacObjects(work))),
    step('access-policy', 'Learner access: admission policies (no privileged, host namespaces, hostPath, hostPort, added capabilities; svclab namespaces read-only; on nodes only lab 11\'s label)', () =>
      apply('access-policy', learnerPolicyObjects())),
    step('access-verify', 'Learner access: in force (cluster-admin out of reach, a privileged pod refused)', async () => {
      for (const [args, want] of [[['auth', 'can-i', 'create', 'clusterrolebindings'], 'no'], [['auth', 'can-i', 'create', 'deployments', '-n', work[0] ?? 'default'], 'yes']] as const) {
        const r = await learner.run(args, { timeoutMs: 30_000, ...signal });
        if (r.stdout.trim() !== want) {
          throw new RunnerError('CLUSTER_FAILED', { message: `Learner access: \`kubectl ${args.join(' ')}\` as ${LEARNER_USER} answers "${r.stdout.trim() || lastLine(r.stderr)}", not "${want}".`, details: { args, output: outputTail(r) } });
        }
      }
      // The API server loads a new policy a moment after it is stored: probe until it refuses.
      const now = deps.now ?? (() => performance.now());
      const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((res) => setTimeout(res, ms)));
      const deadline = now() + (deps.enforceTimeoutMs ?? 60_000);
      for (let attempt = 1; ; attempt++) {
        const r = await learner.apply(probePod(work[0] ?? 'default'), { serverSide: true, dryRun: 'server' }, { timeoutMs: 30_000, ...signal });
        if (r.exitCode !== 0 && r.stderr.includes(REFUSALS.privileged.en)) return `a privileged pod is refused${attempt > 1 ? ` (after ${attempt} tries)` : ''}`;
        if (r.exitCode !== 0 && !/denied|forbidden|refused|timeout|connection/i.test(r.stderr)) throw stepError('access-verify', r);
        if (now() > deadline) {
          throw new RunnerError('CLUSTER_FAILED', {
            message: `Learner access: the admission policy is not in force: a privileged pod was ${r.exitCode === 0 ? 'accepted' : `refused for another reason: ${lastLine(r.stderr)}`}.`,
            hint: 'ValidatingAdmissionPolicy needs Kubernetes 1.30 or later; `svclab images status` shows the node image.',
            details: { output: outputTail(r) },
          });
        }
        await sleep(1000);
      }
    }),
  ];
  const outcome = await runSteps(steps, { ...(o.onStep ? { onStep: o.onStep } : {}), ...signal, ...(deps.now ? { now: deps.now } : {}) });
  return {
    ...outcome,
    kubeconfig: workstationLearnerKubeconfig(issued!.kubeconfig),
    nodeKubeconfigPath: LEARNER_KUBECONFIG_PATH,
    user: LEARNER_USER,
    group: LEARNER_GROUP,
    certificate: issued!.certificate,
    reused: issued!.reused,
  };
}

function stepError(step: string, r: { argv: readonly string[]; exitCode: number; stdout: string; stderr: string }): RunnerError {
  return new RunnerError('CLUSTER_FAILED', {
    message: `Installing learner access, step "${step}": \`${r.argv.join(' ')}\` failed: ${lastLine(r.stderr || r.stdout)}`,
    details: { step, argv: r.argv, exitCode: r.exitCode, output: outputTail(r, 30) },
  });
}

/** Is `want` contained in `have`: every field of want equal in have (the server adds defaults and metadata). */
export function containedIn(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && want.length === have.length && want.every((w, i) => containedIn(w, have[i]));
  if (want && typeof want === 'object') {
    return !!have && typeof have === 'object' && !Array.isArray(have) && Object.entries(want).every(([k, v]) => containedIn(v, (have as Record<string, unknown>)[k]));
  }
  return isDeepStrictEqual(want, have);
}

/**
 * Are the learner-access objects in the cluster as installLearnerAccess made them?
 * `problems` names each one that is gone or changed; a pool treats such a cluster
 * as untrusted.
 */
export async function checkLearnerAccess(deps: Pick<LearnerAccessDeps, 'controlPlane'>, o: Pick<LearnerAccessOptions, 'workNamespaces'> = {}): Promise<{ ok: boolean; problems: string[] }> {
  const admin = new Kubectl({ shell: deps.controlPlane, kubeconfig: ADMIN_KUBECONFIG, requestTimeout: '30s' });
  const problems: string[] = [];
  for (const want of learnerAccessObjects(o) as (Obj & Record<string, unknown>)[]) {
    const ref = `${want.kind}/${want.metadata.namespace ? `${want.metadata.namespace}/` : ''}${want.metadata.name}`;
    const target = [RESOURCE_OF[want.kind]!, want.metadata.name];
    const r = await admin.get(target, { output: 'json', ignoreNotFound: true, ...(want.metadata.namespace ? { namespace: want.metadata.namespace } : {}) }, { timeoutMs: 45_000 });
    if (r.exitCode !== 0) {
      problems.push(`${ref} could not be read: ${lastLine(r.stderr)}`);
      continue;
    }
    if (!r.stdout.trim()) {
      problems.push(`${ref} is gone`);
      continue;
    }
    const have = JSON.parse(r.stdout) as Record<string, unknown>;
    const { apiVersion: _a, metadata, ...content } = want;
    if (!containedIn(content, have) || !containedIn({ labels: metadata.labels ?? {} }, have.metadata)) problems.push(`${ref} was changed`);
  }
  return { ok: problems.length === 0, problems };
}
