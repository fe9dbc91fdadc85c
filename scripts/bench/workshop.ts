// Workshop load, in sections (SECTIONS=instructor,… to pick; all by default). Each section
// prints what it simulated, p50/p95 and a ratio against a baseline measured in the same run.
// Traffic: loopback only. Never fails on a time.
//
// instructor — instructor page update latency with N_LEARNERS (default 50) simulated learners.
//   Real: the runner's HTTP app (buildApp, fastify on 127.0.0.1), its SessionManager, the
//   instructor room, the event stream the page reads, the labs from labs/. Simulated without
//   clusters: workstation containers (FakeContainerEngine), terminals (FakePtyFactory) and the
//   Check itself (a scripted answer after CHECK_MS, default 20 ms, passing one time in three).
//   Each learner is an API client: start lab, then Check its current step every 0.3–1.5 s for
//   DURATION_S (default 20). Latency: from a learner's Check request leaving the client to the
//   instructor's stream delivering a snapshot that counts that Check. Baseline: GET /api/health
//   round trips interleaved through the same load (and, for scale, the learner's own Check answer).
import { pino } from 'pino';
import { FakeContainerEngine } from '../../runner/src/engine/fake-container-engine.ts';
import { buildApp, noClusterApply } from '../../runner/src/http/app.ts';
import { labsPort } from '../../runner/src/http/lab-ports.ts';
import type { InstructorSnapshot } from '../../runner/src/api/instructor.ts';
import { loadLabs } from '../../runner/src/labs/load-labs.ts';
import { FakePtyFactory } from '../../runner/src/pty/fake-pty-factory.ts';
import { SessionManager } from '../../runner/src/sessions/session-manager.ts';
import { projectRoot } from '../../runner/src/version.ts';

const SECTIONS = (process.env.SECTIONS ?? 'instructor').split(',').map((s) => s.trim()).filter(Boolean);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** Read server-sent events from a fetch body; `onEvent` gets each complete event. */
async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (event: string, data: string) => void): Promise<void> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (event && data) onEvent(event, data);
      }
    }
  } catch {
    // aborted at the end of the run
  }
}

// ── Section: instructor ─────────────────────────────────────────────────────────────────────
async function instructorSection(): Promise<void> {
  const LEARNERS = Math.max(1, Math.min(200, Number(process.env.N_LEARNERS ?? 50)));
  const DURATION_MS = Math.max(3, Number(process.env.DURATION_S ?? 20)) * 1000;
  const CHECK_MS = Math.max(0, Number(process.env.CHECK_MS ?? 20));
  const LAB = '02-selectors-and-endpoints';
  const TOKEN = 'bench-token-0123456789abcdef';

  const logger = pino({ level: 'silent' });
  const engine = new FakeContainerEngine();
  engine.addImage('svclab/workstation:bench');
  const { labs } = await loadLabs(projectRoot);
  const port = labsPort(labs);
  const steps = port.get(LAB).steps.map((s) => s.id);
  const sessions = new SessionManager({ engine, ptys: new FakePtyFactory(), logger, workstationImage: async () => 'svclab/workstation:bench', maxSessions: LEARNERS + 10 });
  let origin = '';
  const app = await buildApp({
    logger, token: TOKEN, allowedOrigins: () => [origin], sessions, labs: port, apply: noClusterApply, version: 'bench',
    checks: {
      run: async () => {
        await sleep(CHECK_MS);
        const passed = Math.random() < 1 / 3;
        return { passed, results: [{ checkId: 'c1', kind: 'command', status: passed ? 'pass' : 'fail', message: passed ? 'ok' : 'Service web selects app=web; no pod has that label' }] };
      },
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const auth = { authorization: `Bearer ${TOKEN}` };

  // The instructor page's connection.
  const pending = new Map<string, number>(); // `${session}/${step}/${attempt}` → when the Check was sent
  const latencies: number[] = [];
  let snapshots = 0;
  let bytes = 0;
  const stop = new AbortController();
  const res = await fetch(`${origin}/api/instructor/events`, { headers: { ...auth, accept: 'text/event-stream' }, signal: stop.signal });
  if (!res.ok || !res.body) throw new Error(`instructor events: HTTP ${res.status}`);
  const stream = readEvents(res.body, (event, data) => {
    if (event !== 'snapshot') return;
    const now = performance.now();
    snapshots++;
    bytes += data.length;
    const snap = JSON.parse(data) as InstructorSnapshot;
    for (const g of snap.labs) {
      for (const r of g.rows) {
        r.cells.forEach((c, i) => {
          for (let a = c.attempts; a > 0; a--) {
            const key = `${r.session}/${g.steps[i]!.id}/${a}`;
            const t0 = pending.get(key);
            if (t0 === undefined) break; // older attempts were counted by an earlier snapshot
            latencies.push(now - t0);
            pending.delete(key);
          }
        });
      }
    }
  });

  // The learners.
  const ids = await Promise.all(Array.from({ length: LEARNERS }, async (_, n) => {
    const r = await fetch(`${origin}/api/sessions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', cookie: `svclab_learner=bench-learner-${String(n).padStart(4, '0')}` }, body: JSON.stringify({ labId: LAB }) });
    if (r.status !== 201) throw new Error(`start lab: HTTP ${r.status} ${await r.text()}`);
    return ((await r.json()) as { session: { id: string } }).session.id;
  }));
  await sleep(500); // the joins' snapshots settle
  const until = performance.now() + DURATION_MS;
  let checks = 0;
  const checkRtt: number[] = [];
  const learner = async (id: string) => {
    let step = 0;
    const attempts = new Map<string, number>();
    while (performance.now() < until && step < steps.length) {
      await sleep(300 + Math.random() * 1200);
      const stepId = steps[step]!;
      const a = (attempts.get(stepId) ?? 0) + 1;
      attempts.set(stepId, a);
      const t0 = performance.now();
      pending.set(`${id}/${stepId}/${a}`, t0);
      const r = await fetch(`${origin}/api/sessions/${id}/steps/${stepId}/check`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
      const body = (await r.json()) as { passed?: boolean };
      checkRtt.push(performance.now() - t0);
      checks++;
      if (body.passed) step++;
    }
  };
  const health: number[] = [];
  const baseline = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      await (await fetch(`${origin}/api/health`, { headers: auth })).text();
      health.push(performance.now() - t0);
      await sleep(100);
    }
  };
  await Promise.all([...ids.map(learner), baseline()]);
  await sleep(1000); // the last snapshot
  stop.abort();
  await stream;
  await sessions.closeAll();
  await app.close();

  const p50 = pct(latencies, 50);
  const p95 = pct(latencies, 95);
  const h50 = pct(health, 50);
  const h95 = pct(health, 95);
  console.log(`instructor: ${LEARNERS} simulated learners (API clients; fake workstations and scripted ${CHECK_MS} ms Checks, no clusters), ${(DURATION_MS / 1000).toFixed(0)} s`);
  console.log(`  ${checks} Checks (${(checks / (DURATION_MS / 1000)).toFixed(1)}/s), ${snapshots} snapshots on the instructor's stream (${(snapshots / (DURATION_MS / 1000 + 1.5)).toFixed(1)}/s, ${(bytes / Math.max(1, snapshots) / 1024).toFixed(1)} KiB each), ${latencies.length} Checks seen, ${pending.size} not seen`);
  console.log(`  update latency (Check sent → instructor snapshot counting it): p50 ${ms(p50)}  p95 ${ms(p95)}`);
  console.log(`  baseline GET /api/health under the same load:                   p50 ${ms(h50)}  p95 ${ms(h95)}`);
  console.log(`  the learner's own Check answer (same requests):                 p50 ${ms(pct(checkRtt, 50))}  p95 ${ms(pct(checkRtt, 95))}`);
  console.log(`  ratio update/baseline: p50 ${(p50 / h50).toFixed(1)}×  p95 ${(p95 / h95).toFixed(1)}×  (updates are coalesced to at most one per 250 ms by design)`);
}

const sections: Record<string, () => Promise<void>> = { instructor: instructorSection };
for (const name of SECTIONS) {
  const run = sections[name];
  if (!run) {
    console.log(`SKIP section ${name}: unknown (known: ${Object.keys(sections).join(', ')})`);
    continue;
  }
  await run();
}
