// Start, kill -9 and restart a runner process (runner-child.ts) in a test's own cache dir,
// and talk to it as a page does: token, Origin, WebSocket terminal frames.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { ServerFrame } from '../../src/api/terminal-protocol.ts';
import { defaultCacheDir } from '../../src/images/images.ts';
import { buildWiring, workstationImageOf } from '../../src/main/wiring.ts';

const CHILD = join(import.meta.dirname, 'runner-child.ts');

/**
 * Why a runner process could not start sessions here (no docker, no workstation image), or
 * undefined. SVCLAB_TEST_WORKSTATION_IMAGE names a stand-in image (it must exist).
 */
export async function sessionsUnavailable(): Promise<string | undefined> {
  try {
    const w = buildWiring(defaultCacheDir());
    await w.engine.info();
    const standIn = process.env.SVCLAB_TEST_WORKSTATION_IMAGE;
    if (standIn) {
      if (!(await w.engine.imageExists(standIn))) return `SVCLAB_TEST_WORKSTATION_IMAGE ${standIn} does not exist`;
    } else await workstationImageOf(w)();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RunnerProcess {
  child: ChildProcess;
  url: string;
  origin: string;
  token: string;
  /** Everything it printed. */
  out: string[];
  /** Ms from spawn to listening. */
  startMs: number;
  exited: Promise<number | null>;
}

export async function startRunnerProcess(opts: { cacheDir: string; port: number; cluster?: string; timeoutMs?: number }): Promise<RunnerProcess> {
  const started = performance.now();
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, SVCLAB_TEST_CACHE: opts.cacheDir, SVCLAB_TEST_PORT: String(opts.port), ...(opts.cluster ? { SVCLAB_TEST_CLUSTER: opts.cluster } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the runner did not start within ${opts.timeoutMs ?? 60_000} ms:\n${out.join('\n')}`)), opts.timeoutMs ?? 60_000);
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        out.push(line);
        const m = /^READY (\S+)/.exec(line);
        if (m) { clearTimeout(timer); resolve(m[1]!); }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => out.push(...d.toString().split('\n').filter(Boolean)));
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`the runner exited (${code}) before it listened:\n${out.join('\n')}`)); });
  });
  const u = new URL(url);
  return { child, url, origin: u.origin, token: u.searchParams.get('token') ?? '', out, startMs: performance.now() - started, exited };
}

export async function kill9(r: RunnerProcess): Promise<void> {
  r.child.kill('SIGKILL');
  await r.exited;
}

export async function stopRunner(r: RunnerProcess | undefined): Promise<void> {
  if (!r || r.child.exitCode !== null || r.child.signalCode !== null) return;
  r.child.kill('SIGTERM');
  const t = setTimeout(() => r.child.kill('SIGKILL'), 60_000);
  await r.exited;
  clearTimeout(t);
}

/** fetch as the page: bearer token, the runner's Origin on state-changing requests. */
export async function api(r: Pick<RunnerProcess, 'origin' | 'token'>, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<{ status: number; json: any }> {
  const res = await fetch(`${r.origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${r.token}`, origin: r.origin, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, json };
}

export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((res) => setTimeout(res, everyMs));
  }
}

/** Start a session of `labId` and wait until it is ready; returns its id. */
export async function readySession(r: Pick<RunnerProcess, 'origin' | 'token'>, labId: string, timeoutMs = 120_000): Promise<string> {
  const s = await api(r, 'POST', '/api/sessions', { labId });
  if (s.status !== 201 && s.status !== 202) throw new Error(`POST /api/sessions: ${s.status} ${JSON.stringify(s.json)}`);
  const id = s.json.session.id as string;
  await until(`session ${id} ready`, async () => {
    const g = await api(r, 'GET', `/api/sessions/${id}`);
    if (g.json?.session?.state === 'failed') throw new Error(`session failed: ${JSON.stringify(g.json.session.error)}`);
    return g.json?.session?.state === 'ready' ? true : undefined;
  }, timeoutMs, 500);
  return id;
}

export interface TermClient {
  ws: WebSocket;
  frames: ServerFrame[];
  text(): string;
  type(s: string): void;
  close(): void;
}

/** The workstation terminal as the page opens it: hello with `since`, data frames, acks. */
export async function openTerminal(r: Pick<RunnerProcess, 'origin' | 'token'>, id: string, since = 0): Promise<TermClient> {
  const ws = new WebSocket(`${r.origin.replace(/^http/, 'ws')}/api/sessions/${id}/terminal?name=workstation&token=${r.token}`, { origin: r.origin });
  const frames: ServerFrame[] = [];
  ws.on('message', (m) => {
    const f = JSON.parse(m.toString()) as ServerFrame;
    frames.push(f);
    if (f.type === 'data') ws.send(JSON.stringify({ type: 'ack', seq: f.seq }));
  });
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('unexpected-response', (_q, s) => rej(new Error(`terminal: HTTP ${s.statusCode}`)));
    ws.once('error', rej);
  });
  ws.send(JSON.stringify({ type: 'hello', since, cols: 120, rows: 30 }));
  return {
    ws, frames,
    text: () => frames.flatMap((f) => (f.type === 'data' ? [f.data] : [])).join(''),
    type: (s) => ws.send(JSON.stringify({ type: 'data', data: s })),
    close: () => ws.close(),
  };
}
