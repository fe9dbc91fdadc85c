// JavaScript weight of the built lesson pages, gzipped: what loads before any interaction
// (module scripts in the HTML and their static imports) and what has loaded once the learner
// has opened the terminal and the YAML editor (plus their dynamic imports and workers).
// A plain Starlight page (no lab panel) of the same build is the baseline.
//
//   node scripts/bench/page-weight.ts [--dist dist] [--budget-kb 100] [--json]
import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative, resolve, dirname, posix } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { dist: { type: 'string', default: 'dist' }, 'budget-kb': { type: 'string', default: '100' }, json: { type: 'boolean', default: false } },
});
const dist = resolve(values.dist!);
const budget = Number(values['budget-kb']) * 1024;

/** Search UI loads only when the search dialog opens; it is not part of the lab. */
const NOT_LAB = /\/(ui-core|pagefind)[^/]*\.js$/;

type Graph = { statics: string[]; dynamics: string[]; workers: string[] };
const cache = new Map<string, { gz: number; graph: Graph }>();

function resolveSpec(fromFile: string, spec: string): string | undefined {
  if (spec.includes('${')) return undefined;
  const path = spec.startsWith('/') ? join(dist, spec) : spec.startsWith('.') ? resolve(dirname(fromFile), spec) : undefined;
  return path && existsSync(path) ? path : undefined;
}

function scan(file: string, code: string): Graph {
  const statics = new Set<string>();
  const dynamics = new Set<string>();
  const workers = new Set<string>();
  const q = '["\'`]([^"\'`]+?\\.m?js)["\'`]';
  for (const m of code.matchAll(new RegExp(`(?:^|[;\\s}])(?:import|export)\\s*(?:[\\w*{}$,\\s]+?from\\s*)?${q}`, 'g'))) {
    const r = resolveSpec(file, m[1]!);
    if (r) statics.add(r);
  }
  for (const m of code.matchAll(new RegExp(`import\\(\\s*${q}\\s*\\)`, 'g'))) {
    const r = resolveSpec(file, m[1]!);
    if (r) dynamics.add(r);
  }
  // Worker scripts and preload lists name chunks as "/_astro/x.js" or "_astro/x.js".
  for (const m of code.matchAll(/["'`]\/?(_astro\/[^"'`]+?\.js)["'`]/g)) {
    const r = resolveSpec(file, '/' + m[1]!);
    if (r && r !== file && !statics.has(r)) workers.add(r);
  }
  return { statics: [...statics], dynamics: [...dynamics], workers: [...workers] };
}

async function load(file: string): Promise<{ gz: number; graph: Graph }> {
  let entry = cache.get(file);
  if (!entry) {
    const code = await readFile(file);
    entry = { gz: gzipSync(code).length, graph: scan(file, code.toString('utf8')) };
    cache.set(file, entry);
  }
  return entry;
}

async function closure(roots: string[], follow: (g: Graph) => string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length) {
    const f = queue.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    queue.push(...follow((await load(f)).graph));
  }
  return seen;
}

async function inlineRoots(htmlFile: string, html: string): Promise<{ files: string[]; inlineGz: number }> {
  const files: string[] = [];
  let inlineGz = 0;
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    const attrs = m[1]!;
    const body = m[2]!;
    const src = /\bsrc=["']?([^"'\s>]+)/.exec(attrs)?.[1];
    if (src) {
      const r = resolveSpec(htmlFile, src);
      if (r && /type=["']?module/.test(attrs)) files.push(r);
      else if (r) files.push(r); // classic external scripts count too
    } else if (body.trim() && !/type=["']?(application\/(ld\+)?json|text\/template)/.test(attrs)) {
      inlineGz += gzipSync(body).length;
      const g = scan(htmlFile, body);
      files.push(...g.statics);
    }
  }
  return { files, inlineGz };
}

async function weigh(files: Iterable<string>): Promise<number> {
  let total = 0;
  for (const f of files) total += (await load(f)).gz;
  return total;
}

async function pageWeights(htmlFile: string) {
  const html = await readFile(htmlFile, 'utf8');
  const { files, inlineGz } = await inlineRoots(htmlFile, html);
  const before = await closure(files, (g) => g.statics);
  // What the panel's custom element loads by itself once it scrolls into view (its
  // controller): the first level of dynamic imports, with their static imports.
  const firstLevel = new Set<string>();
  for (const f of before) for (const d of (await load(f)).graph.dynamics) if (!NOT_LAB.test(d) && !before.has(d)) firstLevel.add(d);
  const visible = await closure([...before, ...firstLevel], (g) => g.statics);
  const after = await closure([...before], (g) => [...g.statics, ...g.dynamics, ...g.workers].filter((f) => !NOT_LAB.test(f)));
  return {
    page: '/' + posix.normalize(relative(dist, htmlFile).split('\\').join('/')).replace(/index\.html$/, ''),
    beforeGz: (await weigh(before)) + inlineGz,
    inlineGz,
    visibleGz: (await weigh(visible)) + inlineGz,
    afterGz: (await weigh(after)) + inlineGz,
    beforeFiles: [...before].map((f) => relative(dist, f)),
    lazyFiles: [...after].filter((f) => !before.has(f)).map((f) => relative(dist, f)),
  };
}

async function htmlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await htmlFiles(p)));
    else if (e.name === 'index.html') out.push(p);
  }
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(join(dist, 'index.html'))) {
    console.error(`No built site in ${dist}. Run \`npx astro build\` first.`);
    process.exitCode = 1;
    return;
  }
  const all = await htmlFiles(dist);
  const lessons = all.filter((f) => /[/\\]labs[/\\][^/\\]+[/\\]index\.html$/.test(f)).sort();
  const baselineFile = all.find((f) => /^getting-started[/\\]index\.html$/.test(relative(dist, f))) ?? join(dist, 'index.html');
  const baseline = await pageWeights(baselineFile);
  const rows = await Promise.all(lessons.map(pageWeights));
  if (values.json) {
    console.log(JSON.stringify({ budgetBytes: budget, baseline, lessons: rows }, null, 2));
    return;
  }
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const width = Math.max(...rows.map((r) => r.page.length), 4);
  console.log(`gzipped JavaScript per lesson page; budget before interaction ${kb(budget)}`);
  console.log(`baseline ${baseline.page} (a page without the lab panel): ${kb(baseline.beforeGz)}`);
  console.log('columns: before interaction (HTML scripts + static imports) | panel in view (+ lab controller) | terminal + editor opened (+ xterm, Monaco, schema, workers)');
  for (const r of rows) {
    const ratio = baseline.beforeGz ? (r.beforeGz / baseline.beforeGz).toFixed(2) : '-';
    const verdict = r.beforeGz <= budget ? 'ok' : 'OVER BUDGET';
    console.log(`${r.page.padEnd(width)}  ${kb(r.beforeGz).padStart(9)} (${ratio}x, ${verdict})  ${kb(r.visibleGz).padStart(9)}  ${kb(r.afterGz).padStart(10)}`);
  }
  if (rows.length === 0) console.log('(no lesson pages found under labs/)');
}

await main();
