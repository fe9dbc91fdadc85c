// The shape of runner/src, read from its imports (type-only ones too: a type import is
// a dependency of the design even when it is erased):
//   - no import circles;
//   - layers point down: main/cli → http → sessions/pool → play → checks/labs/add-ons
//     → cluster/images → kube → engine → exec/pty;
//   - only engine/ names the docker binary, only kube/ builds kubectl argv, only exec/ imports execa.
// Edges and files other owners are still moving are listed in PENDING_* below with who
// moves them; a new violation anywhere else fails.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

/** Lower number = higher layer. An import may point to its own layer or a lower one (a larger number). */
const LAYER: Record<string, number> = {
  'main': 0, 'cli': 0, 'cli.ts': 0, 'doctor': 0, 'authoring': 0,
  'http': 1,
  'sessions': 2, 'pool': 2, 'workshop': 2, 'instructor': 2, 'kube-store': 2, 'environments': 2, 'terminals': 2,
  'play': 3,
  'checks': 4, 'labs': 4, 'addons': 4, 'access': 4,
  'cluster': 5, 'images': 5,
  'kube': 6,
  'engine': 7,
  'exec': 8, 'pty': 8, 'api': 8, 'protocol': 8, 'errors.ts': 8, 'logger.ts': 8, 'version.ts': 8,
};

/** Upward edges other owners are removing now ("from-area → to-area": owner). */
const PENDING_UPWARD: Record<string, string> = {};
/** Files outside engine/ that still name the docker binary: owner. */
const PENDING_DOCKER: Record<string, string> = {};
/** Files outside main/ that still build real objects themselves: owner. */
const PENDING_WIRING: Record<string, string> = {};
/** Files outside kube/ that still build kubectl argv (nodeKubectl, --kubeconfig=…): owner. */
const PENDING_KUBECTL: Record<string, string> = {};

interface Module { file: string; imports: string[]; text: string }

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function readGraph(): Map<string, Module> {
  const graph = new Map<string, Module>();
  for (const abs of tsFiles(SRC)) {
    const text = readFileSync(abs, 'utf8');
    const info = ts.preProcessFile(text, true, true);
    const imports = info.importedFiles
      .map((f) => f.fileName)
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(SRC, resolve(dirname(abs), s)));
    graph.set(relative(SRC, abs), { file: relative(SRC, abs), imports, text });
  }
  return graph;
}

function area(file: string): string {
  return file.includes('/') ? file.split('/')[0]! : file;
}

/** Every elementary cycle is too many to list; one cycle per strongly connected component names the problem. */
function cycles(graph: Map<string, Module>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  let next = 0;
  const strong = (v: string) => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v)?.imports ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) { strong(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== v);
      const selfLoop = graph.get(v)!.imports.includes(v);
      if (scc.length > 1 || selfLoop) found.push(pathThrough(graph, new Set(scc), v));
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) strong(v);
  return found;
}

/** A concrete circle inside one strongly connected component, for the message: a → b → … → a. */
function pathThrough(graph: Map<string, Module>, scc: Set<string>, start: string): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v)!.imports) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return [...path, start];
      }
      if (!prev.has(w)) { prev.set(w, v); queue.push(w); }
    }
  }
  return [start, start];
}

const graph = readGraph();

describe('runner/src import graph', () => {
  it('reads the graph (the parser sees the files and their imports)', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('main/wiring.ts')!.imports).toContain('engine/docker-engine.ts');
    // Every relative import resolves to a file: a typo would hide an edge.
    const unresolved = [...graph.values()].flatMap((m) => m.imports.filter((i) => !graph.has(i)).map((i) => `${m.file} → ${i}`));
    expect(unresolved).toEqual([]);
  });

  it('has no import circles', () => {
    expect(cycles(graph).map((c) => c.join(' → '))).toEqual([]);
  });

  it('finds a circle when there is one (the check can fail)', () => {
    const g = new Map<string, Module>([
      ['a.ts', { file: 'a.ts', imports: ['b.ts'], text: '' }],
      ['b.ts', { file: 'b.ts', imports: ['c.ts'], text: '' }],
      ['c.ts', { file: 'c.ts', imports: ['a.ts'], text: '' }],
      ['d.ts', { file: 'd.ts', imports: ['a.ts'], text: '' }],
    ]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('puts every file in a layer', () => {
    expect([...new Set([...graph.keys()].map(area))].filter((a) => LAYER[a] === undefined)).toEqual([]);
  });

  it('points imports down the layers only', () => {
    const upward = new Set<string>();
    for (const m of graph.values()) {
      for (const i of m.imports) {
        const from = area(m.file), to = area(i);
        if (LAYER[from] !== undefined && LAYER[to] !== undefined && LAYER[to]! < LAYER[from]!) upward.add(`${from} → ${to}: ${m.file} imports ${i}`);
      }
    }
    const pending = [...upward].filter((e) => PENDING_UPWARD[e.split(':')[0]!] !== undefined);
    if (pending.length) console.log(`pending upward edges (their owners are moving them):\n  ${pending.join('\n  ')}`);
    expect([...upward].filter((e) => !pending.includes(e))).toEqual([]);
  });

  it('names the docker binary only in engine/', () => {
    const offenders = [...graph.values()].filter((m) => !m.file.startsWith('engine/') && /'docker'/.test(m.text)).map((m) => m.file);
    const pending = offenders.filter((f) => PENDING_DOCKER[f] !== undefined);
    if (pending.length) console.log(`pending: ${pending.map((f) => `${f} (${PENDING_DOCKER[f]})`).join('; ')}`);
    expect(offenders.filter((f) => !pending.includes(f))).toEqual([]);
  });

  it('builds kubectl argv only in kube/', () => {
    // The program name, kubectl's global flags as we write them, or the old argv helper
    // (kind's own `--kubeconfig PATH` is kind's business).
    const argv = /'kubectl'|['`]--kubeconfig=|['`]--request-timeout=|\bnodeKubectl\(/;
    const offenders = [...graph.values()]
      .filter((m) => !m.file.startsWith('kube/') && argv.test(m.text.replace(/^export function nodeKubectl\(/m, '')))
      .map((m) => m.file);
    const pending = offenders.filter((f) => PENDING_KUBECTL[f] !== undefined);
    if (pending.length) console.log(`pending: ${pending.map((f) => `${f} (${PENDING_KUBECTL[f]})`).join('; ')}`);
    expect(offenders.filter((f) => !pending.includes(f))).toEqual([]);
  });

  it('imports execa only in exec/', () => {
    expect([...graph.values()].filter((m) => !m.file.startsWith('exec/') && /from 'execa'|import\('execa'\)/.test(m.text)).map((m) => m.file)).toEqual([]);
  });

  it('builds the real shell, engine and driver only in main/ (the wiring)', () => {
    const offenders = [...graph.values()].filter((m) => !m.file.startsWith('main/') && /new (ExecaRunner|DockerEngine|KindDriver)\(/.test(m.text)).map((m) => m.file);
    const pending = offenders.filter((f) => PENDING_WIRING[f] !== undefined);
    if (pending.length) console.log(`pending: ${pending.map((f) => `${f} (${PENDING_WIRING[f]})`).join('; ')}`);
    expect(offenders.filter((f) => !pending.includes(f))).toEqual([]);
  });

  it('starts processes only in exec/ (a Shell) and pty/ (terminals)', () => {
    const spawns = /from ['"](node:)?child_process['"]|import\(['"](node:)?child_process['"]\)|from ['"](node-pty|@homebridge\/node-pty-prebuilt-multiarch)['"]/;
    expect([...graph.values()].filter((m) => !/^(exec|pty)\//.test(m.file) && spawns.test(m.text)).map((m) => m.file)).toEqual([]);
  });
});
