import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, parseClientFrame } from '../../src/api/terminal-protocol.ts';

describe('parseClientFrame', () => {
  it('accepts each client frame type', () => {
    for (const f of [
      { type: 'hello', since: 0, cols: 80, rows: 24 },
      { type: 'data', data: 'ls\r' },
      { type: 'resize', cols: 120, rows: 40 },
      { type: 'ping', t: 1 },
      { type: 'ack', seq: 7 },
    ]) expect(parseClientFrame(JSON.stringify(f))).toEqual({ ok: true, frame: f });
  });

  it('rejects non-JSON', () => {
    expect(parseClientFrame('not json')).toMatchObject({ ok: false, code: 'FRAME_INVALID', message: 'Frame is not JSON.' });
  });

  it('rejects an unknown type and unknown fields, naming the field', () => {
    expect(parseClientFrame('{"type":"shutdown"}')).toMatchObject({ ok: false, code: 'FRAME_INVALID' });
    const r = parseClientFrame('{"type":"data","data":"x","extra":1}');
    expect(r).toMatchObject({ ok: false, code: 'FRAME_INVALID' });
    if (!r.ok) expect(r.message).toMatch(/extra/);
  });

  it('rejects a frame over 1 MiB before parsing it', () => {
    const big = JSON.stringify({ type: 'data', data: 'x'.repeat(MAX_FRAME_BYTES) });
    expect(parseClientFrame(big)).toMatchObject({ ok: false, code: 'FRAME_TOO_LARGE' });
  });

  it('rejects impossible terminal sizes with the numbers', () => {
    for (const [cols, rows] of [[0, 24], [100000, 24], [80, 0], [80, 501]]) {
      const r = parseClientFrame(JSON.stringify({ type: 'resize', cols, rows }));
      expect(r).toMatchObject({ ok: false, code: 'RESIZE_INVALID' });
      if (!r.ok) expect(r.message).toContain(`${cols}×${rows}`);
    }
  });
});
