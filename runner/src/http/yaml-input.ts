// Manifests typed in the editor: parsed strictly (duplicate keys and tab
// indentation are errors) with the line and column of the first problem.
import { LineCounter, parseAllDocuments } from 'yaml';
import { RunnerError } from '../errors.ts';
import type { ParsedManifest } from '../play/manifests.ts';

export type { ParsedManifest };

export function parseManifests(text: string): ParsedManifest[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: ParsedManifest[] = [];
  for (const doc of list) {
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
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const start = doc.contents?.range?.[0] ?? 0;
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
