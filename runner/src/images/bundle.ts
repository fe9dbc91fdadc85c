// An image bundle: every image and artifact svclab built, in one file, so a machine
// that is offline (or a CI run that starts clean) skips the Go and Debian builds.
//
//   svclab images export FILE   all recipes must be current; writes FILE
//   svclab images import FILE   refuses a bundle of other recipes (naming them),
//                               checks sizes and sha256, loads, then `images status`
//                               reports current without building
//
// FILE is a tar compressed with zstd (gzip when this machine has no zstd):
//   manifest.json                       first, so import can read it alone
//   images.tar                          `docker save` of every image tag (shared layers once)
//   artifacts/<name>-<hash16>/…         artifact dirs as in the cache
// Images go through the ContainerEngine (save/load); tar and zstd run through the
// host Shell, both injected.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, readFile, readdir, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import type { ContainerEngine } from '../engine/container-engine.ts';
import { RunnerError } from '../errors.ts';
import { outputTail, type CommandResult, type Shell } from '../exec/shell.ts';
import { imagesStatus, type ImagesDeps, type RecipeStatus } from './images.ts';
import { RECIPE_FORMAT_VERSION } from './recipe-hash.ts';

export const BUNDLE_FORMAT = 'svclab-image-bundle-1';

export interface BundleEntry {
  kind: 'artifact' | 'image';
  name: string;
  /** The recipe hash it was built from. */
  hash: string;
  /** Images: the tag (svclab/<name>:<hash16>). Artifacts: the path inside the bundle. */
  ref: string;
  /** Artifacts: total bytes of their files and sha256 over path + content. Images: the engine's image id. */
  bytes?: number;
  sha256?: string;
  imageId?: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  recipeFormat: string;
  svclabVersion: string;
  createdAt: string;
  compression: 'zstd' | 'gzip';
  entries: BundleEntry[];
  /** The `docker save` file holding every image. */
  imagesTar: { bytes: number; sha256: string };
  /** Images of the upstream profile (pulled, not built): not in the bundle. */
  skipped: string[];
}

/** What a bundle needs of the engine beyond loading: `docker save` of several tags into one tar. */
export interface ImageSaver {
  saveImages(refs: readonly string[], tarPath: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
}

export interface BundleDeps extends ImagesDeps {
  engine: ContainerEngine & Partial<ImageSaver>;
  svclabVersion: string;
  /** Progress: a named step, with its time when done. */
  onStep?: (e: { step: string; state: 'start' | 'done'; elapsedMs?: number; detail?: string }) => void;
  now?: () => Date;
  timeoutMs?: number;
}

const MANIFEST = 'manifest.json';
const IMAGES_TAR = 'images.tar';
const DEFAULT_TIMEOUT_MS = 60 * 60_000;

async function step<T>(deps: BundleDeps, name: string, fn: () => Promise<T>, detail?: (r: T) => string | undefined): Promise<T> {
  deps.onStep?.({ step: name, state: 'start' });
  const t0 = performance.now();
  const r = await fn();
  const d = detail?.(r);
  deps.onStep?.({ step: name, state: 'done', elapsedMs: performance.now() - t0, ...(d ? { detail: d } : {}) });
  return r;
}

async function scratch(cacheDir: string): Promise<string> {
  const dir = join(cacheDir, 'tmp', `bundle-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

function mustSucceed(r: CommandResult, what: string, hint: string): void {
  if (r.exitCode === 0 && !r.timedOut) return;
  throw new RunnerError('INVALID_ARGUMENT', {
    message: `${what} failed (${r.timedOut ? 'timed out' : `exit code ${r.exitCode}`}): ${outputTail(r, 3)}`.trim(),
    hint,
    details: { argv: r.argv, output: outputTail(r, 30) },
  });
}

async function hasZstd(shell: Shell): Promise<boolean> {
  const r = await shell.run(['zstd', '--version'], { timeoutMs: 10_000 }).catch(() => undefined);
  return r?.exitCode === 0;
}

/** How tar reads and writes each compression. */
function tarCompression(c: 'zstd' | 'gzip'): string[] {
  return c === 'zstd' ? ['--use-compress-program=zstd -T0'] : ['--gzip'];
}

/** sha256 and size of a file, streamed. */
export async function fileDigest(path: string): Promise<{ bytes: number; sha256: string }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: h.digest('hex') };
}

/** Bytes and sha256 of a folder: every file's relative path and content (a symlink's target), in sorted order. */
export async function dirDigest(dir: string): Promise<{ bytes: number; sha256: string }> {
  const files: string[] = [];
  const walk = async (rel: string) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else files.push(r);
    }
  };
  await walk('');
  files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const h = createHash('sha256');
  let bytes = 0;
  for (const rel of files) {
    const abs = join(dir, rel);
    if ((await lstat(abs)).isSymbolicLink()) {
      h.update(`link\0${rel}\0${await readlink(abs)}\0`);
      continue;
    }
    const f = await fileDigest(abs);
    bytes += f.bytes;
    h.update(`file\0${rel}\0${f.bytes}\0${f.sha256}\0`);
  }
  return { bytes, sha256: h.digest('hex') };
}

/** An artifact's path in the bundle: its path in the cache (artifacts/<name>-<hash16>). */
function artifactRef(deps: BundleDeps, s: RecipeStatus): string {
  const rel = relative(deps.cacheDir, s.location);
  if (rel.startsWith('..') || rel.startsWith('/')) throw new Error(`artifact ${s.name} at ${s.location} is outside the cache ${deps.cacheDir}`);
  return rel.split('\\').join('/');
}

/** Writes every current image and artifact to `file`. Refuses when any recipe is not built for its current hash. */
export async function exportBundle(deps: BundleDeps, file: string): Promise<BundleManifest> {
  const saver = deps.engine.saveImages.bind(deps.engine);
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const status = await step(deps, 'images status', () => imagesStatus(deps));
  // Built only on request (the chart's runner image, whose hash follows every source change): never in a bundle.
  const built = status.filter((s) => !s.upstreamRef && !s.onRequest);
  const notCurrent = built.filter((s) => s.state !== 'current');
  if (notCurrent.length) {
    throw new RunnerError('IMAGE_MISSING', {
      message: `Not every image is built for its current recipe: ${notCurrent.map((s) => `${s.kind} ${s.name} (${s.state})`).join(', ')}.`,
      hint: 'Run `svclab images build`, then export again.',
    });
  }
  if (await stat(file).then(() => true, () => false)) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `${file} already exists; export never overwrites a file.`, hint: 'Pick another name, or remove it first.' });
  }
  const compression = (await hasZstd(deps.runner)) ? 'zstd' : 'gzip';
  const work = await scratch(deps.cacheDir);
  try {
    const images = built.filter((s) => s.kind === 'image');
    const artifacts = built.filter((s) => s.kind === 'artifact');
    const tar = join(work, IMAGES_TAR);
    await step(deps, `save ${images.length} image(s)`, () => saver(images.map((s) => s.location), tar, { timeoutMs }));
    const imagesTar = await fileDigest(tar);
    const entries: BundleEntry[] = [];
    for (const s of images) {
      const imageId = await deps.engine.imageId(s.location);
      entries.push({ kind: 'image', name: s.name, hash: s.hash, ref: s.location, ...(imageId ? { imageId } : {}) });
    }
    for (const s of artifacts) {
      const d = await step(deps, `digest artifact ${s.name}`, () => dirDigest(s.location));
      entries.push({ kind: 'artifact', name: s.name, hash: s.hash, ref: artifactRef(deps, s), ...d });
    }
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      recipeFormat: RECIPE_FORMAT_VERSION,
      svclabVersion: deps.svclabVersion,
      createdAt: (deps.now?.() ?? new Date()).toISOString(),
      compression,
      entries,
      imagesTar,
      skipped: status.filter((s) => s.upstreamRef).map((s) => `${s.name} (${s.upstreamRef})`),
    };
    await writeFile(join(work, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await mkdir(dirname(file), { recursive: true });
    const partial = `${file}.partial`;
    const argv = ['tar', ...tarCompression(compression), '-cf', partial, '-C', work, MANIFEST, IMAGES_TAR,
      ...(artifacts.length ? ['-C', deps.cacheDir, ...artifacts.map((s) => relative(deps.cacheDir, s.location))] : [])];
    const r = await step(deps, `write ${file} (${compression})`, () => deps.runner.run(argv, { timeoutMs }));
    if (r.exitCode !== 0 || r.timedOut) await rm(partial, { force: true });
    mustSucceed(r, 'Writing the bundle', 'Check the free space where FILE goes (the bundle is several GiB) and that tar and zstd work.');
    await rename(partial, file);
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** What differs between a bundle and this checkout's recipes, one line each; empty when they match. */
export function recipeDifferences(manifest: BundleManifest, status: readonly RecipeStatus[]): string[] {
  const here = new Map(status.filter((s) => !s.upstreamRef && !s.onRequest).map((s) => [`${s.kind} ${s.name}`, s]));
  const onRequest = new Set(status.filter((s) => s.onRequest).map((s) => `${s.kind} ${s.name}`));
  const there = new Map(manifest.entries.filter((e) => !onRequest.has(`${e.kind} ${e.name}`)).map((e) => [`${e.kind} ${e.name}`, e]));
  const out: string[] = [];
  for (const [key, s] of here) {
    const e = there.get(key);
    if (!e) out.push(`${key}: not in the bundle`);
    else if (e.hash !== s.hash) out.push(`${key}: the bundle has recipe ${e.hash.slice(0, 16)}, this checkout needs ${s.hash16}`);
  }
  for (const key of there.keys()) if (!here.has(key)) out.push(`${key}: in the bundle, but this checkout has no such recipe`);
  return out.sort();
}

function parseManifest(text: string, file: string): BundleManifest {
  let m: Partial<BundleManifest>;
  try {
    m = JSON.parse(text) as Partial<BundleManifest>;
  } catch {
    throw new RunnerError('INVALID_ARGUMENT', { message: `${file}: manifest.json is not JSON.`, hint: 'The bundle is damaged; export it again.' });
  }
  if (m.format !== BUNDLE_FORMAT || !Array.isArray(m.entries) || !m.imagesTar) {
    throw new RunnerError('INVALID_ARGUMENT', {
      message: `${file} is not an svclab image bundle of format ${BUNDLE_FORMAT} (it says ${JSON.stringify(m.format)}).`,
      hint: 'Make it with `svclab images export FILE` from a checkout of the same svclab version.',
    });
  }
  return m as BundleManifest;
}

/** zstd or gzip, from the file's first bytes. */
async function sniff(file: string): Promise<'zstd' | 'gzip'> {
  const fh = await open(file, 'r').catch((e: unknown) => {
    throw new RunnerError('INVALID_ARGUMENT', { message: `Cannot read ${file}: ${(e as Error).message}`, hint: 'Give the path of a bundle made by `svclab images export FILE`.', cause: e });
  });
  try {
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, 0);
    if (b.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
    if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  } finally {
    await fh.close();
  }
  throw new RunnerError('INVALID_ARGUMENT', { message: `${file} is neither zstd nor gzip: not an svclab image bundle.`, hint: 'Make one with `svclab images export FILE`.' });
}

/**
 * Verifies `file` against this checkout's recipes and its own manifest, loads its images
 * and puts its artifacts in the cache. Nothing is loaded when anything differs.
 */
export async function importBundle(deps: BundleDeps, file: string): Promise<{ manifest: BundleManifest; status: RecipeStatus[] }> {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const compression = await sniff(file);
  if (compression === 'zstd' && !(await hasZstd(deps.runner))) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `${file} is zstd-compressed and this machine has no zstd.`, hint: 'As root: apt-get install -y zstd (or export the bundle again on a machine without zstd: it then uses gzip).' });
  }
  const work = await scratch(deps.cacheDir);
  try {
    // The manifest alone first (it is the first member): a bundle of other recipes is refused before gigabytes are unpacked.
    const head = await deps.runner.run(['tar', ...tarCompression(compression), '-xf', file, '-C', work, '--occurrence=1', MANIFEST], { timeoutMs });
    mustSucceed(head, `Reading ${MANIFEST} from ${file}`, 'The file is not a complete svclab image bundle; export it again.');
    const manifest = parseManifest(await readFile(join(work, MANIFEST), 'utf8'), file);
    if (manifest.recipeFormat !== RECIPE_FORMAT_VERSION) {
      throw new RunnerError('INVALID_ARGUMENT', { message: `${file} was made with recipe format ${manifest.recipeFormat}; this svclab uses ${RECIPE_FORMAT_VERSION}.`, hint: 'Export the bundle from a checkout of this svclab version.' });
    }
    const before = await step(deps, 'compare recipes', () => imagesStatus(deps));
    const differ = recipeDifferences(manifest, before);
    if (differ.length) {
      throw new RunnerError('INVALID_ARGUMENT', {
        message: `${file} was made from other recipes than this checkout's, so its images would not be current here:\n  ${differ.join('\n  ')}`,
        hint: `Export the bundle from a checkout at the same commit (made by svclab ${manifest.svclabVersion} on ${manifest.createdAt}), or run \`svclab images build\`.`,
        details: { differ },
      });
    }

    const unpack = await step(deps, `unpack ${file}`, () => deps.runner.run(['tar', ...tarCompression(compression), '-xf', file, '-C', work], { timeoutMs }));
    mustSucceed(unpack, `Unpacking ${file}`, 'The bundle is damaged or the cache disk is full; check `df` and export it again.');
    // Paths come from this checkout's recipes (which match the manifest by name and hash), never from the file.
    const local = new Map(before.map((st) => [`${st.kind} ${st.name}`, st]));
    const wanted = manifest.entries.filter((e) => !local.get(`${e.kind} ${e.name}`)?.onRequest).map((e) => ({ e, st: local.get(`${e.kind} ${e.name}`)! }));
    const damaged: string[] = [];
    const tar = join(work, IMAGES_TAR);
    const got = await step(deps, 'verify images.tar', () => fileDigest(tar).catch(() => undefined));
    if (!got || got.sha256 !== manifest.imagesTar.sha256 || got.bytes !== manifest.imagesTar.bytes) damaged.push(`${IMAGES_TAR}: expected ${manifest.imagesTar.bytes} bytes with sha256 ${manifest.imagesTar.sha256.slice(0, 16)}…, got ${got ? `${got.bytes} bytes, ${got.sha256.slice(0, 16)}…` : 'no such file'}`);
    for (const { e, st } of wanted.filter((w) => w.e.kind === 'artifact')) {
      const ref = artifactRef(deps, st);
      if (e.ref !== ref) { damaged.push(`artifact ${e.name}: the manifest places it at ${e.ref}, expected ${ref}`); continue; }
      const d = await dirDigest(join(work, ref)).catch(() => undefined);
      if (!d || d.sha256 !== e.sha256 || d.bytes !== e.bytes) damaged.push(`artifact ${e.name}: ${d ? `content differs from the manifest (${d.bytes} bytes, expected ${e.bytes})` : `${ref} is missing`}`);
    }
    if (damaged.length) {
      throw new RunnerError('INVALID_ARGUMENT', { message: `${file} is damaged:\n  ${damaged.join('\n  ')}`, hint: 'Copy the file again (compare its sha256sum with the original), or export it again.', details: { damaged } });
    }

    const images = wanted.filter((w) => w.e.kind === 'image');
    await step(deps, `load ${images.length} image(s)`, () => deps.engine.loadImage(tar, { timeoutMs }));
    const absent: string[] = [];
    for (const { st } of images) if (!(await deps.engine.imageExists(st.location))) absent.push(st.location);
    if (absent.length) {
      throw new RunnerError('INVALID_ARGUMENT', { message: `After loading ${IMAGES_TAR}, the engine has no ${absent.join(', ')}.`, hint: 'The bundle does not hold what its manifest says; export it again.' });
    }
    await rm(tar, { force: true });
    for (const { st } of wanted.filter((w) => w.e.kind === 'artifact')) {
      // Content-addressed: a dir already there for this hash is the same build.
      if (await stat(st.location).then(() => true, () => false)) continue;
      await mkdir(dirname(st.location), { recursive: true });
      await rename(join(work, artifactRef(deps, st)), st.location);
    }
    const status = await step(deps, 'images status', () => imagesStatus(deps));
    return { manifest, status };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** `svclab images export|import FILE`: runs one and prints what it did. */
export async function bundleCommand(sub: 'export' | 'import', args: readonly string[], deps: BundleDeps, out: (line: string) => void): Promise<number> {
  const [file, ...extra] = args;
  if (!file || extra.length) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `svclab images ${sub} takes one FILE, got ${args.length ? args.join(' ') : 'none'}.`, hint: `Example: svclab images ${sub} svclab-images.tar.zst` });
  }
  const t0 = performance.now();
  if (sub === 'export') {
    const m = await exportBundle(deps, file);
    const { size } = await stat(file);
    out(`images export: ${m.entries.length} image(s) and artifact(s) → ${file} (${(size / 2 ** 20).toFixed(0)} MiB, ${m.compression}, ${((performance.now() - t0) / 1000).toFixed(1)}s)`);
    for (const s of m.skipped) out(`  not included (pulled by the upstream profile): ${s}`);
    return 0;
  }
  const r = await importBundle(deps, file);
  for (const s of r.status) out(`${s.state.padEnd(8)} ${s.kind.padEnd(8)} ${s.name.padEnd(16)} ${s.location}${s.onRequest ? '  (built on request, never bundled)' : ''}`);
  out(`images import: ${r.manifest.entries.length} image(s) and artifact(s) from ${file} (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
  return r.status.every((s) => s.state === 'current' || s.onRequest) ? 0 : 3;
}
