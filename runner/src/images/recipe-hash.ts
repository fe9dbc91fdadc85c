// Content-addressed recipes: a recipe's hash covers every file in its folder and the
// hashes of what it depends on, so a change anywhere below an image rebuilds it.

import { createHash, type Hash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { directDeps, recipeKey, topoOrder, type Recipe, type RecipeInput, type RecipeSet } from './recipes.ts';

/** Bump when the hashing or the build contract changes: every recipe rebuilds. */
export const RECIPE_FORMAT_VERSION = 'svclab-recipe-format-1';

/** Files of a folder, recursively, as sorted relative paths with '/' separators. */
export function listRecipeFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * sha256 over the format version, every file (relative path + content; a symlink's
 * target instead of content) in sorted path order, then each dependency's
 * "kind:name=hash" sorted by key, so the order of dependsOn does not matter, then
 * each extra input (image.json `inputs`: a repository file or folder, hashed the same
 * way under its own name). Without inputs the hash is what it always was.
 */
export function hashRecipe(dir: string, depHashes: Record<string, string>, inputs: readonly RecipeInput[] = []): string {
  const h = createHash('sha256');
  h.update(`${RECIPE_FORMAT_VERSION}\0`);
  hashTree(h, dir, '');
  for (const key of Object.keys(depHashes).sort()) h.update(`dep\0${key}\0${depHashes[key]}\0`);
  for (const input of [...inputs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    if (lstatSync(input.abs).isDirectory()) hashTree(h, input.abs, `input:${input.path}/`);
    else hashFile(h, input.abs, `input:${input.path}`);
  }
  return h.digest('hex');
}

function hashTree(h: Hash, dir: string, prefix: string): void {
  for (const rel of listRecipeFiles(dir)) hashFile(h, join(dir, rel), `${prefix}${rel}`);
}

function hashFile(h: Hash, abs: string, rel: string): void {
  if (lstatSync(abs).isSymbolicLink()) {
    h.update(`link\0${rel}\0${readlinkSync(abs)}\0`);
  } else {
    const content = readFileSync(abs);
    h.update(`file\0${rel}\0${content.length}\0`);
    h.update(content);
  }
}

/** Hashes of every recipe in the set, keyed by recipeKey. */
export function hashRecipes(set: RecipeSet): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const r of topoOrder(set, [...set.artifacts.values(), ...set.images.values()])) {
    hashes.set(recipeKey(r), hashOne(set, r, hashes));
  }
  return hashes;
}

function hashOne(set: RecipeSet, r: Recipe, known: Map<string, string>): string {
  const deps: Record<string, string> = {};
  for (const d of directDeps(set, r)) deps[recipeKey(d)] = known.get(recipeKey(d))!;
  return hashRecipe(r.dir, deps, r.inputs);
}

export function hash16(hash: string): string {
  return hash.slice(0, 16);
}
