// The health watch over clusters learners hold: every interval each claimed cluster's API is
// probed (GET /readyz); after `failures` probes in a row fail, `onFailed` is told once (the
// session mover then gives the learner a new cluster). A probe that answers resets the count,
// so one slow answer on a loaded machine does not move anyone.
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
  /** Failed probes in a row that count as a failed cluster (default 3). */
  failures?: number;
  /** One probe's deadline (default 5 s). */
  probeTimeoutMs?: number;
}

export class ClusterWatch {
  private readonly deps: ClusterWatchDeps;
  private readonly opts: Required<ClusterWatchOptions>;
  /** Failed probes in a row, by cluster name (and owner: a cluster claimed anew starts over). */
  private readonly failed = new Map<string, { owner: string; count: number }>();
  /** Clusters whose failure is being handled. */
  private readonly handling = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(deps: ClusterWatchDeps, opts: ClusterWatchOptions = {}) {
    this.deps = deps;
    this.opts = { intervalMs: 10_000, failures: 3, probeTimeoutMs: 5_000, ...opts };
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
      const ok = await this.probeOnce(c.name);
      if (this.abort.signal.aborted) return;
      const before = this.failed.get(c.name);
      if (ok) {
        this.failed.delete(c.name);
        return;
      }
      const count = before && before.owner === c.owner ? before.count + 1 : 1;
      this.deps.logger.warn({ cluster: c.name, failed: count, of: this.opts.failures }, 'cluster watch: probe failed');
      if (count < this.opts.failures) {
        this.failed.set(c.name, { owner: c.owner, count });
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

  private async probeOnce(cluster: string): Promise<boolean> {
    const deadline = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.opts.probeTimeoutMs)]);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.opts.probeTimeoutMs);
      timer.unref?.();
    });
    try {
      return await Promise.race([this.deps.probe(cluster, deadline).catch(() => false), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
