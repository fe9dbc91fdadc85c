// Runs a step's checks in order and says whether the step passed.
import type { CheckContext, CheckResult } from './check.ts';
import { runCheck, type Check } from './registry.ts';

export { runCheck };

/**
 * Sequential on purpose: checks of one step often build on each other and the
 * machine is small. After an abort the remaining checks report `error`.
 */
export async function runStepChecks(checks: readonly Check[], ctx: CheckContext): Promise<{ results: CheckResult[]; passed: boolean }> {
  const results: CheckResult[] = [];
  for (const check of checks) results.push(await runCheck(check, ctx));
  return { results, passed: results.length > 0 && results.every((r) => r.status === 'pass') };
}
