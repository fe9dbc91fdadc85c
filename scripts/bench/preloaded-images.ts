// `svclab up` + lab image + components, with a node image that preloads svclab's own
// images (Traefik, MetalLB, svclab/web) against one that does not, back to back in one
// run on the same machine (alternating, ROUNDS times). The baseline image is given
// by tag (BASELINE_NODE_IMAGE: an older svclab/node build that a container still uses, so the
// image builder could not prune it; a second tag of it would be pruned);
// the candidate is the current node image. One cluster at a time, deleted after.
//   BASELINE_NODE_IMAGE=svclab/node:<older hash16> node scripts/bench/preloaded-images.ts
import { componentsDeps, installComponents } from '../../runner/src/addons/install.ts';
import { realDeps } from '../../runner/src/cli/wiring.ts';
import { KindDriver } from '../../runner/src/cluster/kind-driver.ts';
import { kindBinary, nodeImageRef } from '../../runner/src/cluster/cluster-tools.ts';
import { imageRef } from '../../runner/src/images/images.ts';

const NAME = process.env['BENCH_CLUSTER'] ?? 'svclab-img-test';
const ROUNDS = Number(process.env['ROUNDS'] ?? 1);
const baseline = process.env['BASELINE_NODE_IMAGE'];
const d = realDeps();
let candidate: string;
let web: string;
try {
  if (!baseline) throw new Error('BASELINE_NODE_IMAGE is not set');
  if (!(await d.engine.imageExists(baseline))) throw new Error(`${baseline} is not in docker`);
  candidate = await nodeImageRef(d.images);
  web = await imageRef(d.images, 'web');
} catch (e) {
  console.log(`SKIP bench preloaded-images: ${(e as Error).message}`);
  process.exit(0);
}
// No image-status preflight: the baseline is an older build on purpose.
const driver = new KindDriver({ runner: d.runner, engine: d.engine, kindPath: await kindBinary(d.images), stateDir: d.stateDir });
const tag = await d.runner.run(['docker', 'tag', web, 'svclab/web:latest'], { timeoutMs: 30_000 });
if (tag.exitCode !== 0) throw new Error(tag.stderr);

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
async function once(nodeImage: string): Promise<{ up: number; web: number; components: number; images: number }> {
  let t = performance.now();
  await driver.create({ name: NAME, workers: 2, nodeImage });
  const up = performance.now() - t;
  try {
    t = performance.now();
    await driver.loadImage(NAME, 'svclab/web:latest');
    const webMs = performance.now() - t;
    const r = await installComponents(NAME, componentsDeps(d.images, driver), { ingressMode: 'nodeport' });
    return { up, web: webMs, components: r.totalMs, images: r.steps.find((x) => x.id === 'components-images')!.ms };
  } finally {
    await driver.delete(NAME);
  }
}

const rows: { which: string; r: Awaited<ReturnType<typeof once>> }[] = [];
for (let i = 0; i < ROUNDS; i++) {
  for (const [which, image] of [['baseline', baseline], ['preloaded', candidate]] as const) {
    const r = await once(image);
    rows.push({ which, r });
    console.log(`${which.padEnd(9)} ${image}: up ${s(r.up)}, web load ${s(r.web)}, components ${s(r.components)} (images step ${s(r.images)}), total ${s(r.up + r.web + r.components)}`);
  }
}
const mean = (which: string, f: (r: Awaited<ReturnType<typeof once>>) => number) => {
  const xs = rows.filter((x) => x.which === which).map((x) => f(x.r));
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
const total = (r: Awaited<ReturnType<typeof once>>) => r.up + r.web + r.components;
console.log(`mean over ${ROUNDS} round(s): baseline ${s(mean('baseline', total))}, preloaded ${s(mean('preloaded', total))}, ratio preloaded/baseline ${(mean('preloaded', total) / mean('baseline', total)).toFixed(2)}×`);
console.log(`  up alone: ${s(mean('baseline', (r) => r.up))} vs ${s(mean('preloaded', (r) => r.up))}; image loading (web + components step): ${s(mean('baseline', (r) => r.web + r.images))} vs ${s(mean('preloaded', (r) => r.web + r.images))}`);
