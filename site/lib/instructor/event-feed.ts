// One connection to GET /api/instructor/events: a fetch whose body is read as server-sent
// events (fetch, not EventSource, so a 401/403 is told apart from a lost network and the
// back-off is ours). Each `snapshot` event goes to onSnapshot; a dropped stream reconnects
// after 1, 2, 4 … 30 s, and at once when the page becomes visible again.
import type { InstructorSnapshot } from '../../../runner/src/api/instructor.ts';

export type FeedFailure = { kind: 'unreachable' | 'not-runner' | 'token' | 'forbidden' | 'failed'; code?: string };

export type SseEvent = { event: string; data: string; id?: string };

/** Split complete events off `buffer`; the rest waits for more bytes. Comments (": …") are skipped. */
export function parseSse(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const text = buffer.replace(/\r\n?/g, '\n');
  const blocks = text.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (data.length) events.push({ event, data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
  }
  return { events, rest };
}

/** 1, 2, 4, 8, 16, then 30 s between attempts. */
export function backoffMs(failures: number): number {
  return failures <= 0 ? 0 : Math.min(30_000, 1000 * 2 ** (failures - 1));
}

/** What an answer other than a stream means. */
export function classifyFeedAnswer(status: number, contentType: string, body: unknown): FeedFailure | undefined {
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  const c = typeof code === 'string' ? code : undefined;
  if (status === 401 || c?.startsWith('TOKEN_') || c === 'JOIN_REQUIRED' || c === 'CREDENTIAL_INVALID') return { kind: 'token', ...(c ? { code: c } : {}) };
  if (c === 'INSTRUCTOR_ONLY') return { kind: 'forbidden', code: c };
  if (status >= 200 && status < 300) return contentType.startsWith('text/event-stream') ? undefined : { kind: 'not-runner' };
  if (status === 404 || !c) return { kind: 'not-runner' };
  return { kind: 'failed', code: c };
}

export interface FeedHandlers {
  onSnapshot(s: InstructorSnapshot): void;
  /** Connected (true) or lost with why and when the next attempt is (false). */
  onState(s: { connected: true } | { connected: false; failure: FeedFailure; retryInMs: number }): void;
}

export type FeedHandle = { reconnect(): void; stop(): void };

export function openFeed(url: string, h: FeedHandlers): FeedHandle {
  let stopped = false;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current: AbortController | undefined;

  async function connect(): Promise<void> {
    clearTimeout(timer);
    current?.abort();
    const ac = new AbortController();
    current = ac;
    let failure: FeedFailure = { kind: 'unreachable' };
    try {
      const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'text/event-stream' }, cache: 'no-store', signal: ac.signal });
      const type = res.headers.get('content-type') ?? '';
      let body: unknown;
      if (!type.startsWith('text/event-stream')) body = await res.json().catch(() => undefined);
      const bad = classifyFeedAnswer(res.status, type, body);
      if (bad || !res.body) {
        failure = bad ?? { kind: 'not-runner' };
      } else {
        const reader = res.body.getReader();
        const dec = new TextDecoder();
        let buf = '';
        let first = true;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          const { events, rest } = parseSse(buf);
          buf = rest;
          for (const e of events) {
            if (e.event !== 'snapshot') continue;
            if (first) {
              first = false;
              failures = 0;
              h.onState({ connected: true });
            }
            h.onSnapshot(JSON.parse(e.data) as InstructorSnapshot);
          }
        }
      }
    } catch {
      if (ac.signal.aborted) return;
    }
    if (stopped || current !== ac) return;
    failures++;
    const retryInMs = backoffMs(failures);
    h.onState({ connected: false, failure, retryInMs });
    // A refused credential won't fix itself: wait for the instructor (Reconnect now, or a reload).
    if (failure.kind !== 'token' && failure.kind !== 'forbidden' && document.visibilityState !== 'hidden') timer = setTimeout(() => void connect(), retryInMs);
  }

  const onVisible = () => {
    if (document.visibilityState === 'visible' && !current && !stopped) void connect();
  };
  const onHidden = () => {
    // A hidden page keeps no connection open; it catches up with a snapshot when seen again.
    if (document.visibilityState === 'hidden') {
      clearTimeout(timer);
      current?.abort();
      current = undefined;
    }
  };
  const onChange = () => (document.visibilityState === 'hidden' ? onHidden() : onVisible());
  document.addEventListener('visibilitychange', onChange);
  void connect();
  return {
    reconnect: () => { failures = 0; void connect(); },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      current?.abort();
      document.removeEventListener('visibilitychange', onChange);
    },
  };
}
