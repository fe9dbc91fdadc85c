import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { FakePtyFactory } from '../../src/pty/fake-pty-factory.ts';
import { SessionManager } from '../../src/sessions/session-manager.ts';

function manager(engine: FakeContainerEngine, ownerPid: number, alive: Set<number>) {
  let n = 0;
  return new SessionManager({
    engine, ptys: new FakePtyFactory(), logger: pino({ level: 'silent' }), workstationImage: async () => 'svclab/workstation:t',
    ownerPid, isAlive: (pid) => alive.has(pid), newId: () => `p${ownerPid}s${++n}`,
  });
}

describe('SessionManager.reapOrphans', () => {
  it("removes a dead runner's workstations and its own lost ones, never a live runner's", async () => {
    const engine = new FakeContainerEngine();
    engine.addImage('svclab/workstation:t');
    const alive = new Set([100, 200]);
    const a = manager(engine, 100, alive);
    const b = manager(engine, 200, alive);
    const dead = manager(engine, 300, alive);
    await a.create('02-selectors-and-endpoints');
    const bs = await b.create('02-selectors-and-endpoints');
    await dead.create('02-selectors-and-endpoints');
    expect(engine.containers.size).toBe(3);
    // Runner 300 is gone; runner 200 is alive and busy.
    const reaped = await a.reapOrphans();
    expect(reaped).toEqual(['svclab-ws-p300s1']);
    expect([...engine.containers.values()].map((c) => c.spec.name).sort()).toEqual(['svclab-ws-p100s1', `svclab-ws-${bs.id}`]);
  });

  it('labels each workstation with its owner', async () => {
    const engine = new FakeContainerEngine();
    engine.addImage('svclab/workstation:t');
    const s = await manager(engine, 4242, new Set()).create('x');
    expect([...engine.containers.values()][0]?.spec.labels).toMatchObject({ 'svclab.owner-pid': '4242', 'svclab.session': s.id });
  });
});

describe('node shells', () => {
  it('opens a root shell in a node container of the session cluster, and only there', async () => {
    const engine = new FakeContainerEngine();
    engine.addImage('svclab/workstation:t');
    const ptys = new FakePtyFactory();
    const m = new SessionManager({
      engine, ptys, logger: pino({ level: 'silent' }), workstationImage: async () => 'svclab/workstation:t',
      nodeShells: async () => [{ name: 'svclab-main-worker', container: 'svclab-main-worker', role: 'worker' }],
    });
    const s = await m.create('02-selectors-and-endpoints');
    expect(await m.terminalList(s.id)).toEqual([
      { name: 'workstation', title: 'workstation' },
      { name: 'node:svclab-main-worker', title: 'svclab-main-worker (root)' },
    ]);
    const t = await m.terminal(s.id, 'node:svclab-main-worker');
    t.attach({ send: () => undefined }, 0, 80, 24);
    expect(ptys.spawned[0]?.spawnedArgv).toEqual(expect.arrayContaining(['exec', 'svclab-main-worker', 'bash', '-l']));
    expect(ptys.spawned[0]?.spawnedArgv).not.toContain('--user');
    await expect(m.terminal(s.id, 'node:other-cluster-node')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('SessionManager idle expiry', () => {
  it('ends sessions unused for the idle time, keeps ones in use, and tells the pool', async () => {
    const engine = new FakeContainerEngine();
    engine.addImage('svclab/workstation:t');
    let now = 1_000_000;
    const removed: string[] = [];
    let n = 0;
    const m = new SessionManager({
      engine, ptys: new FakePtyFactory(), logger: pino({ level: 'silent' }), workstationImage: async () => 'svclab/workstation:t',
      newId: () => `s${++n}`, now: () => now, onRemoved: async (s) => { removed.push(s.id); },
    });
    const idle = await m.create('02', 'alice');
    const busy = await m.create('02', 'bob');
    now += 30 * 60_000;
    m.touch(busy.id);
    now += 31 * 60_000;
    expect(await m.expireIdle(60 * 60_000)).toEqual([idle.id]);
    expect(removed).toEqual([idle.id]);
    expect(m.has(busy.id)).toBe(true);
    expect(engine.containers.size).toBe(1);
    // An attached terminal counts as use, however long nobody typed.
    const t = await m.terminal(busy.id);
    t.attach({ send: () => undefined }, 0, 80, 24);
    now += 5 * 60 * 60_000;
    expect(await m.expireIdle(60 * 60_000)).toEqual([]);
  });
});
