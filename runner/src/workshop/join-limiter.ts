// Wrong event codes per client address: a few tries are free, then the address waits,
// twice as long after each further lockout (capped). A locked address is refused even with
// the right code, or guessing would just go on. Bounded: the oldest addresses are dropped.

export interface JoinLimiterOptions {
  /** Wrong codes allowed before a lockout. */
  freeTries?: number;
  /** First lockout. */
  baseWaitMs?: number;
  /** Longest lockout. */
  maxWaitMs?: number;
  /** Addresses remembered at most. */
  maxAddresses?: number;
}

interface Entry {
  failures: number;
  lockouts: number;
  lockedUntil: number;
}

export class JoinLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly o: Required<JoinLimiterOptions>;

  constructor(o: JoinLimiterOptions = {}) {
    this.o = { freeTries: 5, baseWaitMs: 30_000, maxWaitMs: 15 * 60_000, maxAddresses: 10_000, ...o };
  }

  /** ms this address must still wait, or 0. */
  waitMs(address: string, now: number): number {
    const e = this.entries.get(address);
    return e ? Math.max(0, e.lockedUntil - now) : 0;
  }

  /** A wrong code: returns the wait it now has (0 while tries are left). */
  failed(address: string, now: number): number {
    let e = this.entries.get(address);
    if (!e) {
      if (this.entries.size >= this.o.maxAddresses) this.entries.delete(this.entries.keys().next().value!);
      e = { failures: 0, lockouts: 0, lockedUntil: 0 };
    }
    this.entries.delete(address);
    this.entries.set(address, e); // most recent last
    e.failures += 1;
    if (e.failures >= this.o.freeTries) {
      e.failures = 0;
      e.lockedUntil = now + Math.min(this.o.maxWaitMs, this.o.baseWaitMs * 2 ** e.lockouts);
      e.lockouts += 1;
    }
    return this.waitMs(address, now);
  }

  /** A right code: the address starts afresh. */
  succeeded(address: string): void {
    this.entries.delete(address);
  }
}
