// How many clusters the warm pool may hold: a memory budget divided by what one
// pooled cluster uses at rest with every component (measured by scripts/bench/claim.ts).
import { RunnerError } from '../errors.ts';

const GiB = 1024 ** 3;

/** One idle 3-node cluster with Traefik and MetalLB (≈0.9 GiB measured) plus a workstation's share, rounded up. */
export const DEFAULT_CLUSTER_BYTES = 1.25 * GiB;
/** Half the machine's memory: the rest is for the host, the runner, docker and builds. */
export const DEFAULT_BUDGET_SHARE = 0.5;

export interface PoolSizing {
  /** Clusters the pool will hold. */
  size: number;
  /** The most the budget allows. */
  max: number;
  budgetBytes: number;
  perClusterBytes: number;
  /** Where the budget came from, for messages. */
  budgetSource: string;
}

export function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

/** `auto` stops at this many clusters per CPU core: 8 idle pooled clusters stayed Ready and healthy on 2 cores (scripts/bench/claim.ts). */
export const AUTO_CLUSTERS_PER_CORE = 4;

/**
 * `requested`: a count, or 'auto' for as many as the budget allows but no more
 * than AUTO_CLUSTERS_PER_CORE per CPU core (idle control planes need CPU too).
 */
export function poolSizing(opts: { requested: number | 'auto'; totalMemBytes: number; cpus: number; budgetGiB?: number; perClusterBytes?: number }): PoolSizing {
  const perClusterBytes = opts.perClusterBytes ?? DEFAULT_CLUSTER_BYTES;
  const budgetBytes = opts.budgetGiB !== undefined ? opts.budgetGiB * GiB : opts.totalMemBytes * DEFAULT_BUDGET_SHARE;
  const budgetSource = opts.budgetGiB !== undefined ? '--pool-memory' : `${Math.round(DEFAULT_BUDGET_SHARE * 100)}% of this machine's ${gib(opts.totalMemBytes)}`;
  if (!(budgetBytes > 0) || budgetBytes > opts.totalMemBytes) {
    throw new RunnerError('INVALID_ARGUMENT', {
      message: `--pool-memory ${opts.budgetGiB} GiB is not possible on a machine with ${gib(opts.totalMemBytes)}.`,
      hint: `Give a number of GiB above 0 and at most ${(opts.totalMemBytes / GiB).toFixed(0)}.`,
    });
  }
  const max = Math.floor(budgetBytes / perClusterBytes);
  if (opts.requested === 'auto') {
    const size = Math.min(max, Math.max(1, opts.cpus * AUTO_CLUSTERS_PER_CORE));
    if (size < 1) throw tooBig(1, max, budgetBytes, perClusterBytes, budgetSource);
    return { size, max, budgetBytes, perClusterBytes, budgetSource };
  }
  if (!Number.isInteger(opts.requested) || opts.requested < 1) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `--pool ${opts.requested}: expected a whole number of clusters ≥ 1, or "auto".`, hint: 'Example: svclab start --pool 3' });
  }
  if (opts.requested > max) throw tooBig(opts.requested, max, budgetBytes, perClusterBytes, budgetSource);
  return { size: opts.requested, max, budgetBytes, perClusterBytes, budgetSource };
}

function tooBig(n: number, max: number, budget: number, per: number, source: string): RunnerError {
  return new RunnerError('POOL_TOO_BIG', {
    message: `${n} cluster${n === 1 ? '' : 's'} need about ${gib(n * per)} (${gib(per)} each at rest with every component); the pool's budget is ${gib(budget)} (${source}), enough for ${max}.`,
    hint: max >= 1 ? `Use --pool ${max} or fewer, or raise --pool-memory (GiB).` : 'Raise --pool-memory (GiB), or run without --pool (one shared cluster).',
    details: { requested: n, max, budgetBytes: budget, perClusterBytes: per },
  });
}
