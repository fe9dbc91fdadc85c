// Real tier: validate through LabActions on a live kind cluster (svclab-play-t) with
// learner access installed. As the learner (the learner's kubeconfig and certificate,
// the ones the workstation gets), a lab whose Solve needs a cluster-scoped write fails
// validate, though the same lab passes with admin kubectl (what validate used to
// do); and a lab whose Reset leaves step 1's object behind fails as a Reset
// regression. Runs when docker answers and the kind binary and node image are
// current; otherwise one SKIP line. SVCLAB_TEST_KIND / SVCLAB_TEST_NODE_IMAGE pin them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installLearnerAccess, LEARNER_KUBECONFIG_PATH } from '../../src/access/index.ts';
import { systemClock, type CheckContext } from '../../src/checks/check.ts';
import { ClientNodeKubeApi } from '../../src/checks/kube-api.ts';
import { kindBinary, nodeImageRef } from '../../src/cluster/cluster-tools.ts';
import { KindDriver } from '../../src/cluster/kind-driver.ts';
import { controlPlaneNode, nodeShell } from '../../src/cluster/node-shell.ts';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { isRunnerError } from '../../src/errors.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { defaultCacheDir, defaultImagesDir } from '../../src/images/images.ts';
import { ADMIN_KUBECONFIG, Kubectl } from '../../src/kube/kubectl.ts';
import type { Lab } from '../../src/labs/load-labs.ts';
import { LabActions } from '../../src/play/lab-actions.ts';
import { validateLabs, type ValidateTarget } from '../../src/play/validate-labs.ts';
import { configMap, configMapCheck, labSpec, stepSpec, writeLab } from './fake-lab-cluster.ts';

const CLUSTER = 'svclab-play-t';
const runner = new ExecaRunner();
const engine = new DockerEngine({ runner, queryTimeoutMs: 15_000 });
const imagesDeps = { runner, engine, imagesDir: defaultImagesDir(), cacheDir: defaultCacheDir() };

const real = await (async (): Promise<{ skip: string } | { driver: KindDriver; nodeImage: string }> => {
  try {
    await engine.info();
  } catch (e) {
    return { skip: isRunnerError(e) ? `${e.code}: ${e.message}` : String(e) };
  }
  try {
    const kind = process.env['SVCLAB_TEST_KIND'] ?? (await kindBinary(imagesDeps));
    const nodeImage = process.env['SVCLAB_TEST_NODE_IMAGE'] ?? (await nodeImageRef(imagesDeps));
    if (!(await engine.imageExists(nodeImage))) return { skip: `the node image ${nodeImage} is not in docker` };
    return { driver: new KindDriver({ runner, engine, kindPath: kind, stateDir: `${defaultCacheDir()}/clusters` }), nodeImage };
  } catch (e) {
    return { skip: isRunnerError(e) ? `${e.code}: ${e.message} (run \`svclab images build\`)` : String(e) };
  }
})();
if ('skip' in real) console.log(`SKIP play validate (real): ${real.skip}`);

const ROLE = 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: { name: svclab-play-reader }\nrules: [{ apiGroups: [""], resources: [pods], verbs: [get] }]\n';

describe.skipIf('skip' in real)('validate as the learner on a live cluster', () => {
  if ('skip' in real) return;
  const { driver, nodeImage } = real;
  // Commands run on the control-plane node; kubectl there with the learner's kubeconfig is the learner.
  const shell = nodeShell(driver, CLUSTER, controlPlaneNode(CLUSTER));
  const admin = new Kubectl({ shell, kubeconfig: ADMIN_KUBECONFIG, requestTimeout: '30s', timeoutMs: 120_000 });
  const learner = admin.with({ kubeconfig: LEARNER_KUBECONFIG_PATH });
  let context: CheckContext;

  const target = (as: Kubectl): ValidateTarget => ({
    async clean() {},
    actions: (lab: Lab) => new LabActions({ lab, shell, kubectl: as, setupKubectl: admin, checkContext: async () => context }),
  });

  beforeAll(async () => {
    await driver.delete(CLUSTER).catch(() => undefined);
    await driver.create({ name: CLUSTER, workers: 0, nodeImage, ports: [] });
    await installLearnerAccess({ controlPlane: shell });
    context = { engine, workstation: 'none', ...systemClock, kube: new ClientNodeKubeApi(await driver.kubeconfig(CLUSTER, 'host')) };
  }, 900_000);

  afterAll(async () => {
    await driver.delete(CLUSTER).catch(() => undefined);
  }, 300_000);

  it('a lab whose Solve and Reset need ClusterRole rights fails for the learner and passes with admin kubectl', async () => {
    const lab = await writeLab(labSpec('03-cluster-reader', [
      stepSpec('grant', [{
        id: 'role-exists', kind: 'resource', description: { en: 'the ClusterRole exists', zh: 'ClusterRole 存在' }, deadlineSeconds: 10, intervalSeconds: 2,
        resource: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'svclab-play-reader' },
      }], { manifests: ['solution/role.yaml'] }),
    ], { manifests: ['manifests/start.yaml'] }), { 'manifests/start.yaml': configMap('start', 'here'), 'solution/role.yaml': ROLE });

    const asLearner = await validateLabs({ labs: [lab], target: target(learner), beforeDeadlineSeconds: 4 });
    expect(asLearner.ok).toBe(false);
    // Reset (a new session's first action) can't delete the ClusterRole, nor Solve create it: refused by RBAC.
    expect(asLearner.labs[0]!.cases.find((c) => c.status === 'error')).toMatchObject({ message: expect.stringMatching(/^setup failed: Reset could not delete the lab's objects: .*forbidden/i) });

    const asAdmin = await validateLabs({ labs: [lab], target: target(admin), beforeDeadlineSeconds: 4 });
    expect(asAdmin.labs[0]!.cases.filter((c) => c.status !== 'passed')).toEqual([]);
    await admin.delete(['clusterrole', 'svclab-play-reader'], { ignoreNotFound: true });
  }, 300_000);

  it('a Reset that leaves step 1 solved (an object made by a command, not in setup.cleanup) is a Reset regression', async () => {
    const create = ['kubectl', `--kubeconfig=${LEARNER_KUBECONFIG_PATH}`, 'create', 'configmap', 'answer', '--from-literal=value=42'];
    const steps = [stepSpec('note', [configMapCheck('answer-set', 'answer', '42')], { commands: [create] })];
    const files = { 'manifests/start.yaml': configMap('start', 'here') };
    const broken = await writeLab(labSpec('04-reset-regression', steps, { manifests: ['manifests/start.yaml'] }), files);
    const r = await validateLabs({ labs: [broken], target: target(learner), beforeDeadlineSeconds: 4 });
    expect(r.labs[0]!.cases.filter((c) => c.status !== 'passed').map((c) => c.message)).toEqual([expect.stringMatching(/^Reset regression: check answer-set of step note still passes after Reset lab/)]);

    const fixed = await writeLab(labSpec('04-reset-regression', steps, { manifests: ['manifests/start.yaml'], cleanup: [{ kind: 'configmap', name: 'answer' }] }), files);
    const again = await validateLabs({ labs: [fixed], target: target(learner), beforeDeadlineSeconds: 4 });
    expect(again.labs[0]!.cases.filter((c) => c.status !== 'passed')).toEqual([]);
  }, 300_000);
});
