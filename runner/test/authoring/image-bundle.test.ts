// svclab images export/import with a fake engine (its "docker save" file lists the
// refs, its load reads them back) and the real tar and zstd of this machine.
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { RunnerError } from '../../src/errors.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import type { CommandResult, RunOptions, Shell } from '../../src/exec/shell.ts';
import { exportBundle, importBundle, type BundleDeps, type ImageSaver } from '../../src/images/bundle.ts';
import { imagesStatus } from '../../src/images/images.ts';

/** A fake engine that can also save: the tar it writes lists the images (ref and labels), as `docker load` restores them. */
class FakeSavingEngine extends FakeContainerEngine implements ImageSaver {
  override async saveImages(refs: readonly string[], tarPath: string): Promise<void> {
    const saved = refs.map((r) => {
      const img = [...this.images.values()].find((i) => i.ref === r);
      if (!img) throw new Error(`no image ${r}`);
      return { ref: img.ref, labels: img.labels };
    });
    await writeFile(tarPath, JSON.stringify(saved));
  }
  override async loadImage(tarPath: string): Promise<void> {
    await super.loadImage(tarPath);
    for (const i of JSON.parse(readFileSync(tarPath, 'utf8')) as { ref: string; labels: Record<string, string> }[]) this.addImage(i.ref, i.labels);
  }
}

const host = new ExecaRunner();
// zstd where this machine has it (the tests then cover it), else gzip as export would choose.
const zstd = (await host.run(['zstd', '--version'], { timeoutMs: 10_000 }).catch(() => undefined))?.exitCode === 0;
const tarZ = zstd ? '--use-compress-program=zstd' : '--gzip';
/** This machine without zstd. */
const noZstd: Shell = {
  run: (argv: readonly string[], opts: RunOptions): Promise<CommandResult> => (argv[0] === 'zstd'
    ? Promise.resolve({ argv, exitCode: 127, stdout: '', stderr: 'zstd: not found', timedOut: false, aborted: false, durationMs: 0 })
    : host.run(argv, opts)),
};

let root: string;
beforeEach(async () => { root = await mkdtemp(path.join(tmpdir(), 'svclab-bundle-')); });
afterEach(() => rm(root, { recursive: true, force: true }));

/** Recipes: artifact "tool" and image "workstation" built with it. */
async function recipes(dir: string): Promise<string> {
  await mkdir(path.join(dir, 'artifacts/tool'), { recursive: true });
  await mkdir(path.join(dir, 'workstation'), { recursive: true });
  await writeFile(path.join(dir, 'artifacts/tool/artifact.json'), JSON.stringify({ name: 'tool', description: 'a tool', dependsOn: [] }));
  await writeFile(path.join(dir, 'artifacts/tool/build.sh'), 'echo tool > "$OUT/tool"\n');
  await writeFile(path.join(dir, 'workstation/image.json'), JSON.stringify({ name: 'workstation', description: 'ws', artifacts: ['tool'], images: [] }));
  await writeFile(path.join(dir, 'workstation/build.sh'), 'cp "$ARTIFACT_TOOL/tool" "$OUT/"\n');
  return dir;
}

async function machine(name: string, opts: { shell?: Shell; imagesDir?: string } = {}): Promise<BundleDeps & { engine: FakeSavingEngine }> {
  const imagesDir = opts.imagesDir ?? (await recipes(path.join(root, name, 'images')));
  return { runner: opts.shell ?? host, engine: new FakeSavingEngine(), imagesDir, cacheDir: path.join(root, name, 'cache'), svclabVersion: '0.1.0-test' };
}

/** Marks everything built: artifact dirs with files (one binary, one symlink) and image tags. */
async function buildAll(deps: BundleDeps & { engine: FakeSavingEngine }): Promise<void> {
  for (const s of await imagesStatus(deps)) {
    if (s.kind === 'artifact') {
      await mkdir(path.join(s.location, 'bin'), { recursive: true });
      await writeFile(path.join(s.location, 'bin', 'tool'), Buffer.from([0, 1, 2, 255, 10]));
      await writeFile(path.join(s.location, 'README'), 'tool\n');
    } else deps.engine.addImage(s.location, { 'svclab.image': s.name });
  }
}

async function rejected(p: Promise<unknown>): Promise<RunnerError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(RunnerError);
  return e as RunnerError;
}

describe('image bundle', () => {
  it('export then import on a clean machine: everything current, nothing built', async () => {
    const a = await machine('a');
    await buildAll(a);
    const file = path.join(root, 'out', 'svclab-images.tar.zst');
    const steps: string[] = [];
    const manifest = await exportBundle({ ...a, onStep: (e) => e.state === 'done' && steps.push(e.step) }, file);
    expect(manifest.compression).toBe(zstd ? 'zstd' : 'gzip');
    expect((await readFile(file)).subarray(0, zstd ? 4 : 2)).toEqual(Buffer.from(zstd ? [0x28, 0xb5, 0x2f, 0xfd] : [0x1f, 0x8b]));
    expect(manifest.entries.map((e) => `${e.kind} ${e.name}`)).toEqual(['image workstation', 'artifact tool']);
    expect(manifest.entries.find((e) => e.kind === 'artifact')).toMatchObject({ bytes: 10 });
    expect(steps).toContain('save 1 image(s)');

    // b: the same recipes, an empty cache and an engine with no images.
    const b = await machine('b', { imagesDir: a.imagesDir });
    expect((await imagesStatus(b)).map((s) => s.state)).toEqual(['missing', 'missing']);
    const r = await importBundle(b, file);
    expect(r.status.map((s) => `${s.kind} ${s.name} ${s.state}`)).toEqual(['artifact tool current', 'image workstation current']);
    expect(b.engine.builds).toEqual([]);
    expect(b.engine.imageOps.filter((o) => o.startsWith('load '))).toHaveLength(1);
    const art = r.status.find((s) => s.kind === 'artifact')!.location;
    expect(await readFile(path.join(art, 'bin', 'tool'))).toEqual(Buffer.from([0, 1, 2, 255, 10]));
    expect(await readdir(path.join(b.cacheDir, 'tmp'))).toEqual([]);
  });

  it('refuses a bundle made from other recipes, naming each, and loads nothing', async () => {
    const a = await machine('a');
    await buildAll(a);
    const file = path.join(root, 'bundle.tar.zst');
    await exportBundle(a, file);

    const b = await machine('b'); // its own copy of the recipes…
    await appendFile(path.join(b.imagesDir, 'artifacts/tool/build.sh'), 'echo v2 >> "$OUT/tool"\n'); // …one changed
    const e = await rejected(importBundle(b, file));
    expect(e.message).toContain('other recipes');
    expect(e.message).toMatch(/artifact tool: the bundle has recipe [0-9a-f]{16}, this checkout needs [0-9a-f]{16}/);
    expect(e.message).toMatch(/image workstation: the bundle has recipe/); // built with the tool, so it changed too
    expect(b.engine.imageOps).toEqual([]);
    expect(await readdir(b.cacheDir)).toEqual(['tmp']);
  });

  it('refuses a bundle whose content does not match its manifest', async () => {
    const a = await machine('a');
    await buildAll(a);
    const file = path.join(root, 'bundle.tar.zst');
    await exportBundle(a, file);
    // Unpack, change one artifact byte, pack again with the same manifest.
    const x = path.join(root, 'x');
    await mkdir(x);
    expect((await host.run(['tar', tarZ, '-xf', file, '-C', x], { timeoutMs: 30_000 })).exitCode).toBe(0);
    const [dir] = await readdir(path.join(x, 'artifacts'));
    await writeFile(path.join(x, 'artifacts', dir!, 'README'), 'tool!\n');
    const bad = path.join(root, 'bad.tar.zst');
    expect((await host.run(['tar', tarZ, '-cf', bad, '-C', x, 'manifest.json', 'images.tar', 'artifacts'], { timeoutMs: 30_000 })).exitCode).toBe(0);

    const b = await machine('b', { imagesDir: a.imagesDir });
    const e = await rejected(importBundle(b, bad));
    expect(e.message).toContain('is damaged');
    expect(e.message).toContain('artifact tool: content differs from the manifest');
    expect(b.engine.imageOps).toEqual([]);
  });

  it('refuses to export while something is not built, and never overwrites', async () => {
    const a = await machine('a');
    await buildAll(a);
    a.engine.images.clear();
    const e = await rejected(exportBundle(a, path.join(root, 'b.tar.zst')));
    expect(e.message).toBe('Not every image is built for its current recipe: image workstation (missing).');
    expect(e.hint).toContain('svclab images build');

    await buildAll(a);
    await writeFile(path.join(root, 'exists'), 'x');
    expect((await rejected(exportBundle(a, path.join(root, 'exists')))).message).toContain('already exists');
  });

  it('uses gzip on a machine without zstd, and imports it', async () => {
    const a = await machine('a', { shell: noZstd });
    await buildAll(a);
    const file = path.join(root, 'bundle.tar.gz');
    expect((await exportBundle(a, file)).compression).toBe('gzip');
    const b = await machine('b', { imagesDir: a.imagesDir, shell: noZstd });
    expect((await importBundle(b, file)).status.every((s) => s.state === 'current')).toBe(true);
  });

  it('says what is wrong with a file that is not a bundle', async () => {
    const b = await machine('b');
    await writeFile(path.join(root, 'notes.txt'), 'hello');
    expect((await rejected(importBundle(b, path.join(root, 'notes.txt')))).message).toContain('neither zstd nor gzip');
    expect((await rejected(importBundle(b, path.join(root, 'nope')))).message).toContain('Cannot read');
  });

  it('a save that fails (disk full): export fails with the engine\'s message and leaves no bundle', async () => {
    const a = await machine('a');
    await buildAll(a);
    const full = new (class extends FakeSavingEngine {
      override async saveImages(): Promise<void> { throw new RunnerError('COMMAND_FAILED', { message: 'docker save: write /tmp/x: no space left on device' }); }
    })();
    for (const img of a.engine.images.values()) full.addImage(img.ref, img.labels);
    const out = path.join(root, 'b.tar.zst');
    const e = await rejected(exportBundle({ ...a, engine: full }, out));
    expect(e.message).toContain('no space left on device');
    expect(existsSync(out)).toBe(false);
  });
});
