import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashRecipe, hashRecipes, listRecipeFiles } from '../../src/images/recipe-hash.ts';
import { loadRecipes } from '../../src/images/recipes.ts';
import { tempRecipes, type TempRecipes } from './fixtures.ts';

let t: TempRecipes;
afterEach(() => t?.cleanup());

function hashes() {
  return hashRecipes(loadRecipes(t.imagesDir));
}

describe('recipe hashing', () => {
  it('changes when any file in the recipe folder changes, is added or is renamed', () => {
    t = tempRecipes();
    const dir = t.artifact('a', [], 'echo a\n', { 'src/main.go': 'package main\n' });
    const h0 = hashRecipe(dir, {});
    expect(hashRecipe(dir, {})).toBe(h0); // stable
    t.write('artifacts/a/src/main.go', 'package main // changed\n');
    const h1 = hashRecipe(dir, {});
    expect(h1).not.toBe(h0);
    t.write('artifacts/a/src/extra.txt', '');
    const h2 = hashRecipe(dir, {});
    expect(h2).not.toBe(h1);
    // same contents under another name is another recipe
    t.cleanup();
    t = tempRecipes();
    const other = t.artifact('a', [], 'echo a\n', { 'src/main2.go': 'package main\n' });
    expect(hashRecipe(other, {})).not.toBe(h0);
  });

  it('does not depend on where the folder is or the order files were written', () => {
    t = tempRecipes();
    const d1 = join(t.root, 'one');
    const d2 = join(t.root, 'two');
    mkdirSync(join(d1, 'sub'), { recursive: true });
    mkdirSync(join(d2, 'sub'), { recursive: true });
    writeFileSync(join(d1, 'b'), 'B'); writeFileSync(join(d1, 'sub', 'a'), 'A'); writeFileSync(join(d1, 'a'), 'A');
    writeFileSync(join(d2, 'a'), 'A'); writeFileSync(join(d2, 'sub', 'a'), 'A'); writeFileSync(join(d2, 'b'), 'B');
    expect(listRecipeFiles(d1)).toEqual(['a', 'b', 'sub/a']);
    expect(hashRecipe(d1, {})).toBe(hashRecipe(d2, {}));
  });

  it('does not let a path/content boundary shift collide', () => {
    t = tempRecipes();
    const d1 = join(t.root, 'one');
    const d2 = join(t.root, 'two');
    mkdirSync(d1); mkdirSync(d2);
    writeFileSync(join(d1, 'ab'), 'c');
    writeFileSync(join(d2, 'a'), 'bc');
    expect(hashRecipe(d1, {})).not.toBe(hashRecipe(d2, {}));
  });

  it('propagates a dependency change to everything above it', () => {
    t = tempRecipes();
    t.artifact('base', [], 'echo base\n');
    t.artifact('tool', ['base'], 'echo tool\n');
    t.artifact('unrelated', [], 'echo u\n');
    t.image('node', ['tool'], [], 'echo node\n');
    t.image('top', [], ['node'], 'echo top\n');
    const before = hashes();
    t.write('artifacts/base/build.sh', 'echo base v2\n');
    const after = hashes();
    for (const k of ['artifact:base', 'artifact:tool', 'image:node', 'image:top']) expect(after.get(k)).not.toBe(before.get(k));
    expect(after.get('artifact:unrelated')).toBe(before.get('artifact:unrelated'));
  });

  it('does not depend on the order dependencies are given in', () => {
    t = tempRecipes();
    const dir = t.artifact('c', ['a', 'b'], 'echo c\n');
    // artifact.json's bytes are part of the hash (as every file is); the dependency
    // hashes are folded in sorted by key, whatever order they come in.
    expect(hashRecipe(dir, { 'artifact:a': 'x', 'artifact:b': 'y' })).toBe(hashRecipe(dir, { 'artifact:b': 'y', 'artifact:a': 'x' }));
    expect(hashRecipe(dir, { 'artifact:a': 'x', 'artifact:b': 'y' })).not.toBe(hashRecipe(dir, { 'artifact:a': 'y', 'artifact:b': 'x' }));
  });

  it('is a 64-hex sha256', () => {
    t = tempRecipes();
    t.artifact('a', [], 'echo a\n');
    expect(hashes().get('artifact:a')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('repository inputs (image.json inputs)', () => {
  it('without inputs the hash is unchanged; inputs count by repository path, not by where the checkout is', () => {
    t = tempRecipes();
    const dir = t.image('runner', [], [], 'true\n');
    const plain = hashRecipe(dir, {});
    expect(hashRecipe(dir, {}, [])).toBe(plain);
    const a = join(t.root, 'a', 'runner', 'src');
    const b = join(t.root, 'b', 'runner', 'src');
    for (const d of [a, b]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'x.ts'), 'x\n');
    }
    const ha = hashRecipe(dir, {}, [{ path: 'runner/src', abs: a }]);
    expect(ha).not.toBe(plain);
    expect(hashRecipe(dir, {}, [{ path: 'runner/src', abs: b }])).toBe(ha);
    // The same files under another repository path are another input.
    expect(hashRecipe(dir, {}, [{ path: 'labs', abs: b }])).not.toBe(ha);
    writeFileSync(join(b, 'x.ts'), 'y\n');
    expect(hashRecipe(dir, {}, [{ path: 'runner/src', abs: b }])).not.toBe(ha);
  });
});
