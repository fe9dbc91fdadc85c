// A learner's cluster stops answering mid-lab: the watch probes it N times, the mover discards it,
// and the learner's session starts again on a new cluster — ahead of learners already waiting —
// with their progress and their applied objects re-applied; the lab page reads the move from
// /api/workshop/me. Fakes only: a pool whose provisioning the test finishes, a probe it answers.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { ClusterPool, type PoolDeps } from '../../src/pool/cluster-pool.ts';
import { FakePtyFactory } from '../../src/pty/fake-pty-factory.ts';
import { SessionManager } from '../../src/sessions/session-manager.ts';
import { watchLearnerClusters } from '../../src/workshop/live-sessions.ts';
import { LAB, workshopApp } from './workshop-app.ts';

const YAML = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n';
const logger = pino({ level: 'silent' });
const tick = async (n = 10) => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };

let close: (() => Promise<void>) | undefined;
afterEach(async () => { await close?.(); close = undefined; });

/** The workshop app with sessions on a fake pool of `size` clusters, wired as start.ts wires them. */
async function pooledWorkshop(size: number) {
  const pending: { name: string; done: () => void }[] = [];
  const deleted: string[] = [];
  const dead = new Set<string>();
  const probed: string[] = [];
  const deps: PoolDeps = {
    driver: { list: async () => [], delete: async (name) => { deleted.push(name); } },
    provision: (name, signal) => new Promise<void>((resolve, reject) => {
      pending.push({ name, done: resolve });
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    }),
    recycle: async () => true,
    healthy: async (name) => !dead.has(name),
    logger,
  };
  const pool = new ClusterPool(deps, { size, prefix: 'fake-' });
  const reapplied: { cluster: string; yaml: string }[] = [];
  const engine = new FakeContainerEngine();
  engine.addImage('svclab/workstation:abc');
  let ids = 0;
  // eslint-disable-next-line prefer-const
  let workshopRef: Awaited<ReturnType<typeof workshopApp>>['workshop'] | undefined;
  const sessions: SessionManager = new SessionManager({
    engine, ptys: new FakePtyFactory(), logger, workstationImage: async () => 'svclab/workstation:abc', newId: () => `m${++ids}`,
    workstationNetwork: async (s, onWait) => {
      const name = await pool.claim(s.learner, { onWait });
      s.cluster = { name, kubeconfigPath: '' };
      return undefined;
    },
    // As start.ts: a learner back on a new cluster gets what they applied, again.
    prepare: async (s) => {
      for (const yaml of (await workshopRef!.work(s.learner, s.labId)).applied) reapplied.push({ cluster: s.cluster!.name, yaml });
    },
    onRemoved: async (s) => {
      if (!sessions.list().some((o) => o.learner === s.learner && o.id !== s.id && o.state !== 'failed')) await pool.release(s.learner);
    },
  });
  const t = await workshopApp({ overrides: { sessions, startWaitMs: 100, apply: { apply: async () => ({ dryRun: 'ok', applied: 'service/web created' }) } } });
  workshopRef = t.workshop;
  const watch = watchLearnerClusters({
    pool, sessions, workshop: t.workshop, logger,
    probe: async (name) => { probed.push(name); return !dead.has(name); },
  }, { failures: 3, intervalMs: 60_000 });
  close = async () => { await watch.stop(); await pool.close(); await sessions.closeAll(); await t.close(); };
  await pool.start();
  const finish = async () => { pending.shift()!.done(); await tick(); };
  for (let i = 0; i < size; i++) await finish();
  return { t, pool, sessions, watch, pending, deleted, dead, probed, reapplied, finish };
}

describe('a live session whose cluster stops answering', () => {
  it('moves to a new cluster ahead of those waiting, with progress and applied objects; the page learns where it went', async () => {
    const h = await pooledWorkshop(2);
    const ana = await h.t.join('Ana');
    const bo = await h.t.join('Bo', '10.0.0.3');
    const cy = await h.t.join('Cy', '10.0.0.4');
    const first = await ana.startLab();
    const boSession = await bo.startLab();
    expect(h.sessions.get(first).cluster?.name).toBe('fake-1');
    expect(h.sessions.get(boSession).cluster?.name).toBe('fake-2');
    // Ana applies YAML and passes step 1.
    expect((await ana.as({ method: 'POST', url: `/api/sessions/${first}/apply`, payload: { yaml: YAML } })).statusCode).toBe(200);
    expect((await ana.as({ method: 'POST', url: `/api/sessions/${first}/steps/observe/check`, payload: {} })).json().passed).toBe(true);
    // Cy waits: both clusters are held.
    const cyStart = await cy.as({ method: 'POST', url: '/api/sessions', payload: { labId: LAB } });
    expect(cyStart.statusCode).toBe(202);
    const cySession = cyStart.json().session.id as string;
    expect(h.sessions.get(cySession).state).toBe('waiting');

    // Healthy rounds move nobody; two failures then an answer start the count over.
    await h.watch.tick();
    h.dead.add('fake-1');
    await h.watch.tick();
    await h.watch.tick();
    h.dead.delete('fake-1');
    await h.watch.tick();
    expect(h.sessions.has(first)).toBe(true);

    // Three failures in a row: Ana moves.
    h.dead.add('fake-1');
    for (let i = 0; i < 3; i++) await h.watch.tick();
    await tick(20);
    expect(h.sessions.has(first)).toBe(false);
    expect(h.deleted).toContain('fake-1');
    const me = (await ana.as({ url: '/api/workshop/me' })).json();
    expect(me.moves).toEqual([expect.objectContaining({ from: first, labId: LAB, cluster: 'fake-1' })]);
    const moved = me.moves[0].to as string;
    expect(me.sessions).toEqual([expect.objectContaining({ id: moved, labId: LAB })]);
    // Bo never sees Ana's move.
    expect((await bo.as({ url: '/api/workshop/me' })).json().moves).toEqual([]);

    // The pool makes a new cluster; Ana (moved) gets it before Cy, who was waiting first.
    expect(h.pending).toHaveLength(1);
    const fresh = h.pending[0]!.name; // a new cluster (it may take the free name again)
    h.dead.clear();
    await h.finish();
    await h.sessions.get(moved).ready;
    expect(h.sessions.get(moved).cluster?.name).toBe(fresh);
    expect(h.sessions.get(cySession).state).toBe('waiting');
    // Progress kept; applied objects re-applied on the new cluster.
    const progress = (await ana.as({ url: `/api/sessions/${moved}/progress` })).json();
    expect(progress.steps.observe).toMatchObject({ status: 'passed' });
    expect(h.reapplied).toEqual([{ cluster: h.sessions.get(moved).cluster!.name, yaml: YAML }]);
    // The old session id is gone (the page follows /me's move instead); Start lab again gives the new one.
    expect((await ana.as({ url: `/api/sessions/${first}` })).statusCode).toBe(404);
    expect(await ana.startLab()).toBe(moved);
    // Bo's session and cluster were not touched.
    expect(h.sessions.get(boSession)).toMatchObject({ state: 'ready', cluster: { name: 'fake-2' } });
  });

  it('a cluster whose lab is still being set up is not probed (a busy cluster is no failed one); the mover alone discards without a move', async () => {
    const h = await pooledWorkshop(1);
    const ana = await h.t.join('Ana');
    const id = await ana.startLab();
    h.sessions.get(id).state = 'applying'; // as if the lab were still being set up
    h.dead.add('fake-1');
    for (let i = 0; i < 4; i++) await h.watch.tick();
    await tick(20);
    expect(h.probed).toEqual([]);
    expect(h.deleted).toEqual([]);
    // Handed such a cluster anyway, the mover discards it and moves no session that is not ready.
    const { SessionMover } = await import('../../src/workshop/session-mover.ts');
    expect(await new SessionMover({ sessions: h.sessions, pool: h.pool, workshop: h.t.workshop, logger }).move(h.sessions.get(id).learner, 'fake-1')).toEqual([]);
    await tick(20);
    expect(h.deleted).toEqual(['fake-1']);
    expect((await ana.as({ url: '/api/workshop/me' })).json().moves).toEqual([]);
  });
});
