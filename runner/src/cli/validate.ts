// `svclab validate [LAB…] [--junit FILE] [--keep] [--name NAME]`: every lab against a
// real cluster of its own (never the learners'), played through LabActions exactly
// as a learner plays it — the workstation's kubectl as user `learner`, with the
// learner identity's kubeconfig (runner/src/access) — never admin on a node. Each
// check must fail before its step's Solve and pass after it; after the last step
// Reset lab must bring step 1's checks back to failing. Between labs the cluster
// is recycled to its provisioned baseline, as the warm pool does between learners.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClusterCheckContexts } from '../checks/cluster-check-context.ts';
import { clusterNameSchema, DEFAULT_CLUSTER_NAME } from '../cluster/cluster-driver.ts';
import { nodeAdminKubectl } from '../cluster/node-shell.ts';
import { POOL_PREFIX } from '../pool/cluster-pool.ts';
import { forgetBaseline, recycleCluster } from '../pool/recycle.ts';
import { RunnerError } from '../errors.ts';
import { formatLabError, labsLocation, loadLabs } from '../labs/load-labs.ts';
import { formatValidateEvent, pickLabs, validateLabs, type ValidateTarget } from '../play/validate-labs.ts';
import { workstationLabActions } from '../play/workstation-actions.ts';
import { makeLogger } from '../logger.ts';
import { FakePtyFactory } from '../pty/fake-pty-factory.ts';
import { writeWorkstationKubeconfig, workstationNetwork } from '../sessions/lab-cluster.ts';
import { SessionManager } from '../sessions/session-manager.ts';
import { projectRoot } from '../version.ts';
import { formatProvisionEvent, provisionCluster } from '../main/provision.ts';
import { buildWiring, interruptSignal, learnerAccessStep, workstationImageOf } from '../main/wiring.ts';

export const VALIDATE_CLUSTER = 'svclab-validate';

export async function validateCommand(args: string[], out: (l: string) => void, cacheDir: string): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { junit: { type: 'string' }, labs: { type: 'string' }, keep: { type: 'boolean', default: false }, name: { type: 'string', default: VALIDATE_CLUSTER } } });
  // Its own cluster, never a learner's: another name lets two validations run side by side.
  const cluster = clusterNameSchema.safeParse(values.name);
  if (!cluster.success || values.name === DEFAULT_CLUSTER_NAME || values.name.startsWith(POOL_PREFIX)) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `--name ${values.name}: ${cluster.success ? 'that is a learner\'s cluster; validate deletes its cluster when done' : cluster.error.issues[0]?.message}.`, hint: 'Use --name svclab-validate-SOMETHING.' });
  }
  const name = cluster.data;
  const { labs: all, errors } = await loadLabs(labsLocation(projectRoot, values.labs));
  if (errors.length) {
    for (const e of errors) out(formatLabError(e));
    throw new RunnerError('LAB_INVALID', { message: `${errors.length} lab file problem(s); validate needs valid labs.` });
  }
  // `02` stands for 02-selectors-and-endpoints.
  const ids = positionals.map((p) => all.find((l) => l.id === p || l.id.startsWith(`${p}-`))?.id ?? p);
  const { labs, unknown } = pickLabs(all, ids);
  if (unknown.length) throw new RunnerError('LAB_UNKNOWN', { message: `Unknown lab(s): ${unknown.join(', ')}.`, details: { known: all.map((l) => l.id) } });

  // The one provisioning pipeline (as `svclab up` and the pool): a running cluster of this
  // name is reused; the learner's identity, as a workshop's learners have it (not
  // cluster-admin); the provisioned state every lab starts from, kept with the cluster under --keep.
  const w = buildWiring(cacheDir);
  const signal = interruptSignal(out);
  const recycle = { driver: w.driver, dir: join(cacheDir, 'validate') };
  const provisioned = await provisionCluster(w, {
    name, reuseRunning: true, learnerAccess: learnerAccessStep, baseline: { dir: recycle.dir, keepExisting: true }, signal, out,
    onStep: (e) => { const line = formatProvisionEvent(e); if (line) out(line); },
  });
  const learnerKubeconfig = provisioned.learnerKubeconfig;
  if (learnerKubeconfig === undefined) throw new RunnerError('CLUSTER_FAILED', { message: `${name} has no learner kubeconfig: the learner-access step did not run.` });
  const deps = { engine: w.engine, driver: w.driver };

  const sessions = new SessionManager({
    engine: deps.engine, ptys: new FakePtyFactory(), logger: makeLogger({ level: 'warn' }), workstationImage: workstationImageOf(w),
    workstationNetwork: workstationNetwork({ engine: deps.engine, driver: deps.driver, clusterFor: async () => name }),
    prepare: (s) => writeWorkstationKubeconfig({ ...deps, learnerKubeconfig: async () => learnerKubeconfig }, s),
  });
  const session = await sessions.create(labs[0]?.id ?? 'validate');
  try {
    const admin = nodeAdminKubectl(deps.driver, name, { requestTimeout: '30s' });
    const contexts = new ClusterCheckContexts({ driver: w.driver, engine: w.engine, host: w.runner });
    const target: ValidateTarget = {
      // What the warm pool does between learners: delete what was made, report what changed.
      async clean() {
        const r = await recycleCluster(recycle, name);
        return r.trusted ? [] : r.reasons.map((why) => `not as provisioned: ${why}`);
      },
      // The learner's Solve, Reset and checks; the lab's setup by svclab itself, as sessions do.
      actions: (lab) => workstationLabActions({ engine: deps.engine, workstation: session.workstation, cluster: name, lab, contexts, setupKubectl: admin }),
      // From kube-proxy's own configuration (a lab may switch it), not from how the cluster was made.
      async proxyMode() {
        const r = await admin.get(['configmap', 'kube-proxy'], { namespace: 'kube-system', output: 'jsonpath={.data.config\\.conf}' });
        if (r.exitCode !== 0) return undefined;
        return /^mode:\s*"?([a-z]*)"?\s*$/m.exec(r.stdout)?.[1] || 'iptables';
      },
    };
    const result = await validateLabs({ labs, target, onStep: (e) => out(formatValidateEvent(e)), signal });
    if (values.junit) await writeFile(values.junit, result.junit);
    out(`validate: ${result.labs.length} lab(s), ${result.violations} violation(s) in ${(result.durationMs / 1000).toFixed(0)} s${values.junit ? `; JUnit in ${values.junit}` : ''}`);
    return result.ok ? 0 : 1;
  } finally {
    await sessions.closeAll();
    if (!values.keep) {
      await w.driver.delete(name).catch(() => undefined);
      await forgetBaseline(recycle, name);
    }
  }
}
