// Image build: a cold build of the workstation image (its debootstrap cache and
// image removed; the Go artifacts it needs stay cached) against a no-op build
// of the same recipe, measured in one run. Needs docker and root (debootstrap).
// Usage: node scripts/bench/images-build.ts [--cold] [--bundle]   (without --cold: no-op runs only)
// --bundle: `images export` of every image and artifact, then the workstation image removed
// and the bundle imported into an empty cache dir: import time against the cold build.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { realDeps } from '../../runner/src/cli/wiring.ts';
import { exportBundle, importBundle } from '../../runner/src/images/bundle.ts';
import { imagesBuild, imagesStatus } from '../../runner/src/images/images.ts';

const cold = process.argv.includes('--cold');
const d = realDeps();
try {
  await d.engine.info();
} catch (e) {
  console.log(`SKIP bench images-build: ${(e as Error).message}`);
  process.exit(0);
}

async function timeBuild(): Promise<number> {
  const t0 = performance.now();
  await imagesBuild(d.images, { only: ['workstation'] });
  return performance.now() - t0;
}

const noop: number[] = [];
await timeBuild(); // make sure it is current first
for (let i = 0; i < 5; i++) noop.push(await timeBuild());
noop.sort((a, b) => a - b);
const noopMedian = noop[2]!;
console.log(`no-op build of workstation: median ${noopMedian.toFixed(0)} ms over 5 runs (min ${noop[0]!.toFixed(0)}, max ${noop[4]!.toFixed(0)})`);

let coldMs: number | undefined;
if (cold) {
  const st = (await imagesStatus(d.images)).find((s) => s.kind === 'image' && s.name === 'workstation')!;
  await d.runner.run(['docker', 'image', 'rm', st.location], { timeoutMs: 60_000 });
  rmSync(join(d.cacheDir, 'debootstrap'), { recursive: true, force: true });
  coldMs = await timeBuild();
  console.log(`cold build of workstation (debootstrap + docker build): ${(coldMs / 1000).toFixed(1)} s`);
  console.log(`ratio cold/no-op: ${(coldMs / noopMedian).toFixed(0)}×`);
} else {
  console.log('(run with --cold to also time a cold build: it removes the debootstrap cache and the image)');
}

if (process.argv.includes('--bundle')) {
  if (!('saveImages' in d.engine)) {
    console.log('SKIP bench images-build --bundle: the ContainerEngine has no saveImages yet, so `svclab images export` cannot run');
  } else {
    await imagesBuild(d.images); // everything current: export refuses anything else
    mkdirSync(join(d.cacheDir, 'tmp'), { recursive: true });
    const dir = mkdtempSync(join(d.cacheDir, 'tmp', 'bench-bundle-'));
    try {
      const file = join(dir, 'images.tar.zst');
      const deps = { ...d.images, svclabVersion: 'bench' };
      let t0 = performance.now();
      const m = await exportBundle(deps, file);
      const exportMs = performance.now() - t0;
      // The workstation image goes (as for --cold); the artifacts land in an empty cache dir.
      const st = (await imagesStatus(d.images)).find((s) => s.kind === 'image' && s.name === 'workstation')!;
      await d.engine.removeImage(st.location);
      t0 = performance.now();
      const r = await importBundle({ ...deps, cacheDir: join(dir, 'cache') }, file);
      const importMs = performance.now() - t0;
      console.log(`bundle: ${m.entries.length} images and artifacts, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB ${m.compression}; export ${(exportMs / 1000).toFixed(1)} s, import ${(importMs / 1000).toFixed(1)} s (all current: ${r.status.every((s) => s.state === 'current')})`);
      console.log('  (images other than workstation were still loaded, so docker load skipped their layers)');
      if (coldMs !== undefined) console.log(`ratio cold workstation build / bundle import: ${(coldMs / importMs).toFixed(1)}×`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
