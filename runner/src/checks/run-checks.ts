// Runs a step's checks in order and says whether the step passed.
import type { Check, CheckKind } from '../labs/lab-schema.ts';
import type { CheckContext, CheckResult, CheckRunner } from './check.ts';
import { runCommandCheck } from './command-check.ts';
import { runDnsCheck } from './dns-check.ts';
import { runEndpointsCheck } from './endpoints-check.ts';
import { runHttpCheck } from './http-check.ts';
import { runProxyRulesCheck } from './proxy-rules-check.ts';
import { runResourceCheck } from './resource-check.ts';
import { runSelectorCheck } from './selector-check.ts';
import { runTlsCheck } from './tls-check.ts';

/** One runner per kind; the type makes a new kind in lab-schema.ts fail to compile until it has one. */
export const checkRunners: { [K in CheckKind]: CheckRunner<Extract<Check, { kind: K }>> } = {
  command: runCommandCheck,
  resource: runResourceCheck,
  selector: runSelectorCheck,
  endpoints: runEndpointsCheck,
  http: runHttpCheck,
  dns: runDnsCheck,
  tls: runTlsCheck,
  'proxy-rules': runProxyRulesCheck,
};

export function runCheck(check: Check, ctx: CheckContext): Promise<CheckResult> {
  const run = checkRunners[check.kind] as CheckRunner;
  return run(check, ctx);
}

/**
 * Sequential on purpose: checks of one step often build on each other and the
 * machine is small. After an abort the remaining checks report `error`.
 */
export async function runStepChecks(checks: readonly Check[], ctx: CheckContext): Promise<{ results: CheckResult[]; passed: boolean }> {
  const results: CheckResult[] = [];
  for (const check of checks) results.push(await runCheck(check, ctx));
  return { results, passed: results.length > 0 && results.every((r) => r.status === 'pass') };
}
