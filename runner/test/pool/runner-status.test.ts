import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatRunnerStatus, readRunnerStatus, writeRunnerStatus, type RunnerStatus } from '../../src/pool/runner-status.ts';

const status: RunnerStatus = {
  pid: 4242, at: '2026-11-26T04:00:00.000Z',
  pool: {
    size: 3, waiting: 1, provisionMs: { last: 84_000, average: 90_000, count: 2 },
    clusters: [
      { name: 'svclab-pool-1', state: 'claimed', forSeconds: 300, owner: 'abc123' },
      { name: 'svclab-pool-2', state: 'ready', forSeconds: 20 },
      { name: 'svclab-pool-3', state: 'provisioning', forSeconds: 40 },
    ],
  },
  sessions: [
    { id: 's1', learner: 'abc123', labId: '02-selectors-and-endpoints', state: 'ready', cluster: 'svclab-pool-1', stepsDone: 2, solvedWithHelp: 1, idleSeconds: 12 },
    { id: 's2', learner: 'def456', labId: '11-ingress-and-tls', state: 'waiting', cluster: null, stepsDone: 0, solvedWithHelp: 0, idleSeconds: 3, wait: { position: 1, etaSeconds: 50 } },
  ],
};

describe('runner status for svclab status', () => {
  it('prints the pool by state and each learner with lab, progress and place in line', () => {
    const text = formatRunnerStatus(status).join('\n');
    expect(text).toMatch(/warm pool: 3\/3 clusters — 1 ready, 1 claimed, 1 provisioning, 0 recycling; 1 learner\(s\) waiting; provisioning takes ~90 s/);
    expect(text).toMatch(/svclab-pool-1 {2}claimed for 300 s {2}learner abc123/);
    expect(text).toMatch(/learner abc123 {2}02-selectors-and-endpoints {2}ready .*steps done 2 \(1 with help\)/);
    expect(text).toMatch(/learner def456 {2}11-ingress-and-tls {2}waiting \(#1 in line, ~50 s\)/);
  });

  it("is read back only while its writer runs", async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'svclab-status-')), 'runner-status.json');
    await writeRunnerStatus(file, status);
    expect(await readRunnerStatus(file, (pid) => pid === 4242)).toEqual(status);
    expect(await readRunnerStatus(file, () => false)).toBeUndefined();
    expect(await readRunnerStatus(join(file, 'missing'))).toBeUndefined();
  });
});
