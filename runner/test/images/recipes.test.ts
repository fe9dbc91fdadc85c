import { afterEach, describe, expect, it } from 'vitest';
import { RunnerError } from '../../src/errors.ts';
import { loadRecipes } from '../../src/images/recipes.ts';
import { tempRecipes, type TempRecipes } from './fixtures.ts';

let t: TempRecipes;
afterEach(() => t?.cleanup());

function loadError(): RunnerError {
  try {
    loadRecipes(t.imagesDir);
  } catch (e) {
    expect(e).toBeInstanceOf(RunnerError);
    return e as RunnerError;
  }
  throw new Error('expected loadRecipes to throw');
}

describe('recipe files', () => {
  it('finds artifacts and images, ignoring folders without a recipe file', () => {
    t = tempRecipes();
    t.artifact('kubernetes', [], 'true\n');
    t.image('node', ['kubernetes'], [], 'true\n');
    t.write('runtime/svclab-runc', '#!/bin/sh\n');
    const set = loadRecipes(t.imagesDir);
    expect([...set.artifacts.keys()]).toEqual(['kubernetes']);
    expect([...set.images.keys()]).toEqual(['node']);
    expect(set.images.get('node')!.artifacts).toEqual(['kubernetes']);
  });

  it('names the file and the field of a wrong type', () => {
    t = tempRecipes();
    t.write('artifacts/a/artifact.json', JSON.stringify({ name: 'a', description: 'x', dependsOn: 'b' }));
    t.write('artifacts/a/build.sh', 'true\n');
    const e = loadError();
    expect(e.code).toBe('IMAGE_BUILD_FAILED');
    expect(e.message).toContain('images/artifacts/a/artifact.json');
    expect(e.message).toContain('dependsOn');
  });

  it('refuses an unknown field, a name that is not the folder, a missing build.sh, bad JSON', () => {
    t = tempRecipes();
    t.write('w/image.json', JSON.stringify({ name: 'w', description: '', artifacts: [], images: [], tag: 'x' }));
    t.write('w/build.sh', 'true\n');
    expect(loadError().message).toMatch(/images\/w\/image\.json.*tag/);
    t.cleanup();

    t = tempRecipes();
    t.write('w/image.json', JSON.stringify({ name: 'x', description: '', artifacts: [], images: [] }));
    t.write('w/build.sh', 'true\n');
    expect(loadError().message).toContain('folder "w"');
    t.cleanup();

    t = tempRecipes();
    t.write('w/image.json', JSON.stringify({ name: 'w', description: '', artifacts: [], images: [] }));
    expect(loadError().message).toContain('no build.sh');
    t.cleanup();

    t = tempRecipes();
    t.write('w/image.json', '{ name: w }');
    t.write('w/build.sh', 'true\n');
    expect(loadError().message).toContain('not valid JSON');
  });

  it('refuses a dependency that does not exist, naming it', () => {
    t = tempRecipes();
    t.image('node', ['kubernetes'], [], 'true\n');
    expect(loadError().message).toContain('needs artifact "kubernetes"');
  });

  it('refuses a dependency cycle, showing it', () => {
    t = tempRecipes();
    t.artifact('a', ['b'], 'true\n');
    t.artifact('b', ['a'], 'true\n');
    expect(loadError().message).toContain('artifact:a → artifact:b → artifact:a');
  });
});
