// The aggregation on its own: grid states and time on step from a session's progress and
// checks, the failing checks most learners hit, the CSV's quoting, and the coalescer's pace.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Coalescer } from '../../src/instructor/coalescer.ts';
import { csvField } from '../../src/instructor/export.ts';
import { failingChecks, gridCells } from '../../src/instructor/grid.ts';
import { workshopRoom } from '../../src/instructor/workshop-room.ts';
import type { Session, StepCheckRecord } from '../../src/sessions/session-manager.ts';
import { Workshop } from '../../src/workshop/workshop.ts';
import { MemoryWorkshopStore } from '../../src/workshop/workshop-store.ts';

const T0 = Date.parse('2026-12-02T09:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const lab = { steps: ['a', 'b', 'c'].map((id) => ({ id, title: { en: id, zh: id }, checks: [], hintCount: 0 })) };

function session(over: Partial<Session> & { checks?: Record<string, Partial<StepCheckRecord>> } = {}): Session {
  const { checks, ...rest } = over;
  return {
    id: 's1', labId: 'lab', createdAt: at(0), workstation: 'w', state: 'ready', learner: 'learner-1', lastSeen: T0, ready: Promise.resolve(),
    terminals: new Map(), progress: new Map(),
    lastChecks: new Map(Object.entries(checks ?? {}).map(([k, v]) => [k, { firstAt: at(0), at: at(0), attempts: 1, passed: false, results: [], ...v }])),
    ...rest,
  };
}
const fail = (checkId: string, message: string) => ({ checkId, kind: 'command', status: 'fail' as const, message });

describe('gridCells', () => {
  it('marks done steps passed or solved with help with their time, the first open step working, the rest not started', () => {
    const s = session({ progress: new Map([['a', { status: 'passed', at: at(90) }], ['b', { status: 'solved-with-help', at: at(300) }]]) });
    expect(gridCells(lab, s, T0 + 400_000)).toEqual([
      { state: 'passed', since: at(0), doneAt: at(90), seconds: 90, attempts: 0, failing: 0 },
      { state: 'solved-with-help', since: at(90), doneAt: at(300), seconds: 210, attempts: 0, failing: 0 },
      { state: 'working', since: at(300), seconds: 100, attempts: 0, failing: 0 },
    ]);
  });

  it('counts attempts and failing checks of the latest Check; a later step is working only once checked', () => {
    const s = session({ checks: { a: { attempts: 3, results: [fail('c1', 'x'), fail('c2', 'y'), { ...fail('c3', 'z'), status: 'pass' }] }, c: { firstAt: at(50), attempts: 1, results: [fail('c1', 'x')] } } });
    const cells = gridCells(lab, s, T0 + 60_000);
    expect(cells.map((c) => [c.state, c.attempts, c.failing])).toEqual([['working', 3, 2], ['not-started', 0, 0], ['working', 1, 1]]);
    expect(cells[2]).toMatchObject({ since: at(50), seconds: 10 });
  });

  it('shows nothing started while the session is still starting', () => {
    expect(gridCells(lab, session({ state: 'waiting' }), T0).map((c) => c.state)).toEqual(['not-started', 'not-started', 'not-started']);
  });
});

describe('failingChecks', () => {
  it('groups the latest failing results by check, most learners first, with their messages, ignoring finished steps', () => {
    const sessions = [
      session({ id: 's1', learner: 'ann', checks: { a: { results: [fail('sel', 'no pod has app=web')] } } }),
      session({ id: 's2', learner: 'bob', checks: { a: { results: [fail('sel', 'no pod has app=web'), fail('port', 'port 80 closed')] } } }),
      session({ id: 's3', learner: 'cat', checks: { a: { results: [fail('sel', 'Service web has no selector')] } } }),
      // Passed since: its old failure does not count, nor does it count as checking.
      session({ id: 's4', learner: 'dan', progress: new Map([['a', { status: 'passed', at: at(5) }]]), checks: { a: { results: [fail('sel', 'old')] } } }),
      session({ id: 's5', learner: 'eve', checks: { a: { passed: true, results: [{ ...fail('sel', 'ok'), status: 'pass' }] } } }),
    ];
    expect(failingChecks(sessions)).toEqual([
      { labId: 'lab', stepId: 'a', checkId: 'sel', kind: 'command', learners: 3, of: 4, messages: [{ message: 'no pod has app=web', learners: 2 }, { message: 'Service web has no selector', learners: 1 }] },
      { labId: 'lab', stepId: 'a', checkId: 'port', kind: 'command', learners: 1, of: 4, messages: [{ message: 'port 80 closed', learners: 1 }] },
    ]);
  });
});

describe('csvField', () => {
  it('quotes commas, quotes and line breaks, and defuses spreadsheet formulas in names', () => {
    expect(csvField('Ada')).toBe('Ada');
    expect(csvField('Lovelace, Ada')).toBe('"Lovelace, Ada"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField(-3)).toBe('-3');
    expect(csvField(undefined)).toBe('');
  });
});

describe('Coalescer', () => {
  afterEach(() => { vi.useRealTimers(); });
  it('sends the first change of a quiet spell at once and a burst at most every gap', () => {
    vi.useFakeTimers({ now: 0 });
    const sent: number[] = [];
    const c = new Coalescer(() => sent.push(Date.now()), { gapMs: 250 });
    c.poke();
    c.poke();
    vi.advanceTimersByTime(0);
    expect(sent).toEqual([0]);
    for (let i = 0; i < 50; i++) {
      c.poke();
      vi.advanceTimersByTime(10);
    }
    // 500 ms of changes every 10 ms: the first at 0, then one per 250 ms.
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < sent.length; i++) expect(sent[i]! - sent[i - 1]!).toBeGreaterThanOrEqual(250);
    c.stop();
  });
});

describe('workshopRoom', () => {
  it("gives the room the workshop's labs, names and each learner's end, extends everyone or one learner", async () => {
    let now = Date.parse('2026-12-02T09:00:00.000Z');
    const store = new MemoryWorkshopStore();
    const ws = await Workshop.create({ store, now: () => now }, { labs: ['02-selectors-and-endpoints'], capacity: 5, reserve: 0, durationMs: 3600_000 });
    const ada = (await ws.join({ code: ws.code, name: 'Ada', address: '10.0.0.2' })).learner;
    const room = workshopRoom(ws);
    expect(room.labs).toEqual(['02-selectors-and-endpoints']);
    expect([...(await room.names()).values()]).toEqual(['Ada']);
    expect(room.expiresAt('x')).toBe('2026-12-02T10:00:00.000Z');
    expect(await room.extend({ all: true }, 30)).toBe(1);
    expect(room.expiresAt('x')).toBe('2026-12-02T10:30:00.000Z');
    // One learner, by the short id the page lists: their own end; the room's stays.
    expect(await room.extend({ learner: ada.id.slice(0, 6) }, 5)).toBe(1);
    expect(room.expiresAt(ada.id)).toBe('2026-12-02T10:35:00.000Z');
    expect(room.expiresAt('x')).toBe('2026-12-02T10:30:00.000Z');
    await expect(room.extend({ learner: 'x' }, 5)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('no learner "x"') });
  });
});
