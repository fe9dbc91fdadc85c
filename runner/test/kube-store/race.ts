// The race both tiers run: two stores (two runner replicas) claim environments for
// the same learners at once; the answer says who got what, as each store believes it
// and as the API holds it.
import type { KubeWorkshopStore } from '../../src/kube-store/kube-workshop-store.ts';

export interface RaceResult {
  /** learner → environment, as the claim calls returned (undefined: reserve empty). */
  got: Map<string, string | undefined>;
  /** Environments two calls returned to different learners. */
  doubles: string[];
  /** Claims the API holds that disagree with what the claimer was told. */
  disagreements: string[];
  /** Learners told two different environments by the two replicas, or holding two in the API. */
  split: string[];
}

export async function raceClaims(a: KubeWorkshopStore, b: KubeWorkshopStore, learners: readonly string[], lab = '02'): Promise<RaceResult> {
  // Each learner asks both replicas at once (a reconnect landing on the other replica), and
  // all learners at once: every claim races every other.
  const calls = learners.flatMap((l, i) => (i % 2 ? [b, a] : [a, b]).map(async (s) => ({ l, env: await s.claimEnvironment(l, lab) })));
  const results = await Promise.all(calls);
  const got = new Map<string, string | undefined>();
  const byEnv = new Map<string, Set<string>>();
  for (const { l, env } of results) {
    if (env !== undefined) {
      byEnv.set(env, (byEnv.get(env) ?? new Set()).add(l));
      if (got.get(l) === undefined) got.set(l, env);
    } else if (!got.has(l)) got.set(l, undefined);
  }
  const doubles = [...byEnv].filter(([, ls]) => ls.size > 1).map(([e, ls]) => `${e}: ${[...ls].join(', ')}`);
  const held = new Map((await a.listEnvironments()).map((e) => [e.name, e.claim?.learnerId]));
  const disagreements = results.filter((r) => r.env !== undefined && held.get(r.env) !== r.l).map((r) => `${r.l} was told ${r.env}, which the API gives to ${held.get(r.env!) ?? 'nobody'}`);
  const told = new Map<string, Set<string>>();
  for (const { l, env } of results) if (env !== undefined) told.set(l, (told.get(l) ?? new Set()).add(env));
  const holding = new Map<string, number>();
  for (const l of held.values()) if (l !== undefined) holding.set(l, (holding.get(l) ?? 0) + 1);
  const split = [
    ...[...told].filter(([, es]) => es.size > 1).map(([l, es]) => `${l} was told ${[...es].join(' and ')}`),
    ...[...holding].filter(([, n]) => n > 1).map(([l, n]) => `${l} holds ${n} environments`),
  ];
  return { got, doubles, disagreements, split };
}

/**
 * A learner told "none free" during the race may have met an environment that another
 * replica had claimed and was giving back (its pointer write lost): they wait and ask
 * again, as the runner's line of waiters does. Asks once more, one at a time, for those.
 */
export async function askAgain(s: KubeWorkshopStore, r: RaceResult, lab = '02'): Promise<string[]> {
  for (const [l, env] of r.got) if (env === undefined) r.got.set(l, await s.claimEnvironment(l, lab));
  return [...r.got.values()].filter((e): e is string => e !== undefined);
}
