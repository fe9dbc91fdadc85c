import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../src/api/terminal-protocol.ts';
import { FakePtyFactory } from '../../src/pty/fake-pty-factory.ts';
import { Terminal } from '../../src/sessions/terminal.ts';

function client() {
  const frames: ServerFrame[] = [];
  return { frames, send: (f: ServerFrame) => frames.push(f), text: () => frames.flatMap((f) => (f.type === 'data' ? [f.data] : [])).join('') };
}

describe('Terminal', () => {
  it('spawns its argv on first attach and echoes input', () => {
    const ptys = new FakePtyFactory();
    const t = new Terminal({ name: 'workstation', argv: ['docker', 'exec', '-it', 'ws', 'bash'], ptys });
    const c = client();
    t.attach(c, 0, 100, 30);
    expect(ptys.spawned[0]?.spawnedArgv).toEqual(['docker', 'exec', '-it', 'ws', 'bash']);
    expect(ptys.spawned[0]?.cols).toBe(100);
    t.write('echo hello\r');
    expect(c.text()).toContain('hello\r\n');
    expect(c.frames[0]).toMatchObject({ type: 'hello', nextSeq: 1, replayed: 0, missed: false });
  });

  it('a reconnect replays exactly what was missed: nothing lost, nothing twice', () => {
    const ptys = new FakePtyFactory();
    const t = new Terminal({ name: 'w', argv: ['x'], ptys });
    const a = client();
    const ea = t.attach(a, 0, 80, 24);
    const pty = ptys.spawned[0]!;
    for (let i = 1; i <= 50; i++) pty.emit(`line ${i}\n`);
    // The client rendered up to seq 20, then the connection dropped.
    t.detach(ea);
    for (let i = 51; i <= 60; i++) pty.emit(`line ${i}\n`);
    const b = client();
    t.attach(b, 20, 80, 24);
    const seqs = b.frames.flatMap((f) => (f.type === 'data' ? [f.seq] : []));
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 21));
    const rendered = a.frames.flatMap((f) => (f.type === 'data' && f.seq <= 20 ? [f.data] : [])).join('') + b.text();
    expect(rendered).toBe(Array.from({ length: 60 }, (_, i) => `line ${i + 1}\n`).join(''));
  });

  it('pauses the pty above the high watermark and resumes under the low one', () => {
    const ptys = new FakePtyFactory();
    const t = new Terminal({ name: 'w', argv: ['x'], ptys, highWater: 1000, lowWater: 200 });
    const c = client();
    const e = t.attach(c, 0, 80, 24);
    const pty = ptys.spawned[0]!;
    // `yes` produces forever; only about highWater bytes get past the pause.
    for (let i = 0; i < 10_000; i++) pty.emit('y\n');
    expect(t.isPaused).toBe(true);
    expect(t.bufferedBytes).toBeLessThan(1100);
    expect(pty.heldBytes).toBeGreaterThan(15_000);
    // Acknowledging releases the held output, which runs until the next high watermark.
    const lastSeq = () => { const f = c.frames.at(-1); return f?.type === 'data' ? f.seq : 0; };
    const before = lastSeq();
    t.ack(e, before);
    expect(lastSeq()).toBeGreaterThan(before);
    expect(t.isPaused).toBe(true);
    // Over many cycles the runner holds at most the replay bound plus one watermark.
    for (let i = 0; i < 50; i++) t.ack(e, lastSeq());
    expect(t.bufferedBytes).toBeLessThanOrEqual(1024 * 1024 + 1000);
    // …and everything the shell wrote arrived, in order, once.
    expect(pty.heldBytes).toBe(0);
    expect(c.text()).toBe('y\n'.repeat(10_000));
  });

  it('pauses when nobody is attached, so an unwatched terminal cannot grow the runner', () => {
    const ptys = new FakePtyFactory();
    const t = new Terminal({ name: 'w', argv: ['x'], ptys, highWater: 500, lowWater: 100 });
    const e = t.attach(client(), 0, 80, 24);
    t.detach(e);
    for (let i = 0; i < 5000; i++) ptys.spawned[0]!.emit('y\n');
    expect(t.isPaused).toBe(true);
    expect(t.bufferedBytes).toBeLessThan(600);
    const held = ptys.spawned[0]!.heldBytes;
    // A reconnect gets everything that was produced, then acknowledging lets the shell go on.
    const c = client();
    const e2 = t.attach(c, 0, 80, 24);
    const seqs = c.frames.flatMap((f) => (f.type === 'data' ? [f.seq] : []));
    expect(seqs[0]).toBe(1);
    t.ack(e2, seqs.at(-1)!);
    expect(ptys.spawned[0]!.heldBytes).toBeLessThan(held);
  });

  it('sends exit when the shell ends and starts a fresh one on the next attach', () => {
    const ptys = new FakePtyFactory();
    const t = new Terminal({ name: 'w', argv: ['x'], ptys });
    const c = client();
    t.attach(c, 0, 80, 24);
    ptys.spawned[0]!.exit(0);
    expect(c.frames.at(-1)).toEqual({ type: 'exit', exitCode: 0 });
    t.attach(client(), 0, 80, 24);
    expect(ptys.spawned).toHaveLength(2);
  });

  it('refuses an ack beyond what was sent: a lying client cannot switch flow control off', () => {
    const ptys = new FakePtyFactory();
    const t = new Terminal({ name: 'w', argv: ['x'], ptys, highWater: 1000, lowWater: 200 });
    const c = client();
    const e = t.attach(c, 0, 80, 24);
    const pty = ptys.spawned[0]!;
    for (let i = 0; i < 2000; i++) {
      pty.emit('y\n');
      // The client claims to have rendered far more than exists.
      if (i % 100 === 0) expect(t.ack(e, 9e15)).toMatchObject({ ok: false });
    }
    expect(t.isPaused).toBe(true);
    expect(t.bufferedBytes).toBeLessThan(1100);
  });

  it('pauses on the bytes the socket still holds, whatever the client acknowledges', () => {
    const ptys = new FakePtyFactory();
    const t = new Terminal({ name: 'w', argv: ['x'], ptys, highWater: 1000, lowWater: 200 });
    // A client that acks every chunk at once but never reads: its socket buffer grows.
    let held = 0;
    let last = 0;
    const e = t.attach({ send: (f) => { if (f.type === 'data') { held += f.data.length; last = f.seq; } }, bufferedBytes: () => held }, 0, 80, 24);
    const pty = ptys.spawned[0]!;
    for (let i = 0; i < 10_000; i++) {
      pty.emit('y\n');
      t.ack(e, last);
    }
    expect(t.isPaused).toBe(true);
    expect(held).toBeLessThan(1100);
    expect(pty.heldBytes).toBeGreaterThan(15_000);
    // The kernel takes the bytes: the shell goes on (until the socket fills again).
    const before = pty.heldBytes;
    held = 0;
    t.drained();
    expect(pty.heldBytes).toBeLessThan(before);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(1100);
  });
});
