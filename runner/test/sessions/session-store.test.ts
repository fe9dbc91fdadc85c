// Terminal history on disk: bounded by the replay buffer, written throttled and whole,
// and read back with the same seqs; a broken file is no history, never a crash.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../src/sessions/replay-buffer.ts';
import { decodeHistory, encodeHistory, FileSessionStore } from '../../src/sessions/session-store.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'svclab-hist-')); dirs.push(d); return d; };

describe('terminal history', () => {
  it('round-trips a replay buffer with its seqs, so a client that saw up to N gets what came after', () => {
    const a = new ReplayBuffer({ maxBytes: 1000, maxAgeMs: 60_000 });
    for (const d of ['$ ', 'echo 你好\r\n', '\u001b[1mbold\u001b[0m']) a.push(d);
    const b = new ReplayBuffer({ maxBytes: 1000, maxAgeMs: 60_000 });
    b.restore(decodeHistory(encodeHistory(a.snapshot()))!);
    expect(b.nextSeq).toBe(4);
    expect(b.since(1).chunks.map((c) => c.data)).toEqual(['echo 你好\r\n', '\u001b[1mbold\u001b[0m']);
    expect(b.push('x').seq).toBe(4);
  });

  it('the file is the buffer\'s bytes plus a small header per chunk, however much was written', async () => {
    const store = new FileSessionStore(tmp(), { throttleMs: 1 });
    const buf = new ReplayBuffer({ maxBytes: 64 * 1024, maxAgeMs: 60_000 });
    const h = store.history('s1', 'workstation');
    for (let i = 0; i < 2000; i++) {
      buf.push(`${'y\r\n'.repeat(400)}`);
      h.changed(() => buf.snapshot());
    }
    await h.flush();
    const file = join(store.dir, `s1.${Buffer.from('workstation').toString('base64url')}.history`);
    const size = statSync(file).size;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // 2.4 MB written to the terminal; the buffer holds ≤ 64 KiB (+ one chunk), the file ≤ that + 40 bytes a chunk.
    expect(buf.bytes).toBeLessThanOrEqual(64 * 1024 + 1200);
    expect(size).toBeLessThanOrEqual(buf.bytes + 40 * buf.length + 64);
    expect(decodeHistory(readFileSync(file))!.chunks.length).toBe(buf.length);
  });

  it('a truncated or foreign file is no history', () => {
    const good = encodeHistory({ nextSeq: 3, chunks: [{ seq: 1, at: 0, data: 'ab' }, { seq: 2, at: 0, data: 'cd' }] });
    expect(decodeHistory(good)).toMatchObject({ nextSeq: 3 });
    expect(decodeHistory(good.subarray(0, good.length - 1))).toBeUndefined();
    expect(decodeHistory(Buffer.from('{"v":2}\n'))).toBeUndefined();
    expect(decodeHistory(Buffer.from('not json\nxx'))).toBeUndefined();
    const dir = tmp();
    const store = new FileSessionStore(dir);
    writeFileSync(join(dir, `s1.${Buffer.from('workstation').toString('base64url')}.history`), 'garbage');
    expect(store.history('s1', 'workstation').load()).toBeUndefined();
    writeFileSync(join(dir, 's2.json'), '{"version":1}');
    expect(store.load('s2')).toBeUndefined();
    expect(store.load('../etc/passwd')).toBeUndefined();
  });

  it('changes are written throttled, not once per chunk', async () => {
    const store = new FileSessionStore(tmp(), { throttleMs: 30 });
    const buf = new ReplayBuffer({ maxBytes: 1 << 20, maxAgeMs: 60_000 });
    const h = store.history('s1', 'workstation');
    let snapshots = 0;
    for (let i = 0; i < 500; i++) {
      buf.push('z');
      h.changed(() => { snapshots++; return buf.snapshot(); });
    }
    await new Promise((r) => setTimeout(r, 80));
    await h.flush();
    expect(snapshots).toBe(1);
    expect(h.load()?.chunks.length).toBe(500);
  });
});
