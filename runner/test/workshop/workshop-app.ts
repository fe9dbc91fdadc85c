// The app in workshop mode over fakes: a workshop (code KUBE42, one lab, a fake clock), a
// listening server, and helpers for a learner's and the instructor's requests.
import type { InjectOptions } from 'fastify';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { buildApp, noClusterApply, type AppDeps } from '../../src/http/app.ts';
import { FakePtyFactory } from '../../src/pty/fake-pty-factory.ts';
import { SessionManager } from '../../src/sessions/session-manager.ts';
import { Workshop } from '../../src/workshop/workshop.ts';
import { MemoryWorkshopStore } from '../../src/workshop/workshop-store.ts';
import { fakeLabs } from '../support/fake-app.ts';

export const LAB = '02-selectors-and-endpoints';
export const CODE = 'KUBE42';

export async function workshopApp(o: { capacity?: number; labs?: string[]; overrides?: Partial<AppDeps> } = {}) {
  let t = 1_700_000_000_000;
  const clock = { now: () => t, advance: (ms: number) => { t += ms; } };
  const workshop = await Workshop.create({ store: new MemoryWorkshopStore(), now: clock.now }, { labs: o.labs ?? [LAB], capacity: o.capacity ?? 5, reserve: 1, durationMs: 2 * 3600_000, code: CODE });
  const engine = new FakeContainerEngine();
  engine.addImage('svclab/workstation:abc');
  const ptys = new FakePtyFactory();
  const logger = pino({ level: 'silent' });
  let ids = 0;
  const sessions = new SessionManager({ engine, ptys, logger, workstationImage: async () => 'svclab/workstation:abc', newId: () => `s${++ids}` });
  let origins: string[] = [];
  const token = workshop.instructorSecret;
  const app = await buildApp({
    logger, token, allowedOrigins: () => origins, sessions, labs: fakeLabs, workshop,
    checks: { run: async () => ({ results: [], passed: true }) }, apply: noClusterApply, version: '0.0.0-test',
    ...o.overrides,
  } as AppDeps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${port}`;
  origins = [origin];
  const host = `127.0.0.1:${port}`;
  const passCookie = `svclab_pass_${port}`;
  const tokenCookie = `svclab_token_${port}`;
  type Inject = Omit<InjectOptions, 'headers' | 'cookies'> & { headers?: Record<string, string>; cookies?: Record<string, string> };
  /** A request from the site's own pages (right Host and Origin). */
  const send = (r: Inject & { url: string }) => app.inject({ ...r, headers: { host, origin, ...(r.headers ?? {}) } });

  async function join(name: string, address = '10.0.0.2') {
    const r = await send({ method: 'POST', url: '/api/workshop/join', payload: { code: CODE, name }, remoteAddress: address });
    if (r.statusCode !== 200) throw new Error(`join ${name}: ${r.statusCode} ${r.body}`);
    const pass = r.cookies.find((c) => c.name === passCookie)?.value;
    if (!pass) throw new Error(`join ${name}: no ${passCookie} cookie`);
    const as = (req: Inject & { url: string }) => send({ ...req, cookies: { [passCookie]: pass, ...(req.cookies ?? {}) } });
    const startLab = async () => {
      const s = await as({ method: 'POST', url: '/api/sessions', payload: { labId: LAB } });
      if (s.statusCode !== 201) throw new Error(`start lab for ${name}: ${s.statusCode} ${s.body}`);
      return s.json().session.id as string;
    };
    return { pass, as, startLab, reply: r };
  }

  const instructor = (req: Inject & { url: string }) => send({ ...req, headers: { authorization: `Bearer ${token}`, ...(req.headers ?? {}) } });

  function terminal(id: string, cookie: string) {
    const ws = new WebSocket(`ws://${host}/api/sessions/${id}/terminal`, { origin, headers: { cookie } });
    const opened = new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('unexpected-response', (_q, r) => { rej(new Error(`HTTP ${r.statusCode}`)); r.resume(); });
      ws.once('error', rej);
    });
    return { ws, opened };
  }

  return { app, workshop, sessions, clock, port, host, origin, passCookie, tokenCookie, token, send, join, instructor, terminal, close: () => app.close() };
}
