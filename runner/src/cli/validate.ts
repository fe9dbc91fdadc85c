// `svclab validate [LAB…] [--labs DIR] [--junit FILE] [--repeat N] [--only-changed BASE]
// [--keep] [--name NAME]`: every lab against a
// real cluster of its own (never the learners'), played through LabActions exactly
// as a learner plays it — the workstation's kubectl as user `learner`, with the
// learner identity's kubeconfig (runner/src/access) — never admin on a node. Each
// check must fail before its step's Solve and pass after it; after the last step
// Reset lab must bring step 1's checks back to failing. Between labs the cluster
// is recycled to its provisioned baseline, as the warm pool does between learners.
// Before any cluster work: which labs (--only-changed), and steps that have no
// solution at all (an import's placeholder), which no cluster run could prove.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { missingSolutions } from '../authoring/killercoda.ts';
import { ClusterCheckContexts } from '../checks/cluster-check-context.ts';
import { clusterNameSchema, DEFAULT_CLUSTER_NAME } from '../cluster/cluster-driver.ts';
import { nodeAdminKubectl } from '../cluster/node-shell.ts';
import { POOL_PREFIX } from '../pool/cluster-pool.ts';
import { forgetBaseline, recycleCluster } from '../pool/recycle.ts';
import { RunnerError } from '../errors.ts';
import { formatLabError, labsLocation, loadLabs, type Lab } from '../labs/load-labs.ts';
import { changedLabs } from '../play/changed-labs.ts';
import { formatValidateEvent, pickLabs, validationResult, type LabValidation, type ValidateTarget } from '../play/validate-labs.ts';
import { flakyLines, MAX_REPEAT, validateRepeated } from '../play/validate-repeat.ts';
import { workstationLabActions } from '../play/workstation-actions.ts';
import { makeLogger } from '../logger.ts';
import { FakePtyFactory } from '../pty/fake-pty-factory.ts';
import { writeWorkstationKubeconfig, workstationNetwork } from '../sessions/lab-cluster.ts';
import { SessionManager } from '../sessions/session-manager.ts';
import { projectRoot } from '../version.ts';
import { formatProvisionEvent, provisionCluster } from '../main/provision.ts';
import { buildWiring, interruptSignal, learnerAccessStep, workstationImageOf } from '../main/wiring.ts';

export const VALIDATE_HELP = `svclab validate [LAB…] [options] — play each lab as a learner on a cluster of its own:
every check must fail before its step's solution and pass after it, and Reset lab must
bring the first step back. Exits non-zero on any violation.

  LAB…                  only these labs (02 stands for 02-selectors-and-endpoints); default all
  --labs DIR            a course folder's labs instead of svclab's own
  --junit FILE          write a JUnit report: one testsuite per lab, one testcase per lab/step/check,
                        the explanation in each failure's body
  --repeat N            play each lab N times (1–${MAX_REPEAT}); a check whose outcome differs between
                        runs is reported as flaky (console and JUnit) and fails validate
  --only-changed BASE   only the labs whose folder changed since the git ref BASE (committed since
                        the merge base with HEAD, staged, unstaged or untracked), in the git
                        repository that holds the labs; a file a lab symlinks to counts for it,
                        any other file in the labs folder outside the labs counts for all;
                        in svclab's own repository a check kind's code counts for the
                        labs that use that kind.
                        Prints "no lab changed since BASE" and exits 0 when none did
  --name NAME           the cluster's name (default svclab-validate); a running one is reused
  --keep                keep the cluster afterwards

Before any cluster work, a step whose solution is still the placeholder of
"svclab import killercoda" is reported (all of them, by lab and step) and validate exits 1.`;

export const VALIDATE_CLUSTER = 'svclab-validate';

export async function validateCommand(args: string[], out: (l: string) => void, cacheDir: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: {
      junit: { type: 'string' }, labs: { type: 'string' }, keep: { type: 'boolean', default: false }, name: { type: 'string', default: VALIDATE_CLUSTER },
      repeat: { type: 'string', default: '1' }, 'only-changed': { type: 'string' }, help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) { out(VALIDATE_HELP); return 0; }
  // Its own cluster, never a learner's: another name lets two validations run side by side.
  const cluster = clusterNameSchema.safeParse(values.name);
  if (!cluster.success || values.name === DEFAULT_CLUSTER_NAME || values.name.startsWith(POOL_PREFIX)) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `--name ${values.name}: ${cluster.success ? 'that is a learner\'s cluster; validate deletes its cluster when done' : cluster.error.issues[0]?.message}.`, hint: 'Use --name svclab-validate-SOMETHING.' });
  }
  const name = cluster.data;
  const repeat = /^\d+$/.test(values.repeat) ? Number(values.repeat) : NaN;
  if (!(repeat >= 1 && repeat <= MAX_REPEAT)) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `--repeat ${values.repeat}: expected a whole number from 1 to ${MAX_REPEAT}.`, hint: '--repeat 3 plays each lab three times and reports the checks whose outcome differs between runs as flaky.' });
  }
  const where = labsLocation(projectRoot, values.labs);
  const { labs: all, errors } = await loadLabs(where);
  if (errors.length) {
    for (const e of errors) out(formatLabError(e));
    throw new RunnerError('LAB_INVALID', { message: `${errors.length} lab file problem(s); validate needs valid labs.` });
  }
  // `02` stands for 02-selectors-and-endpoints.
  const ids = positionals.map((p) => all.find((l) => l.id === p || l.id.startsWith(`${p}-`))?.id ?? p);
  const picked = pickLabs(all, ids);
  const unknown = picked.unknown;
  let labs = picked.labs;
  if (unknown.length) throw new RunnerError('LAB_UNKNOWN', { message: `Unknown lab(s): ${unknown.join(', ')}.`, details: { known: all.map((l) => l.id) } });

  const w = buildWiring(cacheDir);
  const base = values['only-changed'];
  if (base !== undefined) {
    const changed = await changedLabs({ shell: w.runner, labsDir: join(where.root, where.dir), ...(values.labs !== undefined ? { labsArg: values.labs } : {}), base, labs: all, svclabRoot: projectRoot });
    const notes = [
      ...changed.removed.map((id) => `${id}: its folder changed since ${base} but holds no lab now (removed or renamed)`),
      ...changed.notes,
    ];
    labs = labs.filter((l) => changed.ids.includes(l.id));
    if (labs.length === 0) {
      for (const n of notes) out(`  · ${n}`);
      out(`no lab changed since ${base}`);
      return 0;
    }
    out(`changed since ${base} (merge base ${changed.mergeBase.slice(0, 12)}): ${labs.length} lab(s)`);
    for (const l of labs) {
      const files = changed.because[l.id] ?? [];
      out(`  · ${l.id}: ${files.slice(0, 3).join(', ')}${files.length > 3 ? ` and ${files.length - 3} more` : ''}`);
    }
    for (const n of notes) out(`  · ${n}`);
  }
  await refuseMissingSolutions(labs, values.junit, out);

  // The one provisioning pipeline (as `svclab up` and the pool): a running cluster of this
  // name is reused; the learner's identity, as a workshop's learners have it (not
  // cluster-admin); the provisioned state every lab starts from, kept with the cluster under --keep.
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
    const result = await validateRepeated({ labs, target, repeat, onStep: (e) => out(formatValidateEvent(e)), signal });
    if (values.junit) await writeFile(values.junit, result.junit);
    for (const line of flakyLines(result.labs)) out(line);
    const runs = repeat > 1 ? ` × ${repeat} runs` : '';
    const flaky = repeat > 1 ? `, ${result.flaky} flaky` : '';
    out(`validate: ${result.labs.length} lab(s)${runs}, ${result.violations} violation(s)${flaky} in ${(result.durationMs / 1000).toFixed(0)} s${values.junit ? `; JUnit in ${values.junit}` : ''}`);
    return result.ok ? 0 : 1;
  } finally {
    await sessions.closeAll();
    if (!values.keep) {
      await w.driver.delete(name).catch(() => undefined);
      await forgetBaseline(recycle, name);
    }
  }
}

/**
 * Steps whose solution is still an import's placeholder: no cluster run can prove their
 * checks pass (the first one would fail Solve and skip the rest, naming only one). All
 * of them are named, in the console and (with --junit) as one error per step, before
 * anything is built.
 */
async function refuseMissingSolutions(labs: readonly Lab[], junit: string | undefined, out: (l: string) => void): Promise<void> {
  const missing = missingSolutions(labs);
  if (missing.length === 0) return;
  out(`${missing.length} step(s) have no solution yet, so validate cannot prove their checks pass:`);
  for (const m of missing) out(`  ✗ ${m.lab}/${m.step}: no solution (write ${m.where})`);
  if (junit !== undefined) {
    const suites: LabValidation[] = labs.filter((l) => missing.some((m) => m.lab === l.id)).map((l) => ({
      lab: l.id, ok: false, durationMs: 0,
      cases: missing.filter((m) => m.lab === l.id).map((m) => ({
        name: `${m.step}: solution applies`, classname: `${l.id}.${m.step}`, status: 'error' as const, durationMs: 0,
        message: `step ${m.step} has no solution yet`, detail: `The step's solution is the placeholder svclab import killercoda wrote. Write ${m.where} (manifests or commands) so validate can prove the step's checks pass after it.`,
      })),
    }));
    await writeFile(junit, validationResult(suites, 0).junit);
  }
  const steps = missing.map((m) => `${m.lab}/${m.step}`);
  throw new RunnerError('LAB_INVALID', {
    message: `${missing.length} step(s) have no solution: ${steps.join(', ')}${junit !== undefined ? `; JUnit in ${junit}` : ''}.`,
    hint: 'Write each step\'s solution (manifests or commands) in lab.yaml, then run svclab validate again; `svclab labs show LAB` lists the steps.',
  });
}
