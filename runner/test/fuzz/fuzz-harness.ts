// Property-based fuzzing with saved seeds and regression files: every input that
// once broke a property is kept in regressions/<name>.json and replayed first,
// forever; the random part runs from a printed seed, so a failure is reproducible
// (SVCLAB_FUZZ_SEED=… to replay one, SVCLAB_FUZZ_RUNS=… to run more).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

const REGRESSIONS = join(import.meta.dirname, 'regressions');

export function fuzzRuns(defaultRuns: number): number {
  const n = Number(process.env.SVCLAB_FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : defaultRuns;
}

function loadRegressions<T>(name: string): T[] {
  const file = join(REGRESSIONS, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T[]) : [];
}

function saveRegression<T>(name: string, input: T): void {
  const file = join(REGRESSIONS, `${name}.json`);
  const all = loadRegressions<T>(name);
  if (!all.some((x) => JSON.stringify(x) === JSON.stringify(input))) writeFileSync(file, `${JSON.stringify([...all, input], null, 2)}\n`);
}

/**
 * Checks `property` on every saved regression, then on `runs` generated inputs.
 * A failing generated input is shrunk, saved as a regression and reported.
 * Returns how many cases ran.
 */
export async function fuzz<T>(name: string, arb: fc.Arbitrary<T>, property: (input: T) => Promise<void> | void, runs: number): Promise<number> {
  const saved = loadRegressions<T>(name);
  for (const input of saved) await property(input);
  const seed = Number(process.env.SVCLAB_FUZZ_SEED) || (Date.now() ^ 0x5eed) >>> 0;
  const details = await fc.check(fc.asyncProperty(arb, async (x) => { await property(x); }), { numRuns: runs, seed });
  if (details.failed && details.counterexample) {
    saveRegression(name, details.counterexample[0]);
    const err = 'errorInstance' in details && details.errorInstance instanceof Error ? details.errorInstance.message : String(details.failed);
    throw new Error(`fuzz ${name}: seed ${seed} found a failing input (saved to regressions/${name}.json): ${JSON.stringify(details.counterexample[0]).slice(0, 500)}\n${err}`);
  }
  return saved.length + details.numRuns;
}
