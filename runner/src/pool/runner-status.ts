// What a running runner holds — its pool and its sessions with their progress —
// as GET /api/status answers it and as a file `svclab status` reads (the CLI is
// another process). The file names its writer's pid; a dead writer's file is ignored.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { pidAlive } from '../exec/process-util.ts';
import type { SessionManager } from '../sessions/session-manager.ts';
import type { ClusterPool } from './cluster-pool.ts';
import type { RunnerStatus } from '../api/status.ts';

export type { RunnerStatus };

export function runnerStatus(sessions: SessionManager, pool: ClusterPool | undefined, now = Date.now()): RunnerStatus {
  return {
    pid: process.pid,
    at: new Date(now).toISOString(),
    pool: pool?.snapshot() ?? null,
    sessions: sessions.list().map((s) => {
      const steps = [...s.progress.values()];
      return {
        id: s.id, learner: s.learner.slice(0, 6), labId: s.labId, state: s.state, cluster: s.cluster?.name ?? null,
        stepsDone: steps.length, solvedWithHelp: steps.filter((p) => p.status === 'solved-with-help').length,
        idleSeconds: Math.max(0, Math.round((now - s.lastSeen) / 1000)),
        ...(s.wait ? { wait: s.wait } : {}),
      };
    }),
  };
}

export async function writeRunnerStatus(file: string, status: RunnerStatus): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(status));
  await rename(tmp, file);
}

/** The status a live runner wrote, or undefined (none running, or it died). */
export async function readRunnerStatus(file: string, alive: (pid: number) => boolean = pidAlive): Promise<RunnerStatus | undefined> {
  try {
    const s = JSON.parse(await readFile(file, 'utf8')) as RunnerStatus;
    return alive(s.pid) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Lines for `svclab status`. */
export function formatRunnerStatus(s: RunnerStatus): string[] {
  const out: string[] = [`runner pid ${s.pid} (status at ${s.at})`];
  if (s.pool) {
    const by = (st: string) => s.pool!.clusters.filter((c) => c.state === st).length;
    out.push(`warm pool: ${s.pool.clusters.length}/${s.pool.size} clusters — ${by('ready')} ready, ${by('claimed')} claimed, ${by('provisioning')} provisioning, ${by('recycling')} recycling; ${s.pool.waiting} learner(s) waiting; provisioning takes ~${Math.round(s.pool.provisionMs.average / 1000)} s${s.pool.provisionMs.count ? '' : ' (estimate)'}`);
    for (const c of s.pool.clusters) out.push(`  ${c.name}  ${c.state} for ${c.forSeconds} s${c.owner ? `  learner ${c.owner.slice(0, 6)}` : ''}`);
  }
  if (!s.sessions.length) out.push('sessions: none');
  for (const x of s.sessions) {
    const wait = x.wait ? ` (#${x.wait.position} in line${x.wait.etaSeconds !== undefined ? `, ~${x.wait.etaSeconds} s` : ''})` : '';
    out.push(`  session ${x.id}  learner ${x.learner}  ${x.labId}  ${x.state}${wait}  ${x.cluster ?? 'no cluster'}  steps done ${x.stepsDone} (${x.solvedWithHelp} with help)  idle ${x.idleSeconds} s`);
  }
  return out;
}
