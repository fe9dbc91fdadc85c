// Where a workshop keeps what it knows: the workshop itself, its learners and each
// learner's saved work. An interface so the same Workshop runs on this machine (in memory
// now) and on an existing Kubernetes cluster later (issue 14: a ConfigMap/Secret-backed
// store) without change. Every method is async for that reason.

export interface WorkshopRecord {
  id: string;
  /** Lab ids learners may start. */
  labs: string[];
  /** Most learners who may join. */
  capacity: number;
  /** Clusters kept warm ahead of joins. */
  reserve: number;
  createdAt: number;
  /** ms since epoch; extend moves it, end sets it to now. */
  expiresAt: number;
  /** The event code learners type (or carry in the learner URL). */
  code: string;
  /** The instructor's secret: random, never derived from the code. */
  instructorSecret: string;
  /** Key for learner credentials (HMAC-SHA256); never leaves the runner. */
  credentialKey: string;
  endedAt?: number;
}

export interface LearnerRecord {
  id: string;
  name: string;
  joinedAt: number;
  /** The instructor let this learner open root shells on their cluster's nodes. */
  nodeShells: boolean;
  /** This learner's own end (ms since epoch), when the instructor gave them more time than the room. */
  expiresAt?: number;
}

export type SavedStepStatus = 'passed' | 'solved-with-help';

/** What a learner did in one lab, kept across a lost cluster or an expired session. */
export interface SavedWork {
  progress: Record<string, { status: SavedStepStatus; at: string }>;
  /** Editor text by editor file (or step id), as the learner last saved it. */
  editor: Record<string, string>;
  /** YAML documents the learner applied successfully, oldest first (re-applied on a new cluster). */
  applied: string[];
}

export function emptyWork(): SavedWork {
  return { progress: {}, editor: {}, applied: [] };
}

export interface WorkshopStore {
  getWorkshop(): Promise<WorkshopRecord | undefined>;
  putWorkshop(w: WorkshopRecord): Promise<void>;
  /** Adds the learner unless `capacity` learners are already in; false when full (atomic). */
  addLearner(l: LearnerRecord, capacity: number): Promise<boolean>;
  getLearner(id: string): Promise<LearnerRecord | undefined>;
  putLearner(l: LearnerRecord): Promise<void>;
  listLearners(): Promise<LearnerRecord[]>;
  getWork(learnerId: string, labId: string): Promise<SavedWork>;
  putWork(learnerId: string, labId: string, work: SavedWork): Promise<void>;
}

/** The store for a workshop on this machine: gone when the runner stops. */
export class MemoryWorkshopStore implements WorkshopStore {
  private workshop: WorkshopRecord | undefined;
  private readonly learners = new Map<string, LearnerRecord>();
  private readonly work = new Map<string, SavedWork>();

  async getWorkshop(): Promise<WorkshopRecord | undefined> {
    return this.workshop && { ...this.workshop, labs: [...this.workshop.labs] };
  }

  async putWorkshop(w: WorkshopRecord): Promise<void> {
    this.workshop = { ...w, labs: [...w.labs] };
  }

  async addLearner(l: LearnerRecord, capacity: number): Promise<boolean> {
    if (this.learners.has(l.id)) return true;
    if (this.learners.size >= capacity) return false;
    this.learners.set(l.id, { ...l });
    return true;
  }

  async getLearner(id: string): Promise<LearnerRecord | undefined> {
    const l = this.learners.get(id);
    return l && { ...l };
  }

  async putLearner(l: LearnerRecord): Promise<void> {
    this.learners.set(l.id, { ...l });
  }

  async listLearners(): Promise<LearnerRecord[]> {
    return [...this.learners.values()].map((l) => ({ ...l }));
  }

  async getWork(learnerId: string, labId: string): Promise<SavedWork> {
    return structuredClone(this.work.get(`${learnerId}/${labId}`) ?? emptyWork());
  }

  async putWork(learnerId: string, labId: string, work: SavedWork): Promise<void> {
    this.work.set(`${learnerId}/${labId}`, structuredClone(work));
  }
}
