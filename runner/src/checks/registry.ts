// The check-kind registry: every kind's schema, runner and explanation, and the
// one door between lab.yaml (labs/) and the checks: labs/ imports only this
// module from checks/, and nothing in checks/ imports labs/.
//
// To add a kind: write checks/kinds/<kind>.ts (schema + run + explain, ending in
// `export const <kind>Kind: CheckKindDef<…>`), then add it to `kinds` below.
import { z } from 'zod';
import type { CheckContext, CheckKindDef, CheckResult, CheckRunner, ServiceRef } from './check.ts';
import type { CheckBase } from './check-schema.ts';
import { commandKind } from './kinds/command.ts';
import { dnsKind } from './kinds/dns.ts';
import { endpointsKind } from './kinds/endpoints.ts';
import { gatewayStatusKind } from './kinds/gateway-status.ts';
import { httpKind } from './kinds/http.ts';
import { observedCommandKind } from './kinds/observed-command.ts';
import { proxyRulesKind } from './kinds/proxy-rules.ts';
import { resourceKind } from './kinds/resource.ts';
import { selectorKind } from './kinds/selector.ts';
import { tlsKind } from './kinds/tls.ts';

const kinds = [commandKind, resourceKind, selectorKind, endpointsKind, httpKind, dnsKind, tlsKind, proxyRulesKind, observedCommandKind, gatewayStatusKind] as const;

/** The kinds' schemas with their own zod types, so the union can discriminate on `kind`. */
type SchemasOf<K extends readonly unknown[]> = { -readonly [I in keyof K]: K[I] extends { schema: infer S } ? S : never };
type Schemas = SchemasOf<typeof kinds>;

export const checkSchema = z.discriminatedUnion('kind', kinds.map((k) => k.schema) as unknown as Schemas);
export type Check = z.infer<typeof checkSchema>;
export type CheckKind = Check['kind'];
export const checkKinds: readonly CheckKind[] = checkSchema.options.map((o) => o.shape.kind.value);

const byKind = new Map<string, CheckKindDef<CheckBase>>(kinds.map((k, i) => [checkKinds[i]!, k as unknown as CheckKindDef<CheckBase>]));

function kindOf(kind: string): CheckKindDef<CheckBase> {
  const def = byKind.get(kind);
  if (!def) throw new Error(`no check kind "${kind}" in the registry`);
  return def;
}

export function runCheck(check: Check, ctx: CheckContext): Promise<CheckResult> {
  return (kindOf(check.kind).run as CheckRunner)(check, ctx);
}

/** One line for lab authors: what this check looks at and what it expects. */
export function explainCheck(check: Check): string {
  return kindOf(check.kind).explain(check);
}

/** The Services a check looks at, with the field that names each. */
export function servicesNamed(check: Check): ServiceRef[] {
  return kindOf(check.kind).services?.(check) ?? [];
}

// lab.yaml's own schema builds on the same pieces.
export { checkBaseShape, idSchema, localizedSchema, strict, type Lang, type Localized } from './check-schema.ts';
