// site/lib and site/components as the house style wants them: no import circles (static,
// type and dynamic imports alike), the runner reached only through `import type` (nothing of
// the runner ships to the browser), and no file in site/lib over ~300 lines.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const DIRS = ['site/lib', 'site/components'].map((d) => join(ROOT, d));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|astro)$/.test(e.name) ? [join(dir, e.name)] : []));
}

/** The script part of a file: an .astro file's frontmatter and <script> blocks. */
function code(file: string): string {
  const text = readFileSync(file, 'utf8');
  if (!file.endsWith('.astro')) return text;
  const front = /^---\n([\s\S]*?)\n---/.exec(text)?.[1] ?? '';
  return [front, ...[...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1])].join('\n');
}

/** file → the files it imports (relative specifiers, resolved), runner imports kept apart. */
function graph(): Map<string, { imports: string[]; runnerValueImports: string[] }> {
  const out = new Map<string, { imports: string[]; runnerValueImports: string[] }>();
  for (const file of DIRS.flatMap(files)) {
    const src = code(file);
    const specs = ts.preProcessFile(src, true, true).importedFiles.map((f) => f.fileName).filter((s) => s.startsWith('.'));
    const imports = specs.map((s) => relative(ROOT, resolve(dirname(file), s)));
    const typeOnly = new Set([...src.matchAll(/(?:import|export) type [^;]*?from '([^']+)'/g)].map((m) => m[1]));
    const runnerValueImports = specs.filter((s) => s.includes('/runner/') && !typeOnly.has(s));
    out.set(relative(ROOT, file), { imports, runnerValueImports });
  }
  return out;
}

/** One circle, if there is any: a → b → … → a. */
function findCircle(g: Map<string, { imports: string[] }>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (v: string): string[] | undefined => {
    state.set(v, 'open');
    path.push(v);
    for (const w of g.get(v)?.imports ?? []) {
      if (state.get(w) === 'open') return [...path.slice(path.indexOf(w)), w];
      const found = g.has(w) && !state.has(w) ? visit(w) : undefined;
      if (found) return found;
    }
    path.pop();
    state.set(v, 'done');
    return undefined;
  };
  for (const v of g.keys()) {
    const found = state.has(v) ? undefined : visit(v);
    if (found) return found;
  }
  return undefined;
}

const g = graph();

describe('site/lib and site/components', () => {
  it('reads the graph (the lab panel hydrates through lab-controller.ts)', () => {
    expect(g.get('site/lib/lab/define-lab-element.ts')?.imports).toContain('site/lib/lab/lab-controller.ts');
    expect(g.get('site/components/LabPanel.astro')?.imports).toContain('site/lib/lab/LabSteps.astro');
  });

  it('has no import circles, and the check finds one when there is', () => {
    expect(findCircle(g)).toBeUndefined();
    const circle = new Map([['a', { imports: ['b'] }], ['b', { imports: ['c'] }], ['c', { imports: ['b'] }]]);
    expect(findCircle(circle)).toEqual(['b', 'c', 'b']);
  });

  it('imports the runner only as types', () => {
    const offenders = [...g].flatMap(([file, m]) => m.runnerValueImports.map((s) => `${file} → ${s}`));
    expect(offenders).toEqual([]);
    expect(g.get('site/lib/api/runner-api.ts')?.imports.some((i) => i.startsWith('runner/src/api/'))).toBe(true);
  });

  it('keeps every file in site/lib under ~300 lines', () => {
    const long = files(join(ROOT, 'site/lib')).filter((f) => !f.endsWith('.json')).map((f) => [relative(ROOT, f), readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 300);
    expect(long).toEqual([]);
  });
});
