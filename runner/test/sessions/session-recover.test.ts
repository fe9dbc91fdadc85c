// A restarted runner takes back the workstations it can verify and removes the rest
// (issue 16, item 2). The "runner" here is a SessionManager over one store directory
// and one fake engine; a restart is a second SessionManager with another pid.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../src/api/terminal-protocol.ts';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { FakePtyFactory } from '../../src/pty/fake-pty-factory.ts';
import { SessionManager, homeVolumeName, type SessionManagerDeps } from '../../src/sessions/session-manager.ts';
import { FileSessionStore, secretSha256 } from '../../src/sessions/session-store.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function world() {
  const engine = new FakeContainerEngine();
  engine.addImage('svclab/workstation:t');
  const dir = mkdtempSync(join(tmpdir(), 'svclab-store-'));
  dirs.push(dir);
  const dead = new Set<number>();
  let n = 0;
  const runner = (pid: number, extra: Partial<SessionManagerDeps> = {}) => {
    const ptys = new FakePtyFactory();
    const m = new SessionManager({
      engine, ptys, logger: pino({ level: 'silent' }), workstationImage: async () => 'svclab/workstation:t',
      ownerPid: pid, isAlive: (p) => !dead.has(p) && p < 1000, newId: () => `r${pid}s${++n}`,
      store: new FileSessionStore(join(dir, 'sessions'), { throttleMs: 5 }), ...extra,
    });
    return { m, ptys };
  };
  /** kill -9: the process is gone, its objects are simply no longer used. */
  const kill = (pid: number) => dead.add(pid);
  return { engine, dir, runner, kill };
}

const names = (engine: FakeContainerEngine) => [...engine.containers.values()].map((c) => c.spec.name).sort();

describe('workstations outlive a killed runner', () => {
  it('each workstation carries session, learner, lab, cluster and secret labels, and its home on a named volume', async () => {
    const w = world();
    const { m } = w.runner(1);
    const s = await m.create('02-selectors-and-endpoints', 'alice');
    const c = [...w.engine.containers.values()][0]!;
    expect(c.spec.labels).toMatchObject({ 'svclab.session': s.id, 'svclab.lab': '02-selectors-and-endpoints', 'svclab.role': 'workstation' });
    expect(c.spec.labels['svclab.learner']).toMatch(/^[0-9a-f]{16}$/);
    expect(c.spec.labels['svclab.learner']).not.toContain('alice');
    expect(c.spec.labels['svclab.state-dir']).toBe(join(w.dir, 'sessions'));
    expect(c.spec.labels['svclab.secret']).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(c.spec.volumes).toEqual([{ name: homeVolumeName(s.id), target: '/home/learner' }]);
    expect(w.engine.volumes.get(homeVolumeName(s.id))?.labels).toMatchObject({ 'svclab.session': s.id, 'svclab.role': 'home' });
    // The record keeps the secret's hash, never the secret; files 0600 in a 0700 dir.
    const store = new FileSessionStore(join(w.dir, 'sessions'));
    const rec = store.load(s.id)!;
    expect(rec).toMatchObject({ id: s.id, learner: 'alice', state: 'ready', secretSha256: secretSha256(c.spec.labels['svclab.secret']!) });
    expect(JSON.stringify(rec)).not.toContain(c.spec.labels['svclab.secret']!);
    expect(statSync(join(w.dir, 'sessions')).mode & 0o777).toBe(0o700);
    expect(statSync(join(w.dir, 'sessions', `${s.id}.json`)).mode & 0o777).toBe(0o600);
  });

  it('a restarted runner re-adopts a verified, running, ready workstation under the same id, with progress and terminal history', async () => {
    const w = world();
    const first = w.runner(1);
    const s = await first.m.create('02-selectors-and-endpoints', 'alice');
    first.m.recordProgress(s.id, 'step-1', 'passed');
    w.engine.volumes.get(homeVolumeName(s.id))!.files.set('answers/x', 'mine');
    const t = await first.m.terminal(s.id);
    t.attach({ send: () => undefined }, 0, 80, 24);
    first.ptys.spawned[0]!.write('echo kept-across-restart\r');
    await t.flushHistory();
    w.kill(1);

    const second = w.runner(2);
    const report = await second.m.recover();
    expect(report).toEqual({ adopted: [s.id], removed: [], volumes: [] });
    const back = second.m.get(s.id);
    expect(back).toMatchObject({ state: 'ready', labId: '02-selectors-and-endpoints', learner: 'alice', workstation: s.workstation });
    expect([...back.progress.keys()]).toEqual(['step-1']);
    expect(names(w.engine)).toEqual([s.workstation]);
    expect(w.engine.volumes.get(homeVolumeName(s.id))?.files.get('answers/x')).toBe('mine');
    // A tab that reconnects gets what was on the screen before the kill, with the same seqs.
    const frames: ServerFrame[] = [];
    const t2 = await second.m.terminal(s.id);
    t2.attach({ send: (f) => frames.push(f) }, 0, 80, 24);
    const replayed = frames.filter((f) => f.type === 'data').map((f) => (f as { data: string }).data).join('');
    expect(replayed).toContain('echo kept-across-restart');
    // The new shell starts on a line of its own, said so.
    expect(replayed).toMatch(/echo kept-across-restart[^]*\[svclab\] the runner restarted: a new shell/);
    expect(frames[0]).toMatchObject({ type: 'hello', missed: false });
    expect((frames[0] as { nextSeq: number }).nextSeq).toBeGreaterThan(1);
  });

  it('refuses and removes a workstation whose secret does not match, one with no record, one not running, one killed while starting', async () => {
    const w = world();
    const first = w.runner(1);
    const forged = await first.m.create('02', 'a');
    const norecord = await first.m.create('02', 'b');
    const stopped = await first.m.create('02', 'c');
    const kept = await first.m.create('02', 'd');
    const byName = (n: string) => [...w.engine.containers.values()].find((c) => c.spec.name === n)!;
    byName(forged.workstation).spec.labels['svclab.secret'] = 'someone-elses-secret-aaaaaaaaaaaaaa';
    rmSync(join(w.dir, 'sessions', `${norecord.id}.json`));
    byName(stopped.workstation).state = 'exited';
    // A session whose lab was still being applied when the runner died.
    const slow = w.runner(1, { prepare: () => new Promise<void>(() => undefined) });
    const starting = slow.m.begin('02', 'e');
    await new Promise((r) => setTimeout(r, 10));
    expect(starting.state).toBe('applying');
    w.kill(1);

    const second = w.runner(2);
    const report = await second.m.recover();
    expect(report.adopted).toEqual([kept.id]);
    expect(Object.fromEntries(report.removed.map((r) => [r.name, r.reason]))).toEqual({
      [forged.workstation]: 'its secret does not match the record',
      [norecord.workstation]: 'no record of it',
      [stopped.workstation]: 'it is exited',
      [starting.workstation]: 'the runner stopped while it was starting',
    });
    expect(names(w.engine)).toEqual([kept.workstation]);
    // Their home volumes and records go with them; the adopted one keeps both.
    expect([...w.engine.volumes.keys()]).toEqual([homeVolumeName(kept.id)]);
    expect(report.volumes.sort()).toEqual([forged, norecord, stopped, starting].map((s) => homeVolumeName(s.id)).sort());
    expect(readdirSync(join(w.dir, 'sessions')).filter((f) => f.endsWith('.json'))).toEqual([`${kept.id}.json`]);
  });

  it('tells who is back before it removes the rest (the runner listens then; removing takes seconds)', async () => {
    const w = world();
    const first = w.runner(1);
    const kept = await first.m.create('02', 'a');
    const doomed = await first.m.create('02', 'b');
    rmSync(join(w.dir, 'sessions', `${doomed.id}.json`));
    w.kill(1);
    const second = w.runner(2);
    let atAdoption: string[] = [];
    const report = await second.m.recover({ onAdopted: () => { atAdoption = names(w.engine); } });
    expect(atAdoption).toEqual([kept.workstation, doomed.workstation].sort());
    expect(report.adopted).toEqual([kept.id]);
    expect(names(w.engine)).toEqual([kept.workstation]);
  });

  it('does not take back a session whose cluster is no longer the one to use', async () => {
    const w = world();
    const s = await w.runner(1).m.create('02', 'a');
    w.kill(1);
    const second = w.runner(2, { canAdopt: async () => false });
    const report = await second.m.recover();
    expect(report.adopted).toEqual([]);
    expect(report.removed).toEqual([{ name: s.workstation, reason: 'its cluster  is not the one to use now' }]);
    expect(w.engine.volumes.size).toBe(0);
  });

  it("leaves a live runner's workstations alone, and another store's while that store keeps the record", async () => {
    const w = world();
    const live = await w.runner(5).m.create('02', 'a');
    const otherDir = mkdtempSync(join(tmpdir(), 'svclab-other-'));
    dirs.push(otherDir);
    const other = new SessionManager({
      engine: w.engine, ptys: new FakePtyFactory(), logger: pino({ level: 'silent' }), workstationImage: async () => 'svclab/workstation:t',
      ownerPid: 7, isAlive: () => false, newId: () => 'o1', store: new FileSessionStore(otherDir),
    });
    const foreign = await other.create('02', 'b');
    w.kill(7);
    const second = w.runner(2);
    const report = await second.m.recover();
    expect(report).toEqual({ adopted: [], removed: [], volumes: [] });
    expect(names(w.engine)).toEqual([live.workstation, foreign.workstation].sort());
    // Once the other store forgot it, it is an orphan like any other.
    rmSync(join(otherDir, 'o1.json'));
    expect((await second.m.recover()).removed).toEqual([{ name: foreign.workstation, reason: 'its runner is gone' }]);
  });

  it("a workstation a killed runner's `docker run` finished after the first look is removed by the next sweep", async () => {
    const w = world();
    // The dead runner got as far as recording the session and asking docker for the container.
    const slow = w.runner(1, { workstationImage: () => new Promise(() => undefined) });
    const s = slow.m.begin('02', 'a');
    w.kill(1);
    const second = w.runner(2);
    await second.m.recover();
    // …and the orphaned `docker run` completes now, with the labels it was given.
    await w.engine.runContainer({ name: s.workstation, image: 'svclab/workstation:t', labels: { 'svclab.session': s.id, 'svclab.role': 'workstation', 'svclab.state-dir': join(w.dir, 'sessions'), 'svclab.secret': 'x'.repeat(32) }, volumes: [{ name: homeVolumeName(s.id), target: '/home/learner' }] });
    const report = await second.m.recover();
    expect(report.removed).toEqual([{ name: s.workstation, reason: 'no record of it' }]);
    expect(w.engine.containers.size).toBe(0);
    expect(w.engine.volumes.size).toBe(0);
  });

  it('a session being removed is not taken back by a sweep that runs meanwhile', async () => {
    const w = world();
    const { m } = w.runner(1);
    const s = await m.create('02', 'a');
    // Docker is slow to remove the container: a sweep runs while it is still there.
    const realRemove = w.engine.removeContainer.bind(w.engine);
    let sweep: Promise<unknown> | undefined;
    w.engine.removeContainer = async (n) => { sweep ??= m.recover(); await sweep; return realRemove(n); };
    await m.remove(s.id);
    expect(await sweep).toMatchObject({ adopted: [] });
    expect(m.has(s.id)).toBe(false);
    expect(w.engine.containers.size).toBe(0);
  });

  it('Stop and idle expiry end a session for good: container, home volume, record and history go', async () => {
    const w = world();
    const { m } = w.runner(1);
    const s = await m.create('02', 'a');
    const t = await m.terminal(s.id);
    t.attach({ send: () => undefined }, 0, 80, 24);
    await t.flushHistory();
    await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(join(w.dir, 'sessions')).length).toBeGreaterThan(0);
    await m.remove(s.id);
    expect(w.engine.containers.size).toBe(0);
    expect(w.engine.volumes.size).toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(join(w.dir, 'sessions'))).toEqual([]);
  });
});
