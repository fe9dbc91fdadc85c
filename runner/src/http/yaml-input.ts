// Manifests typed in the editor: parsed strictly (duplicate keys and tab
// indentation are errors) with the line and column of the first problem.
// Documents are composed one at a time, so a text with thousands of them is
// refused at the 201st without parsing the rest.
import { Composer, isAlias, isCollection, isNode, isPair, LineCounter, Parser, visit, type Document } from 'yaml';
import { RunnerError } from '../errors.ts';
import type { ParsedManifest } from '../play/manifests.ts';

export type { ParsedManifest };

/** At most this many documents per Apply or Live: more is a mistake or an attack, never a lab. */
export const MAX_DOCUMENTS = 200;
/** yaml's own default: aliases may expand to at most this many nodes. */
const MAX_ALIAS_COUNT = 100;

export function parseManifests(text: string): ParsedManifest[] {
  const lineCounter = new LineCounter();
  const composer = new Composer({ uniqueKeys: true, prettyErrors: false });
  const out: ParsedManifest[] = [];
  let index = 0;
  for (const doc of composer.compose(new Parser(lineCounter.addNewLine).parse(text))) {
    index++;
    const start = doc.contents?.range?.[0] ?? doc.range[0];
    if (index > MAX_DOCUMENTS) {
      const line = lineCounter.linePos(start).line;
      throw new RunnerError('YAML_INVALID', {
        message: `The text holds more than ${MAX_DOCUMENTS} documents; document ${index} starts at line ${line}.`,
        hint: `Apply at most ${MAX_DOCUMENTS} objects at a time; a lab step never needs more.`,
        details: { line, column: 1, limit: MAX_DOCUMENTS },
      });
    }
    const err = doc.errors[0];
    if (err) {
      const pos = lineCounter.linePos(err.pos[0]);
      const tab = /tab/i.test(err.message) || text.split('\n')[pos.line - 1]?.match(/^\s*\t/);
      throw new RunnerError('YAML_INVALID', {
        message: `YAML error at line ${pos.line}, column ${pos.col}: ${err.message.split('\n')[0]}`,
        hint: tab ? 'YAML indentation must use spaces, not tabs.' : err.code === 'DUPLICATE_KEY' ? 'Each key may appear once per object; remove or rename the repeated one.' : 'Fix the marked line; nothing was sent to the cluster.',
        details: { line: pos.line, column: pos.col, code: err.code },
      });
    }
    const value = toJS(doc, lineCounter);
    if (value === null || value === undefined) continue;
    const line = lineCounter.linePos(start).line;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new RunnerError('YAML_INVALID', { message: `The document at line ${line} is not a Kubernetes object.`, hint: 'Each document needs apiVersion, kind and metadata.name.', details: { line, column: 1 } });
    }
    const obj = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
    const missing = [typeof obj.apiVersion !== 'string' && 'apiVersion', typeof obj.kind !== 'string' && 'kind', typeof obj.metadata?.name !== 'string' && 'metadata.name'].filter(Boolean);
    if (missing.length) {
      throw new RunnerError('YAML_INVALID', { message: `The document at line ${line} has no ${missing.join(', ')}.`, hint: 'Every Kubernetes object needs apiVersion, kind and metadata.name.', details: { line, column: 1 } });
    }
    const m: ParsedManifest = { apiVersion: obj.apiVersion as string, kind: obj.kind as string, name: obj.metadata!.name as string, line };
    if (typeof obj.metadata?.namespace === 'string') m.namespace = obj.metadata.namespace;
    out.push(m);
  }
  if (!out.length) throw new RunnerError('YAML_INVALID', { message: 'There is nothing to apply: the text holds no object.', hint: 'Write or reset the manifest first.', details: { line: 1, column: 1 } });
  return out;
}

/** The document's value; an alias bomb or an alias before its anchor is YAML_INVALID at the alias. */
function toJS(doc: Document.Parsed, lineCounter: LineCounter): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    const alias = aliasOverLimit(doc);
    const pos = lineCounter.linePos(alias?.range?.[0] ?? doc.range[0]);
    const bomb = /alias count/i.test(e.message);
    throw new RunnerError('YAML_INVALID', {
      message: bomb
        ? `YAML error at line ${pos.line}, column ${pos.col}: the alias${alias ? ` *${alias.source}` : ''} makes the document expand past ${MAX_ALIAS_COUNT} copies.`
        : `YAML error at line ${pos.line}, column ${pos.col}: ${e.message}`,
      hint: bomb ? 'Write the repeated part out, or use fewer nested aliases (*name).' : 'Define an anchor (&name) before using its alias (*name).',
      details: { line: pos.line, column: pos.col, code: bomb ? 'ALIAS_LIMIT' : 'ALIAS_UNRESOLVED' },
    });
  }
}

/**
 * The alias at which yaml's toJS stops: the same count it keeps (each use of an anchor
 * multiplied by the aliases inside it), walked in the same document order.
 */
function aliasOverLimit(doc: Document.Parsed): { source: string; range?: [number, number, number] | null } | undefined {
  const anchors = new Map<unknown, { count: number; aliasCount: number }>();
  const aliasCount = (node: unknown): number => {
    if (isAlias(node)) {
      const a = anchors.get(node.resolve(doc));
      return a ? a.count * a.aliasCount : 0;
    }
    if (isCollection(node)) return Math.max(0, ...node.items.map(aliasCount));
    if (isPair(node)) return Math.max(aliasCount(node.key), aliasCount(node.value));
    return 1;
  };
  let found: { source: string; range?: [number, number, number] | null } | undefined;
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const source = node.resolve(doc);
        const a = anchors.get(source);
        if (!a) return undefined;
        a.count += 1;
        if (a.aliasCount === 0) a.aliasCount = aliasCount(source);
        if (a.count * a.aliasCount > MAX_ALIAS_COUNT) {
          found = node;
          return visit.BREAK;
        }
      } else if (isNode(node) && node.anchor && !anchors.has(node)) {
        anchors.set(node, { count: 1, aliasCount: 0 });
      }
      return undefined;
    },
  });
  return found;
}
