// The environments learners hold, as the workshop's cluster watch asks for them (what a
// ClusterPool's claimed()/discard() are on one machine): read from the Environment objects
// every few seconds, so the watch's synchronous look costs no API call. discard() is the
// watch's verdict that a learner's environment failed (its pod lost, its API gone): the
// Environment is deleted — a used cluster never goes back — and the learner's next
// session claims a new one from the reserve (SessionMover, claimCluster).
import type { EnvironmentView, KubeWorkshopStore } from '../kube-store/kube-workshop-store.ts';

export interface HeldEnvironmentsOptions {
  store: Pick<KubeWorkshopStore, 'listEnvironments' | 'releaseEnvironment'>;
  intervalMs?: number;
  log?: (line: string) => void;
}

export class HeldEnvironments {
  private readonly o: HeldEnvironmentsOptions;
  private envs: EnvironmentView[] = [];
  private readonly dropped = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(o: HeldEnvironmentsOptions) {
    this.o = o;
  }

  async refresh(): Promise<void> {
    this.envs = await this.o.store.listEnvironments();
    const names = new Set(this.envs.map((e) => e.name));
    for (const n of this.dropped) if (!names.has(n)) this.dropped.delete(n);
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      void this.refresh().catch((e: unknown) => this.o.log?.(`held environments: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => { if (this.timer) this.timer = setTimeout(tick, this.o.intervalMs ?? 3_000); });
    };
    this.timer = setTimeout(tick, 0);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Claimed environments and their learners (one discarded is no longer listed). */
  claimed(): { name: string; owner: string }[] {
    return this.envs.filter((e) => e.claim && !this.dropped.has(e.name)).map((e) => ({ name: e.name, owner: e.claim!.learnerId }));
  }

  /**
   * The learner's environment failed: the ones they hold that are not Ready (Failed, their
   * pod gone) are deleted, or all they hold when the failure is only the watch's (API down).
   * Returns the first name; the deletion runs on (errors to the log).
   */
  discard(owner: string): string | undefined {
    const mine = this.envs.filter((e) => e.claim?.learnerId === owner && !this.dropped.has(e.name));
    const failed = mine.filter((e) => e.phase !== 'Ready');
    const gone = failed.length ? failed : mine;
    for (const e of gone) {
      this.dropped.add(e.name);
      void this.o.store.releaseEnvironment(e.name, owner).then(
        () => this.o.log?.(`released environment ${e.name} of a learner (failed: ${e.phase ?? 'no phase'})`),
        (err: unknown) => this.o.log?.(`releasing environment ${e.name} failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
    return gone[0]?.name;
  }
}
