// A strict check of an object against an OpenAPI v3 schema, as the API server's
// strict field validation does it: unknown fields, wrong types, missing required
// fields and values outside an enum are errors, each with its path. Enough of OpenAPI
// for Kubernetes' published spec and for svclab's CRD schemas; not a general validator.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Schema {
  type?: string;
  format?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  allOf?: Schema[];
  $ref?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}

export function checkAgainst(schema: Schema, value: unknown, resolve: (ref: string) => Schema = () => ({}), path = ''): string[] {
  const s = flatten(schema, resolve);
  const at = path || '.';
  if (value === null || value === undefined) return [];
  if (s['x-kubernetes-int-or-string']) return typeof value === 'string' || Number.isInteger(value) ? [] : [`${at}: expected an integer or a string`];
  const errors: string[] = [];
  if (s.enum && !s.enum.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
  switch (s.type) {
    case 'string':
      if (typeof value !== 'string') return [`${at}: expected a string, got ${JSON.stringify(value)}`];
      if (s.minLength !== undefined && value.length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
      if (s.maxLength !== undefined && value.length > s.maxLength) errors.push(`${at}: longer than ${s.maxLength}`);
      if (s.pattern && !new RegExp(s.pattern).test(value)) errors.push(`${at}: ${JSON.stringify(value)} does not match ${s.pattern}`);
      if (s.format === 'date-time' && Number.isNaN(Date.parse(value))) errors.push(`${at}: not a date-time`);
      return errors;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (s.type === 'integer' && !Number.isInteger(value))) return [`${at}: expected ${s.type === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(value)}`];
      if (s.minimum !== undefined && value < s.minimum) errors.push(`${at}: below ${s.minimum}`);
      if (s.maximum !== undefined && value > s.maximum) errors.push(`${at}: above ${s.maximum}`);
      return errors;
    case 'boolean':
      return typeof value === 'boolean' ? errors : [`${at}: expected true or false, got ${JSON.stringify(value)}`];
    case 'array':
      if (!Array.isArray(value)) return [`${at}: expected a list`];
      if (s.minItems !== undefined && value.length < s.minItems) errors.push(`${at}: fewer than ${s.minItems} items`);
      if (s.maxItems !== undefined && value.length > s.maxItems) errors.push(`${at}: more than ${s.maxItems} items`);
      return [...errors, ...value.flatMap((v, i) => (s.items ? checkAgainst(s.items, v, resolve, `${path}[${i}]`) : []))];
    case 'object':
    case undefined: {
      if (s.type === undefined && !s.properties && !s.additionalProperties) return errors; // any value
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected an object`];
      const obj = value as Record<string, unknown>;
      for (const r of s.required ?? []) if (obj[r] === undefined) errors.push(`${path}.${r}: required`);
      for (const [k, v] of Object.entries(obj)) {
        const p = s.properties?.[k];
        if (p) errors.push(...checkAgainst(p, v, resolve, `${path}.${k}`));
        else if (typeof s.additionalProperties === 'object') errors.push(...checkAgainst(s.additionalProperties, v, resolve, `${path}.${k}`));
        else if (s.properties && !s.additionalProperties && !s['x-kubernetes-preserve-unknown-fields']) errors.push(`${path}.${k}: unknown field`);
      }
      return errors;
    }
    default:
      return errors;
  }
}

function flatten(s: Schema, resolve: (ref: string) => Schema): Schema {
  let out: Schema = s;
  if (s.$ref) out = { ...flatten(resolve(s.$ref), resolve), ...withoutKeys(s, ['$ref']) };
  if (out.allOf) {
    const parts = out.allOf.map((p) => flatten(p, resolve));
    out = Object.assign({}, ...parts, withoutKeys(out, ['allOf'])) as Schema;
  }
  return out;
}

function withoutKeys(s: Schema, keys: string[]): Schema {
  return Object.fromEntries(Object.entries(s).filter(([k]) => !keys.includes(k))) as Schema;
}

/** Kubernetes' OpenAPI v3 documents: a checker per apiVersion + kind. */
export class KubernetesSchemas {
  private readonly schemas: Record<string, Schema> = {};
  private readonly byKind = new Map<string, string>();

  constructor(dir: string) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('_openapi.json'))) {
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { components?: { schemas?: Record<string, Schema> } };
      for (const [name, s] of Object.entries(doc.components?.schemas ?? {})) {
        this.schemas[name] = s;
        for (const g of s['x-kubernetes-group-version-kind'] ?? []) this.byKind.set(`${g.group ? `${g.group}/` : ''}${g.version}/${g.kind}`, name);
      }
    }
  }

  /** Errors of one manifest; a kind Kubernetes does not define is one error. */
  check(obj: { apiVersion?: string; kind?: string }): string[] {
    const name = this.byKind.get(`${obj.apiVersion}/${obj.kind}`);
    if (!name) return [`${obj.apiVersion}/${obj.kind}: not a kind Kubernetes v1.34 defines`];
    return checkAgainst(this.schemas[name]!, obj, (ref) => this.schemas[ref.replace('#/components/schemas/', '')] ?? {});
  }
}
