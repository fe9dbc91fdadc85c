// KubeExecTerminal against FakePodExec (an in-memory svclab-term): the shared contract, and
// what only a fake can stage — characters split byte by byte, a lying ack, flow control,
// a keeper missing from an old image, the API refusing the exec, a stream that breaks.
import { describe, expect, it } from 'vitest';
import { FakePodExec } from '../../src/terminals/fake-pod-exec.ts';
import { completeUtf8, KubeExecTerminal, kubeTerminalFactory } from '../../src/terminals/kube-exec-terminal.ts';
import { kubeTerminalContract, Screen } from './kube-terminal-contract.ts';

const target = { namespace: 'svclab', pod: 'env-1', container: 'workstation' };

describe('KubeExecTerminal contract (FakePodExec)', () => {
  // One fake "pod" per test: the contract makes new PodExecs for new backends, which must
  // see the same shells (the pod outlives replicas).
  let pod = new FakePodExec();
  let n = 0;
  kubeTerminalContract({
    exec: () => pod,
    target,
    name: () => { pod = new FakePodExec(); pod.chunkBytes = 7; return `t${++n}`; },
    realShell: false,
  });
});

describe('KubeExecTerminal (FakePodExec)', () => {
  const prompt = (s: Screen) => s.text.endsWith('$ ');

  it('splits output only between characters, even when the stream hands it over byte by byte', async () => {
    const pod = new FakePodExec();
    pod.chunkBytes = 1;
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod });
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('prompt', prompt);
    term.write('echo 日本🙂é\r');
    await c.until('output', (s) => s.text.includes('日本🙂é\r\n'));
    expect(c.badSeqs).toEqual([]);
    expect(c.text).not.toContain('\ufffd');
    const shell = pod.shell(target)!;
    expect(c.lastSeq).toBe(shell.end);
    expect(Buffer.from(c.text)).toEqual(shell.log);
  });

  it('holds keystrokes typed before the exec is up and sends them once', async () => {
    const pod = new FakePodExec();
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod });
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    term.write('echo early\r');
    await c.until('output', (s) => s.text.includes('early\r\n'));
    expect(pod.shell(target)!.received).toBe('echo early\r');
  });

  it('pauses a client\'s exec past highWater unacked bytes and resumes under lowWater; an ack beyond what was sent is refused', async () => {
    const pod = new FakePodExec();
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod, highWater: 1000, lowWater: 200 });
    const c = new Screen();
    const entry = term.attach(c, 0, 80, 24);
    await c.until('prompt', prompt);
    const shell = pod.shell(target)!;
    shell.emit('x'.repeat(5000));
    await c.until('the burst', (s) => s.lastSeq === shell.end);
    const stream = pod.openStreams[0]!;
    expect(stream.paused).toBe(true);
    expect(term.ack(entry, c.lastSeq + 1)).toEqual({ ok: false, lastSent: c.lastSeq });
    expect(stream.paused).toBe(true);
    expect(term.ack(entry, c.lastSeq)).toEqual({ ok: true });
    expect(stream.paused).toBe(false);
  });

  it('a socket that holds too much pauses the exec until it drains', async () => {
    const pod = new FakePodExec();
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod, highWater: 1000, lowWater: 200 });
    let buffered = 0;
    const c = new Screen();
    const client = Object.assign(c, { bufferedBytes: () => buffered });
    const entry = term.attach(client, 0, 80, 24);
    await c.until('prompt', prompt);
    term.ack(entry, c.lastSeq);
    buffered = 5000;
    pod.shell(target)!.emit('y');
    await c.until('y', (s) => s.text.endsWith('y'));
    expect(pod.openStreams[0]!.paused).toBe(true);
    buffered = 0;
    term.drained();
    expect(pod.openStreams[0]!.paused).toBe(false);
  });

  it('an old workstation image without svclab-term is a fatal error that names it', async () => {
    const pod = new FakePodExec();
    pod.keeperMissing = true;
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod });
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('error', (s) => s.errors.length > 0);
    expect(c.errors[0]).toMatchObject({ code: 'WORKSTATION_FAILED', fatal: true });
    expect(c.errors[0]!.message).toMatch(/no svclab-term.*executable file not found/);
    expect(c.closed?.code).toBe(1011);
    expect(term.clientCount).toBe(0);
  });

  it('the API refusing the exec (no such pod) is fatal; the API unreachable is a hang-up the page retries', async () => {
    const pod = new FakePodExec();
    pod.failOpen = { httpStatus: 404, message: 'exec in pod svclab/env-1 failed: no such pod' };
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod });
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('error', (s) => s.closed !== undefined);
    expect(c.errors[0]).toMatchObject({ code: 'WORKSTATION_FAILED', fatal: true, message: expect.stringContaining('no such pod') });

    pod.failOpen = { message: 'connect ECONNREFUSED 10.96.0.1:443' };
    const d = new Screen();
    term.attach(d, 0, 80, 24);
    await d.until('hang-up', (s) => s.closed !== undefined);
    expect(d.errors).toEqual([]);
    expect(d.closed).toEqual({ code: 1012, reason: 'terminal stream unavailable' });
  });

  it('an attach that never answers (the API server stuck) hangs the page up after attachTimeoutMs, so it retries', async () => {
    const pod = new FakePodExec();
    pod.stall = true;
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod, attachTimeoutMs: 50 });
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('hang-up', (s) => s.closed !== undefined);
    expect(c.closed).toEqual({ code: 1012, reason: 'terminal attach timed out' });
    expect(c.errors).toEqual([]);
    expect(term.clientCount).toBe(0);
  });

  it('a stream that breaks under a living shell hangs up the client (1012), which reconnects from its seq and loses nothing', async () => {
    const pod = new FakePodExec();
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod });
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('prompt', prompt);
    pod.openStreams[0]!.abort();
    await c.until('hang-up', (s) => s.closed !== undefined);
    expect(c.closed?.code).toBe(1012);
    expect(term.clientCount).toBe(0);
    pod.shell(target)!.emit('while away\r\n');
    const d = new Screen(c.lastSeq);
    term.attach(d, c.lastSeq, 80, 24);
    await d.until('replay', (s) => s.text === 'while away\r\n');
  });

  it('a detached client\'s exec is closed; close() hangs up every exec and leaves the shell running', async () => {
    const pod = new FakePodExec();
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod });
    const a = new Screen();
    const b = new Screen();
    const ea = term.attach(a, 0, 80, 24);
    term.attach(b, 0, 80, 24);
    await b.until('prompt', prompt);
    term.detach(ea);
    expect(pod.openStreams).toHaveLength(1);
    term.close();
    expect(pod.openStreams).toHaveLength(0);
    expect(pod.shell(target)!.alive).toBe(true);
  });

  it('a resize burst runs at most two resize execs and ends in the last size', async () => {
    const pod = new FakePodExec();
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod });
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('prompt', prompt);
    for (let i = 0; i < 10; i++) term.resize(90 + i, 30);
    term.resize(90 + 9, 30); // the same size again: nothing more
    await new Promise((r) => setTimeout(r, 50));
    expect(pod.runs.length).toBeLessThanOrEqual(2);
    expect(pod.runs.at(-1)).toEqual(['svclab-term', 'resize', 'workstation', '99', '30']);
    expect(pod.shell(target)!.cols).toBe(99);
  });

  it('a since older than the log\'s trimmed head says missed, and replays from what is kept', async () => {
    const pod = new FakePodExec();
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod });
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('prompt', prompt);
    const shell = pod.shell(target)!;
    shell.emit('0123456789');
    shell.trim(shell.log.length - 4);
    const d = new Screen(shell.base + 3);
    term.attach(d, shell.base + 3, 80, 24);
    await d.until('replay', (s) => s.text === '6789');
    expect(d.hello).toMatchObject({ missed: true, nextSeq: shell.end + 1 });
  });

  it('a reader left behind the kept log reads the punched-out stretch as NULs: they are not shown, the page is hung up and told it missed some', async () => {
    const pod = new FakePodExec();
    pod.chunkBytes = 1000;
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod, highWater: 2000, lowWater: 500 });
    const c = new Screen();
    const entry = term.attach(c, 0, 80, 24);
    await c.until('prompt', prompt);
    term.ack(entry, c.lastSeq);
    const shell = pod.shell(target)!;
    shell.emit('a'.repeat(3000)); // the page stops acking: its exec pauses past 2000 bytes
    await c.until('paused', () => pod.openStreams[0]!.paused);
    shell.emit('b'.repeat(20_000));
    shell.trim(shell.log.length - 5000); // the keeper keeps 5000 bytes; this reader was behind that
    term.ack(entry, c.lastSeq);
    await c.until('hang-up', (s) => s.closed !== undefined);
    expect(c.closed?.code).toBe(1012);
    expect(c.text).not.toContain('\0');
    expect(pod.runs.filter((r) => r[1] === 'oldest')).toHaveLength(1);
    const d = new Screen(c.lastSeq);
    const ed = term.attach(d, c.lastSeq, 80, 24);
    await d.until('the rest', (s) => { term.ack(ed, s.lastSeq); return s.lastSeq === shell.end; });
    expect(d.hello?.missed).toBe(true);
    expect(d.text).toBe('b'.repeat(5000));
  });

  it('NUL bytes the shell really printed are passed on after the keeper says nothing was trimmed', async () => {
    const pod = new FakePodExec();
    const term = new KubeExecTerminal({ name: 'workstation', target, exec: pod });
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('prompt', prompt);
    pod.shell(target)!.emit(Buffer.from('a\0b'));
    pod.shell(target)!.emit('after');
    await c.until('output', (s) => s.text.endsWith('a\0bafter'));
    expect(c.closed).toBeUndefined();
    expect(c.badSeqs).toEqual([]);
  });

  it('the factory makes terminals for a pod target, in the page\'s language', async () => {
    const pod = new FakePodExec();
    const make = kubeTerminalFactory({ exec: pod });
    const term = make({ target, name: 'workstation', lang: 'zh' });
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('greeting', (s) => s.text.includes('欢迎'));
    expect(pod.streams[0]!.command).toEqual(['svclab-term', 'attach', 'workstation', '0', '80', '24', 'zh']);
  });
});

describe('completeUtf8', () => {
  it('cuts before a character whose bytes are not all there', () => {
    const b = Buffer.from('aé日🙂');
    for (let i = 0; i <= b.length; i++) {
      const n = completeUtf8(b.subarray(0, i));
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, n))).not.toThrow();
      expect(i - n).toBeLessThan(4);
    }
    expect(completeUtf8(Buffer.from([0xff, 0xfe]))).toBe(2); // not UTF-8 at all: passed on as is
  });
});
