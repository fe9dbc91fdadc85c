import { describe, expect, it } from 'vitest';
import { FakeKubeObjects } from '../../src/kube-store/fake-kube-objects.ts';
import { KubeObjectsError, type KubeObject } from '../../src/kube-store/kube-objects.ts';
import { KubeStoreError, KubeWorkshopStore, MAX_WORK_BYTES } from '../../src/kube-store/kube-workshop-store.ts';
import { kubeSharedSessions } from '../../src/environments/shared-sessions.ts';
import type { Session } from '../../src/sessions/session-manager.ts';
import type { WorkshopRecord } from '../../src/workshop/workshop-store.ts';
import { askAgain, raceClaims } from './race.ts';

const T0 = Date.parse('2026-12-02T02:00:00.123Z');
const record = (o: Partial<WorkshopRecord> = {}): WorkshopRecord => ({
  id: '6c1c1c9e-2f4b-4c1e-9d8f-0a0b0c0d0e0f', labs: ['02', '06'], capacity: 5, reserve: 2, createdAt: T0, expiresAt: T0 + 7_200_000,
  code: 'ABCD1234', instructorSecret: 'instructor-secret-x', credentialKey: 'credential-key-y', ...o,
});
const learner = (id: string, name = `Learner ${id}`) => ({ id, name, joinedAt: T0 + 1000, nodeShells: false });

async function twoReplicas(objects = new FakeKubeObjects()) {
  const a = new KubeWorkshopStore({ objects, name: 'ws', replica: 'runner-a' });
  const b = new KubeWorkshopStore({ objects, name: 'ws', replica: 'runner-b' });
  await a.putWorkshop(record());
  return { objects, a, b };
}

async function reserve(s: KubeWorkshopStore, ready: number, pending = 0) {
  for (let i = 0; i < ready + pending; i++) {
    await s.createEnvironment(`env-${i}`);
    await s.setEnvironmentStatus(`env-${i}`, { phase: i < ready ? 'Ready' : 'Pending', pod: `env-${i}-pod` });
  }
}

describe('KubeWorkshopStore on FakeKubeObjects', () => {
  it('keeps the workshop, with its secrets in a Secret the Workshop owns, not in the Workshop', async () => {
    const { objects, b } = await twoReplicas();
    expect(await b.getWorkshop()).toEqual(record());
    const w = (await objects.get('workshops', 'ws'))!;
    expect(JSON.stringify(w)).not.toMatch(/ABCD1234|instructor-secret-x|credential-key-y/);
    expect(w.spec).toMatchObject({ expiresAt: '2026-12-02T04:00:00.123Z', labs: ['02', '06'] });
    const secret = (await objects.get('secrets', 'ws-secrets'))!;
    expect(secret.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Workshop', name: 'ws', uid: w.metadata.uid });
    await b.putWorkshop({ ...record(), endedAt: T0 + 60_000, expiresAt: T0 + 60_000 });
    expect(await objects.get('workshops', 'ws').then((x) => x?.spec?.['endedAt'])).toBe('2026-12-02T02:01:00.123Z');
    expect((await b.getWorkshop())?.endedAt).toBe(T0 + 60_000);
  });

  it('a Workshop without its Secret is a clear error, not a workshop with empty secrets', async () => {
    const { objects, a } = await twoReplicas();
    await objects.delete('secrets', 'ws-secrets');
    await expect(a.getWorkshop()).rejects.toThrow(/Secret ws-secrets is missing/);
    expect(await new KubeWorkshopStore({ objects, name: 'other' }).getWorkshop()).toBeUndefined();
  });

  it('refuses a name that cannot prefix object names', () => {
    expect(() => new KubeWorkshopStore({ objects: new FakeKubeObjects(), name: 'My_Workshop' })).toThrow(KubeStoreError);
  });

  it('two replicas letting 12 learners join at once fill exactly the capacity', async () => {
    const { objects, a, b } = await twoReplicas();
    const joins = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).addLearner(learner(`L${i}`), 5)));
    expect(joins.filter(Boolean)).toHaveLength(5);
    expect(await a.listLearners()).toHaveLength(5);
    expect((await objects.get('workshops', 'ws'))?.status).toMatchObject({ learnerCount: 5 });
    // Already in: still true when full, and nothing is added.
    const inside = (await a.listLearners())[0]!;
    expect(await b.addLearner(inside, 5)).toBe(true);
    expect(await b.listLearners()).toHaveLength(5);
  });

  it('without resourceVersion checks the same join race overfills the workshop (the test can fail)', async () => {
    const objects = new FakeKubeObjects();
    const { a, b } = await twoReplicas(objects);
    objects.checkResourceVersion = false;
    const joins = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).addLearner(learner(`L${i}`), 5)));
    expect(joins.filter(Boolean).length).toBeGreaterThan(5);
  });

  it('keeps learners: names, node shells, join order', async () => {
    const { a, b } = await twoReplicas();
    await a.addLearner({ ...learner('x-_Y9'), joinedAt: T0 + 5 }, 5);
    await a.addLearner({ ...learner('b'), joinedAt: T0 + 1 }, 5);
    await b.putLearner({ ...learner('x-_Y9', 'Ana P.'), joinedAt: T0 + 5, nodeShells: true });
    expect(await a.getLearner('x-_Y9')).toEqual({ id: 'x-_Y9', name: 'Ana P.', joinedAt: T0 + 5, nodeShells: true });
    expect(await a.getLearner('nobody')).toBeUndefined();
    // A per-learner extend (the instructor's +15 min) is kept, as the memory store keeps it.
    await b.putLearner({ ...learner('x-_Y9', 'Ana P.'), joinedAt: T0 + 5, nodeShells: true, expiresAt: T0 + 3_600_000 });
    expect(await a.getLearner('x-_Y9')).toEqual({ id: 'x-_Y9', name: 'Ana P.', joinedAt: T0 + 5, nodeShells: true, expiresAt: T0 + 3_600_000 });
    expect((await b.listLearners()).map((l) => l.id)).toEqual(['b', 'x-_Y9']);
    expect(a.learnerObjectName('x-_Y9')).toMatch(/^ws-l-[0-9a-f]{20}$/);
  });

  it("keeps a learner's work per lab, and refuses work too large for a ConfigMap with the sizes", async () => {
    const { objects, a, b } = await twoReplicas();
    await a.addLearner(learner('p'), 5);
    expect(await a.getWork('p', '02')).toEqual({ progress: {}, editor: {}, applied: [] });
    const work = { progress: { s1: { status: 'passed' as const, at: '2026-12-02T02:03:00Z' } }, editor: { 'svc.yaml': 'kind: Service\n' }, applied: ['kind: Service\n'] };
    await a.putWork('p', '02', work);
    await b.putWork('p', '06', { ...work, applied: [] });
    expect(await b.getWork('p', '02')).toEqual(work);
    expect((await a.getWork('p', '06')).applied).toEqual([]);
    await expect(a.putWork('p', '02', { ...work, editor: { big: 'x'.repeat(MAX_WORK_BYTES) } })).rejects.toThrow(/KiB; the Kubernetes store keeps at most 900 KiB/);
    await expect(a.putWork('ghost', '02', work)).rejects.toThrow(/No learner ghost/);
    // The work belongs to the learner: deleting the LearnerSession takes it along.
    await objects.delete('learnersessions', a.learnerObjectName('p'));
    expect(await a.getWork('p', '02')).toEqual({ progress: {}, editor: {}, applied: [] });
  });

  it('two replicas racing 10 learners for 6 ready environments: 6 claims, no environment twice, none Pending', async () => {
    const { a, b } = await twoReplicas();
    await reserve(a, 6, 2);
    for (let i = 0; i < 10; i++) await a.addLearner(learner(`L${i}`), 20);
    const r = await raceClaims(a, b, Array.from({ length: 10 }, (_, i) => `L${i}`));
    expect(r.doubles).toEqual([]);
    expect(r.disagreements).toEqual([]);
    expect(r.split).toEqual([]);
    const claimed = await askAgain(b, r);
    expect(new Set(claimed).size).toBe(6);
    expect(claimed.every((e) => /^env-[0-5]$/.test(e!))).toBe(true);
    const envs = await b.listEnvironments();
    expect(envs.filter((e) => e.claim).map((e) => e.claim!.by).every((by) => by === 'runner-a' || by === 'runner-b')).toBe(true);
    const someone = [...r.got].find(([, e]) => e)!;
    expect((await a.getLearner(someone[0]))?.id).toBe(someone[0]);
  });

  it('without resourceVersion checks two claims of the last environment both win (the race test can fail)', async () => {
    const objects = new FakeKubeObjects();
    const { a, b } = await twoReplicas(objects);
    await reserve(a, 1);
    for (const l of ['L1', 'L2']) await a.addLearner(learner(l), 5);
    objects.checkResourceVersion = false;
    const r = await raceClaims(a, b, ['L1', 'L2']);
    expect(r.doubles).toHaveLength(1);
    objects.checkResourceVersion = true;
    // With the checks back: one of them, and the other is told the reserve is empty.
    const c = await twoReplicas();
    await reserve(c.a, 1);
    for (const l of ['L1', 'L2']) await c.a.addLearner(learner(l), 5);
    const r2 = await raceClaims(c.a, c.b, ['L1', 'L2']);
    expect(r2.doubles).toEqual([]);
    expect([...r2.got.values()].filter(Boolean)).toEqual(['env-0']);
  });

  it('one learner asking both replicas at once, which try different environments, gets one environment; the other stays in the reserve', async () => {
    const objects = new FakeKubeObjects();
    const a = new KubeWorkshopStore({ objects, name: 'ws', replica: 'runner-a', pick: () => 0 });
    const b = new KubeWorkshopStore({ objects, name: 'ws', replica: 'runner-b', pick: (n) => n - 1 });
    await a.putWorkshop(record());
    await reserve(a, 2);
    await a.addLearner(learner('p'), 5);
    const [x, y] = await Promise.all([a.claimEnvironment('p', '02'), b.claimEnvironment('p', '02')]);
    expect(x).toBeDefined();
    expect(y).toBe(x);
    const envs = await a.listEnvironments();
    expect(envs.filter((e) => e.claim).map((e) => e.name)).toEqual([x]);
    expect(envs.find((e) => e.name !== x)?.claim).toBeUndefined();
  });

  it('a learner asking again gets the environment they hold; release deletes it, only for its holder', async () => {
    const { objects, a, b } = await twoReplicas();
    await reserve(a, 2);
    await a.addLearner(learner('p'), 5);
    const env = (await a.claimEnvironment('p', '02'))!;
    expect(await b.claimEnvironment('p', '02')).toBe(env);
    const ls = (await objects.get('learnersessions', a.learnerObjectName('p')))!;
    expect(ls.status).toMatchObject({ phase: 'Active', environment: env, lab: '02' });
    await expect(b.releaseEnvironment(env, 'q')).rejects.toThrow(`Environment ${env} is not held by learner q`);
    expect(await b.releaseEnvironment(env, 'p')).toBe(true);
    expect((await a.listEnvironments()).map((e) => e.name)).not.toContain(env);
    expect(await b.releaseEnvironment(env, 'p')).toBe(false);
  });

  it('an environment that fails after its claim is not handed back as held', async () => {
    const { a } = await twoReplicas();
    await reserve(a, 2);
    await a.addLearner(learner('p'), 5);
    const env = (await a.claimEnvironment('p', '02'))!;
    await a.setEnvironmentStatus(env, { phase: 'Failed', message: 'pod deleted' });
    const next = await a.claimEnvironment('p', '02');
    expect(next).toBeDefined();
    expect(next).not.toBe(env);
  });

  it('gives up with a clear error when every write loses a race', async () => {
    class AlwaysConflict extends FakeKubeObjects {
      override async replaceStatus(): Promise<KubeObject> {
        throw new KubeObjectsError('modified', 'conflict', 409);
      }
    }
    const objects = new AlwaysConflict();
    const a = new KubeWorkshopStore({ objects, name: 'ws', maxAttempts: 3 });
    await objects.create('workshops', { apiVersion: 'svclab.dev/v1alpha1', kind: 'Workshop', metadata: { name: 'ws' }, spec: {} });
    await expect(a.addLearner(learner('p'), 5)).rejects.toThrow(/changed under us 3 times in a row/);
  });

  it('joining a workshop that is not there says so', async () => {
    const a = new KubeWorkshopStore({ objects: new FakeKubeObjects(), name: 'ws' });
    await expect(a.addLearner(learner('p'), 5)).rejects.toThrow('There is no Workshop ws in namespace svclab.');
  });
});

describe('sessions on LearnerSessions (any replica serves any session)', () => {
  it("replica B finds the session A recorded, with its learner and environment, and adopts A's workstation", async () => {
    const { objects, a, b } = await twoReplicas();
    await reserve(a, 1);
    await a.addLearner(learner('p'), 5);
    await a.addLearner(learner('q'), 5);
    const env = (await a.claimEnvironment('p', '02'))!;
    const at = '2026-12-02T02:05:00.000Z';
    await kubeSharedSessions({ store: a, engine: { adopt: async () => undefined } }).save({ id: 's1', labId: '02', learner: 'p', createdAt: at, workstation: 'svclab-ws-s1', cluster: { name: env, kubeconfigPath: '' } } as Session);
    expect((await objects.list('learnersessions')).find((l) => l.spec?.['learnerId'] === 'p')?.status?.['session']).toEqual({ id: 's1', lab: '02', environment: env, workstation: 'svclab-ws-s1', createdAt: at });

    const adopted: [string, string][] = [];
    const sharedB = kubeSharedSessions({ store: b, engine: { adopt: async (w, pod) => { adopted.push([w, pod]); } }, work: async () => ({ progress: { observe: { status: 'passed', at } } }) });
    expect(await sharedB.load('s1')).toEqual({ id: 's1', labId: '02', learner: 'p', createdAt: at, workstation: 'svclab-ws-s1', cluster: env, progress: [['observe', { status: 'passed', at }]] });
    expect(adopted).toEqual([['svclab-ws-s1', env]]);
    expect(await sharedB.load('s2')).toBeUndefined();

    // Another learner's newer session is not dropped by an old one's end; the owner's end drops it.
    await b.noteSession('p', undefined, 'older');
    expect(await b.findSession('s1')).toMatchObject({ learnerId: 'p' });
    await sharedB.drop({ id: 's1', learner: 'p' } as Session);
    expect(await b.findSession('s1')).toBeUndefined();
  });

  it('a session whose environment is no longer held and Ready is not served (the learner presses Start lab)', async () => {
    const { a, b } = await twoReplicas();
    await reserve(a, 1);
    await a.addLearner(learner('p'), 5);
    const env = (await a.claimEnvironment('p', '02'))!;
    await a.noteSession('p', { id: 's1', lab: '02', environment: env, workstation: 'svclab-ws-s1', createdAt: '2026-12-02T02:05:00.000Z' });
    expect(await b.findSession('s1')).toMatchObject({ environment: env });
    await a.setEnvironmentStatus(env, { phase: 'Failed' });
    expect(await b.findSession('s1')).toBeUndefined();
  });
});
