// Image build: a cold build of the workstation image (its debootstrap cache and
// image removed; the Go artifacts it needs stay cached) against a no-op build
// of the same recipe, measured in one run. Needs docker and root (debootstrap).
// Usage: node scripts/bench/images-build.ts [--cold]   (without --cold: no-op runs only)
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { realDeps } from '../../runner/src/cli/wiring.ts';
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

if (cold) {
  const st = (await imagesStatus(d.images)).find((s) => s.kind === 'image' && s.name === 'workstation')!;
  await d.runner.run(['docker', 'image', 'rm', st.location], { timeoutMs: 60_000 });
  rmSync(join(d.cacheDir, 'debootstrap'), { recursive: true, force: true });
  const coldMs = await timeBuild();
  console.log(`cold build of workstation (debootstrap + docker build): ${(coldMs / 1000).toFixed(1)} s`);
  console.log(`ratio cold/no-op: ${(coldMs / noopMedian).toFixed(0)}×`);
} else {
  console.log('(run with --cold to also time a cold build: it removes the debootstrap cache and the image)');
}
