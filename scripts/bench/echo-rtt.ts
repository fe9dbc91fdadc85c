// Keystroke echo round trip: typing one character and seeing it echoed, through
// the runner (browser protocol: WebSocket → runner → pty → docker exec → bash)
// against a baseline measured in the same run (node-pty → docker exec → bash,
// no runner). Prints p50/p95 of each and their ratio. Needs docker and the
// workstation image; bounded: N keystrokes per side, 60 s at most.
import { WebSocket } from 'ws';
import { cacheDir } from '../../runner/src/cli.ts';
import { startRunner } from '../../runner/src/cli/start.ts';
import { workstationImage } from '../../runner/src/cli/wiring.ts';
import { DockerEngine } from '../../runner/src/engine/docker-engine.ts';
import { ExecaRunner } from '../../runner/src/exec/execa-runner.ts';
import { NodePtyFactory } from '../../runner/src/pty/node-pty-factory.ts';

const N = Number(process.env.N ?? 200);
const DEADLINE = Date.now() + 60_000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function typeLoop(write: (s: string) => void, waitFor: (ch: string) => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  const chars = 'abcdefghij';
  for (let i = 0; i < N && Date.now() < DEADLINE; i++) {
    const ch = chars[i % chars.length]!;
    const t0 = performance.now();
    const seen = waitFor(ch);
    write(ch);
    await seen;
    times.push(performance.now() - t0);
    if (i % 40 === 39) { write('\x15'); await new Promise((r) => setTimeout(r, 50)); }
  }
  return times;
}

function echoWaiter() {
  let buf = '';
  let want: { ch: string; resolve: () => void } | undefined;
  return {
    feed(d: string) {
      buf += d;
      if (want && buf.includes(want.ch)) { buf = ''; const w = want; want = undefined; w.resolve(); }
    },
    waitFor(ch: string) {
      buf = '';
      return new Promise<void>((resolve) => { want = { ch, resolve }; });
    },
  };
}

const resolveImage = workstationImage(cacheDir());
const image = await resolveImage().catch((e: Error) => { console.log(`SKIP bench echo-rtt: ${e.message}`); process.exit(0); });
const engine = new DockerEngine({ runner: new ExecaRunner() });

// Baseline: the same shell through node-pty alone.
const baseName = `svclab-ws-bench${process.pid}`;
await engine.runContainer({ name: baseName, image, labels: { 'svclab.session': `bench${process.pid}`, 'svclab.role': 'workstation' }, command: ['sleep', 'infinity'], user: 'learner', memory: '512m', pidsLimit: 256 });
const pty = new NodePtyFactory().spawn(engine.execArgv(baseName, ['bash', '--norc', '--noprofile'], { tty: true, user: 'learner' }), { cols: 80, rows: 24 });
const bw = echoWaiter();
pty.onData((d) => bw.feed(d));
await new Promise((r) => setTimeout(r, 1500));
const base = await typeLoop((s) => pty.write(s), (ch) => bw.waitFor(ch));
pty.kill();
await engine.removeContainer(baseName);

// Through the runner.
const running = await startRunner({ host: '127.0.0.1', port: 0, allowRemote: false, cacheDir: cacheDir(), out: () => undefined, workstationImage: resolveImage });
const url = new URL(running.url);
const token = url.searchParams.get('token')!;
const res = await fetch(`${url.origin}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ labId: '02-selectors-and-endpoints' }) });
const { session } = await res.json() as { session: { id: string } };
const ws = new WebSocket(`ws://${url.host}/api/sessions/${session.id}/terminal?token=${token}`, { origin: url.origin });
await new Promise((r) => ws.once('open', r));
const rw = echoWaiter();
let lastSeq = 0;
ws.on('message', (m) => {
  const f = JSON.parse(m.toString()) as { type: string; data?: string; seq?: number };
  if (f.type === 'data') { rw.feed(f.data!); lastSeq = f.seq!; }
});
ws.send(JSON.stringify({ type: 'hello', since: 0, cols: 80, rows: 24 }));
await new Promise((r) => setTimeout(r, 2000));
const viaRunner = await typeLoop((s) => { ws.send(JSON.stringify({ type: 'data', data: s })); ws.send(JSON.stringify({ type: 'ack', seq: lastSeq })); }, (ch) => rw.waitFor(ch));
ws.close();
await running.close();

const fmt = (x: number) => `${x.toFixed(2)} ms`;
console.log(`echo round trip over ${base.length}/${viaRunner.length} keystrokes`);
console.log(`  baseline (node-pty → docker exec):   p50 ${fmt(pct(base, 50))}  p95 ${fmt(pct(base, 95))}`);
console.log(`  through the runner (WebSocket):      p50 ${fmt(pct(viaRunner, 50))}  p95 ${fmt(pct(viaRunner, 95))}`);
console.log(`  ratio runner/baseline:               p50 ${(pct(viaRunner, 50) / pct(base, 50)).toFixed(2)}×  p95 ${(pct(viaRunner, 95) / pct(base, 95)).toFixed(2)}×`);
