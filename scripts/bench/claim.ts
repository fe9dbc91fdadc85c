// The warm pool, on real clusters, in one run:
//   1. cold: one pooled cluster provisioned from nothing (kind + lab image + Traefik +
//      MetalLB + baseline) — what `svclab up` with every component costs a learner
//      without a pool;
//   2. claims: N claim → learner object → release (recycle: reset and verify) rounds,
//      claim and recycle p50/p95, and the ratio of cold to claim;
//   3. idle memory of the pooled cluster (docker stats, after it settles);
//   4. with --max K: more pooled clusters, one at a time, until K, a failed
//      provisioning, a failed health probe of any earlier one, or --max-minutes;
//      prints the largest number that were all ready and healthy at once.
// Every cluster it makes is named svclab-poolbench-* and deleted at the end.
//
//   node scripts/bench/claim.ts [--claims 20] [--max 1] [--max-minutes 30] [--keep]
import { freemem, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { poolStateDir, provisionPoolCluster, realDeps, realPoolDeps } from '../../runner/src/cli/wiring.ts';
import { nodeKubectl } from '../../runner/src/cluster/cluster-driver.ts';
import { imagesStatus } from '../../runner/src/images/images.ts';
import { startRunner } from '../../runner/src/cli/start.ts';
import { workstationImage } from '../../runner/src/cli/wiring.ts';
import { defaultCacheDir } from '../../runner/src/images/images.ts';
import { ClusterPool } from '../../runner/src/pool/cluster-pool.ts';
import { clusterHealthy } from '../../runner/src/pool/recycle.ts';
import { memoryMiB } from './docker-stats.ts';

const { values } = parseArgs({ options: { claims: { type: 'string', default: '20' }, max: { type: 'string', default: '1' }, 'max-minutes': { type: 'string', default: '30' }, keep: { type: 'boolean', default: false } } });
const PREFIX = 'svclab-poolbench-';
const d = realDeps();
try {
  await d.engine.info();
  const stale = (await imagesStatus(d.images)).filter((s) => ['node', 'web', 'kind', 'traefik', 'metallb'].includes(s.name) && s.state !== 'current');
  if (stale.length) throw new Error(`images not current: ${stale.map((s) => s.name).join(', ')} (run \`svclab images build\`)`);
} catch (e) {
  console.log(`SKIP bench claim: ${(e as Error).message}`);
  process.exit(0);
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!; };
const fmt = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);
const GiB = 1024 ** 3;

async function cleanup(): Promise<void> {
  if (values.keep) return;
  for (const c of await d.driver.list()) if (c.name.startsWith(PREFIX)) await d.driver.delete(c.name).catch(() => undefined);
}
process.once('SIGINT', () => { void cleanup().then(() => process.exit(130)); });

// The pool's own log (why a cluster was replaced, etc.), next to the other logs.
const logFile = '/tmp/svclab-bench-claim.log';
const logger = pino({ level: 'info' }, pino.destination(logFile));
console.log(`pool log: ${logFile}`);
const pool = new ClusterPool(realPoolDeps(logger), { size: 1, prefix: PREFIX });
try {
  await cleanup();
  console.log(`machine: ${(totalmem() / GiB).toFixed(1)} GiB, load ${loadavg().map((l) => l.toFixed(1)).join(' ')} (other work on the machine slows every figure alike)`);
  // 1. Cold.
  await pool.start();
  await pool.settled();
  const cold = pool.snapshot().provisionMs.last;
  if (cold === undefined) throw new Error('the pooled cluster was not provisioned (see ~/.cache/svclab/logs)');
  console.log(`cold: one cluster with every component, from nothing: ${fmt(cold)}`);

  // 2. Claims and recycles.
  const n = Number(values.claims);
  const claims: number[] = [];
  const recycles: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const name = await pool.claim(`learner-${i}`);
    claims.push(performance.now() - t0);
    const r = await d.driver.execOnNode(name, `${name}-control-plane`, nodeKubectl(['create', 'namespace', `bench-${i}`]), { timeoutMs: 60_000 });
    if (r.exitCode !== 0) throw new Error(`kubectl create namespace failed: ${r.stderr}`);
    const t1 = performance.now();
    await pool.release(`learner-${i}`);
    recycles.push(performance.now() - t1);
    if (pool.snapshot().clusters[0]?.state !== 'ready') throw new Error(`round ${i}: the cluster was not recycled (${JSON.stringify(pool.snapshot())})`);
  }
  const c50 = pct(claims, 50);
  const c95 = pct(claims, 95);
  console.log(`claim (${n} rounds): p50 ${fmt(c50)}  p95 ${fmt(c95)}  — cold/claim ratio ${(cold / c50).toFixed(0)}× (p50), ${(cold / c95).toFixed(0)}× (p95)`);
  console.log(`recycle after use (reset + verify): p50 ${fmt(pct(recycles, 50))}  p95 ${fmt(pct(recycles, 95))}`);

  // 3. Idle memory.
  await new Promise((r) => setTimeout(r, 30_000));
  const idle = await memoryMiB(d.runner, `${PREFIX}1-`);
  console.log(`idle memory of one pooled cluster (3 nodes, Traefik, MetalLB): ${idle.toFixed(0)} MiB`);

  // 3b. Start lab → ready through the runner's API with a warm pool (workstation, kubeconfig,
  // the lab's starting objects), against the same cluster; Stop hands it back.
  {
    const runner = await startRunner({
      host: '127.0.0.1', port: 0, allowRemote: false, cacheDir: defaultCacheDir(), out: () => undefined, workstationImage: workstationImage(),
      cluster: { engine: d.engine, driver: d.driver, clusterFor: (s, onWait) => pool.claim(s.learner, { onWait }) },
      pool,
    });
    const url = new URL(runner.url);
    const auth = { authorization: `Bearer ${url.searchParams.get('token')}` };
    const headers = { ...auth, 'content-type': 'application/json' };
    const starts: number[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const r = await fetch(new URL('/api/sessions', url), { method: 'POST', headers, body: JSON.stringify({ labId: '02-selectors-and-endpoints' }) });
        let s = ((await r.json()) as { session: { id: string; state: string } }).session;
        while (s.state !== 'ready' && s.state !== 'failed') {
          await new Promise((res) => setTimeout(res, 200));
          s = ((await (await fetch(new URL(`/api/sessions/${s.id}`, url), { headers: auth })).json()) as { session: typeof s }).session;
        }
        if (s.state !== 'ready') throw new Error(`session ${i} failed: ${JSON.stringify(s)}`);
        starts.push(performance.now() - t0);
        const del = await fetch(new URL(`/api/sessions/${s.id}`, url), { method: 'DELETE', headers: auth });
        if (del.status !== 204) throw new Error(`DELETE session ${s.id}: HTTP ${del.status} ${await del.text()}`);
      }
    } finally {
      await runner.close();
    }
    console.log(`Start lab → ready through the API, warm pool (lab 02, 5 starts): p50 ${fmt(pct(starts, 50))}  max ${fmt(Math.max(...starts))} — cold/start ratio ${(cold / pct(starts, 50)).toFixed(0)}×`);
  }

  // 4. How many this machine holds.
  const max = Number(values.max);
  if (max > 1) {
    const deadline = Date.now() + Number(values['max-minutes']) * 60_000;
    let held = 1;
    const names = [`${PREFIX}1`];
    for (let k = 2; k <= max && Date.now() < deadline; k++) {
      const name = `${PREFIX}${k}`;
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), Math.max(60_000, deadline - Date.now()));
      const t0 = performance.now();
      try {
        await provisionPoolCluster(name, abort.signal);
      } catch (e) {
        console.log(`cluster ${k}: provisioning failed after ${fmt(performance.now() - t0)}: ${(e as Error).message.split('\n')[0]}`);
        break;
      } finally {
        clearTimeout(timer);
      }
      names.push(name);
      const health = await Promise.all(names.map((x) => clusterHealthy({ driver: d.driver, dir: poolStateDir() }, x).catch(() => false)));
      const sick = names.filter((_x, i) => !health[i]);
      console.log(`cluster ${k}: ready in ${fmt(performance.now() - t0)}; ${names.length - sick.length}/${names.length} healthy; host free ${(freemem() / GiB).toFixed(1)} GiB, load ${loadavg()[0]!.toFixed(1)}`);
      if (sick.length) { console.log(`  not healthy: ${sick.join(', ')}`); break; }
      held = k;
    }
    const mem = await memoryMiB(d.runner, PREFIX);
    console.log(`largest number of ready, healthy pooled clusters held at once: ${held}${held === max ? ` (the --max ${max} asked for; more may fit)` : ''}; their memory ${(mem / 1024).toFixed(1)} GiB (${(mem / held).toFixed(0)} MiB each)`);
  }
} finally {
  await pool.close();
  await cleanup();
}
