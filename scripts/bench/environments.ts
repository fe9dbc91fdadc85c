// Learner environments on a Kubernetes cluster (issue 14), in one run on a one-node svclab
// kind cluster playing the school's cluster, with the chart installed by helm:
//   1. alone: a reserve of 1 — the environment pod's Ready time (pod made → nested cluster
//      up → learner access in force) with nothing else booting: the baseline;
//   2. at once: the release again with a reserve of N — how many of the N are Ready within
//      --minutes, their Ready times and the ratio to the baseline, the node's memory and load
//      with them all up, and whether each one's nested API still answers (/readyz through
//      its node container). The largest N all Ready and answering is what "fits" here.
// The cluster is named svclab-envbench-* and deleted at the end (--keep keeps it).
//
//   node scripts/bench/environments.ts [--n 6] [--minutes 12] [--keep]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nodeKubectl } from '../../runner/src/cluster/cluster-driver.ts';
import { kindBinary, nodeImageRef } from '../../runner/src/cluster/cluster-tools.ts';
import { KindDriver } from '../../runner/src/cluster/kind-driver.ts';
import { DockerEngine } from '../../runner/src/engine/docker-engine.ts';
import { ExecaRunner } from '../../runner/src/exec/execa-runner.ts';
import { defaultCacheDir, defaultImagesDir, imageRef, type ImagesDeps } from '../../runner/src/images/images.ts';
import { ClientNodeKubeObjects, type KubeObject } from '../../runner/src/kube-store/kube-objects.ts';
import { helmBinary } from '../../runner/test/deploy/tools.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '6' }, minutes: { type: 'string', default: '12' }, keep: { type: 'boolean', default: false } } });
const N = Number(values.n);
const WINDOW_MS = Number(values.minutes) * 60_000;
const NS = 'svclab-bench';
const root = new URL('../../', import.meta.url).pathname;
const runner = new ExecaRunner();
const engine = new DockerEngine({ runner, queryTimeoutMs: 15_000 });
const images: ImagesDeps = { runner, engine, imagesDir: defaultImagesDir(), cacheDir: defaultCacheDir() };

let refs: { node: string; workstation: string; runner: string };
let helm: string;
let driver: KindDriver;
try {
  await engine.info();
  const h = helmBinary();
  if ('skip' in h) throw new Error(h.skip);
  helm = h.helm;
  refs = { node: await nodeImageRef(images), workstation: await imageRef(images, 'workstation'), runner: await imageRef(images, 'runner') };
  for (const ref of Object.values(refs)) if (!(await engine.imageExists(ref))) throw new Error(`${ref} is not in docker (svclab images build; svclab images build runner)`);
  driver = new KindDriver({ runner, engine, kindPath: await kindBinary(images), stateDir: `${defaultCacheDir()}/clusters` });
} catch (e) {
  console.log(`SKIP bench environments: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(0);
}

const name = `svclab-envbench-${Date.now().toString(36).slice(-4)}`;
const dir = mkdtempSync(join(tmpdir(), 'svclab-envbench-'));
const kubeconfigFile = join(dir, 'kubeconfig');
const cp = `${name}-control-plane`;
const tag = (ref: string) => ref.slice(ref.lastIndexOf(':') + 1);
const repo = (ref: string) => ref.slice(0, ref.lastIndexOf(':'));
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN; };

async function sh(argv: string[], timeoutMs = 300_000): Promise<string> {
  const r = await runner.run(argv, { timeoutMs, env: { HELM_CACHE_HOME: join(dir, 'c'), HELM_CONFIG_HOME: join(dir, 'f'), HELM_DATA_HOME: join(dir, 'd') } });
  if (r.exitCode !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} … → ${r.exitCode}: ${r.stderr.slice(-400)}`);
  return r.stdout;
}
const kubectl = async (args: string[]) => {
  const r = await driver.execOnNode(name, cp, nodeKubectl(args), { timeoutMs: 180_000 });
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.exitCode}: ${r.stderr}`);
  return r.stdout;
};
const install = (reserve: number) => sh([helm, 'upgrade', '--install', 'svclab', join(root, 'deploy/helm/svclab'), '--namespace', NS, '--create-namespace', '--kubeconfig', kubeconfigFile,
  '--set', 'environment.acknowledgePrivilegedPods=true',
  '--set', `workshop.capacity=${Math.max(reserve, 1)},workshop.reserve=${reserve},workshop.expiry=2h`,
  '--set', `runner.image.repository=${repo(refs.runner)},runner.image.tag=${tag(refs.runner)},runner.image.pullPolicy=Never`,
  '--set', `environment.image.repository=${repo(refs.node)},environment.image.tag=${tag(refs.node)},environment.image.pullPolicy=Never`,
  '--set', `environment.workstation.image.repository=${repo(refs.workstation)},environment.workstation.image.tag=${tag(refs.workstation)},environment.workstation.image.pullPolicy=Never`,
  // Requests that let N of them be scheduled on 2 cores: what fits is measured, not assumed.
  '--set', 'environment.resources.requests.cpu=10m,environment.resources.requests.memory=64Mi,runner.resources.requests.cpu=10m']);
const uninstall = () => sh([helm, 'uninstall', 'svclab', '--namespace', NS, '--wait', '--timeout', '180s', '--kubeconfig', kubeconfigFile]);
const readyMs = (e: KubeObject) => Date.parse(String(e.status?.['readyAt'])) - Date.parse(e.metadata.creationTimestamp!);

async function waitReady(objects: ClientNodeKubeObjects, want: number, windowMs: number): Promise<KubeObject[]> {
  const deadline = Date.now() + windowMs;
  for (;;) {
    const ready = (await objects.list('environments').catch(() => [])).filter((e) => e.status?.['phase'] === 'Ready');
    if (ready.length >= want || Date.now() > deadline) return ready;
    await new Promise((r) => setTimeout(r, 5000));
  }
}

/** The node container's memory (cgroup usage and working set) and the machine's load. */
async function nodeMemory(): Promise<string> {
  const r = await runner.run(['docker', 'exec', cp, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.usage_in_bytes; grep -E "^total_inactive_file " /sys/fs/cgroup/memory/memory.stat'], { timeoutMs: 30_000 });
  const [usage, inactive] = r.stdout.trim().split('\n');
  const u = Number(usage) / 2 ** 30;
  const ws = u - Number(inactive?.split(' ')[1] ?? 0) / 2 ** 30;
  return `node memory ${u.toFixed(1)} GiB (working set ${ws.toFixed(1)} GiB), load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;
}

try {
  console.log(`cluster ${name}: one node; images ${Object.values(refs).join(', ')}`);
  await driver.create({ name, workers: 0, nodeImage: refs.node, ports: [] });
  for (const ref of Object.values(refs)) await driver.loadImage(name, ref);
  writeFileSync(kubeconfigFile, await driver.kubeconfig(name, 'host'), { mode: 0o600 });
  const objects = new ClientNodeKubeObjects({ namespace: NS, kubeconfig: await driver.kubeconfig(name, 'host'), requestTimeoutMs: 30_000 });

  // 1. Alone.
  await install(1);
  const [alone] = await waitReady(objects, 1, 15 * 60_000);
  if (!alone) throw new Error('no environment became Ready alone within 15 min');
  const baseline = readyMs(alone);
  console.log(`alone: environment Ready in ${sec(baseline)} (baseline); ${await nodeMemory()}`);
  await uninstall();

  // 2. N at once.
  const t0 = Date.now();
  await install(N);
  const ready = await waitReady(objects, N, WINDOW_MS);
  const times = ready.map(readyMs).sort((a, b) => a - b);
  console.log(`at once: ${ready.length}/${N} Ready within ${values.minutes} min; Ready times ${times.map(sec).join(', ')}`);
  if (times.length) console.log(`  median ${sec(median(times))} = ${(median(times) / baseline).toFixed(2)}× alone; slowest ${sec(times.at(-1)!)} = ${(times.at(-1)! / baseline).toFixed(2)}× alone; all up ${sec(Date.now() - t0)} after install`);
  // Every Ready one still answering: its nested API server's /readyz, from its node container.
  let answering = 0;
  for (const e of ready) {
    const r = await kubectl(['-n', NS, 'exec', e.metadata.name, '-c', 'node', '--', 'kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', 'get', '--raw', '/readyz']).catch((err: unknown) => String(err));
    if (r.trim() === 'ok') answering++;
  }
  console.log(`  ${answering}/${ready.length} nested API servers answer /readyz; ${await nodeMemory()}`);
  console.log(`fits here: ${answering === N ? `all ${N} (try a larger --n)` : `${answering} of ${N} asked`}`);
  await uninstall().catch(() => undefined);
} finally {
  if (!values.keep) await driver.delete(name).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
