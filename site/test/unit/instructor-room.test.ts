// The live instructor page's pure parts: the event-stream parser, the reconnect back-off, what a
// non-stream answer means, and the view of a snapshot (cells, gate actions, failing checks) in
// both languages.
import { describe, expect, it } from 'vitest';
import type { InstructorSnapshot } from '../../../runner/src/api/instructor.ts';
import { backoffMs, classifyFeedAnswer, parseSse } from '../../lib/instructor/event-feed.ts';
import { boardStrings } from '../../lib/instructor/instructor-strings.ts';
import { roomStrings } from '../../lib/instructor/room-strings.ts';
import { gateView, roomView } from '../../lib/instructor/room-view.ts';

describe('parseSse', () => {
  it('splits complete events, joins data lines, skips comments and keeps a partial event for later', () => {
    const { events, rest } = parseSse(': svclab\n\nevent: snapshot\nid: 7\ndata: {"a":\ndata: 1}\n\nevent: snapshot\r\ndata: {"b"');
    expect(events).toEqual([{ event: 'snapshot', id: '7', data: '{"a":\n1}' }]);
    expect(rest).toBe('event: snapshot\ndata: {"b"');
    expect(parseSse(`${rest}:2}\n\n`).events).toEqual([{ event: 'snapshot', data: '{"b":2}' }]);
  });
});

describe('reconnecting', () => {
  it('backs off 1, 2, 4, 8, 16 then 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 9].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('tells a refused credential, a learner, a static site and a runner error apart', () => {
    expect(classifyFeedAnswer(200, 'text/event-stream; charset=utf-8', undefined)).toBeUndefined();
    expect(classifyFeedAnswer(401, 'application/json', { error: { code: 'TOKEN_WRONG' } })).toEqual({ kind: 'token', code: 'TOKEN_WRONG' });
    expect(classifyFeedAnswer(403, 'application/json', { error: { code: 'INSTRUCTOR_ONLY' } })).toEqual({ kind: 'forbidden', code: 'INSTRUCTOR_ONLY' });
    expect(classifyFeedAnswer(200, 'text/html', undefined)).toEqual({ kind: 'not-runner' });
    expect(classifyFeedAnswer(404, 'text/html', undefined)).toEqual({ kind: 'not-runner' });
    expect(classifyFeedAnswer(500, 'application/json', { error: { code: 'INTERNAL' } })).toEqual({ kind: 'failed', code: 'INTERNAL' });
  });
});

const snap: InstructorSnapshot = {
  seq: 3, at: '2026-12-02T10:00:00.000Z', workshop: false, pool: null, broadcast: { message: 'Break until 11:00', at: '2026-12-02T09:59:00.000Z' },
  labs: [{
    labId: '02-selectors-and-endpoints', title: { en: 'Selectors', zh: '选择器' }, open: 1,
    steps: [{ id: 'observe', title: { en: 'Observe', zh: '观察' } }, { id: 'label', title: { en: 'Label the pods', zh: '给 Pod 加标签' } }],
    rows: [{
      session: 's1', learner: 'k3Jx9q', name: 'Ada', state: 'ready', lastActivity: '2026-12-02T09:58:00.000Z',
      cells: [
        { state: 'passed', since: '2026-12-02T09:50:00.000Z', doneAt: '2026-12-02T09:52:05.000Z', seconds: 125, attempts: 2, failing: 0 },
        { state: 'working', since: '2026-12-02T09:52:05.000Z', seconds: 475, attempts: 3, failing: 1 },
      ],
    }],
  }],
  failing: [{ labId: '02-selectors-and-endpoints', stepId: 'label', checkId: 'selects', kind: 'endpoints', learners: 3, of: 4, messages: [{ message: 'no pod has role=web', learners: 2 }] }],
};

describe('roomView', () => {
  it('writes cells, headers, activity, the gate and the failing checks in English', () => {
    const v = roomView(snap, { t: roomStrings('en'), b: boardStrings('en'), lang: 'en' });
    const lab = v.labs[0]!;
    expect(lab.caption).toBe('Selectors: learners and their steps');
    expect(lab.steps).toEqual(['1. Observe', '2. Label the pods']);
    expect(lab.rows[0]!.cells).toEqual([
      { text: 'passed', state: 'passed', sub: '2 min 5 s · 2 checks' },
      { text: 'working', state: 'working', sub: '7 min 55 s · 3 checks · 1 failing' },
    ]);
    expect(lab.rows[0]!.activity).toBe('2 min ago');
    expect(lab.gate).toEqual({ text: 'Only step 1 of 2 is open; learners cannot check later steps yet.', actions: [{ label: 'Unlock step 2 for everyone', open: 2 }, { label: 'Open every step', open: null }] });
    expect(v.failing).toEqual([{ key: '02-selectors-and-endpoints/label/selects', text: '3 of 4 learners: Selectors, step 2 “Label the pods”, check selects', messages: ['2× “no pod has role=web”'] }]);
    expect(v.broadcast).toBe('Learners see: “Break until 11:00”');
  });

  it('speaks Chinese on the zh page', () => {
    const v = roomView(snap, { t: roomStrings('zh'), b: boardStrings('zh'), lang: 'zh' });
    expect(v.labs[0]!.steps).toEqual(['1. 观察', '2. 给 Pod 加标签']);
    expect(v.labs[0]!.rows[0]!.cells[1]!.text).toBe('进行中');
    expect(v.failing[0]!.text).toContain('第 2 步“给 Pod 加标签”');
  });

  it('offers to gate an ungated lab at step 1, and nothing to gate with one step', () => {
    const t = roomStrings('en');
    expect(gateView({ open: null, steps: snap.labs[0]!.steps }, t).actions).toEqual([{ label: 'Gate: open step 1 only', open: 1 }]);
    expect(gateView({ open: null, steps: [snap.labs[0]!.steps[0]!] }, t).actions).toEqual([]);
  });
});
