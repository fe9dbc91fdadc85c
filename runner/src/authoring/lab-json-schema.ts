// lab.yaml as a JSON Schema (draft-07, what yaml-language-server reads), made from
// the zod schema so the two can't drift. `z.toJSONSchema` drops refinements (they
// are functions); each one is mapped here, by its message (or, for a superRefine,
// by the check kind that owns it), to the JSON Schema that says the same thing.
// Cross-field rules JSON Schema can't state (unique ids, one number ≤ another) are
// listed in ZOD_ONLY and named in a $comment, so editors miss only those and
// `svclab labs lint` still reports them. A refinement this file does not know
// makes generation fail, so a new rule in the zod schema forces a decision here.
import { z } from 'zod';
import { labSchema } from '../labs/lab-schema.ts';

type Json = Record<string, unknown>;

/** A JSON Schema for one rule, added to the node's allOf (a node has one `pattern`, rules may need several). */
function addRule(node: Json, rule: Json): void {
  const allOf = (node.allOf as Json[] | undefined) ?? [];
  // A chain repeats its parent's checks (labPath.refine(…) keeps labPath's): one copy each.
  if (allOf.some((r) => JSON.stringify(r) === JSON.stringify(rule))) return;
  allOf.push(rule);
  node.allOf = allOf;
}

const oneOfPresent = (keys: string[]): Json => ({ oneOf: keys.map((k) => ({ required: [k] })) });
const anyOfPresent = (keys: string[]): Json => ({ anyOf: keys.map((k) => ({ required: [k] })) });
const has = (key: string, inner?: Json): Json => (inner ? { required: [key], properties: { [key]: inner } } : { required: [key] });

/** `.refine(fn, { message })` → the same rule in JSON Schema, keyed by the message. */
const BY_MESSAGE: Record<string, (node: Json) => void> = {
  'a path relative to the lab folder, with forward slashes and no ".." (like "manifests/service.yaml")': (n) =>
    addRule(n, { pattern: '^(?!/)(?![\\s\\S]*\\\\)(?!(?:[\\s\\S]*/)?\\.\\.(?:/|$))' }),
  'a .yaml or .yml file': (n) => addRule(n, { pattern: '\\.ya?ml$' }),
  'at least one of manifests or commands': (n) =>
    addRule(n, { anyOf: [has('manifests', { minItems: 1 }), has('commands', { minItems: 1 })] }),
  'an exit code from 1 to 123 (124–127 and above mean a timeout or a command that could not run)': (n) => {
    n.minimum = 1;
    n.maximum = 123;
  },
  // ECMAScript syntax, as `new RegExp(text)` reads it (no flags).
  'a valid regular expression (JavaScript syntax)': (n) => { n.format = 'regex'; },
  'a field path like spec.ports[0].port, spec.ports[name=http].nodePort or metadata.labels["app.kubernetes.io/name"]': (n) => {
    // The grammar of parseFieldPath (checks/kinds/resource.ts): a key, then .key or [..] segments.
    const bracket = '\\[(?:\\d+|"[^"]+"|[A-Za-z_][\\w.-]*=[^\\]]+)\\]';
    addRule(n, { pattern: `^(?:[A-Za-z_$][\\w$-]*|${bracket})(?:\\.[A-Za-z_$][\\w$-]*|${bracket})*$` });
  },
  'exactly one of equals, exists, matches or oneOf': (n) => addRule(n, oneOfPresent(['equals', 'exists', 'matches', 'oneOf'])),
  'one of ready, minReady or maxReady': (n) => addRule(n, anyOfPresent(['ready', 'minReady', 'maxReady'])),
  'either ready or minReady/maxReady, not both': (n) =>
    addRule(n, { not: { allOf: [{ required: ['ready'] }, anyOfPresent(['minReady', 'maxReady'])] } }),
  'exactly one of service or selector': (n) => addRule(n, oneOfPresent(['service', 'selector'])),
  'at least one of subject, san, issuer or selfSigned': (n) => addRule(n, anyOfPresent(['subject', 'san', 'issuer', 'selfSigned'])),
  'exactly one of connect or target': (n) => addRule(n, oneOfPresent(['connect', 'target'])),
  'a node vantage point like node:control-plane or node:worker': (n) => addRule(n, { pattern: '^node:' }),
};

/** Rules only the zod schema (and so `svclab labs lint`) checks: JSON Schema can't compare two values. */
export const ZOD_ONLY = {
  lab: ['step ids are unique in a lab', 'check ids are unique in a step', 'a check\'s intervalSeconds ≤ its deadlineSeconds'],
  command: ['no failures[].exitCode equals expectExit'],
  http: ['distinctBackends.min ≤ distinctBackends.requests', 'distinctBackends.min ≤ distinctBackends.max'],
  dns: [] as string[],
} satisfies Record<string, string[]>;

/** `.superRefine` has no message; it is known by the schema it sits on (the lab, or a check kind). */
const BY_OWNER: Record<keyof typeof ZOD_ONLY, (node: Json) => void> = {
  lab: () => {},
  command: () => {},
  http: (n) => {
    addRule(n, oneOfPresent(['url', 'target']));
    addRule(n, { properties: { distinctBackends: anyOfPresent(['min', 'max']) } });
    // distinctBackends.service is needed when there is no target to take it from.
    addRule(n, { anyOf: [{ required: ['target'] }, { not: { required: ['distinctBackends'] } }, { properties: { distinctBackends: { required: ['service'] } } }] });
  },
  dns: (n) => {
    const expects = ['addresses', 'serviceIP', 'podIPs', 'cname', 'srv', 'none'];
    addRule(n, { properties: { expect: oneOfPresent(expects) } });
    // The record type follows what is expected (type defaults to A); `none: true` fits any type.
    const expectHas = (k: string, inner?: Json): Json => ({ required: ['expect'], properties: { expect: has(k, inner) } });
    addRule(n, { if: expectHas('cname'), then: has('type', { const: 'CNAME' }) });
    addRule(n, { if: expectHas('srv'), then: has('type', { const: 'SRV' }) });
    addRule(n, {
      if: { anyOf: [...['addresses', 'serviceIP', 'podIPs'].map((k) => expectHas(k)), expectHas('none', { const: false })] },
      then: { properties: { type: { const: 'A' } } },
    });
  },
};

interface ZodInternals {
  _zod: { def: { checks?: { _zod: { def: { check: string; error?: (iss: unknown) => unknown; tx?: (s: string) => string; minimum?: number } } }[] } };
  shape?: Record<string, { _zod: { def: { type: string; values?: unknown[] } } }>;
}

function ownerOf(schema: ZodInternals, path: (string | number)[]): string {
  if (path.length === 0) return 'lab';
  const kind = schema.shape?.kind?._zod.def;
  return kind?.type === 'literal' && typeof kind.values?.[0] === 'string' ? kind.values[0] : `(the schema at ${path.join('/')})`;
}

export function labJsonSchema(): Json {
  // The override sees every schema of a chain (z.string() → .trim() → .min(1)), each
  // with its own JSON node and the checks so far; only the last node reaches the
  // output. So problems are kept per node and reported only for nodes in the output,
  // and a node takes each check once.
  const unknown = new Map<object, string[]>();
  const applied = new WeakMap<object, Set<unknown>>();
  const json = z.toJSONSchema(labSchema, {
    io: 'input',
    target: 'draft-7',
    override: (ctx) => {
      const zs = ctx.zodSchema as unknown as ZodInternals;
      const node = ctx.jsonSchema as Json;
      const done = applied.get(node) ?? new Set<unknown>();
      applied.set(node, done);
      const problem = (what: string) => unknown.set(node, [...(unknown.get(node) ?? []), what]);
      for (const check of zs._zod.def.checks ?? []) {
        const def = check._zod.def;
        if (done.has(def)) continue;
        done.add(def);
        if (def.check === 'overwrite') {
          // .trim(): the text must hold something besides white space (min(1) after trimming).
          // min(1) is already the node's minLength when the chain is complete.
          if (def.tx?.(' a ') === 'a' && node.minLength === 1) addRule(node, { pattern: '\\S' });
          else problem(`a transform other than trim().min(1) at ${ctx.path.join('/')}`);
        } else if (def.check === 'custom') {
          const message = def.error?.({});
          if (typeof message === 'string') {
            const rule = BY_MESSAGE[message];
            if (rule) rule(node);
            else problem(`.refine "${message}" at ${ctx.path.join('/')}`);
          } else {
            const owner = ownerOf(zs, ctx.path);
            const rule = (BY_OWNER as Record<string, ((n: Json) => void) | undefined>)[owner];
            if (rule) {
              rule(node);
              const only = (ZOD_ONLY as Record<string, string[]>)[owner] ?? [];
              if (only.length) node.$comment = `Also checked by svclab labs lint, not by this schema: ${only.join('; ')}.`;
            } else problem(`.superRefine on ${owner}`);
          }
        }
      }
    },
  }) as Json;
  const reported = [...reachable(json)].flatMap((n) => unknown.get(n) ?? []);
  if (reported.length) {
    throw new Error(`lab.yaml JSON Schema: refinements with no JSON Schema form yet: ${reported.join('; ')}. Map each in runner/src/authoring/lab-json-schema.ts (BY_MESSAGE, BY_OWNER), or list it in ZOD_ONLY.`);
  }
  return {
    ...json,
    title: 'svclab lab.yaml',
    description: 'One svclab lab (labs/NN-name/lab.yaml). Generated from runner/src/labs/lab-schema.ts by scripts/gen-lab-schema.ts; do not edit.',
  };
}

function reachable(root: unknown, seen = new Set<object>()): Set<object> {
  if (root && typeof root === 'object' && !seen.has(root)) {
    seen.add(root);
    for (const v of Object.values(root)) reachable(v, seen);
  }
  return seen;
}

/** The file's text: stable key order from the generator, two-space indent, a final newline. */
export function labJsonSchemaText(): string {
  return `${JSON.stringify(labJsonSchema(), null, 2)}\n`;
}
