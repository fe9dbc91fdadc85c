// Sessions live here, in an object made by buildApp/main — never in module state.
// A session owns one workstation container (the learner's shell runs there, never
// on the host) and the terminals attached to it.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ContainerEngine } from '../engine/container-engine.ts';
import { RunnerError } from '../errors.ts';
import type { PtyFactory } from '../pty/pty-factory.ts';
import { Terminal, type AttachableTerminal } from './terminal.ts';
import { pidAlive } from '../exec/process-util.ts';
import { secretMatches, secretSha256, type SessionRecord, type SessionStore } from './session-store.ts';

/**
 * waiting: no cluster is free yet (see `wait`). claiming: taking a cluster.
 * starting: the workstation container. applying: kubeconfig and the lab's starting objects.
 */
export type SessionState = 'waiting' | 'claiming' | 'starting' | 'applying' | 'ready' | 'failed';
export const START_PHASES = ['claiming', 'starting', 'applying'] as const;

export interface Session {
  id: string;
  labId: string;
  createdAt: string;
  workstation: string;
  state: SessionState;
  error?: { code: string; message: string; hint: string };
  /** Who started it (a browser's learner cookie); one learner's sessions share a pooled cluster. */
  learner: string;
  /** While state is 'waiting': place in line and an estimate. */
  wait?: { position: number; etaSeconds?: number };
  /** Last request or terminal use (ms since epoch), for idle expiry. */
  lastSeen: number;
  /** Settles when the session is ready (rejects when it failed). */
  ready: Promise<void>;
  /** The kind cluster this session's kubectl and checks talk to, once it has one. */
  cluster?: { name: string; kubeconfigPath: string };
  terminals: Map<string, AttachableTerminal>;
  /** Steps passed by Check, or solved with help, with when. */
  progress: Map<string, { status: 'passed' | 'solved-with-help'; at: string }>;
  /** Each step's latest Check (the instructor page aggregates what fails), made on first Check. */
  lastChecks?: Map<string, StepCheckRecord>;
}

/** A step's latest Check on a session: when, how many attempts, and each check's result. */
export interface StepCheckRecord {
  firstAt: string;
  at: string;
  attempts: number;
  passed: boolean;
  results: { checkId: string; kind: string; status: 'pass' | 'fail' | 'error'; message: string }[];
}

/** What changed, for listeners (the instructor page's live updates). */
export type SessionChange = { kind: 'added' | 'state' | 'progress' | 'check' | 'removed'; session: string };

export interface SessionView {
  id: string;
  labId: string;
  createdAt: string;
  workstation: string;
  state: SessionState;
  error?: Session['error'];
  wait?: Session['wait'];
  /** The start phases and where this session is in them. */
  steps: { id: (typeof START_PHASES)[number]; state: 'done' | 'running' | 'pending' }[];
  cluster: string | null;
}

export interface SessionManagerDeps {
  engine: ContainerEngine;
  ptys: PtyFactory;
  logger: Logger;
  /** The workstation image to run; throws RunnerError IMAGE_MISSING/IMAGE_STALE when absent. */
  workstationImage: () => Promise<string>;
  /**
   * Where the workstation joins the network: a network name or "container:<node>".
   * May wait for a cluster (state 'waiting', reported through `onWait`).
   */
  workstationNetwork?: (session: Session, onWait: (w: { position: number; etaSeconds?: number }) => void) => Promise<string | undefined>;
  /** After a session is gone (its cluster can go back to the pool). */
  onRemoved?: (session: Session) => Promise<void>;
  /** A root node shell was opened (a pooled cluster can't be trusted for recycling after). */
  onNodeShell?: (session: Session) => void;
  now?: () => number;
  /** Runs once the workstation is up (kubeconfig, the lab's starting objects). */
  prepare?: (session: Session) => Promise<void>;
  maxSessions?: number;
  newId?: () => string;
  /** Node containers a session may open root shells in (node shells), or none. */
  nodeShells?: (session: Session) => Promise<{ name: string; container: string; role: string }[]>;
  /** Defaults to this process; injectable for tests. */
  ownerPid?: number;
  isAlive?: (pid: number) => boolean;
  /**
   * Where sessions are recorded so a restarted runner takes them back (`recover`);
   * without it nothing outlives this process.
   */
  store?: SessionStore;
  /** Whether a recorded session may be taken back (its cluster is still the one to use); default yes. */
  canAdopt?: (record: SessionRecord) => Promise<boolean>;
  /**
   * The workstation terminal when it is not a local pty (`docker exec`): on Kubernetes, a
   * shell in the environment pod attached through the API (runner/src/terminals/).
   */
  workstationTerminal?: (session: Session, opts: { lang?: 'en' | 'zh' }) => AttachableTerminal;
  /**
   * Sessions several runners serve (a Kubernetes install's replicas): saved once ready,
   * looked up when a request names a session this runner does not have (`find`), and
   * forgotten when the learner ends it. Without it a session lives in this runner alone.
   */
  shared?: SharedSessions;
}

/** What another runner needs to serve a session: its ids, its learner, its cluster and progress. */
export interface SharedSessionRecord {
  id: string;
  labId: string;
  learner: string;
  createdAt: string;
  workstation: string;
  cluster: string;
  progress?: [string, { status: 'passed' | 'solved-with-help'; at: string }][];
}

export interface SharedSessions {
  save(s: Session): Promise<void>;
  /** The session with this id, made usable here (its workstation reachable), or undefined. */
  load(id: string): Promise<SharedSessionRecord | undefined>;
  /** False when the record no longer named this session (another runner ended or moved it first). */
  drop(s: Session): Promise<boolean>;
}

export const SESSION_LABEL = 'svclab.session';
export const ROLE_LABEL = 'svclab.role';
/** The pid of the runner (or `svclab validate`) that owns a workstation, so one never reaps another's. */
export const OWNER_LABEL = 'svclab.owner-pid';
/** The cluster a workstation's session uses (`svclab down --all --only` selects by it). */
export const WS_CLUSTER_LABEL = 'svclab.cluster';
/** sha256 of the learner id (the id itself is the learner's cookie: not put where `docker inspect` shows it). */
export const LEARNER_LABEL = 'svclab.learner';
/** The session store's directory: runners with another store leave the workstation alone. */
export const STATE_DIR_LABEL = 'svclab.state-dir';
/** A random value per session; the store keeps its hash, so only the runner that made it re-adopts it. */
export const SECRET_LABEL = 'svclab.secret';
/** The learner's home directory: a named volume per session that outlives the workstation container. */
export function homeVolumeName(sessionId: string): string {
  return `svclab-home-${sessionId}`;
}

/** What `recover` did with each workstation it found. */
export interface RecoverReport {
  adopted: string[];
  /** Workstation containers removed, each with why. */
  removed: { name: string; reason: string }[];
  volumes: string[];
}


export class SessionManager {
  private readonly deps: SessionManagerDeps;
  private readonly sessions = new Map<string, Session>();
  private readonly listeners = new Set<(c: SessionChange) => void>();
  private stepGate: ((s: Session, stepId: string) => void) | undefined;
  /** Sessions being removed: their workstation may still be there, and must not be taken back. */
  private readonly leaving = new Set<string>();
  private recovering: Promise<RecoverReport> | undefined;
  /** Sessions being looked up among the shared ones (one lookup per id at a time). */
  private readonly finding = new Map<string, Promise<Session>>();

  constructor(deps: SessionManagerDeps) {
    this.deps = deps;
  }

  private get ownerPid(): number {
    return this.deps.ownerPid ?? process.pid;
  }

  /** Call `listener` on every change of a session's state, progress or checks; returns the unsubscribe. */
  onChange(listener: (c: SessionChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(kind: SessionChange['kind'], session: string): void {
    for (const l of this.listeners) {
      try {
        l({ kind, session });
      } catch (e) {
        this.deps.logger.warn({ err: String(e) }, 'a session change listener failed');
      }
    }
  }

  private setState(s: Session, state: SessionState): void {
    s.state = state;
    this.changed('state', s.id);
  }

  /** Who may Check or Solve which step (the instructor's gate); the gate throws to refuse. */
  setStepGate(gate: ((s: Session, stepId: string) => void) | undefined): void {
    this.stepGate = gate;
  }

  /** Throws the gate's RunnerError when this step is not open to the session yet. */
  assertStepOpen(s: Session, stepId: string): void {
    this.stepGate?.(s, stepId);
  }

  /** Forget a failed session once its error has been seen. */
  forget(id: string): void {
    if (this.sessions.get(id)?.state === 'failed') {
      this.sessions.delete(id);
      this.changed('removed', id);
    }
  }

  /** Start a session and wait until it is ready (or throw why not). */
  async create(labId: string, learner?: string): Promise<Session> {
    const s = this.begin(labId, learner);
    try {
      await s.ready;
    } catch (e) {
      this.sessions.delete(s.id);
      throw e;
    }
    return s;
  }

  /**
   * Start a session and return at once; `session.ready` settles when it is ready.
   * A session that fails is removed, keeping its error for one more look (`get`).
   */
  begin(labId: string, learner?: string): Session {
    const live = [...this.sessions.values()].filter((s) => s.state !== 'failed');
    if (live.length >= (this.deps.maxSessions ?? 20)) {
      throw new RunnerError('SESSION_LIMIT', { details: { limit: this.deps.maxSessions ?? 20 } });
    }
    const id = this.deps.newId?.() ?? randomBytes(6).toString('hex');
    const session: Session = {
      id, labId, createdAt: new Date().toISOString(), workstation: `svclab-ws-${id}`, state: 'claiming', terminals: new Map(), progress: new Map(),
      learner: learner ?? id, lastSeen: this.now(), ready: Promise.resolve(),
    };
    this.sessions.set(id, session);
    this.changed('added', id);
    session.ready = this.bringUp(session);
    session.ready.catch(() => undefined);
    return session;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private async bringUp(session: Session): Promise<void> {
    const id = session.id;
    try {
      // The image first: a missing image is said at once, before any cluster is claimed.
      const image = await this.deps.workstationImage();
      const network = await this.deps.workstationNetwork?.(session, (w) => {
        if (session.state === 'claiming' || session.state === 'waiting') {
          session.wait = w;
          this.setState(session, 'waiting');
        }
      });
      delete session.wait;
      if (!this.sessions.has(id)) throw new RunnerError('SESSION_UNKNOWN', { message: 'The session ended while it was starting.' });
      this.setState(session, 'starting');
      const secret = randomBytes(24).toString('base64url');
      const volume = homeVolumeName(id);
      const owner = {
        [SESSION_LABEL]: id, [OWNER_LABEL]: String(this.ownerPid),
        ...(session.cluster ? { [WS_CLUSTER_LABEL]: session.cluster.name } : {}),
        ...(this.deps.store ? { [STATE_DIR_LABEL]: this.deps.store.dir } : {}),
      };
      // Recorded before anything is made, so a runner killed from here on finds (and removes) it.
      this.record(session, 'starting', secretSha256(secret));
      await this.deps.engine.createVolume(volume, { ...owner, [ROLE_LABEL]: 'home' });
      await this.deps.engine.runContainer({
        name: session.workstation,
        image,
        labels: {
          ...owner, [ROLE_LABEL]: 'workstation', 'svclab.lab': session.labId,
          [LEARNER_LABEL]: createHash('sha256').update(session.learner).digest('hex').slice(0, 16), [SECRET_LABEL]: secret,
        },
        volumes: [{ name: volume, target: '/home/learner' }],
        command: ['sleep', 'infinity'],
        user: 'learner',
        hostname: network?.startsWith('container:') ? undefined : 'workstation',
        workdir: '/home/learner',
        memory: '512m',
        pidsLimit: 256,
        network,
        env: { TERM: 'xterm-256color', LANG: 'C.UTF-8' },
      });
      this.setState(session, 'applying');
      await this.deps.prepare?.(session);
      session.lastSeen = this.now();
      this.record(session, 'ready');
      // Before it is ready: a replica lost from here on leaves a session the others can serve.
      await this.deps.shared?.save(session).catch((e: unknown) => this.deps.logger.warn({ session: id, err: String(e) }, 'the shared session record could not be written'));
      this.setState(session, 'ready');
      this.deps.logger.info({ session: id, labId: session.labId, image, cluster: session.cluster?.name }, 'session ready');
    } catch (e) {
      const err = e instanceof RunnerError ? e : new RunnerError('WORKSTATION_FAILED', { cause: e, details: String(e) });
      delete session.wait;
      session.error = { code: err.code, message: err.message, hint: err.hint };
      this.setState(session, 'failed');
      await this.deps.engine.removeContainer(session.workstation).catch(() => undefined);
      await this.dropHome(id);
      await this.deps.onRemoved?.(session).catch(() => undefined);
      this.deps.logger.warn({ session: id, err: String(e) }, 'session failed to start');
      // Kept for a minute so a polling page can read why, then forgotten.
      setTimeout(() => {
        if (this.sessions.get(id) !== session) return;
        this.sessions.delete(id);
        this.changed('removed', id);
      }, 60_000).unref?.();
      throw err;
    }
  }

  /** A request or keystroke for this session: it is in use. */
  touch(id: string): void {
    const s = this.sessions.get(id);
    if (s) s.lastSeen = this.now();
  }

  /** Remove ready sessions nobody has used for `idleMs` (no request, no attached terminal); returns their ids. */
  async expireIdle(idleMs: number): Promise<string[]> {
    const now = this.now();
    const idle = [...this.sessions.values()].filter((s) => s.state === 'ready' && now - s.lastSeen > idleMs && ![...s.terminals.values()].some((t) => t.clientCount > 0));
    for (const s of idle) {
      this.deps.logger.info({ session: s.id, idleMinutes: Math.round((now - s.lastSeen) / 60_000) }, 'session expired');
      await this.remove(s.id).catch(() => undefined);
    }
    return idle.map((s) => s.id);
  }

  get(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw new RunnerError('SESSION_UNKNOWN', { details: { id } });
    return s;
  }

  /**
   * The session, from this runner or else from the shared records (another replica started
   * it): taken over as it is — same id, same cluster and workstation, no reset — so the
   * learner's page and terminal carry on here. SESSION_UNKNOWN when neither has it.
   */
  async find(id: string): Promise<Session> {
    const here = this.sessions.get(id);
    if (here || !this.deps.shared) return this.get(id);
    let p = this.finding.get(id);
    if (!p) {
      p = this.takeOver(id).finally(() => this.finding.delete(id));
      this.finding.set(id, p);
    }
    return p;
  }

  private async takeOver(id: string): Promise<Session> {
    const rec = await this.deps.shared!.load(id).catch((e: unknown) => {
      this.deps.logger.warn({ session: id, err: String(e) }, 'looking up a shared session failed');
      return undefined;
    });
    const now = this.sessions.get(id);
    if (now) return now;
    if (!rec || rec.id !== id) throw new RunnerError('SESSION_UNKNOWN', { details: { id } });
    const session: Session = {
      id, labId: rec.labId, createdAt: rec.createdAt, workstation: rec.workstation, state: 'ready', terminals: new Map(),
      progress: new Map(rec.progress ?? []), learner: rec.learner, lastSeen: this.now(), ready: Promise.resolve(),
      cluster: { name: rec.cluster, kubeconfigPath: '' },
    };
    this.sessions.set(id, session);
    this.changed('added', id);
    this.deps.logger.info({ session: id, labId: rec.labId, cluster: rec.cluster }, 'session taken over from another runner replica');
    return session;
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  list(): Session[] {
    return [...this.sessions.values()];
  }

  /** The terminals a session may open: its workstation, and node shells when allowed. */
  async terminalList(id: string): Promise<{ name: string; title: string }[]> {
    const s = this.get(id);
    const nodes = (await this.deps.nodeShells?.(s).catch(() => [])) ?? [];
    // Tab titles drop the cluster's name: "control-plane (root)", "worker2 (root)".
    const short = (n: { name: string }) => (s.cluster && n.name.startsWith(`${s.cluster.name}-`) ? n.name.slice(s.cluster.name.length + 1) : n.name);
    return [{ name: 'workstation', title: 'workstation' }, ...nodes.map((n) => ({ name: `node:${n.name}`, title: `${short(n)} (root)` }))];
  }

  /**
   * The named terminal of a session, made on first use. `lang` zh: the workstation's shell
   * gets SVCLAB_LANG=zh (its greeting is /etc/motd.zh-cn); it counts when the terminal is made.
   */
  async terminal(id: string, name = 'workstation', opts: { lang?: 'en' | 'zh' } = {}): Promise<AttachableTerminal> {
    const s = this.get(id);
    let t = s.terminals.get(name);
    if (t) return t;
    if (s.state !== 'ready') throw new RunnerError('SESSION_STARTING', { message: `This lab session is still starting (${s.state}).` });
    if (name === 'workstation' && this.deps.workstationTerminal) {
      t = this.deps.workstationTerminal(s, opts);
      s.terminals.set(name, t);
      return t;
    }
    let argv: string[];
    if (name === 'workstation') {
      argv = this.deps.engine.execArgv(s.workstation, ['bash', '-l'], { tty: true, user: 'learner', workdir: '/home/learner', ...(opts.lang === 'zh' ? { env: { SVCLAB_LANG: 'zh' } } : {}) });
    } else {
      const node = name.startsWith('node:') ? ((await this.deps.nodeShells?.(s)) ?? []).find((n) => `node:${n.name}` === name) : undefined;
      if (!node) {
        throw new RunnerError('BAD_REQUEST', {
          message: `This session has no terminal named "${name}".`,
          hint: this.deps.nodeShells ? 'Use name=workstation, or node:<node name> for a node of the session\'s cluster.' : 'Node shells are offered only while the runner listens on loopback; use name=workstation.',
        });
      }
      argv = this.deps.engine.execArgv(node.container, ['bash', '-l'], { tty: true });
      this.deps.onNodeShell?.(s);
    }
    const history = this.deps.store?.history(s.id, name);
    t = s.terminals.get(name) ?? new Terminal({ name, argv, ptys: this.deps.ptys, ...(history ? { history } : {}) });
    s.terminals.set(name, t);
    return t;
  }

  recordProgress(id: string, stepId: string, status: 'passed' | 'solved-with-help'): void {
    const s = this.get(id);
    // Passing Check after Solve keeps "solved with help".
    if (s.progress.get(stepId)?.status === 'solved-with-help' && status === 'passed') return;
    s.progress.set(stepId, { status, at: new Date().toISOString() });
    this.record(s);
    this.changed('progress', id);
  }

  /** Keep a step's latest Check results (what the instructor page aggregates). */
  recordCheck(id: string, stepId: string, reply: { passed: boolean; results: StepCheckRecord['results'] }): void {
    const s = this.get(id);
    const at = new Date(this.now()).toISOString();
    s.lastChecks ??= new Map();
    const before = s.lastChecks.get(stepId);
    const results = reply.results.map((r) => ({ checkId: r.checkId, kind: r.kind, status: r.status, message: r.message }));
    s.lastChecks.set(stepId, { firstAt: before?.firstAt ?? at, at, attempts: (before?.attempts ?? 0) + 1, passed: reply.passed, results });
    this.changed('check', id);
  }

  /** Reset lab: the session's progress and checks start over. */
  clearProgress(id: string): void {
    const s = this.get(id);
    s.progress.clear();
    s.lastChecks?.clear();
    this.record(s);
    this.changed('progress', id);
  }

  /**
   * Remove a session from this runner. `ended`: the learner ended it (End lab), so the
   * other runners forget it too; a runner stopping or expiring an idle session leaves the
   * shared record, and another replica may still serve it.
   */
  async remove(id: string, opts: { ended?: boolean } = {}): Promise<{ shared?: 'dropped' | 'gone' }> {
    const s = this.get(id);
    this.leaving.add(id);
    try {
      await this.removeSession(s);
      if (!opts.ended || s.state === 'failed' || !this.deps.shared) return {};
      // 'gone': another runner ended or moved it first (its SessionMover then moved it, not this one).
      const dropped = await this.deps.shared.drop(s).catch((e: unknown) => {
        this.deps.logger.warn({ session: id, err: String(e) }, 'the shared session record could not be removed');
        return true;
      });
      return { shared: dropped ? 'dropped' : 'gone' };
    } finally {
      this.leaving.delete(id);
    }
  }

  private async removeSession(s: Session): Promise<void> {
    const id = s.id;
    this.sessions.delete(id);
    this.changed('removed', id);
    for (const t of s.terminals.values()) t.close();
    if (s.state === 'failed') return;
    // A session still starting stops at its next phase; its bring-up cleans up after itself.
    await s.ready.catch(() => undefined);
    await this.deps.engine.removeContainer(s.workstation).catch((e: unknown) => {
      this.deps.logger.warn({ session: id, err: String(e) }, 'workstation removal failed');
    });
    // Ended for good (Stop, idle expiry, the runner stopping): the home volume and the record go too.
    await this.dropHome(id);
    await this.deps.onRemoved?.(s).catch((e: unknown) => this.deps.logger.warn({ session: id, err: String(e) }, 'releasing the session\'s cluster failed'));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((id) => this.remove(id)));
  }

  /**
   * Remove workstation containers no live session owns: ours that lost their
   * session, and those of runners that are gone. Another live runner's (or a
   * running `svclab validate`'s) workstations are left alone. With a store,
   * workstations this store recorded and can verify are taken back (`recover`).
   */
  async reapOrphans(): Promise<string[]> {
    return (await this.recover()).removed.map((r) => r.name);
  }

  /**
   * After a restart: take back each workstation this runner's store recorded whose
   * secret label matches the recorded hash, that is running and whose session was
   * ready (same id, so open tabs reconnect); remove the ones it can't verify, with
   * their home volume and record. Workstations of a live runner, or recorded in another
   * runner's store that still holds their record, are left alone.
   */
  async recover(opts: { onAdopted?: (ids: string[]) => void } = {}): Promise<RecoverReport> {
    // One at a time (start.ts also runs it every sweep: a `docker run` left running by a killed
    // runner can make its workstation after the first look).
    if (this.recovering) {
      const r = await this.recovering;
      opts.onAdopted?.(r.adopted);
      return r;
    }
    this.recovering = this.recoverOnce(opts.onAdopted).finally(() => { this.recovering = undefined; });
    return this.recovering;
  }

  /** `onAdopted` is called once the verified sessions are back, before anything is removed (removing takes seconds). */
  private async recoverOnce(onAdopted?: (ids: string[]) => void): Promise<RecoverReport> {
    const alive = (pid: number) => Number.isInteger(pid) && pid > 0 && pid !== this.ownerPid && (this.deps.isAlive ?? pidAlive)(pid);
    const store = this.deps.store;
    const report: RecoverReport = { adopted: [], removed: [], volumes: [] };
    const found = await this.deps.engine.inspectContainers([`${ROLE_LABEL}=workstation`]);
    const homes = await this.deps.engine.inspectVolumes([`${ROLE_LABEL}=home`]);
    const dropHome = async (id: string) => {
      if ((await this.dropHome(id)) && homes.some((v) => v.name === homeVolumeName(id))) report.volumes.push(homeVolumeName(id));
    };
    const seen = new Set<string>();
    const doomed: { c: (typeof found)[number]; id: string; dir: string | undefined; reason: string }[] = [];
    for (const c of found) {
      const id = c.labels[SESSION_LABEL] ?? '';
      seen.add(id);
      if (this.sessions.has(id) || this.leaving.has(id)) continue;
      const dir = c.labels[STATE_DIR_LABEL];
      let reason: string;
      if (store && dir === store.dir) {
        const rec = store.load(id);
        if (rec && alive(rec.ownerPid)) continue; // another runner on this store holds it
        reason = !rec ? 'no record of it'
          : rec.workstation !== c.name || !secretMatches(rec, c.labels[SECRET_LABEL]) ? 'its secret does not match the record'
          : !c.running ? `it is ${c.state || 'not running'}`
          : rec.state !== 'ready' ? 'the runner stopped while it was starting'
          : !(await (this.deps.canAdopt?.(rec) ?? Promise.resolve(true)).catch(() => false)) ? `its cluster ${rec.cluster ?? ''} is not the one to use now`
          : '';
        if (!reason && rec) {
          this.adopt(rec);
          report.adopted.push(id);
          continue;
        }
      } else {
        if (alive(Number(c.labels[OWNER_LABEL]))) continue;
        // Another store's session: its runner may come back for it while the record is there.
        if (dir && existsSync(join(dir, `${id}.json`))) continue;
        reason = 'its runner is gone';
      }
      doomed.push({ c, id, dir, reason });
    }
    try {
      onAdopted?.(report.adopted);
    } catch (e) {
      this.deps.logger.warn({ err: String(e) }, 'onAdopted failed');
    }
    for (const { c, id, dir, reason } of doomed) {
      await this.deps.engine.removeContainer(c.id);
      report.removed.push({ name: c.name, reason });
      this.deps.logger.info({ session: id, workstation: c.name, reason }, 'workstation removed');
      if (id && (!dir || dir === store?.dir)) await dropHome(id);
    }
    // Records (and home volumes) left without a workstation: nothing to take back.
    for (const id of store?.ids() ?? []) {
      if (this.sessions.has(id) || this.leaving.has(id) || seen.has(id)) continue;
      const rec = store!.load(id);
      if (rec && alive(rec.ownerPid)) continue;
      await dropHome(id);
    }
    for (const v of homes) {
      if (report.volumes.includes(v.name)) continue;
      const id = v.labels[SESSION_LABEL] ?? '';
      const dir = v.labels[STATE_DIR_LABEL];
      if (this.sessions.has(id) || this.leaving.has(id) || seen.has(id) || alive(Number(v.labels[OWNER_LABEL]))) continue;
      if (dir && dir !== store?.dir && existsSync(join(dir, `${id}.json`))) continue;
      if (store && dir === store.dir && store.load(id)) continue;
      if (await this.deps.engine.removeVolume(v.name).catch(() => false)) report.volumes.push(v.name);
    }
    return report;
  }

  private adopt(rec: SessionRecord): void {
    const session: Session = {
      id: rec.id, labId: rec.labId, createdAt: rec.createdAt, workstation: rec.workstation, state: 'ready', terminals: new Map(),
      progress: new Map(rec.progress), learner: rec.learner, lastSeen: this.now(), ready: Promise.resolve(),
      ...(rec.cluster ? { cluster: { name: rec.cluster, kubeconfigPath: '' } } : {}),
    };
    this.sessions.set(rec.id, session);
    this.record(session, 'ready', rec.secretSha256);
    this.changed('added', rec.id);
    this.deps.logger.info({ session: rec.id, labId: rec.labId, cluster: rec.cluster }, 'session taken back after a restart');
  }

  /** Save the session's record (state and secret hash kept from the last save unless given). */
  private record(s: Session, state?: SessionRecord['state'], secretHash?: string): void {
    const store = this.deps.store;
    if (!store) return;
    const before = secretHash && state ? undefined : store.load(s.id);
    const hash = secretHash ?? before?.secretSha256;
    if (!hash) return;
    try {
      store.save({
        version: 1, id: s.id, labId: s.labId, learner: s.learner, createdAt: s.createdAt, workstation: s.workstation, volume: homeVolumeName(s.id),
        ...(s.cluster ? { cluster: s.cluster.name } : {}),
        state: state ?? before?.state ?? 'starting', secretSha256: hash, ownerPid: this.ownerPid, progress: [...s.progress.entries()],
      });
    } catch (e) {
      this.deps.logger.warn({ session: s.id, err: String(e) }, 'the session record could not be written');
    }
  }

  /** The home volume and the record of a session that ended for good. */
  private async dropHome(id: string): Promise<boolean> {
    this.deps.store?.forget(id);
    return this.deps.engine.removeVolume(homeVolumeName(id)).catch((e: unknown) => {
      this.deps.logger.warn({ session: id, err: String(e) }, 'home volume removal failed');
      return false;
    });
  }
}

export function viewSession(s: Session): SessionView {
  const at = (START_PHASES as readonly string[]).indexOf(s.state);
  const steps = START_PHASES.map((id, i) => ({
    id,
    state: s.state === 'ready' || (at >= 0 && i < at) ? ('done' as const) : i === at ? ('running' as const) : ('pending' as const),
  }));
  const v: SessionView = { id: s.id, labId: s.labId, createdAt: s.createdAt, workstation: s.workstation, state: s.state, steps, cluster: s.cluster?.name ?? null };
  if (s.error) v.error = s.error;
  if (s.wait) v.wait = s.wait;
  return v;
}
