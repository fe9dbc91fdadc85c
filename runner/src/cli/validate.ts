// `svclab validate [LAB…] [--junit FILE]`: every lab against a real cluster of its
// own (never the learners'): each check must fail before its step's solution and
// pass after it. Reuses one cluster and one workstation for all labs.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as clusterCommands from '../cluster/cluster-commands.ts';
import { clusterNameSchema, DEFAULT_CLUSTER_NAME } from '../cluster/cluster-driver.ts';
import { POOL_PREFIX } from '../pool/cluster-pool.ts';
import { RunnerError } from '../errors.ts';
import { ClusterValidateTarget } from '../labs/cluster-validate-target.ts';
import { formatLabError, loadLabs } from '../labs/load-labs.ts';
import { formatValidateEvent, pickLabs, validateLabs } from '../labs/validate.ts';
import { makeLogger } from '../logger.ts';
import { FakePtyFactory } from '../pty/fake-pty-factory.ts';
import { writeWorkstationKubeconfig, workstationNetwork } from '../sessions/lab-cluster.ts';
import { SessionManager } from '../sessions/session-manager.ts';
import { projectRoot } from '../version.ts';
import { clusterCommandDeps, installClusterComponents, loadLabImages, workstationImage } from './wiring.ts';

export const VALIDATE_CLUSTER = 'svclab-validate';

export async function validateCommand(args: string[], out: (l: string) => void, cacheDir: string): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { junit: { type: 'string' }, keep: { type: 'boolean', default: false }, name: { type: 'string', default: VALIDATE_CLUSTER } } });
  // Its own cluster, never a learner's: another name lets two validations run side by side.
  const cluster = clusterNameSchema.safeParse(values.name);
  if (!cluster.success || values.name === DEFAULT_CLUSTER_NAME || values.name.startsWith(POOL_PREFIX)) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `--name ${values.name}: ${cluster.success ? 'that is a learner\'s cluster; validate deletes its cluster when done' : cluster.error.issues[0]?.message}.`, hint: 'Use --name svclab-validate-SOMETHING.' });
  }
  const name = cluster.data;
  const { labs: all, errors } = await loadLabs(projectRoot);
  if (errors.length) {
    for (const e of errors) out(formatLabError(e));
    throw new RunnerError('LAB_INVALID', { message: `${errors.length} lab file problem(s); validate needs valid labs.` });
  }
  // `02` stands for 02-selectors-and-endpoints.
  const ids = positionals.map((p) => all.find((l) => l.id === p || l.id.startsWith(`${p}-`))?.id ?? p);
  const { labs, unknown } = pickLabs(all, ids);
  if (unknown.length) throw new RunnerError('LAB_UNKNOWN', { message: `Unknown lab(s): ${unknown.join(', ')}.`, details: { known: all.map((l) => l.id) } });

  const deps = await clusterCommandDeps(out, cacheDir);
  const existing = (await deps.driver.list()).find((c) => c.name === name);
  if (existing && existing.state !== 'running') await deps.driver.delete(name);
  if (!existing || existing.state !== 'running') await clusterCommands.up(['--name', name], deps);
  await loadLabImages(name, cacheDir, out);
  await installClusterComponents(name, out, cacheDir);

  const sessions = new SessionManager({
    engine: deps.engine, ptys: new FakePtyFactory(), logger: makeLogger({ level: 'warn' }), workstationImage: workstationImage(cacheDir),
    workstationNetwork: workstationNetwork({ engine: deps.engine, driver: deps.driver, clusterFor: async () => name }),
    prepare: (s) => writeWorkstationKubeconfig(deps, s),
  });
  const session = await sessions.create(labs[0]?.id ?? 'validate');
  try {
    const target = new ClusterValidateTarget({ driver: deps.driver, cluster: name, engine: deps.engine, workstation: session.workstation, user: 'learner', host: deps.runner });
    await target.init();
    const result = await validateLabs({ labs, target, onStep: (e) => out(formatValidateEvent(e)), ...(deps.signal ? { signal: deps.signal } : {}) });
    if (values.junit) await writeFile(values.junit, result.junit);
    out(`validate: ${result.labs.length} lab(s), ${result.violations} violation(s) in ${(result.durationMs / 1000).toFixed(0)} s${values.junit ? `; JUnit in ${values.junit}` : ''}`);
    return result.ok ? 0 : 1;
  } finally {
    await sessions.closeAll();
    if (!values.keep) await deps.driver.delete(name).catch(() => undefined);
  }
}
