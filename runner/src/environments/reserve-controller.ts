// Keeps a workshop's reserve: `reserve` Environment objects, each with something running
// it (an EnvironmentRuntime), waiting Ready and unclaimed, so a learner who joins gets one
// at once. One replica reconciles at a time (LeaseElector); the others only claim, which
// KubeWorkshopStore makes safe with optimistic concurrency. Each pass:
//   1. each Environment's status follows what its runtime says (Pending, Ready, Failed);
//      with a `prepare` step, a running environment is Ready only once that step is done
//      (learner access in its cluster; it runs beside the passes, one per environment);
//   2. an unclaimed environment that failed or vanished is deleted (and replaced in 4);
//      a claimed one is marked Failed with the reason, for the learner's page to say;
//   3. whatever the runtime runs without an Environment is stopped;
//   4. unclaimed environments are made or removed to reach min(reserve, capacity − claimed);
//      none once the workshop is over.
// Removing an unclaimed environment first marks it Released, conditional on the version
// read, so a replica claiming it at that moment gets a conflict instead of a dying cluster.
import { randomBytes } from 'node:crypto';
import { isReason, type KubeObject, type KubeObjects } from '../kube-store/kube-objects.ts';
import { WORKSHOP_LABEL, type EnvironmentPhase, type KubeWorkshopStore } from '../kube-store/kube-workshop-store.ts';
import type { EnvironmentInfo, EnvironmentRuntime } from './environment-runtime.ts';
import type { LeaseElector } from './lease-elector.ts';

export interface ReserveControllerOptions {
  objects: KubeObjects;
  store: KubeWorkshopStore;
  runtime: EnvironmentRuntime;
  elector: LeaseElector;
  now?: () => number;
  log?: (line: string) => void;
  /** New Environment names (random by default; tests fix them). */
  newName?: () => string;
  /**
   * What makes a running environment a learner's (prepareEnvironment: learner access, the
   * workstation's kubeconfig); a short detail for the log. Idempotent: a replica taking
   * over the reserve runs it again for one not yet Ready. A failure fails the environment.
   */
  prepare?: (name: string) => Promise<string | void>;
}

/** What one pass saw and did. */
export interface ReconcileReport {
  leader: boolean;
  /** Why nothing was done although leader (no Workshop yet). */
  idle?: string;
  target: number;
  ready: number;
  pending: number;
  claimed: number;
  created: string[];
  removed: string[];
  /** Why each removed one went, in the same order. */
  removedWhy: string[];
  stopped: string[];
  failedClaimed: string[];
  errors: string[];
}

const phaseOf = (info: EnvironmentInfo | undefined): EnvironmentPhase => (!info ? 'Failed' : info.state === 'ready' ? 'Ready' : info.state === 'starting' ? 'Pending' : 'Failed');

export class ReserveController {
  private readonly o: ReserveControllerOptions;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** Ready times measured by this replica (ms from the Environment's creation to Ready). */
  readonly readyTimesMs: number[] = [];
  /** prepare() by Environment: running, done (its detail), failed (why). */
  private readonly preparing = new Map<string, Promise<void>>();
  private readonly prepared = new Map<string, string>();
  private readonly prepareFailed = new Map<string, string>();

  constructor(o: ReserveControllerOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.log = o.log ?? (() => undefined);
  }

  async reconcileOnce(): Promise<ReconcileReport> {
    const r: ReconcileReport = { leader: false, target: 0, ready: 0, pending: 0, claimed: 0, created: [], removed: [], removedWhy: [], stopped: [], failedClaimed: [], errors: [] };
    if (!(await this.o.elector.tryAcquire())) return r;
    r.leader = true;
    const { objects, store, runtime } = this.o;
    const w = await store.getWorkshop();
    if (!w) {
      r.idle = `no Workshop ${store.name} yet`;
      return r;
    }
    const over = w.endedAt !== undefined || this.now() >= w.expiresAt;
    const envs = await objects.list('environments', { [WORKSHOP_LABEL]: store.name });
    const running = await runtime.inspectAll();
    const spare: KubeObject[] = [];

    for (const e of envs) {
      const name = e.metadata.name;
      let info = running.get(name);
      if (info?.state === 'ready' && this.o.prepare && e.status?.['phase'] !== 'Ready' && e.status?.['phase'] !== 'Released') info = this.preparation(name, info);
      const claimed = e.spec?.['claim'] !== undefined;
      const phase = phaseOf(info);
      const was = e.status?.['phase'] as EnvironmentPhase | undefined;
      if (was === 'Released') {
        // A removal this replica (or the last leader) began: finish it.
        if (!claimed) await this.remove(e, r, 'finishing a removal');
        continue;
      }
      if (claimed) {
        r.claimed++;
        if (phase === 'Failed' && was !== 'Failed') r.failedClaimed.push(name);
      } else if (phase === 'Failed') {
        await this.remove(e, r, info?.message ?? 'its pod is gone');
        continue;
      }
      const message = (info?.message ?? (info ? undefined : 'its pod is gone (node lost or pod deleted)'))?.slice(0, 1000);
      if (phase !== was || message !== e.status?.['message'] || (info?.node !== undefined && info.node !== e.status?.['node'])) {
        await this.note(r, `status of ${name}`, () => store.setEnvironmentStatus(name, { phase, ...(info?.pod ? { pod: info.pod } : {}), ...(info?.node ? { node: info.node } : {}), ...(message ? { message } : {}) }));
        if (phase === 'Ready' && was !== 'Ready') {
          const made = Date.parse(e.metadata.creationTimestamp ?? '');
          if (Number.isFinite(made)) this.readyTimesMs.push(this.now() - made);
        }
      }
      if (!claimed) {
        spare.push(e);
        if (phase === 'Ready') r.ready++;
        else r.pending++;
      }
    }

    const known = new Set(envs.map((e) => e.metadata.name));
    for (const m of [this.prepared, this.prepareFailed]) for (const n of m.keys()) if (!known.has(n)) m.delete(n);
    for (const name of running.keys()) {
      if (!known.has(name)) {
        await this.note(r, `stop ${name}`, async () => { if (await runtime.stop(name)) r.stopped.push(name); });
      }
    }

    r.target = over ? 0 : Math.max(0, Math.min(w.reserve, w.capacity - r.claimed));
    for (let n = spare.length; n < r.target; n++) {
      const name = this.o.newName?.() ?? `${store.name}-e-${randomBytes(4).toString('hex')}`;
      await this.note(r, `create ${name}`, async () => {
        const ref = await store.createEnvironment(name);
        try {
          await runtime.start(ref);
        } catch (e) {
          // Nothing runs it: remove it now rather than leave a Pending one that never comes.
          await objects.delete('environments', name).catch(() => false);
          throw e;
        }
        r.created.push(name);
        r.pending++;
        await store.setEnvironmentStatus(name, { phase: 'Pending', message: `started by ${runtime.kind}` });
      });
    }
    // Too many (the workshop ended, or learners took places): the ones not Ready go first.
    const extra = spare.length - r.target;
    if (extra > 0) {
      const order = [...spare].sort((a, b) => Number(a.status?.['phase'] === 'Ready') - Number(b.status?.['phase'] === 'Ready'));
      for (const e of order.slice(0, extra)) {
        if (await this.remove(e, r, over ? 'the workshop is over' : 'more than the reserve')) {
          if (e.status?.['phase'] === 'Ready') r.ready--;
          else r.pending--;
        }
      }
    }
    if (r.created.length || r.removed.length || r.stopped.length || r.failedClaimed.length || r.errors.length) {
      this.log(`reserve: target ${r.target}, ready ${r.ready}, pending ${r.pending}, claimed ${r.claimed}`
        + `${r.created.length ? `; made ${r.created.join(', ')}` : ''}${r.removed.length ? `; removed ${r.removed.map((n, i) => `${n} (${r.removedWhy[i]})`).join(', ')}` : ''}`
        + `${r.stopped.length ? `; stopped ${r.stopped.join(', ')}` : ''}${r.failedClaimed.length ? `; FAILED while claimed: ${r.failedClaimed.join(', ')}` : ''}`
        + `${r.errors.length ? `; errors: ${r.errors.join(' | ')}` : ''}`);
    }
    return r;
  }

  /** A running environment as the pass sees it while prepare() runs, once it is done, or failed. */
  private preparation(name: string, info: EnvironmentInfo): EnvironmentInfo {
    if (this.prepared.has(name)) return info;
    const failed = this.prepareFailed.get(name);
    if (failed !== undefined) return { ...info, state: 'failed', message: `preparing it for a learner failed: ${failed}` };
    if (!this.preparing.has(name)) {
      const t0 = this.now();
      this.preparing.set(name, this.o.prepare!(name).then(
        (detail) => { this.prepared.set(name, detail ?? ''); this.log(`prepared ${name} in ${((this.now() - t0) / 1000).toFixed(1)} s${detail ? `: ${detail}` : ''}`); },
        (e: unknown) => { this.prepareFailed.set(name, (e instanceof Error ? e.message : String(e)).slice(0, 500)); },
      ).finally(() => this.preparing.delete(name)));
    }
    return { ...info, state: 'starting', message: 'its cluster is up; installing learner access' };
  }

  /** Waits for the prepare() calls in flight (tests, and stop()). */
  async settled(): Promise<void> {
    await Promise.all([...this.preparing.values()]);
  }

  /** Reconciles every `intervalMs` until stop(); one pass at a time. */
  start(intervalMs = 5_000): void {
    const tick = () => {
      this.running = this.reconcileOnce()
        .catch((e: unknown) => this.log(`reserve: pass failed: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops reconciling and gives the lease up, so the other replica takes over at once. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.o.elector.release().catch(() => undefined);
  }

  /** Marks an unclaimed environment Released (conditional), then deletes it and what runs it. false when it was claimed meanwhile. */
  private async remove(e: KubeObject, r: ReconcileReport, why: string): Promise<boolean> {
    const name = e.metadata.name;
    if (e.status?.['phase'] !== 'Released') {
      try {
        await this.o.objects.replaceStatus('environments', { ...e, status: { ...e.status, phase: 'Released', message: why.slice(0, 1000) } });
      } catch (err) {
        if (isReason(err, 'conflict') || isReason(err, 'not-found')) return false;
        r.errors.push(`remove ${name}: ${String(err)}`);
        return false;
      }
    }
    await this.note(r, `remove ${name}`, async () => {
      await this.o.objects.delete('environments', name);
      // The pod is owned by the Environment; a runtime without owners (the fake) needs telling.
      await this.o.runtime.stop(name);
      r.removed.push(name);
      r.removedWhy.push(why);
    });
    return r.removed.includes(name);
  }

  private async note(r: ReconcileReport, what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      r.errors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
