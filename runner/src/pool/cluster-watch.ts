// The health watch over clusters learners hold: every interval each claimed cluster's API is
// probed (GET /readyz); after `failures` probes in a row say it is down (refused, reset, an
// error status, another certificate), `onFailed` is told once (the session mover then gives
// the learner a new cluster). A probe that only runs out of time counts as slow: a loaded
// machine answers late, so slow rounds move a learner only after `slowFailures` in a row (a
// first run with 2 down-or-slow probes moved a healthy learner when the load average was 120).
// A probe that answers resets the count.
import type { Logger } from 'pino';

export interface ClusterWatchDeps {
  /** The clusters held now and by whom (ClusterPool.claimed). */
  clusters(): { name: string; owner: string }[];
  /** True when the cluster's API answers; false or a throw counts as a failure. */
  probe(cluster: string, signal: AbortSignal): Promise<boolean>;
  /** The cluster failed `failures` probes in a row. Not called again for it while this runs. */
  onFailed(owner: string, cluster: string): Promise<void>;
  logger: Logger;
}

export interface ClusterWatchOptions {
  /** Between rounds of probes (default 10 s). */
  intervalMs?: number;
  /** Probes in a row that find the API down, for a failed cluster (default 3). */
  failures?: number;
  /** Probes in a row that fail at all, timeouts included, for a failed cluster (default 9). */
  slowFailures?: number;
  /** One probe's deadline (default 5 s). */
  probeTimeoutMs?: number;
}

export class ClusterWatch {
  private readonly deps: ClusterWatchDeps;
  private readonly opts: Required<ClusterWatchOptions>;
  /** Failed probes in a row, by cluster name (and owner: a cluster claimed anew starts over). */
  private readonly failed = new Map<string, { owner: string; down: number; slow: number }>();
  /** Clusters whose failure is being handled. */
  private readonly handling = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(deps: ClusterWatchDeps, opts: ClusterWatchOptions = {}) {
    this.deps = deps;
    this.opts = { intervalMs: 10_000, failures: 3, slowFailures: 9, probeTimeoutMs: 5_000, ...opts };
  }

  start(): void {
    if (this.timer || this.abort.signal.aborted) return;
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.round?.catch(() => undefined);
  }

  /** One round of probes (rounds never overlap: a round still running is waited for instead). */
  tick(): Promise<void> {
    this.round ??= this.probeAll().finally(() => { this.round = undefined; });
    return this.round;
  }

  private async probeAll(): Promise<void> {
    const held = this.deps.clusters();
    const names = new Set(held.map((c) => c.name));
    for (const name of this.failed.keys()) if (!names.has(name)) this.failed.delete(name);
    const handled: Promise<void>[] = [];
    await Promise.all(held.filter((c) => !this.handling.has(c.name)).map(async (c) => {
      const answer = await this.probeOnce(c.name);
      if (this.abort.signal.aborted) return;
      const before = this.failed.get(c.name);
      if (answer === 'ok') {
        this.failed.delete(c.name);
        return;
      }
      const prev = before && before.owner === c.owner ? before : { down: 0, slow: 0 };
      const now = { owner: c.owner, down: prev.down + (answer === 'down' ? 1 : 0), slow: prev.slow + (answer === 'slow' ? 1 : 0) };
      this.deps.logger.warn({ cluster: c.name, answer, down: now.down, slow: now.slow, of: this.opts.failures }, 'cluster watch: probe failed');
      if (now.down < this.opts.failures && now.down + now.slow < this.opts.slowFailures) {
        this.failed.set(c.name, now);
        return;
      }
      this.failed.delete(c.name);
      this.handling.add(c.name);
      handled.push(this.deps.onFailed(c.owner, c.name)
        .catch((e: unknown) => this.deps.logger.error({ cluster: c.name, err: String(e) }, 'cluster watch: moving the learner off a failed cluster failed'))
        .finally(() => this.handling.delete(c.name)));
    }));
    // Handling may take a while (a new cluster, the lab set up again): the next rounds go on meanwhile.
    void Promise.all(handled);
  }

  /** ok: it answered; down: it said no (or could not be reached at all); slow: no answer by the deadline. */
  private async probeOnce(cluster: string): Promise<'ok' | 'down' | 'slow'> {
    const late = new AbortController();
    const signal = AbortSignal.any([this.abort.signal, late.signal]);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'slow'>((resolve) => {
      timer = setTimeout(() => { late.abort(); resolve('slow'); }, this.opts.probeTimeoutMs);
      timer.unref?.();
    });
    const answer = this.deps.probe(cluster, signal).then((ok) => (ok ? 'ok' as const : 'down' as const), () => 'down' as const)
      // A probe cut off by the deadline failed because it was late, not because the cluster said no.
      .then((a) => (a === 'down' && late.signal.aborted ? 'slow' as const : a));
    try {
      return await Promise.race([answer, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}
