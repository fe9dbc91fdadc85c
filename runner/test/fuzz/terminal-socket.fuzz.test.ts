// Fuzz at the socket: a real WebSocket client against the runner on 127.0.0.1 (fake app,
// fake pty) sends any text, JSON, near-frame or bytes. Each case is followed by a ping; by
// its pong the runner has handled the case. Every frame the runner sends back is a valid
// server frame, none is fatal, the connection stays open and the runner keeps serving.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { serverFrameSchema, type ServerFrame } from '../../src/api/terminal-protocol.ts';
import { fakeApp, TEST_TOKEN } from '../support/fake-app.ts';
import { fuzz, fuzzRuns } from './fuzz-harness.ts';

type T = Awaited<ReturnType<typeof fakeApp>>;
let t: T;
let ws: WebSocket;
let port = 0;
const inbox: ServerFrame[] = [];
let waiter: (() => void) | undefined;

beforeAll(async () => {
  t = await fakeApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  port = (t.app.server.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${port}`;
  t.setOrigins([origin, 'http://localhost:80']);
  const id = (await t.app.inject({ method: 'POST', url: '/api/sessions', headers: { authorization: `Bearer ${TEST_TOKEN}` }, payload: { labId: '02-selectors-and-endpoints' } })).json().session.id as string;
  ws = new WebSocket(`ws://127.0.0.1:${port}/api/sessions/${id}/terminal?token=${TEST_TOKEN}`, { origin });
  ws.on('message', (m: Buffer) => {
    const parsed = serverFrameSchema.safeParse(JSON.parse(m.toString()));
    // An invalid server frame is recorded as a fatal error so the property fails on it.
    inbox.push(parsed.success ? parsed.data : { type: 'error', code: 'INVALID_SERVER_FRAME', message: m.toString().slice(0, 200), hint: '', fatal: true });
    waiter?.();
  });
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
  ws.send(JSON.stringify({ type: 'hello', since: 0, cols: 80, rows: 24 }));
});

afterAll(async () => {
  ws?.terminate();
  for (const p of t?.ptys.spawned ?? []) p.kill();
  await t?.app.close();
});

let pings = 0;
/** Sends one case, then a ping; resolves with what came back up to its pong. */
async function roundTrip(payload: string | Buffer, binary: boolean): Promise<ServerFrame[]> {
  const mark = ++pings;
  const start = inbox.length;
  ws.send(payload, { binary });
  ws.send(JSON.stringify({ type: 'ping', t: mark }));
  const deadline = Date.now() + 5_000;
  while (!inbox.slice(start).some((f) => f.type === 'pong' && f.t === mark)) {
    if (ws.readyState !== WebSocket.OPEN) throw new Error(`the runner closed the socket after ${JSON.stringify(String(payload).slice(0, 200))}`);
    if (Date.now() > deadline) throw new Error(`no pong within 5 s after ${JSON.stringify(String(payload).slice(0, 200))}`);
    await new Promise<void>((r) => { waiter = r; setTimeout(r, 50); });
  }
  return inbox.splice(start);
}

function holds(frames: ServerFrame[]): void {
  for (const f of frames) {
    if (f.type === 'error') {
      expect(f.fatal, `${f.code}: ${f.message}`).toBe(false);
      expect(f.hint.length).toBeGreaterThan(0);
    }
    if (f.type === 'exit') throw new Error('the shell exited');
  }
  expect(ws.readyState).toBe(WebSocket.OPEN);
}

const nearFrame = fc.record({
  type: fc.oneof(fc.constantFrom('hello', 'data', 'resize', 'ping', 'ack', 'exit', '__proto__'), fc.string({ maxLength: 10 })),
  since: fc.oneof(fc.nat(50), fc.integer(), fc.double(), fc.string({ maxLength: 5 })),
  cols: fc.oneof(fc.integer({ min: -5, max: 2000 }), fc.double()),
  rows: fc.oneof(fc.integer({ min: -5, max: 800 }), fc.double()),
  data: fc.oneof(fc.string({ maxLength: 40 }), fc.integer()),
  seq: fc.oneof(fc.nat(100), fc.constant(9e15), fc.integer(), fc.double()),
  t: fc.oneof(fc.double(), fc.string({ maxLength: 5 })),
}, { requiredKeys: ['type'] });

describe('fuzz: terminal WebSocket (socket level)', () => {
  it('answers any frame without a fatal error, a crash or a closed socket (≥10,000 cases)', async () => {
    const runs = fuzzRuns(3000);
    let n = 0;
    n += await fuzz('ws-near-frame', nearFrame, async (f) => holds(await roundTrip(JSON.stringify(f), false)), runs);
    n += await fuzz('ws-text', fc.string({ unit: 'binary', maxLength: 200 }), async (s) => holds(await roundTrip(s, false)), runs);
    n += await fuzz('ws-json', fc.jsonValue({ maxDepth: 3 }), async (v) => holds(await roundTrip(JSON.stringify(v) ?? 'null', false)), runs);
    n += await fuzz('ws-bytes', fc.uint8Array({ maxLength: 200 }), async (b) => holds(await roundTrip(Buffer.from(b), true)), runs / 3);
    expect(n).toBeGreaterThanOrEqual(fuzzRuns(3000) === 3000 ? 10_000 : 0);
    console.log(`fuzz: terminal WebSocket: ${n} frames, 0 fatal errors, socket open`);
    expect((await t.app.inject({ url: '/api/health', headers: { authorization: `Bearer ${TEST_TOKEN}` } })).statusCode).toBe(200);
  }, 600_000);
});
