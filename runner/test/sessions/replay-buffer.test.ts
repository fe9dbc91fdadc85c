import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../src/sessions/replay-buffer.ts';

describe('ReplayBuffer', () => {
  it('numbers chunks from 1 and replays exactly those after a seq', () => {
    const b = new ReplayBuffer({ maxBytes: 1000, maxAgeMs: 60_000 });
    for (const d of ['a', 'b', 'c', 'd']) b.push(d);
    expect(b.since(2)).toEqual({ chunks: [expect.objectContaining({ seq: 3, data: 'c' }), expect.objectContaining({ seq: 4, data: 'd' })], missed: false });
    expect(b.since(4).chunks).toEqual([]);
    expect(b.since(0).chunks.map((c) => c.data).join('')).toBe('abcd');
  });

  it('drops whole chunks from the front when over its byte bound and reports the gap', () => {
    const b = new ReplayBuffer({ maxBytes: 10, maxAgeMs: 60_000 });
    b.push('12345');
    b.push('67890');
    b.push('abcde');
    expect(b.bytes).toBe(10);
    const r = b.since(0);
    expect(r.missed).toBe(true);
    expect(r.chunks.map((c) => c.data)).toEqual(['67890', 'abcde']);
    expect(b.since(1).missed).toBe(false);
  });

  it('keeps a single chunk larger than the bound rather than splitting it', () => {
    const b = new ReplayBuffer({ maxBytes: 4, maxAgeMs: 60_000 });
    b.push('0123456789');
    expect(b.since(0).chunks.map((c) => c.data)).toEqual(['0123456789']);
  });

  it('drops chunks older than its age bound', () => {
    let t = 0;
    const b = new ReplayBuffer({ maxBytes: 1000, maxAgeMs: 100, now: () => t });
    b.push('old');
    t = 50;
    b.push('new');
    t = 120;
    const r = b.since(0);
    expect(r.chunks.map((c) => c.data)).toEqual(['new']);
    expect(r.missed).toBe(true);
  });

  it('counts multi-byte characters in bytes', () => {
    const b = new ReplayBuffer({ maxBytes: 1000, maxAgeMs: 1000 });
    b.push('服务');
    expect(b.bytes).toBe(6);
    expect(b.bytesAfter(0)).toBe(6);
    expect(b.bytesAfter(1)).toBe(0);
  });

  it('stays bounded over a long stream', () => {
    const b = new ReplayBuffer({ maxBytes: 4096, maxAgeMs: 60_000 });
    for (let i = 0; i < 100_000; i++) b.push('y\r\n');
    expect(b.bytes).toBeLessThanOrEqual(4096);
    expect(b.nextSeq).toBe(100_001);
    expect(b.since(100_000 - 1).chunks).toHaveLength(1);
  });
});
