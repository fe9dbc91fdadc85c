// Recipe discovery and validation: images/artifacts/<name>/artifact.json and
// images/<name>/image.json, one zod schema per file format.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { RunnerError } from '../errors.ts';

const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes');

export const artifactJsonSchema = z.strictObject({
  name,
  description: z.string(),
  dependsOn: z.array(name),
});

/** A path of the repository (relative to its root, '/'-separated, no `..`), that an image copies. */
const repoPath = z.string().regex(/^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9._/-]+$/, 'a path relative to the repository root, without ".."');

export const imageJsonSchema = z.strictObject({
  name,
  description: z.string(),
  artifacts: z.array(name),
  images: z.array(name),
  /**
   * Repository files or folders the image copies besides its own folder (the runner
   * image copies svclab's sources): the recipe's hash covers them too, so the tag
   * follows them.
   */
  inputs: z.array(repoPath).optional(),
  /**
   * Built only when named (`svclab images build runner`) or needed by one that is built:
   * a plain `images build` (what `npm start` runs) skips it, and status does not count
   * it as missing.
   */
  onRequest: z.boolean().optional(),
});

export type RecipeKind = 'artifact' | 'image';

export interface Recipe {
  kind: RecipeKind;
  name: string;
  description: string;
  /** Absolute path of the recipe folder. */
  dir: string;
  /** Artifacts this recipe needs (artifact: dependsOn; image: artifacts). */
  artifacts: string[];
  /** Images this image needs (always empty for artifacts). */
  images: string[];
  /** Repository files/folders the hash covers besides `dir` (image.json `inputs`): as written, and where they are. */
  inputs: RecipeInput[];
  /** Built only when asked for by name (image.json `onRequest`). */
  onRequest: boolean;
}

export interface RecipeInput {
  /** Relative to the repository root, as image.json names it (what the hash covers, so a clone elsewhere hashes the same). */
  path: string;
  abs: string;
}

export interface RecipeSet {
  artifacts: Map<string, Recipe>;
  images: Map<string, Recipe>;
}

/** `artifact:kubernetes`, `image:node`: one namespace for both kinds. */
export function recipeKey(r: { kind: RecipeKind; name: string }): string {
  return `${r.kind}:${r.name}`;
}

export function loadRecipes(imagesDir: string): RecipeSet {
  const artifacts = new Map<string, Recipe>();
  const images = new Map<string, Recipe>();
  const artifactsDir = join(imagesDir, 'artifacts');
  for (const entry of subdirs(artifactsDir)) {
    const dir = join(artifactsDir, entry);
    const file = join(dir, 'artifact.json');
    if (!existsSync(file)) continue;
    const json = parseFile(imagesDir, file, artifactJsonSchema);
    checkFolder(imagesDir, dir, json.name, file);
    artifacts.set(json.name, { kind: 'artifact', name: json.name, description: json.description, dir, artifacts: [...json.dependsOn], images: [], inputs: [], onRequest: false });
  }
  for (const entry of subdirs(imagesDir)) {
    if (entry === 'artifacts') continue;
    const dir = join(imagesDir, entry);
    const file = join(dir, 'image.json');
    if (!existsSync(file)) continue;
    const json = parseFile(imagesDir, file, imageJsonSchema);
    checkFolder(imagesDir, dir, json.name, file);
    const repo = join(imagesDir, '..');
    const inputs = (json.inputs ?? []).map((p) => {
      const abs = join(repo, p);
      if (!existsSync(abs)) throw invalid(imagesDir, file, `lists input "${p}", which does not exist in the repository`);
      return { path: p, abs };
    });
    images.set(json.name, { kind: 'image', name: json.name, description: json.description, dir, artifacts: [...json.artifacts], images: [...json.images], inputs, onRequest: json.onRequest ?? false });
  }
  const set = { artifacts, images };
  for (const r of [...artifacts.values(), ...images.values()]) {
    for (const a of r.artifacts) {
      if (!artifacts.has(a)) throw invalid(imagesDir, join(r.dir, r.kind === 'artifact' ? 'artifact.json' : 'image.json'), `needs artifact "${a}", but there is no images/artifacts/${a}/artifact.json`);
    }
    for (const i of r.images) {
      if (!images.has(i)) throw invalid(imagesDir, join(r.dir, 'image.json'), `needs image "${i}", but there is no images/${i}/image.json`);
    }
  }
  topoOrder(set, [...artifacts.values(), ...images.values()]); // throws on a cycle
  return set;
}

/** Dependencies first; each recipe once. Throws on a dependency cycle. */
export function topoOrder(set: RecipeSet, targets: Recipe[]): Recipe[] {
  const out: Recipe[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (r: Recipe) => {
    const key = recipeKey(r);
    if (done.has(key)) return;
    if (path.includes(key)) {
      throw new RunnerError('IMAGE_BUILD_FAILED', {
        message: `Recipes depend on each other in a cycle: ${[...path.slice(path.indexOf(key)), key].join(' → ')}.`,
        hint: 'Remove one of these dependencies from artifact.json / image.json.',
      });
    }
    path.push(key);
    for (const d of directDeps(set, r)) visit(d);
    path.pop();
    done.add(key);
    out.push(r);
  };
  for (const t of [...targets].sort(byKey)) visit(t);
  return out;
}

export function directDeps(set: RecipeSet, r: Recipe): Recipe[] {
  return [
    ...r.artifacts.map((a) => set.artifacts.get(a)!),
    ...r.images.map((i) => set.images.get(i)!),
  ].sort(byKey);
}

/** Every recipe r needs, directly or through others (not r itself). */
export function transitiveDeps(set: RecipeSet, r: Recipe): Recipe[] {
  return topoOrder(set, directDeps(set, r));
}

function byKey(a: Recipe, b: Recipe): number {
  const ka = recipeKey(a), kb = recipeKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function subdirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((e) => !e.startsWith('.') && statSync(join(dir, e)).isDirectory()).sort();
}

function parseFile<T>(imagesDir: string, file: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw invalid(imagesDir, file, `is not valid JSON (${(e as Error).message})`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`).join('; ');
    throw invalid(imagesDir, file, issues);
  }
  return r.data;
}

function checkFolder(imagesDir: string, dir: string, jsonName: string, file: string): void {
  const folder = dir.split('/').pop();
  if (folder !== jsonName) throw invalid(imagesDir, file, `says name "${jsonName}" but lives in folder "${folder}"; they must match`);
  if (!existsSync(join(dir, 'build.sh'))) throw invalid(imagesDir, file, 'has no build.sh beside it');
}

function invalid(imagesDir: string, file: string, what: string): RunnerError {
  const rel = `images/${relative(imagesDir, file)}`;
  return new RunnerError('IMAGE_BUILD_FAILED', {
    message: `Recipe ${rel} ${what}.`,
    hint: 'Fix the recipe file; artifact.json is { name, description, dependsOn: [] } and image.json is { name, description, artifacts: [], images: [], inputs?: [repository paths], onRequest?: true|false }.',
    details: { file: rel },
  });
}
