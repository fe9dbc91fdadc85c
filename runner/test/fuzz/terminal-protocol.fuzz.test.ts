// Fuzz: the terminal WebSocket protocol parser answers every input with a frame
// or a catalogue error — never a throw, never an accepted frame outside the schema.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientFrameSchema, MAX_COLS, MAX_ROWS, parseClientFrame } from '../../src/api/terminal-protocol.ts';
import { fuzz, fuzzRuns } from './fuzz-harness.ts';

const CODES = new Set(['FRAME_INVALID', 'FRAME_TOO_LARGE', 'RESIZE_INVALID']);

function holds(raw: string | Buffer): void {
  const r = parseClientFrame(raw);
  if (r.ok) {
    expect(clientFrameSchema.safeParse(r.frame).success).toBe(true);
    if (r.frame.type === 'resize' || r.frame.type === 'hello') {
      expect(r.frame.cols).toBeGreaterThanOrEqual(1);
      expect(r.frame.cols).toBeLessThanOrEqual(MAX_COLS);
      expect(r.frame.rows).toBeGreaterThanOrEqual(1);
      expect(r.frame.rows).toBeLessThanOrEqual(MAX_ROWS);
    }
  } else {
    expect(CODES.has(r.code)).toBe(true);
    expect(r.message.length).toBeGreaterThan(0);
  }
}

/** Frames that look almost right: known types with fields of any shape. */
const nearFrame = fc.record({
  type: fc.oneof(fc.constantFrom('hello', 'data', 'resize', 'ping', 'ack', 'exit', '__proto__', 'constructor'), fc.string()),
  since: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
  cols: fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER)),
  rows: fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.double()),
  data: fc.oneof(fc.string(), fc.integer(), fc.object()),
  seq: fc.oneof(fc.integer(), fc.constant(9e15), fc.double()),
  t: fc.oneof(fc.double(), fc.string()),
}, { requiredKeys: ['type'] });

describe('fuzz: terminal protocol', () => {
  it('answers any text, JSON value or near-frame without throwing (≥10,000 cases)', async () => {
    const runs = fuzzRuns(4000);
    let n = 0;
    n += await fuzz('terminal-text', fc.string({ unit: 'binary', maxLength: 300 }), holds, runs);
    n += await fuzz('terminal-json', fc.jsonValue({ maxDepth: 4 }), (v) => holds(JSON.stringify(v) ?? 'null'), runs);
    n += await fuzz('terminal-near-frame', nearFrame, (v) => holds(JSON.stringify(v)), runs);
    n += await fuzz('terminal-bytes', fc.uint8Array({ maxLength: 200 }), (b) => holds(Buffer.from(b)), runs / 4);
    expect(n).toBeGreaterThanOrEqual(10_000);
  });
});
