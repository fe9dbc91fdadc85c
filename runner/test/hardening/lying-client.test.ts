// A client that lies about what it rendered, at the socket level: a real WebSocket client
// against the runner on 127.0.0.1, a shell that prints forever (like `yes`). The liar acks
// far ahead, pings and sends garbage, and stops reading its socket; the runner must hold only
// a bounded amount for it (the pty pauses at highWater, replies stop at a limit) — while an
// honest client that reads and acks everything streams freely.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ServerFrame } from '../../src/api/terminal-protocol.ts';
import { REPLY_LIMIT } from '../../src/http/terminal-socket.ts';
import type { PtySpawnOptions } from '../../src/pty/pty-factory.ts';
import { FakePty, FakePtyFactory } from '../../src/pty/fake-pty-factory.ts';
import { fakeApp, TEST_TOKEN } from '../support/fake-app.ts';

const MiB = 2 ** 20;
const HIGH_WATER = 256 * 1024; // Terminal's default
// Long enough for replies to a non-reading client to pile past the bound (3 MiB in 12 s before the reply limit).
const RUN_MS = Number(process.env['SVCLAB_LIAR_MS']) || 8_000;

/** Every pty it makes prints "y\r\n" as fast as it is let, and stops while paused (as a real pty blocks `yes`). */
class YesPtyFactory extends FakePtyFactory {
  produced = 0;
  override spawn(argv: readonly string[], opts: PtySpawnOptions): FakePty {
    const p = super.spawn(argv, opts);
    const chunk = 'y\r\n'.repeat(2730); // ~8 KiB, a pty read's worth
    const tick = () => {
      if (p.killed) return;
      for (let i = 0; i < 32 && !p.paused; i++) {
        p.emit(chunk);
        this.produced += chunk.length;
      }
      setImmediate(tick);
    };
    setImmediate(tick);
    return p;
  }
}

function settledRss(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().rss;
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => { await cleanup?.(); cleanup = undefined; });

interface Figures {
  producedMiB: number;
  receivedMiB: number;
  maxServerBufferedKiB: number;
  replayKiB: number;
  ptyHeldKiB: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
}

async function run(kind: 'honest' | 'liar'): Promise<Figures> {
  const ptys = new YesPtyFactory();
  const t = await fakeApp({}, { ptys });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (t.app.server.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${port}`;
  t.setOrigins([origin, 'http://localhost:80']); // the WebSocket's, and inject()'s Host
  const id = (await t.app.inject({ method: 'POST', url: '/api/sessions', headers: { authorization: `Bearer ${TEST_TOKEN}` }, payload: { labId: '02-selectors-and-endpoints' } })).json().session.id as string;
  cleanup = async () => { for (const p of ptys.spawned) p.kill(); await t.app.close(); };

  const rssBefore = settledRss();
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/sessions/${id}/terminal?token=${TEST_TOKEN}`, { origin });
  let received = 0;
  let lastSeq = 0;
  let lying = false;
  ws.on('message', (m: Buffer) => {
    received += m.length;
    const f = JSON.parse(m.toString()) as ServerFrame;
    if (f.type !== 'data') return;
    lastSeq = f.seq;
    if (kind === 'honest') ws.send(JSON.stringify({ type: 'ack', seq: f.seq }));
    else if (!lying) {
      // The lie: claim everything (and more) was rendered, then never read again.
      lying = true;
      ws.send(JSON.stringify({ type: 'ack', seq: 9e15 }));
      ws.send(JSON.stringify({ type: 'ack', seq: f.seq }));
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    }
  });
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
  ws.send(JSON.stringify({ type: 'hello', since: 0, cols: 80, rows: 24 }));

  // The liar keeps acking ahead of what it read, creeping up one chunk a millisecond (~8 MB/s
  // claimed): acks the runner cannot tell from honest ones while they stay under what it sent.
  let guess = 0;
  // It also pings and sends garbage it never reads the answers to: pongs and error frames
  // are output too, and must not pile up in the runner either.
  const liar = kind === 'liar' ? setInterval(() => {
    guess += 1;
    ws.send(JSON.stringify({ type: 'ack', seq: lastSeq + guess }));
    for (let i = 0; i < 10; i++) {
      ws.send(JSON.stringify({ type: 'ping', t: guess }));
      ws.send('not a frame');
    }
  }, 1) : undefined;
  let maxBuffered = 0;
  const sampler = setInterval(() => {
    for (const c of t.app.websocketServer.clients) maxBuffered = Math.max(maxBuffered, c.bufferedAmount);
  }, 5);
  await new Promise((r) => setTimeout(r, RUN_MS));
  clearInterval(sampler);
  clearInterval(liar);
  for (const c of t.app.websocketServer.clients) maxBuffered = Math.max(maxBuffered, c.bufferedAmount);
  const terminal = await t.sessions.terminal(id);
  const rssAfter = settledRss();
  const figures: Figures = {
    producedMiB: ptys.produced / MiB,
    receivedMiB: received / MiB,
    maxServerBufferedKiB: maxBuffered / 1024,
    replayKiB: terminal.bufferedBytes / 1024,
    ptyHeldKiB: ptys.spawned.reduce((n, p) => n + p.heldBytes, 0) / 1024,
    rssBeforeMiB: rssBefore / MiB,
    rssAfterMiB: rssAfter / MiB,
  };
  ws.terminate();
  const f = figures;
  console.log(`lying-client: ${kind.padEnd(6)} pty produced ${f.producedMiB.toFixed(1)} MiB, client read ${f.receivedMiB.toFixed(1)} MiB in ${RUN_MS / 1000} s; runner holds: socket buffer max ${f.maxServerBufferedKiB.toFixed(0)} KiB, replay buffer ${f.replayKiB.toFixed(0)} KiB, pty held ${f.ptyHeldKiB.toFixed(0)} KiB; RSS ${f.rssBeforeMiB.toFixed(0)} → ${f.rssAfterMiB.toFixed(0)} MiB (after GC)`);
  return figures;
}

describe('a client that acks ahead and stops reading (socket level)', () => {
  it('holds the runner to about highWater bytes on its socket; an honest client streams freely', async () => {
    const honest = await run('honest');
    await cleanup?.();
    cleanup = undefined;
    const liar = await run('liar');

    // The honest client is not throttled: it reads many times what the liar's runner produced.
    expect(honest.receivedMiB).toBeGreaterThan(4);
    // The liar: what the runner produced for it stays bounded by what the kernel's socket
    // buffers take plus highWater (the runner believes acks only up to what it sent, and
    // measures the socket's own buffer), however long it runs.
    // Stated bound per client socket: 576 KiB — the reply limit (512 KiB, above highWater's
    // 256 KiB of output) plus one frame. Before the reply limit: 2.1 MiB after 8 s, growing.
    expect(liar.maxServerBufferedKiB).toBeLessThan(576);
    expect(Math.max(HIGH_WATER, REPLY_LIMIT)).toBe(512 * 1024);
    expect(liar.replayKiB).toBeLessThanOrEqual(1024);
    expect(liar.ptyHeldKiB).toBe(0);
    // What the kernel's loopback buffers take for a socket that is never read (they do not
    // grow without reads: ~3 MiB measured) + highWater: what the liar can make the shell produce.
    expect(liar.producedMiB).toBeLessThan(16);
    // Stated bound: the runner process is at most 64 MiB larger after the liar's run.
    expect(liar.rssAfterMiB - liar.rssBeforeMiB).toBeLessThan(64);
  }, 60_000);
});
