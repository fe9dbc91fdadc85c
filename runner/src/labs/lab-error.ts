// A mistake in a lab file, located to the line and column, and the means to
// turn YAML parser errors and zod issues into such errors.
import { isMap, isScalar, isSeq, type Document, type LineCounter, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { checkKinds } from './lab-schema.ts';

export interface LabError {
  /** Relative to the repository root, like labs/02-selectors-and-endpoints/lab.yaml. */
  file: string;
  /** 1-based; 0 when the error concerns the whole file (it is missing, say). */
  line: number;
  column: number;
  /** The field, like steps[1].checks[0].deadlineSeconds; '' for the file itself. */
  path: string;
  message: string;
}

/** `file:line:column path: message`, the shape editors and terminals make clickable. */
export function formatLabError(e: LabError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}:${e.column}` : e.file;
  return e.path ? `${where} ${e.path}: ${e.message}` : `${where} ${e.message}`;
}

export type YamlPath = readonly PropertyKey[];

export function formatPath(path: YamlPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

interface Located {
  offset: number;
  /** The path that really exists in the file (a missing field points at its parent). */
  path: YamlPath;
}

/** Positions inside one parsed YAML document. */
export class YamlLocator {
  private readonly doc: Document;
  private readonly lineCounter: LineCounter;
  readonly file: string;

  constructor(file: string, doc: Document, lineCounter: LineCounter) {
    this.file = file;
    this.doc = doc;
    this.lineCounter = lineCounter;
  }

  error(offset: number, path: YamlPath, message: string): LabError {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, column: col, path: formatPath(path), message };
  }

  /** The deepest node on `path` that exists; for a map entry, its value (or its key when `key` is set). */
  locate(path: YamlPath, key = false): Located {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    const found: PropertyKey[] = [];
    for (let i = 0; i < path.length; i++) {
      const step = path[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(step));
        if (!pair) break;
        found.push(step!);
        const last = i === path.length - 1;
        offset = (last && key ? rangeStart(pair.key) : rangeStart(pair.value) ?? rangeStart(pair.key)) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof step === 'number') {
        const item: unknown = node.items[step];
        if (item === undefined) break;
        found.push(step);
        offset = rangeStart(item) ?? offset;
        node = item;
      } else {
        break;
      }
    }
    return { offset, path: found };
  }

  /**
   * The field a parser error belongs to: the last key or value that starts at or
   * before `offset` (a tab or a stray ": " may have broken the tree below it).
   * With keyAtOffset false, a key starting exactly at `offset` is the learner's
   * text read as a key, not a field, so it is skipped.
   */
  pathAt(offset: number, opts: { keyAtOffset?: boolean } = {}): YamlPath {
    let best: { start: number; path: YamlPath } = { start: -1, path: [] };
    const consider = (node: unknown, path: YamlPath, isKey: boolean) => {
      const start = rangeStart(node);
      if (start === undefined || start > offset) return;
      if (isKey && start === offset && opts.keyAtOffset === false) return;
      if (start >= best.start) best = { start, path };
    };
    const walk = (node: unknown, path: YamlPath): void => {
      if (isMap(node)) {
        for (const pair of node.items) {
          if (!isScalar(pair.key)) continue;
          const key = String(pair.key.value);
          // After a syntax error the parser may make a key of running text; don't call it a field.
          if (!/^[A-Za-z_$][\w$.\/-]*$/.test(key)) continue;
          consider(pair.key, [...path, key], true);
          consider(pair.value, [...path, key], false);
          walk(pair.value, [...path, key]);
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => {
          consider(item, [...path, i], false);
          walk(item, [...path, i]);
        });
      }
    };
    walk(this.doc.contents, []);
    return best.path;
  }
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range?.[0];
}

/** Parser errors (tabs, duplicate keys, bad indentation) with the same precision as schema errors. */
export function yamlErrorToLabError(err: YAMLError, source: string, locator: YamlLocator): LabError {
  const offset = err.pos[0];
  // For a value read as a key, the "key" is the learner's text, not a field.
  const implicitKey = err.code === 'BLOCK_AS_IMPLICIT_KEY' || err.code === 'MULTILINE_IMPLICIT_KEY';
  const path = locator.pathAt(offset, { keyAtOffset: !implicitKey });
  const firstLine = err.message.split('\n')[0] ?? err.message;
  let message: string;
  switch (err.code) {
    case 'DUPLICATE_KEY': {
      const key = /^[^:\n]*/.exec(source.slice(err.pos[0]))?.[0].trim();
      message = `the key "${key}" appears twice in the same map; YAML keys must be unique, keep one`;
      break;
    }
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      message = 'this value contains ": " so YAML reads it as another key; put the text in quotes or use a ">-" block';
      break;
    case 'TAB_AS_INDENT':
      message = 'a tab is used for indentation; YAML allows only spaces there';
      break;
    default:
      message = `YAML syntax: ${firstLine.replace(/ at line \d+, column \d+.*$/, '')}`;
  }
  return locator.error(offset, path, message);
}

/**
 * Every duplicate key (each is its own mistake) and the first other syntax error:
 * after that one the parser's further complaints are usually its consequences.
 */
export function yamlErrorsToLabErrors(errs: readonly YAMLError[], source: string, locator: YamlLocator): LabError[] {
  const firstOther = errs.find((e) => e.code !== 'DUPLICATE_KEY');
  return errs
    .filter((e) => e.code === 'DUPLICATE_KEY' || e === firstOther)
    .map((e) => yamlErrorToLabError(e, source, locator))
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Describes a value found in the file, for "got …". */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a map';
  return String(value);
}

const typeNames: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a map of fields',
};

function valueAt(data: unknown, path: YamlPath): unknown {
  let v: unknown = data;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function bound(origin: string, op: string, n: number | bigint): string {
  if (origin === 'array') return op === '>=' ? `a list of at least ${n} item${n === 1 ? '' : 's'}` : `a list of at most ${n} items`;
  if (origin === 'string') return op === '>=' ? 'non-empty text' : `text of at most ${n} characters`;
  return `a number ${op} ${n}`;
}

/** One LabError per zod issue (one per unknown field), placed on the offending node. */
export function zodIssuesToLabErrors(issues: readonly z.core.$ZodIssue[], data: unknown, locator: YamlLocator): LabError[] {
  const errors: LabError[] = [];
  for (const issue of issues) {
    const value = valueAt(data, issue.path);
    const got = `got ${describeValue(value)}`;
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const at = locator.locate([...issue.path, key], true);
          errors.push(locator.error(at.offset, [...issue.path, key], `unknown field "${key}"; ${issue.message}`));
        }
        continue;
      case 'invalid_union': {
        if (issue.discriminator) {
          errors.push(at(issue.path, `expected one of ${checkKinds.join(', ')}, ${got}`));
          continue;
        }
        errors.push(at(issue.path, `expected one of the allowed forms, ${got}`));
        continue;
      }
      case 'invalid_type': {
        const expected = typeNames[issue.expected] ?? issue.expected;
        const message = value === undefined ? `missing required field; expected ${expected}` : `expected ${expected}, ${got}`;
        errors.push(at(issue.path, message));
        continue;
      }
      case 'too_small':
        errors.push(at(issue.path, `expected ${bound(issue.origin, issue.inclusive ? '>=' : '>', issue.minimum)}, ${got}`));
        continue;
      case 'too_big':
        errors.push(at(issue.path, `expected ${bound(issue.origin, issue.inclusive ? '≤' : '<', issue.maximum)}, ${got}`));
        continue;
      case 'invalid_value':
        errors.push(at(issue.path, `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, ${got}`));
        continue;
      case 'invalid_format':
        // Our regexes carry their own description (see lab-schema.ts).
        errors.push(at(issue.path, `expected ${issue.message.startsWith('Invalid') ? `text matching ${issue.format}` : issue.message}, ${got}`));
        continue;
      default:
        errors.push(at(issue.path, `expected ${issue.message}, ${got}`));
    }
  }
  return errors;

  function at(path: YamlPath, message: string): LabError {
    const found = locator.locate(path);
    return locator.error(found.offset, path, message);
  }
}
