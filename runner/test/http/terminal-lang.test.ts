// The workstation greets in the page's language: ?lang=zh on the terminal WebSocket
// becomes SVCLAB_LANG=zh in the shell's `docker exec` (images/workstation/files/bashrc
// shows /etc/motd.zh-cn then); any other lang is a 400 before the upgrade.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { fakeApp, TEST_TOKEN } from '../support/fake-app.ts';

let close: (() => Promise<void>) | undefined;
afterEach(async () => { await close?.(); close = undefined; });

async function listen() {
  const t = await fakeApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (t.app.server.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${port}`;
  t.setOrigins([origin, 'http://localhost:80']);
  close = () => t.app.close();
  const r = await t.app.inject({ method: 'POST', url: '/api/sessions', headers: { authorization: `Bearer ${TEST_TOKEN}` }, payload: { labId: '02-selectors-and-endpoints' } });
  expect(r.statusCode).toBe(201);
  return { ...t, port, origin, id: r.json().session.id as string };
}

function open(port: number, id: string, origin: string, query: string): Promise<{ ws: WebSocket } | { status: number; body: string }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/sessions/${id}/terminal?token=${TEST_TOKEN}&name=workstation${query}`, { origin });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'hello', since: 0, cols: 80, rows: 24 }));
      resolve({ ws });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

async function spawned(ptys: { spawned: { spawnedArgv: readonly string[] }[] }) {
  const end = Date.now() + 3000;
  while (ptys.spawned.length === 0) {
    if (Date.now() > end) throw new Error('no shell was started');
    await new Promise((r) => setTimeout(r, 5));
  }
  return ptys.spawned[0]!.spawnedArgv;
}

describe('terminal language', () => {
  it('lang=zh: the workstation shell gets --env SVCLAB_LANG=zh', async () => {
    const { port, id, origin, ptys } = await listen();
    const c = await open(port, id, origin, '&lang=zh');
    expect('ws' in c).toBe(true);
    const argv = await spawned(ptys);
    const i = argv.indexOf('--env');
    expect(argv.slice(i, i + 2)).toEqual(['--env', 'SVCLAB_LANG=zh']);
    expect(argv.indexOf('--env')).toBeLessThan(argv.indexOf(`svclab-ws-${id}`));
    if ('ws' in c) c.ws.close();
  });

  it('no lang or lang=en: no SVCLAB_LANG', async () => {
    const { port, id, origin, ptys } = await listen();
    const c = await open(port, id, origin, '&lang=en');
    expect((await spawned(ptys)).join(' ')).not.toContain('SVCLAB_LANG');
    if ('ws' in c) c.ws.close();
  });

  it('an unknown lang is a 400 naming the parameter, and no shell starts', async () => {
    const { port, id, origin, ptys } = await listen();
    const c = await open(port, id, origin, '&lang=fr');
    expect(c).toMatchObject({ status: 400 });
    expect('body' in c && c.body).toContain('lang');
    expect(ptys.spawned).toEqual([]);
  });
});
