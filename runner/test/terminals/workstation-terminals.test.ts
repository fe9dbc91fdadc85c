// The terminal WebSocket of a kube-mode session, end to end in one process: the SessionManager's
// workstationTerminal is a KubeExecTerminal on a FakePodExec (the keeper in memory). The page's
// protocol is unchanged: hello, data with seqs (here byte offsets), a broken stream closes the
// socket with 1012, and a new socket from the last seq replays what came meanwhile once.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ServerFrame } from '../../src/api/terminal-protocol.ts';
import { FakePodExec } from '../../src/terminals/fake-pod-exec.ts';
import { kubeWorkstationTerminals } from '../../src/terminals/workstation-terminals.ts';
import { fakeApp, TEST_TOKEN } from '../support/fake-app.ts';

let close: (() => Promise<void>) | undefined;
afterEach(async () => { await close?.(); close = undefined; });

const target = { namespace: 'svclab', pod: 'env-7', container: 'workstation' };

async function listen(pod: FakePodExec, podOf: () => string | undefined = () => target.pod) {
  const t = await fakeApp({}, { workstationTerminal: kubeWorkstationTerminals({ exec: pod, namespace: target.namespace, pod: podOf }) });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (t.app.server.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${port}`;
  t.setOrigins([origin, 'http://localhost:80']);
  close = () => t.app.close();
  const r = await t.app.inject({ method: 'POST', url: '/api/sessions', headers: { authorization: `Bearer ${TEST_TOKEN}` }, payload: { labId: '02-selectors-and-endpoints' } });
  expect(r.statusCode).toBe(201);
  const id = r.json().session.id as string;
  await t.sessions.get(id).ready;
  return { ...t, port, origin, id };
}

class Page {
  readonly frames: ServerFrame[] = [];
  text = '';
  lastSeq: number;
  closedWith: number | undefined;
  readonly ws: WebSocket;
  constructor(port: number, id: string, origin: string, since = 0, client?: string) {
    this.lastSeq = since;
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/api/sessions/${id}/terminal?token=${TEST_TOKEN}&name=workstation`, { origin });
    this.ws.on('open', () => this.ws.send(JSON.stringify({ type: 'hello', since, cols: 80, rows: 24, ...(client ? { client } : {}) })));
    this.ws.on('message', (raw: Buffer) => {
      const f = JSON.parse(raw.toString()) as ServerFrame;
      this.frames.push(f);
      if (f.type === 'data' && f.seq > this.lastSeq) { this.lastSeq = f.seq; this.text += f.data; }
    });
    this.ws.on('close', (code) => { this.closedWith = code; });
  }
  type(s: string, at?: number): void { this.ws.send(JSON.stringify({ type: 'data', data: s, ...(at === undefined ? {} : { at }) })); }
  get hello(): Extract<ServerFrame, { type: 'hello' }> | undefined {
    return this.frames.find((f): f is Extract<ServerFrame, { type: 'hello' }> => f.type === 'hello');
  }
  async until(what: string, ok: () => boolean): Promise<void> {
    const end = Date.now() + 5000;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`${what}: not seen; text ${JSON.stringify(this.text)}, frames ${JSON.stringify(this.frames.filter((f) => f.type !== 'data'))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

describe('the terminal socket of a kube-mode session', () => {
  it('speaks the same protocol; a broken stream is a 1012 close, and the next socket replays from the page\'s seq exactly once', async () => {
    const pod = new FakePodExec();
    const { port, origin, id } = await listen(pod);
    const p = new Page(port, id, origin);
    await p.until('prompt', () => p.text.endsWith('$ '));
    const hello = p.frames[0];
    expect(hello).toMatchObject({ type: 'hello', terminal: 'workstation', missed: false });
    expect(pod.streams[0]!.command.slice(0, 3)).toEqual(['svclab-term', 'attach', 'workstation']);
    p.type('X=1\r');
    await p.until('assignment', () => p.text.endsWith('X=1\r\nlearner@svclab /home/learner $ '));

    pod.openStreams[0]!.abort();
    await p.until('socket closed', () => p.closedWith !== undefined);
    expect(p.closedWith).toBe(1012);
    pod.shell(target)!.emit('printed while nobody was attached\r\n');

    const q = new Page(port, id, origin, p.lastSeq);
    await q.until('replay', () => q.text.includes('printed while nobody was attached\r\n'));
    q.type('echo x=$X\r');
    await q.until('state kept', () => q.text.includes('x=1\r\n'));
    expect((p.text + q.text).match(/printed while nobody/g)).toHaveLength(1);
    expect(Buffer.from(p.text + q.text)).toEqual(pod.shell(target)!.log);
    q.ws.close();
  });

  it('a page that numbers its keystrokes: the socket passes client and at through, and what it sends again after a reconnect runs once', async () => {
    const pod = new FakePodExec();
    const { port, origin, id } = await listen(pod);
    const client = 'page-0123456789';
    const p = new Page(port, id, origin, 0, client);
    await p.until('prompt', () => p.text.endsWith('$ '));
    expect(p.hello?.input).toBeUndefined(); // this shell is new to the page
    p.type('echo once\r', 0);
    await p.until('output', () => p.text.includes('\nonce\r\n'));
    pod.openStreams[0]!.abort();
    await p.until('socket closed', () => p.closedWith !== undefined);
    const q = new Page(port, id, origin, p.lastSeq, client);
    await q.until('hello', () => q.hello !== undefined);
    expect(q.hello?.input).toBe(10);
    q.type('echo once\r', 0); // a page that did not know it arrived sends it again
    q.type('echo twice\r', 10);
    await q.until('output', () => q.text.includes('\ntwice\r\n'));
    expect((p.text + q.text).match(/\nonce\r\n/g)).toHaveLength(1);
    expect(pod.shell(target)!.received).toBe('echo once\recho twice\r');
    q.ws.close();
  });

  it('a session without an environment gets a fatal error frame that says so', async () => {
    const { port, origin, id } = await listen(new FakePodExec(), () => undefined);
    const p = new Page(port, id, origin);
    await p.until('error', () => p.frames.some((f) => f.type === 'error'));
    expect(p.frames[0]).toMatchObject({ type: 'error', code: 'WORKSTATION_FAILED', fatal: true, message: expect.stringContaining('no learner environment') });
  });
});
