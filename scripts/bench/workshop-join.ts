// Workshop load, two sections (SECTIONS=join,echo to pick; both by default). Each prints what it
// simulated, p50/p95 and a ratio against a baseline measured in the same run. Loopback only;
// never fails on a time.
//
// join — join → ready terminal for N_LEARNERS (default 4) learners joining at once, with a warm
//   reserve of N clusters (the baseline) vs reserve 0 (every cluster made when learners arrive).
//   Real: the runner's HTTP app in workshop mode (join, Start lab, the session's start, the
//   terminal WebSocket up to the shell's first prompt), its Workshop, SessionManager and
//   ClusterPool (one provisioning at a time, as on 2 cores). Simulated without clusters: a
//   cluster's provisioning takes PROVISION_MS (default 6000; the real figure on this machine is
//   printed by site/test/workshop-room.real.test.ts — the ratio scales with it), workstation
//   containers (FakeContainerEngine) and the shell (a scripted one that prints a prompt).
//
// echo — keystroke echo round trip (WebSocket → runner → pty → docker exec → bash and back) on
//   one terminal while 10 other terminals are busy printing (`seq` in a loop, their clients
//   reading and acknowledging), against the same terminal with the 10 others idle (baseline).
//   Real: the runner (startRunner on 127.0.0.1), workstation containers, bash. Needs docker and
//   the workstation image; otherwise one SKIP line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { FakeContainerEngine } from '../../runner/src/engine/fake-container-engine.ts';
import { buildApp, noClusterApply } from '../../runner/src/http/app.ts';
import { labsPort } from '../../runner/src/http/lab-ports.ts';
import { loadLabs } from '../../runner/src/labs/load-labs.ts';
import { ClusterPool } from '../../runner/src/pool/cluster-pool.ts';
import { FakePty } from '../../runner/src/pty/fake-pty-factory.ts';
import type { PtyFactory, PtySpawnOptions } from '../../runner/src/pty/pty-factory.ts';
import { SessionManager } from '../../runner/src/sessions/session-manager.ts';
import { projectRoot } from '../../runner/src/version.ts';
import { Workshop } from '../../runner/src/workshop/workshop.ts';
import { MemoryWorkshopStore } from '../../runner/src/workshop/workshop-store.ts';

const SECTIONS = (process.env.SECTIONS ?? 'join,echo').split(',').map((s) => s.trim()).filter(Boolean);
const LAB = '02-selectors-and-endpoints';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const msf = (ms: number) => `${ms.toFixed(2)} ms`;

type Frame = { type: string; data?: string; seq?: number };

/** A terminal client: resolves `prompt` at the first "$ ", acknowledges what it reads, and lets a caller wait for a character. */
function terminalClient(url: string, origin: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { origin, headers });
  let buf = '';
  let lastSeq = 0;
  let want: { ch: string; resolve: () => void } | undefined;
  let promptSeen: () => void = () => undefined;
  const prompt = new Promise<void>((r) => { promptSeen = r; });
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => { ws.send(JSON.stringify({ type: 'hello', since: 0, cols: 80, rows: 24 })); resolve(); });
    ws.once('unexpected-response', (_q, r) => reject(new Error(`terminal: HTTP ${r.statusCode}`)));
    ws.once('error', reject);
  });
  ws.on('message', (m) => {
    const f = JSON.parse(m.toString()) as Frame;
    if (f.type !== 'data') return;
    lastSeq = f.seq!;
    ws.send(JSON.stringify({ type: 'ack', seq: lastSeq }));
    buf = (buf + f.data!).slice(-4096);
    if (buf.includes('$ ')) promptSeen();
    if (want && buf.includes(want.ch)) { const w = want; want = undefined; buf = ''; w.resolve(); }
  });
  return {
    ws, opened, prompt,
    send: (data: string) => ws.send(JSON.stringify({ type: 'data', data })),
    waitFor(ch: string): Promise<void> {
      buf = '';
      return new Promise((resolve) => { want = { ch, resolve }; });
    },
    close: () => ws.close(),
  };
}

// ── Section: join ───────────────────────────────────────────────────────────────────────────
/** A shell that prints a prompt after a moment, as bash -l does. */
class PromptPtyFactory implements PtyFactory {
  spawn(argv: readonly string[], opts: PtySpawnOptions): FakePty {
    const pty: FakePty = new FakePty(argv, opts, 4000, (line) => `${line}\r\n$ `);
    setTimeout(() => pty.emit('learner@workstation:~$ '), 30);
    return pty;
  }
}

async function joinRound(learners: number, reserve: number, provisionMs: number): Promise<number[]> {
  const logger = pino({ level: 'silent' });
  const { labs } = await loadLabs(projectRoot);
  const workshop = await Workshop.create({ store: new MemoryWorkshopStore() }, { labs: [LAB], capacity: learners, reserve, durationMs: 3600_000, code: 'BENCH42' });
  const pool = new ClusterPool({
    driver: { list: async () => [], delete: async () => undefined },
    provision: async (_name, signal) => { await sleep(provisionMs); if (signal.aborted) throw new Error('aborted'); },
    recycle: async () => true,
    healthy: async () => true,
    logger,
  }, { size: learners, prefix: 'bench-', provisionEstimateMs: provisionMs });
  const engine = new FakeContainerEngine();
  engine.addImage('svclab/workstation:bench');
  const sessions = new SessionManager({
    engine, ptys: new PromptPtyFactory(), logger, workstationImage: async () => 'svclab/workstation:bench', maxSessions: learners + 5,
    workstationNetwork: async (s, onWait) => { s.cluster = { name: await pool.claim(s.learner, { onWait }), kubeconfigPath: '' }; return undefined; },
  });
  let origin = '';
  const app = await buildApp({
    logger, token: workshop.instructorSecret, allowedOrigins: () => [origin], sessions, labs: labsPort(labs), workshop,
    checks: { run: async () => ({ passed: true, results: [] }) }, apply: noClusterApply, version: 'bench',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  origin = `http://127.0.0.1:${port}`;
  // Reserve N: the clusters are made before anyone joins. Reserve 0: the pool starts as they join.
  if (reserve > 0) {
    await pool.start();
    await pool.settled();
  }
  const joined = Array.from({ length: learners }, async (_, n) => {
    const t0 = performance.now();
    const h = { origin, 'content-type': 'application/json' };
    const j = await fetch(`${origin}/api/workshop/join`, { method: 'POST', headers: h, body: JSON.stringify({ code: 'BENCH42', name: `Learner ${n + 1}` }) });
    if (!j.ok) throw new Error(`join: HTTP ${j.status} ${await j.text()}`);
    const cookie = (j.headers.get('set-cookie') ?? '').split(';')[0]!;
    const s = await fetch(`${origin}/api/sessions`, { method: 'POST', headers: { ...h, cookie }, body: JSON.stringify({ labId: LAB }) });
    let session = ((await s.json()) as { session: { id: string; state: string } }).session;
    while (session.state !== 'ready') {
      if (session.state === 'failed') throw new Error('a session failed');
      await sleep(100);
      session = ((await (await fetch(`${origin}/api/sessions/${session.id}`, { headers: { cookie } })).json()) as { session: typeof session }).session;
    }
    const term = terminalClient(`ws://127.0.0.1:${port}/api/sessions/${session.id}/terminal`, origin, { cookie });
    await term.opened;
    await term.prompt;
    term.close();
    return performance.now() - t0;
  });
  if (reserve === 0) await pool.start();
  const times = await Promise.all(joined);
  await sessions.closeAll();
  await pool.close();
  await app.close();
  return times;
}

async function joinSection(): Promise<void> {
  const learners = Math.max(1, Math.min(20, Number(process.env.N_LEARNERS ?? 4)));
  const provisionMs = Math.max(100, Number(process.env.PROVISION_MS ?? 6000));
  console.log(`join → ready terminal, ${learners} learners joining at once; simulated provisioning ${secs(provisionMs)} per cluster, one at a time`);
  const warm = await joinRound(learners, learners, provisionMs);
  const cold = await joinRound(learners, 0, provisionMs);
  console.log(`  reserve ${learners} (baseline):  p50 ${secs(pct(warm, 50))}  p95 ${secs(pct(warm, 95))}`);
  console.log(`  reserve 0:             p50 ${secs(pct(cold, 50))}  p95 ${secs(pct(cold, 95))}`);
  console.log(`  ratio reserve 0 / reserve ${learners}: p50 ${(pct(cold, 50) / pct(warm, 50)).toFixed(1)}×  p95 ${(pct(cold, 95) / pct(warm, 95)).toFixed(1)}×`);
}

// ── Section: echo ───────────────────────────────────────────────────────────────────────────
async function echoSection(): Promise<void> {
  const BUSY = Math.max(1, Number(process.env.BUSY ?? 10));
  const KEYS = Math.max(10, Number(process.env.KEYS ?? 100));
  const { startRunner } = await import('../../runner/src/cli/start.ts');
  const { workstationImage } = await import('../../runner/src/cli/wiring.ts');
  const { cacheDir } = await import('../../runner/src/cli.ts');
  const image = workstationImage(cacheDir());
  try {
    await image();
  } catch (e) {
    console.log(`SKIP echo with busy terminals: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  const running = await startRunner({ host: '127.0.0.1', port: 0, allowRemote: false, cacheDir: mkdtempSync(join(tmpdir(), 'svclab-bench-echo-')), out: () => undefined, workstationImage: image, maxSessions: BUSY + 2 });
  const url = new URL(running.url);
  const token = url.searchParams.get('token')!;
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  try {
    const start = async (n: number) => {
      const r = await fetch(`${url.origin}/api/sessions`, { method: 'POST', headers: { ...auth, cookie: `svclab_learner=bench-echo-${String(n).padStart(4, '0')}` }, body: JSON.stringify({ labId: LAB }) });
      let s = ((await r.json()) as { session: { id: string; state: string } }).session;
      while (s.state !== 'ready') {
        if (s.state === 'failed') throw new Error('a workstation failed to start');
        await sleep(250);
        s = ((await (await fetch(`${url.origin}/api/sessions/${s.id}`, { headers: auth })).json()) as { session: typeof s }).session;
      }
      const t = terminalClient(`ws://${url.host}/api/sessions/${s.id}/terminal?token=${token}`, url.origin);
      await t.opened;
      await t.prompt;
      return t;
    };
    const t0 = performance.now();
    const [probe, ...others] = await Promise.all(Array.from({ length: BUSY + 1 }, (_, n) => start(n)));
    console.log(`echo: ${BUSY + 1} workstations ready in ${secs(performance.now() - t0)}`);
    const measure = async (): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < KEYS; i++) {
        const ch = 'abcdefghij'[i % 10]!;
        const at = performance.now();
        const seen = probe!.waitFor(ch);
        probe!.send(ch);
        await seen;
        out.push(performance.now() - at);
        if (i % 40 === 39) { probe!.send('\x15'); await sleep(50); }
      }
      probe!.send('\x15');
      return out;
    };
    await sleep(500);
    const idle = await measure();
    for (const o of others) o.send('while :; do seq 1 20000; done\n');
    await sleep(2000);
    const busy = await measure();
    for (const o of others) o.send('\x03');
    console.log(`keystroke echo on one terminal, ${KEYS} keystrokes each (real runner, workstations, bash)`);
    console.log(`  ${BUSY} others idle (baseline): p50 ${msf(pct(idle, 50))}  p95 ${msf(pct(idle, 95))}`);
    console.log(`  ${BUSY} others busy printing:   p50 ${msf(pct(busy, 50))}  p95 ${msf(pct(busy, 95))}`);
    console.log(`  ratio busy / idle:          p50 ${(pct(busy, 50) / pct(idle, 50)).toFixed(2)}×  p95 ${(pct(busy, 95) / pct(idle, 95)).toFixed(2)}×`);
    for (const t of [probe!, ...others]) t.close();
  } finally {
    await running.close();
  }
}

if (SECTIONS.includes('join')) await joinSection();
if (SECTIONS.includes('echo')) await echoSection();
process.exit(0);
