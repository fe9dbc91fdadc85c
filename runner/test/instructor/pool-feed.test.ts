// The pool's changes reach the instructor's snapshots without anyone asking: a real ClusterPool
// (provisioning the test finishes) feeding an InstructorRoom through ClusterPool.onChange.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { InstructorSnapshot } from '../../src/api/instructor.ts';
import { InstructorRoom } from '../../src/instructor/room.ts';
import { ClusterPool } from '../../src/pool/cluster-pool.ts';
import { SessionManager } from '../../src/sessions/session-manager.ts';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { FakePtyFactory } from '../../src/pty/fake-pty-factory.ts';
import { threeStepLabs } from './instructor-fixtures.ts';

describe('pool changes on the instructor stream', () => {
  it('sends a snapshot when a cluster becomes ready and when a learner claims it', async () => {
    const logger = pino({ level: 'silent' });
    const done: (() => void)[] = [];
    const pool = new ClusterPool({
      driver: { list: async () => [], delete: async () => undefined },
      provision: () => new Promise<void>((resolve) => done.push(resolve)),
      recycle: async () => true, healthy: async () => true, logger,
    }, { size: 1, prefix: 'svclab-test-pool-' });
    const sessions = new SessionManager({ engine: new FakeContainerEngine(), ptys: new FakePtyFactory(), logger, workstationImage: async () => 'x' });
    const room = new InstructorRoom({ sessions, labs: threeStepLabs, pool, poolStatus: () => pool.snapshot(), gapMs: 10, heartbeatMs: 0 });
    const got: InstructorSnapshot[] = [];
    room.watch((s) => got.push(s));
    const states = () => got.at(-1)?.pool?.clusters.map((c) => c.state);
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
      expect(ok()).toBe(true);
    };
    await pool.start();
    await until(() => states()?.[0] === 'provisioning');
    done.shift()!();
    await until(() => states()?.[0] === 'ready');
    await pool.claim('ada-learner-1');
    await until(() => states()?.[0] === 'claimed');
    expect(got.at(-1)!.pool!.clusters[0]!.owner).toBe('ada-le');
    room.close();
    await pool.close();
  });
});
