// The cluster watch: a probe that hangs counts as failed at its deadline; a failed cluster is
// handed over once (not again while it is being handled); a cluster claimed by someone else
// starts its count over; stop() ends the rounds.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ClusterWatch } from '../../src/pool/cluster-watch.ts';

const logger = pino({ level: 'silent' });

describe('ClusterWatch', () => {
  it('moves nobody for slow answers mixed with answers; a cluster that is down is handed over after `failures`', async () => {
    const held = [{ name: 'c1', owner: 'ana' }];
    const failed: string[] = [];
    const answers: ('ok' | 'down' | 'slow')[] = ['slow', 'slow', 'ok', 'slow', 'slow', 'ok', 'down', 'slow', 'down'];
    const w = new ClusterWatch({
      clusters: () => held,
      probe: async (_c, signal) => {
        const a = answers.shift();
        if (a === 'slow') return new Promise<boolean>((_r, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
        return a === 'ok';
      },
      onFailed: async (o, c) => { failed.push(`${o}@${c}`); },
      logger,
    }, { failures: 2, slowFailures: 3, probeTimeoutMs: 30 });
    for (let i = 0; i < 6; i++) await w.tick();
    expect(failed).toEqual([]);
    await w.tick(); // down
    await w.tick(); // slow
    expect(failed).toEqual([]);
    await w.tick(); // down: the second
    expect(failed).toEqual(['ana@c1']);
    await w.stop();
  });

  it('counts a hanging probe as slow at its deadline: a slow cluster is handed over after slowFailures, once', async () => {
    let held = [{ name: 'c1', owner: 'ana' }];
    const failed: string[] = [];
    let release: () => void = () => undefined;
    const handling = new Promise<void>((r) => { release = r; });
    const w = new ClusterWatch({
      clusters: () => held,
      probe: () => new Promise(() => undefined), // never answers
      onFailed: async (owner, cluster) => { failed.push(`${owner}@${cluster}`); await handling; },
      logger,
    }, { failures: 2, slowFailures: 3, probeTimeoutMs: 50 });
    const t0 = Date.now();
    await w.tick();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    await w.tick();
    expect(failed).toEqual([]); // two slow rounds: a loaded machine, not a failed cluster
    await w.tick();
    expect(failed).toEqual(['ana@c1']);
    // Still being handled: not probed, not handed over again.
    await w.tick();
    await w.tick();
    expect(failed).toEqual(['ana@c1']);
    release();
    await new Promise((r) => setTimeout(r, 10));
    held = [];
    await w.tick();
    await w.stop();
  });

  it('starts over for a cluster claimed by another learner, and never calls onFailed after stop', async () => {
    let held = [{ name: 'c1', owner: 'ana' }];
    const failed: string[] = [];
    const w = new ClusterWatch({ clusters: () => held, probe: async () => false, onFailed: async (o, c) => { failed.push(`${o}@${c}`); }, logger }, { failures: 2 });
    await w.tick();
    held = [{ name: 'c1', owner: 'bo' }]; // ana's ended; the cluster went to bo
    await w.tick();
    expect(failed).toEqual([]);
    await w.tick();
    expect(failed).toEqual(['bo@c1']);
    await w.stop();
    await w.tick();
    await w.tick();
    expect(failed).toEqual(['bo@c1']);
  });
});
