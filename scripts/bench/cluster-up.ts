// Cluster bring-up: plain `kind create cluster` with the same node image, shape
// and kind config against `svclab up` (preflights, labels, its own network, image
// load), in one run; time to the first Ready node; idle memory of the 3 nodes.
// One cluster of each, created and deleted in turn. Needs docker and built images.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realDeps } from '../../runner/src/cli/wiring.ts';
import { parseClusterSpec } from '../../runner/src/cluster/cluster-driver.ts';
import { kindBinary, nodeImageRef } from '../../runner/src/cluster/cluster-tools.ts';
import { kindClusterConfig, renderKindConfig } from '../../runner/src/cluster/kind-config.ts';
import { memoryMiB } from './docker-stats.ts';

const d = realDeps();
let kind: string;
let image: string;
try {
  await d.engine.info();
  kind = await kindBinary(d.images);
  image = await nodeImageRef(d.images);
} catch (e) {
  console.log(`SKIP bench cluster-up: ${(e as Error).message}`);
  process.exit(0);
}

async function waitReady(kubeconfig: string, deadline: number): Promise<{ first: number; all: number }> {
  const t0 = performance.now();
  let first = NaN;
  while (performance.now() < deadline) {
    const r = await d.runner.run(['docker', 'exec', 'bench-kind-control-plane', 'kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', 'get', 'nodes', '--no-headers'], { timeoutMs: 20_000 });
    const ready = r.stdout.split('\n').filter((l) => /\sReady\s/.test(l)).length;
    if (ready > 0 && Number.isNaN(first)) first = performance.now() - t0;
    if (ready === 3) return { first, all: performance.now() - t0 };
    await new Promise((res) => setTimeout(res, 1000));
  }
  throw new Error(`nodes not Ready in time (${kubeconfig})`);
}

// 1. Plain kind, same config svclab generates (ports left out: no host ports needed).
const spec = parseClusterSpec({ name: 'svclab-bench', workers: 2, nodeImage: image, ports: [] });
const cfgDir = mkdtempSync(join(tmpdir(), 'svclab-bench-'));
const cfg = join(cfgDir, 'kind.yaml');
writeFileSync(cfg, renderKindConfig(kindClusterConfig(spec, [])));
let t0 = performance.now();
const kc = await d.runner.run([kind, 'create', 'cluster', '--name', 'bench-kind', '--image', image, '--config', cfg, '--kubeconfig', join(cfgDir, 'kubeconfig')], { timeoutMs: 20 * 60_000 });
if (kc.exitCode !== 0) throw new Error(`kind create failed: ${kc.stderr.slice(-2000)}`);
const kindCreated = performance.now() - t0;
const kindReady = await waitReady('bench-kind', performance.now() + 10 * 60_000);
const kindTotal = kindCreated + kindReady.all;
await new Promise((res) => setTimeout(res, 30_000));
const idleMiB = await memoryMiB(d.runner, 'bench-kind-');
await d.runner.run([kind, 'delete', 'cluster', '--name', 'bench-kind'], { timeoutMs: 5 * 60_000 });

// 2. svclab up.
t0 = performance.now();
const created = await d.driver.create({ name: 'svclab-bench', workers: 2, nodeImage: image });
const svclabTotal = performance.now() - t0;
await d.driver.delete('svclab-bench');

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
console.log('cluster bring-up, 1 control plane + 2 workers, same node image');
console.log(`  plain kind create + all Ready:  ${s(kindTotal)} (kind create ${s(kindCreated)}, first node Ready ${s(kindCreated + kindReady.first)})`);
console.log(`  svclab up (all Ready, labelled): ${s(svclabTotal)} (first node Ready ${created.timings.firstNodeReadyMs === undefined ? 'n/a' : s(created.timings.firstNodeReadyMs)})`);
console.log(`  ratio svclab/kind:               ${(svclabTotal / kindTotal).toFixed(2)}×`);
console.log(`  idle memory of the 3 nodes (docker stats, 30 s after Ready): ${idleMiB.toFixed(0)} MiB`);
