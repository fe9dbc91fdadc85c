// schemas/lab.schema.json and the zod schema accept and reject the same lab files:
// the corpus (good/, cases.yaml), every real lab, and generated variants.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { labJsonSchemaText, ZOD_ONLY } from '../../src/authoring/lab-json-schema.ts';
import { labSchema } from '../../src/labs/lab-schema.ts';
import { projectRoot } from '../../src/version.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const corpus = path.join(here, 'corpus');
const schemaFile = path.join(projectRoot, 'schemas', 'lab.schema.json');
const committed = readFileSync(schemaFile, 'utf8');

// JSON Schema's `format: regex` is ECMA-262; read as `new RegExp(text)` does, like the zod rule.
const ajv = new Ajv({ strict: false, allErrors: false });
ajv.addFormat('regex', { type: 'string', validate: (s: string) => { try { new RegExp(s); return true; } catch { return false; } } });
const validate = ajv.compile(JSON.parse(committed) as object);

/** Rules zod checks and the JSON Schema can't: their issue messages. */
const zodOnlyMessages = [/^a step id not used before in this lab$/, /^a check id not used before in this step$/, /^a number ≤ deadlineSeconds/, /^an exit code other than expectExit/, /^a number ≤ requests/, /^a number ≥ min/];

function verdicts(data: unknown): { zod: boolean; json: boolean; zodOnly: boolean; issues: string[] } {
  const z = labSchema.safeParse(data);
  const json = validate(structuredClone(data)) as boolean;
  const issues = z.success ? [] : z.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const zodOnly = !z.success && z.error.issues.every((i) => zodOnlyMessages.some((re) => re.test(i.message)));
  return { zod: z.success, json, zodOnly, issues };
}

const bases: Record<string, unknown> = Object.fromEntries(
  readdirSync(path.join(corpus, 'good')).map((f) => [f.replace(/\.ya?ml$/, ''), parse(readFileSync(path.join(corpus, 'good', f), 'utf8'))]),
);

interface Case { why: string; base: string; set?: Record<string, unknown>; delete?: string[]; replace?: unknown }
const cases = parse(readFileSync(path.join(corpus, 'cases.yaml'), 'utf8')) as { good: Case[]; bad: Case[]; zodOnly: Case[] };

function at(doc: unknown, dotted: string): { parent: Record<string | number, unknown>; key: string | number } {
  const keys = dotted.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  let node = doc as Record<string | number, unknown>;
  for (const k of keys.slice(0, -1)) {
    if (node[k] === undefined || node[k] === null || typeof node[k] !== 'object') throw new Error(`corpus: no ${dotted} (stops at ${k})`);
    node = node[k] as Record<string | number, unknown>;
  }
  return { parent: node, key: keys.at(-1)! };
}

function build(c: Case): unknown {
  if (c.replace !== undefined) return c.replace;
  if (!(c.base in bases)) throw new Error(`corpus: no base ${c.base}`);
  const doc = structuredClone(bases[c.base]);
  for (const [p, v] of Object.entries(c.set ?? {})) {
    const { parent, key } = at(doc, p);
    parent[key] = v;
  }
  for (const p of c.delete ?? []) {
    const { parent, key } = at(doc, p);
    if (!(key in parent)) throw new Error(`corpus: nothing to delete at ${p}`);
    delete parent[key];
  }
  return doc;
}

describe('lab.yaml JSON Schema', () => {
  it('is current with the zod schema (node scripts/gen-lab-schema.ts writes it)', () => {
    expect(committed).toBe(labJsonSchemaText());
  });

  it('names the rules it cannot state', () => {
    const schema = JSON.parse(committed) as { $comment: string };
    for (const rule of ZOD_ONLY.lab) expect(schema.$comment).toContain(rule);
  });

  describe.each(Object.keys(bases))('good/%s.yaml', (name) => {
    it('both accept', () => expect(verdicts(bases[name])).toMatchObject({ zod: true, json: true }));
  });

  describe('every real lab', () => {
    const labsDir = path.join(projectRoot, 'labs');
    const ids = readdirSync(labsDir, { withFileTypes: true }).filter((e) => e.isDirectory() && /^\d\d-/.test(e.name)).map((e) => e.name);
    it('exists', () => expect(ids.length).toBeGreaterThan(0));
    it.each(ids)('%s: lab.yaml starts with the modeline that points editors at the schema', (id) => {
      expect(readFileSync(path.join(labsDir, id, 'lab.yaml'), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=../../schemas/lab.schema.json');
    });
    it.each(ids)('%s: both accept', (id) => {
      const v = verdicts(parse(readFileSync(path.join(labsDir, id, 'lab.yaml'), 'utf8')));
      expect(v.issues).toEqual([]);
      expect(v.json).toBe(true);
    });
  });

  it.each(cases.good.map((c) => [c.why, c] as const))('good: %s', (_why, c) => {
    const v = verdicts(build(c));
    expect(v.issues).toEqual([]);
    expect(v.json).toBe(true);
  });

  it.each(cases.bad.map((c) => [c.why, c] as const))('bad: %s', (_why, c) => {
    const v = verdicts(build(c));
    expect(v.zod).toBe(false);
    expect(v.json, `zod says ${v.issues.join('; ')}; the JSON Schema accepts`).toBe(false);
  });

  it.each(cases.zodOnly.map((c) => [c.why, c] as const))('zod only: %s', (_why, c) => {
    const v = verdicts(build(c));
    expect(v.zod).toBe(false);
    expect(v.zodOnly, v.issues.join('; ')).toBe(true);
    expect(v.json).toBe(true);
  });

  it('agrees on generated variants of the good labs', () => {
    // Every path in a good lab, and values that break or keep each kind of field.
    const paths = (node: unknown, prefix: (string | number)[] = []): (string | number)[][] =>
      node && typeof node === 'object'
        ? Object.entries(node).flatMap(([k, v]) => {
          const p = [...prefix, Array.isArray(node) ? Number(k) : k];
          return [p, ...paths(v, p)];
        })
        : [];
    const values = fc.oneof(
      fc.constantFrom<unknown>('', ' ', '  x ', 'x', 'a b', 'Bad', '01-x', '../a.yaml', 'a/../b.yaml', '/a.yaml', 'a.yaml', 'a.yml', 'a.txt', 'a\\b.yaml',
        'node:worker', 'workstation', 'host', 'pod:default/x', 'pod:x', '(', '[0]', 'spec.x', 'spec..x', '10.0.0.1', 'http://x/', 'x:1',
        'A', 'CNAME', 'SRV', 'iptables', 'ipvs', 'command', 'fail', 'error',
        0, 1, 2, 3, 59, 60, 61, 123, 124, 255, 256, 300, 301, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, true, false, null,
        [], [''], ['x'], [['x']], {}, { en: 'x' }, { en: 'x', zh: 'y' }, { en: ' ', zh: 'y' }),
      fc.string({ maxLength: 6 }),
      fc.integer({ min: -2, max: 400 }),
    );
    // Values close to the one in place: where a rule's edge is.
    const near = (v: unknown): unknown[] => {
      if (typeof v === 'string') return ['', ' ', `${v} `, ` ${v}`, v.toUpperCase(), `${v}/..`, `../${v}`, `/${v}`, `${v}.txt`, v.replace(/\./g, '..'), v.slice(1), `${v}[`, `${v}\\`];
      if (typeof v === 'number') return [v - 1, v + 1, 0, -1, v * 10, v + 0.5, Number.NaN, String(v)];
      if (typeof v === 'boolean') return [!v, String(v), null];
      if (Array.isArray(v)) return [[], [...v, ...v].map((x) => structuredClone(x)), v.slice(1), {}];
      if (v && typeof v === 'object') return [{}, [], Object.fromEntries(Object.entries(v).slice(1))];
      return [null, 0, ''];
    };
    const variant = fc.record({
      base: fc.constantFrom(...Object.keys(bases)),
      edits: fc.array(fc.record({ pick: fc.nat(), op: fc.constantFrom('near', 'near', 'set', 'delete', 'add'), value: values, k: fc.nat() }), { minLength: 1, maxLength: 2 }),
    });
    fc.assert(fc.property(variant, ({ base, edits }) => {
      const doc = structuredClone(bases[base]) as Record<string | number, unknown>;
      for (const e of edits) {
        const all = paths(doc);
        if (all.length === 0) break;
        const p = all[e.pick % all.length]!;
        let parent = doc;
        for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
        const key = p.at(-1)!;
        if (e.op === 'near') {
          const options = near(parent[key]);
          parent[key] = options[e.k % options.length];
        } else if (e.op === 'set') parent[key] = structuredClone(e.value);
        else if (e.op === 'delete') {
          if (Array.isArray(parent)) parent.splice(Number(key), 1);
          else delete parent[key];
        } else if (parent[key] && typeof parent[key] === 'object' && !Array.isArray(parent[key])) (parent[key] as Record<string, unknown>)[`x${e.pick % 3}`] = structuredClone(e.value);
        else if (Array.isArray(parent[key])) (parent[key] as unknown[]).push(structuredClone(e.value));
      }
      const v = verdicts(doc);
      if (v.zod !== v.json && !(v.zodOnly && v.json)) {
        throw new Error(`zod ${v.zod ? 'accepts' : `rejects (${v.issues.join('; ')})`} but the JSON Schema ${v.json ? 'accepts' : `rejects (${ajv.errorsText(validate.errors)})`}: ${JSON.stringify(doc)}`);
      }
    }), { numRuns: 1000, seed: 15 });
  });
});
