// A WorkshopStore kept in the Kubernetes API (issue 14), so any runner replica serves
// any learner and a replica that dies loses nothing:
//   Workshop        <name>            spec: labs, capacity, reserve, times; status: learners (join order)
//   Secret          <name>-secrets    event code, instructor secret, credential key (owned by the Workshop)
//   LearnerSession  <name>-l-<hash>   one per learner (owned by the Workshop)
//   ConfigMap       <name>-w-<hash>   a learner's saved work in one lab (owned by the LearnerSession)
//   Environment     (made by whoever runs the reserve) claimed here through spec.claim
// Every read-modify-write carries the resourceVersion it read and retries on 409, so
// two replicas never both take the last place in a workshop or one environment.
import { createHash, randomInt } from 'node:crypto';
import { emptyWork, type LearnerRecord, type SavedWork, type WorkshopRecord, type WorkshopStore } from '../workshop/workshop-store.ts';
import { API_VERSION, KubeObjectsError, isReason, type KubeObject, type KubeObjects, type OwnerReference } from './kube-objects.ts';

export const WORKSHOP_LABEL = 'svclab.dev/workshop';
export const LEARNER_LABEL = 'svclab.dev/learner';
const PART_OF = { 'app.kubernetes.io/part-of': 'svclab' };
/** A ConfigMap holds at most 1 MiB; keep room for its metadata. */
export const MAX_WORK_BYTES = 900 * 1024;

export type EnvironmentPhase = 'Pending' | 'Ready' | 'Failed' | 'Released';

export interface EnvironmentClaim {
  learnerId: string;
  lab?: string;
  at: string;
  by?: string;
}

/**
 * The lab session a learner plays now, kept on their LearnerSession (status.session) so that
 * any runner replica can serve it: a request for a session another replica started (that
 * replica lost, or the Service's affinity moved) finds it here and carries on.
 */
export interface SharedSession {
  id: string;
  lab: string;
  /** The Environment (and pod) the session plays in. */
  environment: string;
  /** The session's workstation name (what the runner's engine calls it). */
  workstation: string;
  createdAt: string;
}

export interface EnvironmentView {
  name: string;
  phase: EnvironmentPhase | undefined;
  claim: EnvironmentClaim | undefined;
  pod?: string;
  node?: string;
}

export interface KubeWorkshopStoreOptions {
  objects: KubeObjects;
  /** The Workshop object's name: every replica of one release uses the same. */
  name: string;
  /** Who claims (the pod name of this replica), written into claims for the record. */
  replica?: string;
  /** Tries for one read-modify-write before giving up on contention. */
  maxAttempts?: number;
  now?: () => number;
  /** Which of n free environments to try first (random by default; tests fix it). */
  pick?: (n: number) => number;
  /**
   * What the Workshop belongs to (the chart's ConfigMap): deleting it — `helm uninstall` —
   * collects the Workshop and, through theirs, its Secret, learners, environments and pods.
   */
  owner?: OwnerReference;
}

/** The store ran out of tries, or found the API in a state it cannot use. */
export class KubeStoreError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeStoreError';
    this.hint = hint;
  }
}

function hash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 20);
}

const iso = (ms: number): string => new Date(ms).toISOString();
const ms = (text: unknown): number => (typeof text === 'string' ? Date.parse(text) : NaN);

export class KubeWorkshopStore implements WorkshopStore {
  private readonly objects: KubeObjects;
  readonly name: string;
  private readonly replica: string | undefined;
  private readonly maxAttempts: number;
  private readonly now: () => number;
  private readonly pick: (n: number) => number;
  private readonly owner: OwnerReference | undefined;

  constructor(o: KubeWorkshopStoreOptions) {
    if (!/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/.test(o.name)) {
      throw new KubeStoreError(`"${o.name}" cannot name a Workshop object.`, 'Use 1 to 32 lower-case letters, digits and dashes (it prefixes the names of the objects the store makes).');
    }
    this.objects = o.objects;
    this.name = o.name;
    this.replica = o.replica;
    this.maxAttempts = o.maxAttempts ?? 20;
    this.now = o.now ?? Date.now;
    this.pick = o.pick ?? ((n) => randomInt(n));
    this.owner = o.owner;
  }

  private workshopMeta() {
    return { name: this.name, labels: { ...PART_OF, [WORKSHOP_LABEL]: this.name }, ...(this.owner ? { ownerReferences: [{ ...this.owner }] } : {}) };
  }

  learnerObjectName(learnerId: string): string {
    return `${this.name}-l-${hash(this.name, learnerId)}`;
  }

  workObjectName(learnerId: string, labId: string): string {
    return `${this.name}-w-${hash(this.name, learnerId, labId)}`;
  }

  get secretName(): string {
    return `${this.name}-secrets`;
  }

  // --- the workshop ---

  async getWorkshop(): Promise<WorkshopRecord | undefined> {
    const w = await this.objects.get('workshops', this.name);
    if (!w) return undefined;
    const secret = await this.objects.get('secrets', this.secretName);
    const data = secret?.data ?? {};
    const read = (k: string): string | undefined => (data[k] === undefined ? undefined : Buffer.from(data[k], 'base64').toString('utf8'));
    const code = read('code');
    const instructorSecret = read('instructorSecret');
    const credentialKey = read('credentialKey');
    if (code === undefined || instructorSecret === undefined || credentialKey === undefined) {
      throw new KubeStoreError(
        `Workshop ${this.objects.namespace}/${this.name} exists but its Secret ${this.secretName} is missing or lacks code, instructorSecret or credentialKey.`,
        `Delete the Workshop (kubectl -n ${this.objects.namespace} delete workshop ${this.name}) and start it again; its secrets cannot be recovered.`,
      );
    }
    const s = w.spec ?? {};
    const record: WorkshopRecord = {
      id: String(s['id']), labs: [...((s['labs'] as string[] | undefined) ?? [])], capacity: Number(s['capacity']), reserve: Number(s['reserve']),
      createdAt: ms(s['createdAt']), expiresAt: ms(s['expiresAt']), code, instructorSecret, credentialKey,
    };
    if (s['endedAt'] !== undefined) record.endedAt = ms(s['endedAt']);
    return record;
  }

  async putWorkshop(r: WorkshopRecord): Promise<void> {
    const spec: Record<string, unknown> = { id: r.id, labs: [...r.labs], capacity: r.capacity, reserve: r.reserve, createdAt: iso(r.createdAt), expiresAt: iso(r.expiresAt) };
    if (r.endedAt !== undefined) spec['endedAt'] = iso(r.endedAt);
    const w = await this.update('workshops', this.name, (cur) => ({ ...cur, spec }), () => ({
      apiVersion: API_VERSION, kind: 'Workshop', metadata: this.workshopMeta(), spec,
    }));
    if (w.status?.['secretName'] !== this.secretName) {
      await this.updateStatus('workshops', this.name, (cur) => ({ ...cur, status: { learnerCount: 0, learners: [], ...cur.status, secretName: this.secretName } }));
    }
    const stringData = { code: r.code, instructorSecret: r.instructorSecret, credentialKey: r.credentialKey };
    await this.update('secrets', this.secretName, (cur) => ({ ...cur, type: 'Opaque', stringData, data: {} }), () => ({
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque', stringData,
      metadata: { name: this.secretName, labels: { ...PART_OF, [WORKSHOP_LABEL]: this.name }, ownerReferences: [owner(w)] },
    }));
  }

  /**
   * putWorkshop only when there is no Workshop yet: of replicas starting at once, one
   * writes it (true); the others get false and open the one written.
   */
  async createWorkshop(r: WorkshopRecord): Promise<boolean> {
    try {
      await this.objects.create('workshops', {
        apiVersion: API_VERSION, kind: 'Workshop', metadata: this.workshopMeta(),
        spec: { id: r.id, labs: [...r.labs], capacity: r.capacity, reserve: r.reserve, createdAt: iso(r.createdAt), expiresAt: iso(r.expiresAt) },
      });
    } catch (e) {
      if (isReason(e, 'exists')) return false;
      throw e;
    }
    await this.putWorkshop(r);
    return true;
  }

  // --- learners ---

  async addLearner(l: LearnerRecord, capacity: number): Promise<boolean> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const w = await this.objects.get('workshops', this.name);
      if (!w) throw this.noWorkshop();
      const ids = ((w.status?.['learners'] as string[] | undefined) ?? []);
      if (!ids.includes(l.id)) {
        if (ids.length >= capacity) return false;
        const learners = [...ids, l.id];
        try {
          // The place is taken here, conditional on the version read: of two replicas
          // taking the last place, the API server refuses the second.
          await this.objects.replaceStatus('workshops', { ...w, status: { ...w.status, learners, learnerCount: learners.length } });
        } catch (e) {
          if (isReason(e, 'conflict')) continue;
          throw e;
        }
      }
      try {
        await this.objects.create('learnersessions', this.learnerObject(l, w));
      } catch (e) {
        if (!isReason(e, 'exists')) throw e;
      }
      return true;
    }
    throw this.contention(`add learner to workshop ${this.name}`);
  }

  async getLearner(id: string): Promise<LearnerRecord | undefined> {
    const o = await this.objects.get('learnersessions', this.learnerObjectName(id));
    return o && o.spec?.['learnerId'] === id ? learnerRecord(o) : undefined;
  }

  async putLearner(l: LearnerRecord): Promise<void> {
    const w = await this.objects.get('workshops', this.name);
    if (!w) throw this.noWorkshop();
    const fresh = this.learnerObject(l, w);
    await this.update('learnersessions', fresh.metadata.name, (cur) => ({ ...cur, spec: fresh.spec! }), () => fresh);
  }

  async listLearners(): Promise<LearnerRecord[]> {
    const list = await this.objects.list('learnersessions', { [WORKSHOP_LABEL]: this.name });
    return list.map(learnerRecord).sort((a, b) => a.joinedAt - b.joinedAt || a.id.localeCompare(b.id));
  }

  // --- saved work ---

  async getWork(learnerId: string, labId: string): Promise<SavedWork> {
    const cm = await this.objects.get('configmaps', this.workObjectName(learnerId, labId));
    const text = cm?.data?.['work.json'];
    if (text === undefined) return emptyWork();
    const w = JSON.parse(text) as Partial<SavedWork>;
    return { progress: w.progress ?? {}, editor: w.editor ?? {}, applied: w.applied ?? [] };
  }

  async putWork(learnerId: string, labId: string, work: SavedWork): Promise<void> {
    const text = JSON.stringify(work);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_WORK_BYTES) {
      throw new KubeStoreError(
        `The saved work of this learner in lab ${labId} is ${Math.ceil(bytes / 1024)} KiB; the Kubernetes store keeps at most ${MAX_WORK_BYTES / 1024} KiB per learner and lab.`,
        'Apply fewer or smaller documents; very large editor texts are not kept.',
      );
    }
    const learner = await this.objects.get('learnersessions', this.learnerObjectName(learnerId));
    if (!learner) throw new KubeStoreError(`No learner ${learnerId} in workshop ${this.name}: their work has nowhere to go.`, 'The learner must join first.');
    const name = this.workObjectName(learnerId, labId);
    const data = { 'work.json': text };
    await this.update('configmaps', name, (cur) => ({ ...cur, data }), () => ({
      apiVersion: 'v1', kind: 'ConfigMap', data,
      metadata: { name, labels: { ...PART_OF, [WORKSHOP_LABEL]: this.name, [LEARNER_LABEL]: learner.metadata.name, 'svclab.dev/lab': labId }, ownerReferences: [owner(learner)] },
    }));
  }

  // --- environments (the reserve) ---

  async listEnvironments(): Promise<EnvironmentView[]> {
    return (await this.objects.list('environments', { [WORKSHOP_LABEL]: this.name })).map(envView);
  }

  /**
   * A new environment waiting to become Ready (the reserve's keeper calls this, then starts
   * its pod). Owned by the Workshop, so deleting the Workshop deletes every environment.
   */
  async createEnvironment(name: string): Promise<{ name: string; uid: string }> {
    const w = await this.objects.get('workshops', this.name);
    if (!w) throw this.noWorkshop();
    const e = await this.objects.create('environments', {
      apiVersion: API_VERSION, kind: 'Environment', metadata: { name, labels: { ...PART_OF, [WORKSHOP_LABEL]: this.name }, ownerReferences: [owner(w)] }, spec: { workshop: this.name },
    });
    return { name: e.metadata.name, uid: e.metadata.uid! };
  }

  /** What the environment's pod is doing (the reserve's keeper writes it from the pod's state). */
  async setEnvironmentStatus(name: string, s: { phase: EnvironmentPhase; pod?: string; node?: string; message?: string }): Promise<void> {
    await this.updateStatus('environments', name, (cur) => {
      const status: Record<string, unknown> = { ...cur.status, ...s, ...(s.phase === 'Ready' && cur.status?.['phase'] !== 'Ready' ? { readyAt: iso(this.now()) } : {}) };
      // A message belongs to the phase it explained.
      if (s.message === undefined) delete status['message'];
      return { ...cur, status };
    });
  }

  /**
   * Hands the learner one Ready, unclaimed environment, or undefined when the reserve is
   * empty; a learner who already holds a Ready one gets it again (all their labs share
   * it, as on one machine). Two writes, each carrying the resourceVersion it read:
   *  1. the claim on the Environment: of two replicas claiming one environment, the API
   *     server refuses the second (409), which tries another;
   *  2. the pointer on the learner's LearnerSession, conditional on the version read
   *     before the claim: of two replicas claiming for one learner at once, the second
   *     gets 409, gives its environment back to the reserve and returns the first's.
   */
  async claimEnvironment(learnerId: string, lab?: string): Promise<string | undefined> {
    const lsName = this.learnerObjectName(learnerId);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const ls = await this.objects.get('learnersessions', lsName);
      if (!ls) throw new KubeStoreError(`No learner ${learnerId} in workshop ${this.name}: only a learner who joined holds an environment.`, 'The learner must join first.');
      const envs = await this.objects.list('environments', { [WORKSHOP_LABEL]: this.name });
      const pointed = ls.status?.['environment'];
      const held = envs.find((e) => e.metadata.name === pointed && claimOf(e)?.learnerId === learnerId && e.status?.['phase'] === 'Ready');
      if (held) {
        if (lab !== undefined && ls.status?.['lab'] !== lab) await this.noteLab(lsName, lab);
        return held.metadata.name;
      }
      const free = envs.filter((e) => !claimOf(e) && e.status?.['phase'] === 'Ready');
      if (!free.length) return undefined;
      // A random start, so replicas claiming at once mostly pick different ones.
      const pick = free[this.pick(free.length) % free.length]!;
      const claim: EnvironmentClaim = { learnerId, at: iso(this.now()), ...(lab === undefined ? {} : { lab }), ...(this.replica ? { by: this.replica } : {}) };
      let claimed: KubeObject;
      try {
        claimed = await this.objects.replace('environments', {
          ...pick,
          metadata: { ...pick.metadata, labels: { ...pick.metadata.labels, [LEARNER_LABEL]: lsName } },
          spec: { ...pick.spec, claim },
        });
      } catch (e) {
        if (isReason(e, 'conflict') || isReason(e, 'not-found')) continue;
        throw e;
      }
      try {
        await this.objects.replaceStatus('learnersessions', { ...ls, status: { ...ls.status, phase: 'Active', environment: pick.metadata.name, ...(lab === undefined ? {} : { lab }) } });
        return pick.metadata.name;
      } catch (e) {
        // Someone changed this learner meanwhile (another replica claiming for them):
        // this environment was never used, so it goes back to the reserve.
        await this.unclaim(claimed, learnerId);
        if (isReason(e, 'conflict')) continue;
        throw e;
      }
    }
    throw this.contention(`claim an environment for learner ${learnerId}`);
  }

  /** The Ready environment the learner holds now and the lab it was last claimed for, if any. */
  async heldEnvironment(learnerId: string): Promise<{ name: string; lab?: string } | undefined> {
    const ls = await this.objects.get('learnersessions', this.learnerObjectName(learnerId));
    const name = ls?.status?.['environment'];
    if (typeof name !== 'string') return undefined;
    const e = await this.objects.get('environments', name);
    if (!e || claimOf(e)?.learnerId !== learnerId || e.status?.['phase'] !== 'Ready') return undefined;
    const lab = ls!.status?.['lab'];
    return { name, ...(typeof lab === 'string' ? { lab } : {}) };
  }

  /** Gives up the learner's environment: it is deleted (a used cluster never goes back to the reserve). */
  async releaseEnvironment(name: string, learnerId: string): Promise<boolean> {
    const e = await this.objects.get('environments', name);
    if (!e) return false;
    if (claimOf(e)?.learnerId !== learnerId) {
      throw new KubeStoreError(`Environment ${name} is not held by learner ${learnerId}.`, 'Only the learner who claimed an environment releases it.');
    }
    return this.objects.delete('environments', name);
  }

  /**
   * Records the session the learner plays now (undefined: none), for the other replicas.
   * With `onlyIf`, only while the record names that session; false when it did not (another
   * replica replaced or dropped it first).
   */
  async noteSession(learnerId: string, session: SharedSession | undefined, onlyIf?: string): Promise<boolean> {
    let changed = false;
    await this.updateStatus('learnersessions', this.learnerObjectName(learnerId), (cur) => {
      const status = { ...cur.status };
      const was = (status['session'] as { id?: unknown } | undefined)?.id;
      changed = onlyIf === undefined || was === onlyIf;
      if (!changed) return cur; // another session took its place meanwhile
      if (session) status['session'] = { ...session };
      else delete status['session'];
      return { ...cur, status };
    });
    return changed;
  }

  /**
   * The session with this id and whose it is, when it is still playable: recorded on a
   * learner's LearnerSession, and its environment still held by that learner and Ready.
   */
  async findSession(id: string): Promise<(SharedSession & { learnerId: string }) | undefined> {
    const learners = await this.objects.list('learnersessions', { [WORKSHOP_LABEL]: this.name });
    const ls = learners.find((l) => (l.status?.['session'] as { id?: unknown } | undefined)?.id === id);
    const rec = ls?.status?.['session'] as Partial<SharedSession> | undefined;
    const learnerId = ls?.spec?.['learnerId'];
    if (!rec || typeof learnerId !== 'string' || typeof rec.environment !== 'string' || typeof rec.lab !== 'string') return undefined;
    const env = await this.objects.get('environments', rec.environment);
    if (!env || claimOf(env)?.learnerId !== learnerId || env.status?.['phase'] !== 'Ready') return undefined;
    return {
      id, lab: rec.lab, environment: rec.environment, learnerId,
      workstation: typeof rec.workstation === 'string' ? rec.workstation : `svclab-ws-${id}`,
      createdAt: typeof rec.createdAt === 'string' ? rec.createdAt : iso(this.now()),
    };
  }

  // --- helpers ---

  private async noteLab(lsName: string, lab: string): Promise<void> {
    await this.updateStatus('learnersessions', lsName, (cur) => ({ ...cur, status: { ...cur.status, lab } }));
  }

  /** Takes back an unused claim (conditional like every write; again if only the status moved). */
  private async unclaim(claimed: KubeObject, learnerId: string): Promise<void> {
    let cur: KubeObject | undefined = claimed;
    for (let attempt = 0; cur && claimOf(cur)?.learnerId === learnerId && attempt < this.maxAttempts; attempt++) {
      const labels = { ...cur.metadata.labels };
      delete labels[LEARNER_LABEL];
      const spec = { ...cur.spec };
      delete spec['claim'];
      try {
        await this.objects.replace('environments', { ...cur, metadata: { ...cur.metadata, labels }, spec });
        return;
      } catch (e) {
        if (!isReason(e, 'conflict')) throw e;
        cur = await this.objects.get('environments', cur.metadata.name);
      }
    }
  }

  private learnerObject(l: LearnerRecord, w: KubeObject): KubeObject {
    const name = this.learnerObjectName(l.id);
    return {
      apiVersion: API_VERSION, kind: 'LearnerSession',
      metadata: { name, labels: { ...PART_OF, [WORKSHOP_LABEL]: this.name }, ownerReferences: [owner(w)] },
      spec: { workshop: this.name, learnerId: l.id, displayName: l.name, joinedAt: iso(l.joinedAt), nodeShells: l.nodeShells, ...(l.expiresAt !== undefined ? { expiresAt: iso(l.expiresAt) } : {}) },
    };
  }

  /** Read, change, write with the version read; again on conflict. Creates with `fresh` when missing. */
  private async update(r: 'workshops' | 'learnersessions' | 'secrets' | 'configmaps', name: string, change: (cur: KubeObject) => KubeObject, fresh: () => KubeObject): Promise<KubeObject> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const cur = await this.objects.get(r, name);
      try {
        return cur ? await this.objects.replace(r, change(cur)) : await this.objects.create(r, fresh());
      } catch (e) {
        if (isReason(e, 'conflict') || isReason(e, 'exists') || isReason(e, 'not-found')) continue;
        throw e;
      }
    }
    throw this.contention(`update ${r}/${name}`);
  }

  private async updateStatus(r: 'workshops' | 'learnersessions' | 'environments', name: string, change: (cur: KubeObject) => KubeObject): Promise<KubeObject> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const cur = await this.objects.get(r, name);
      if (!cur) throw new KubeStoreError(`${r}/${name} is gone from namespace ${this.objects.namespace}.`, 'It was deleted while the runner used it; start it again.');
      try {
        return await this.objects.replaceStatus(r, change(cur));
      } catch (e) {
        if (isReason(e, 'conflict')) continue;
        throw e;
      }
    }
    throw this.contention(`update ${r}/${name}/status`);
  }

  private noWorkshop(): KubeStoreError {
    return new KubeStoreError(`There is no Workshop ${this.name} in namespace ${this.objects.namespace}.`, 'Start the workshop first (it writes the Workshop object).');
  }

  private contention(what: string): KubeStoreError {
    return new KubeStoreError(`Could not ${what}: it changed under us ${this.maxAttempts} times in a row.`, 'Too many runner replicas are writing at once; try again.', {
      cause: new KubeObjectsError('conflict', 'conflict', 409),
    });
  }
}

function owner(o: KubeObject): OwnerReference {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid!, blockOwnerDeletion: true };
}

function claimOf(e: KubeObject): EnvironmentClaim | undefined {
  return e.spec?.['claim'] as EnvironmentClaim | undefined;
}

function envView(e: KubeObject): EnvironmentView {
  const v: EnvironmentView = { name: e.metadata.name, phase: e.status?.['phase'] as EnvironmentPhase | undefined, claim: claimOf(e) };
  if (typeof e.status?.['pod'] === 'string') v.pod = e.status['pod'];
  if (typeof e.status?.['node'] === 'string') v.node = e.status['node'];
  return v;
}

function learnerRecord(o: KubeObject): LearnerRecord {
  const s = o.spec ?? {};
  const r: LearnerRecord = { id: String(s['learnerId']), name: String(s['displayName']), joinedAt: ms(s['joinedAt']), nodeShells: s['nodeShells'] === true };
  if (typeof s['expiresAt'] === 'string') r.expiresAt = ms(s['expiresAt']);
  return r;
}
