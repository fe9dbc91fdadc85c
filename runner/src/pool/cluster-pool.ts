// The warm pool: K clusters with every component, made ahead of time so a
// learner's Start lab gets one in well under two seconds. One learner holds one
// cluster for all their labs; when they are done it is reset and verified (or,
// when it can't be trusted, deleted) and the pool fills again in the background.
//
// The pool never blocks a caller on a raw error: with no cluster free, a claim
// waits in line and reports its position and an estimate from measured
// provisioning times.
import type { Logger } from 'pino';
import type { ClusterDriver } from '../cluster/cluster-driver.ts';
import { RunnerError } from '../errors.ts';

export const POOL_PREFIX = 'svclab-pool-';

export type PoolClusterState = 'provisioning' | 'ready' | 'claimed' | 'recycling' | 'deleting';

export interface PoolCluster {
  name: string;
  state: PoolClusterState;
  /** When it entered this state (ms, the pool's clock). */
  since: number;
  owner?: string;
  /** Set when the owner did something recycling can't undo (a root node shell): delete, don't recycle. */
  tainted?: boolean;
}

export interface WaitInfo {
  /** 1 = next in line. */
  position: number;
  /** Estimated seconds until a cluster is ready for this claim; undefined when it waits for another learner to finish. */
  etaSeconds?: number;
}

export interface PoolDeps {
  driver: Pick<ClusterDriver, 'list' | 'delete'>;
  /** Make a cluster with every component, ready for a lab; removes what it made on failure. */
  provision(name: string, signal: AbortSignal): Promise<void>;
  /** Put a released cluster back to its provisioned state and verify it; false: it can't be trusted. */
  recycle(name: string): Promise<boolean>;
  /** A fast liveness probe before a claim hands the cluster out. */
  healthy(name: string): Promise<boolean>;
  logger: Logger;
  now?: () => number;
}

export interface PoolOptions {
  /** Clusters the pool holds at most (ready + claimed + in the making). */
  size: number;
  /** First guess of one provisioning, until one is measured. */
  provisionEstimateMs?: number;
  /** Give up a claim that waited this long. */
  claimTimeoutMs?: number;
  /** Names of pooled clusters: <prefix><n>. Tests and benchmarks use their own. */
  prefix?: string;
}

interface Waiter {
  owner: string;
  /** Moved off a failed cluster: waits ahead of new arrivals (behind others moved before). */
  moved?: boolean;
  resolve: (name: string) => void;
  reject: (e: unknown) => void;
  onWait?: ((w: WaitInfo) => void) | undefined;
}

export interface PoolSnapshot {
  size: number;
  clusters: { name: string; state: PoolClusterState; forSeconds: number; owner?: string }[];
  waiting: number;
  provisionMs: { last?: number; average: number; count: number };
}

export class ClusterPool {
  private readonly deps: PoolDeps;
  private readonly opts: Required<PoolOptions>;
  private readonly clusters = new Map<string, PoolCluster>();
  private readonly waiters: Waiter[] = [];
  private readonly provisionTimes: number[] = [];
  private readonly abort = new AbortController();
  private filling: Promise<void> | undefined;
  private closed = false;
  /** Owners whose cluster failed under them: their next wait in line starts at the front. */
  private readonly ahead = new Set<string>();
  private readonly listeners = new Set<() => void>();

  constructor(deps: PoolDeps, opts: PoolOptions) {
    this.deps = deps;
    this.opts = { provisionEstimateMs: 90_000, claimTimeoutMs: 15 * 60_000, prefix: POOL_PREFIX, ...opts };
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private set(c: PoolCluster, state: PoolClusterState): void {
    c.state = state;
    c.since = this.now();
    this.changed();
  }

  /** Call `listener` when a cluster changes state or the line of waiters changes (the instructor page); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch (e) {
        this.deps.logger.warn({ err: String(e) }, 'pool: a change listener failed');
      }
    }
  }

  /** Adopt the ready clusters a previous runner left (a warm pool survives restarts), delete the rest, then fill. */
  async start(): Promise<void> {
    const found = (await this.deps.driver.list()).filter((c) => c.name.startsWith(this.opts.prefix));
    for (const c of found) {
      const ok = c.state === 'running' && this.clusters.size < this.opts.size && (await this.deps.recycle(c.name).catch(() => false));
      if (ok) {
        this.clusters.set(c.name, { name: c.name, state: 'ready', since: this.now() });
        this.deps.logger.info({ cluster: c.name }, 'pool: adopted a running cluster');
      } else {
        await this.deps.driver.delete(c.name).catch((e: unknown) => this.deps.logger.warn({ cluster: c.name, err: String(e) }, 'pool: removing a leftover failed'));
      }
    }
    this.fill();
  }

  /** The cluster `owner` holds, claimed now if needed; waits in line when none is free. */
  async claim(owner: string, opts: { onWait?: (w: WaitInfo) => void; signal?: AbortSignal } = {}): Promise<string> {
    if (this.closed) throw new RunnerError('POOL_CLOSED');
    const held = [...this.clusters.values()].find((c) => c.owner === owner && c.state === 'claimed');
    if (held) return held.name;
    for (const c of this.clusters.values()) {
      if (c.state !== 'ready') continue;
      c.owner = owner;
      this.set(c, 'claimed');
      if (await this.deps.healthy(c.name).catch(() => false)) return c.name;
      this.deps.logger.warn({ cluster: c.name }, 'pool: a ready cluster failed its health probe; replacing it');
      delete c.owner;
      void this.remove(c);
    }
    return new Promise<string>((resolve, reject) => {
      const w: Waiter = { owner, resolve, reject, onWait: opts.onWait };
      const timer = setTimeout(() => this.dropWaiter(w, new RunnerError('POOL_TIMEOUT', { details: { waitedMs: this.opts.claimTimeoutMs } })), this.opts.claimTimeoutMs);
      timer.unref?.();
      w.resolve = (name) => { clearTimeout(timer); resolve(name); };
      w.reject = (e) => { clearTimeout(timer); reject(e); };
      opts.signal?.addEventListener('abort', () => this.dropWaiter(w, new RunnerError('POOL_CLOSED', { message: 'The claim was cancelled.' })), { once: true });
      // A learner moved off a failed cluster was working already: they go before new arrivals,
      // in the order they were moved.
      if (this.ahead.delete(owner)) {
        w.moved = true;
        const at = this.waiters.findIndex((x) => !x.moved);
        this.waiters.splice(at < 0 ? this.waiters.length : at, 0, w);
      } else {
        this.waiters.push(w);
      }
      this.fill();
      this.notifyWaiters();
    });
  }

  /** The owner's cluster goes back: recycled when it can be trusted, else deleted and replaced. */
  async release(owner: string): Promise<void> {
    const c = [...this.clusters.values()].find((x) => x.owner === owner && x.state === 'claimed');
    if (!c) return;
    delete c.owner;
    this.set(c, 'recycling');
    this.notifyWaiters();
    const ok = !c.tainted && !this.closed && (await this.deps.recycle(c.name).catch((e: unknown) => {
      this.deps.logger.warn({ cluster: c.name, err: String(e) }, 'pool: recycle failed');
      return false;
    }));
    delete c.tainted;
    if (ok) {
      this.set(c, 'ready');
      this.serveWaiters();
    } else {
      await this.remove(c);
    }
  }

  /**
   * The owner's cluster stopped answering: it is deleted now (not recycled; nothing in it is
   * trusted or reachable), the pool makes a new one, and the owner's next claim, if it has to
   * wait, waits at the front of the line. Returns the cluster's name, or undefined when the
   * owner held none.
   */
  discard(owner: string): string | undefined {
    const c = [...this.clusters.values()].find((x) => x.owner === owner && x.state === 'claimed');
    if (!c) return undefined;
    delete c.owner;
    delete c.tainted;
    this.ahead.add(owner);
    this.deps.logger.warn({ cluster: c.name }, 'pool: a claimed cluster stopped answering; deleting it');
    void this.remove(c);
    return c.name;
  }

  /** The clusters learners hold now, with who holds each (the health watch probes them). */
  claimed(): { name: string; owner: string }[] {
    return [...this.clusters.values()].filter((c) => c.state === 'claimed' && c.owner).map((c) => ({ name: c.name, owner: c.owner! }));
  }

  /** The owner did something a reset can't undo (e.g. a root shell on a node): delete their cluster on release. */
  taint(owner: string): void {
    const c = [...this.clusters.values()].find((x) => x.owner === owner);
    if (c) c.tainted = true;
  }

  /** Where a claim of `owner` stands while it waits; undefined when it is not waiting. */
  waitInfo(owner: string): WaitInfo | undefined {
    const i = this.waiters.findIndex((w) => w.owner === owner);
    if (i < 0) return undefined;
    return this.estimate(i + 1);
  }

  snapshot(): PoolSnapshot {
    const now = this.now();
    return {
      size: this.opts.size,
      clusters: [...this.clusters.values()].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true })).map((c) => ({
        name: c.name, state: c.state, forSeconds: Math.round((now - c.since) / 1000), ...(c.owner ? { owner: c.owner.slice(0, 6) } : {}),
      })),
      waiting: this.waiters.length,
      provisionMs: { ...(this.provisionTimes.length ? { last: this.provisionTimes.at(-1)! } : {}), average: Math.round(this.averageProvisionMs()), count: this.provisionTimes.length },
    };
  }

  /** Stop filling (a provisioning in flight is aborted and cleans up); ready clusters stay for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    for (const w of this.waiters.splice(0)) w.reject(new RunnerError('POOL_CLOSED'));
    await this.filling?.catch(() => undefined);
  }

  /** Resolves once nothing is being provisioned (tests, benchmarks). */
  async settled(): Promise<void> {
    while (this.filling) await this.filling.catch(() => undefined);
  }

  private averageProvisionMs(): number {
    const recent = this.provisionTimes.slice(-5);
    return recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : this.opts.provisionEstimateMs;
  }

  /**
   * Waiter at `position` gets the position-th cluster to become ready: recycling
   * ones first (seconds), then the one being provisioned, then ones not yet
   * started (clusters are provisioned one at a time). Past those, it waits for
   * a learner to finish: no estimate.
   */
  private estimate(position: number): WaitInfo {
    const now = this.now();
    const avg = this.averageProvisionMs();
    const cs = [...this.clusters.values()];
    const upcoming: number[] = [
      ...cs.filter((c) => c.state === 'recycling').map(() => 10_000),
      ...cs.filter((c) => c.state === 'provisioning').map((c) => Math.max(5_000, avg - (now - c.since))),
    ];
    const room = this.opts.size - cs.length;
    let last = upcoming.length ? Math.max(...upcoming) : 0;
    for (let i = 0; i < room; i++) upcoming.push((last += avg));
    upcoming.sort((a, b) => a - b);
    const ms = upcoming[position - 1];
    return ms === undefined ? { position } : { position, etaSeconds: Math.ceil(ms / 1000) };
  }

  private notifyWaiters(): void {
    this.waiters.forEach((w, i) => w.onWait?.(this.estimate(i + 1)));
    this.changed();
  }

  private dropWaiter(w: Waiter, e: unknown): void {
    const i = this.waiters.indexOf(w);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    w.reject(e);
    this.notifyWaiters();
  }

  private serveWaiters(): void {
    for (const c of this.clusters.values()) {
      if (c.state !== 'ready') continue;
      const w = this.waiters.shift();
      if (!w) break;
      c.owner = w.owner;
      this.set(c, 'claimed');
      w.resolve(c.name);
    }
    this.notifyWaiters();
  }

  private async remove(c: PoolCluster): Promise<void> {
    this.set(c, 'deleting');
    await this.deps.driver.delete(c.name).catch((e: unknown) => this.deps.logger.warn({ cluster: c.name, err: String(e) }, 'pool: delete failed'));
    this.clusters.delete(c.name);
    this.changed();
    this.fill();
  }

  private nextName(): string {
    for (let i = 1; ; i++) if (!this.clusters.has(`${this.opts.prefix}${i}`)) return `${this.opts.prefix}${i}`;
  }

  /** One provisioning at a time (2 cores: parallel bring-ups only slow each other down). */
  private fill(): void {
    if (this.filling || this.closed) return;
    this.filling = (async () => {
      let failures = 0;
      while (!this.closed && this.clusters.size < this.opts.size && failures < 3) {
        const c: PoolCluster = { name: this.nextName(), state: 'provisioning', since: this.now() };
        this.clusters.set(c.name, c);
        this.notifyWaiters();
        const began = this.now();
        try {
          await this.deps.provision(c.name, this.abort.signal);
          this.provisionTimes.push(this.now() - began);
          this.set(c, 'ready');
          failures = 0;
          this.deps.logger.info({ cluster: c.name, ms: this.now() - began }, 'pool: cluster ready');
          this.serveWaiters();
        } catch (e) {
          this.clusters.delete(c.name);
          this.changed();
          if (this.closed) break;
          failures++;
          this.deps.logger.error({ cluster: c.name, err: String(e) }, 'pool: provisioning failed');
          if (failures >= 3) {
            const err = e instanceof RunnerError ? e : new RunnerError('CLUSTER_FAILED', { cause: e, details: String(e) });
            for (const w of this.waiters.splice(0)) w.reject(err);
          }
        }
      }
    })().finally(() => {
      this.filling = undefined;
    });
  }
}
