// Fuzz: lab.yaml loading turns any file into a lab or into errors with a place —
// never a throw (a throw is a crashed `labs lint` or a 500 for the lab page).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadLab } from '../../src/labs/load-labs.ts';
import { projectRoot } from '../../src/version.ts';
import { fuzz, fuzzRuns } from './fuzz-harness.ts';

const root = mkdtempSync(join(tmpdir(), 'svclab-fuzz-labs-'));
const ID = '42-fuzz';
mkdirSync(join(root, 'labs', ID, 'manifests'), { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function holds(source: string): Promise<void> {
  writeFileSync(join(root, 'labs', ID, 'lab.yaml'), source);
  const r = await loadLab(root, ID);
  expect(['ok', 'invalid']).toContain(r.status);
  if (r.status === 'invalid') {
    expect(r.errors.length).toBeGreaterThan(0);
    for (const e of r.errors) {
      expect(e.file).toContain(ID);
      expect(e.message.length).toBeGreaterThan(0);
    }
  }
}

const real = readFileSync(join(projectRoot, 'labs', '02-selectors-and-endpoints', 'lab.yaml'), 'utf8');

/** A real lab with one field replaced by anything: the schema's edges. */
const mutated = fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 3 })).map(([n, v]) => {
  const lines = real.split('\n');
  const i = n % lines.length;
  const m = /^(\s*-?\s*[\w.-]+:)/.exec(lines[i]!);
  if (m) lines[i] = `${m[1]} ${JSON.stringify(v)}`;
  return lines.join('\n').replace('id: 02-selectors-and-endpoints', `id: ${ID}`);
});

describe('fuzz: lab.yaml', () => {
  it('any text, any YAML tree and any mutated real lab load or explain themselves (≥10,000 cases)', async () => {
    const runs = fuzzRuns(3500);
    let n = 0;
    n += await fuzz('lab-yaml-text', fc.string({ maxLength: 400 }), holds, runs);
    n += await fuzz('lab-yaml-tree', fc.jsonValue({ maxDepth: 5 }), (v) => holds(stringify(v)), runs);
    n += await fuzz('lab-yaml-mutated', mutated, holds, runs);
    expect(n).toBeGreaterThanOrEqual(10_000);
  }, 300_000);

  it('aliases that expand exponentially (billion laughs) are an error at a line, not a crash', async () => {
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    writeFileSync(join(root, 'labs', ID, 'lab.yaml'), laughs.join('\n'));
    const r = await loadLab(root, ID);
    expect(r.status).toBe('invalid');
    if (r.status === 'invalid') expect(r.errors[0]!.message).toMatch(/alias/i);
  });
});
