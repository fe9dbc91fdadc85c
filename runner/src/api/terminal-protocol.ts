// The terminal WebSocket protocol (WS /api/sessions/:id/terminal), shared by the runner and
// the site (types only on the site side). Every output chunk carries a sequence number so a reconnect
// can ask for exactly what it missed.
import { z } from 'zod';

export const MAX_FRAME_BYTES = 1024 * 1024;
export const MAX_COLS = 1000;
export const MAX_ROWS = 500;
/** A page's id for its keystrokes (hello's `client`). */
export const CLIENT_ID = /^[A-Za-z0-9_-]{8,64}$/;

export const clientFrameSchema = z.discriminatedUnion('type', [
  /**
   * First frame after connecting: `since` is the last seq the client has rendered (0 for none).
   * `client`: the page's id for its keystrokes, so a runner that can (a shell kept in a pod)
   * takes input sent again after a reconnect only once (see `at`, and hello's `input`).
   */
  z.strictObject({ type: z.literal('hello'), since: z.number().int().min(0), cols: z.number().int(), rows: z.number().int(), client: z.string().regex(CLIENT_ID).optional() }),
  /** `at`: where `data` starts in this page's input, in UTF-8 bytes (with hello's `client`). */
  z.strictObject({ type: z.literal('data'), data: z.string(), at: z.number().int().min(0).optional() }),
  z.strictObject({ type: z.literal('resize'), cols: z.number().int(), rows: z.number().int() }),
  z.strictObject({ type: z.literal('ping'), t: z.number() }),
  /** The client has rendered everything up to `seq` (flow control). */
  z.strictObject({ type: z.literal('ack'), seq: z.number().int().min(0) }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

export const serverFrameSchema = z.discriminatedUnion('type', [
  /**
   * Answers hello: the next seq it will send, how many chunks it replayed, whether some were lost
   * (buffer overflow). `input`, when the runner can tell: how many bytes of this client's input
   * the shell got — the page sends again what it sent after that (it arrives once); without
   * it, input sent before is not sent again.
   */
  z.strictObject({ type: z.literal('hello'), terminal: z.string(), nextSeq: z.number().int(), replayed: z.number().int(), missed: z.boolean(), input: z.number().int().min(0).optional() }),
  z.strictObject({ type: z.literal('data'), seq: z.number().int(), data: z.string() }),
  z.strictObject({ type: z.literal('pong'), t: z.number() }),
  z.strictObject({ type: z.literal('exit'), exitCode: z.number().int() }),
  /** fatal: the runner closes the socket after it. */
  z.strictObject({ type: z.literal('error'), code: z.string(), message: z.string(), hint: z.string(), fatal: z.boolean() }),
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;

export type FrameParse = { ok: true; frame: ClientFrame } | { ok: false; code: 'FRAME_INVALID' | 'FRAME_TOO_LARGE' | 'RESIZE_INVALID'; message: string };

export function parseClientFrame(raw: string | Buffer): FrameParse {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > MAX_FRAME_BYTES) return { ok: false, code: 'FRAME_TOO_LARGE', message: `Frame of ${size} bytes is over the ${MAX_FRAME_BYTES}-byte limit.` };
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return { ok: false, code: 'FRAME_INVALID', message: 'Frame is not JSON.' };
  }
  const parsed = clientFrameSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length ? ` at "${issue.path.join('.')}"` : '';
    return { ok: false, code: 'FRAME_INVALID', message: `Frame not understood${where}: ${issue?.message ?? 'invalid'}.` };
  }
  const frame = parsed.data;
  if ((frame.type === 'resize' || frame.type === 'hello') && !validSize(frame.cols, frame.rows)) {
    return { ok: false, code: 'RESIZE_INVALID', message: `Terminal size ${frame.cols}×${frame.rows} is outside 1–${MAX_COLS} columns and 1–${MAX_ROWS} rows.` };
  }
  return { ok: true, frame };
}

export function validSize(cols: number, rows: number): boolean {
  return cols >= 1 && cols <= MAX_COLS && rows >= 1 && rows <= MAX_ROWS;
}
