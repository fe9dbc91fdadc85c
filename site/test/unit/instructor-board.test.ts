// The instructor board's pure parts: reading GET /api/status (both shapes the runner answers),
// what a failed request means, the durations, rows and summary lines in both languages, the
// refresh back-off and how often the live region speaks.
import { describe, expect, it } from 'vitest';
import { boardView, failureText, formatDuration, labHref, nextDelayMs, shouldAnnounce } from '../../lib/instructor/board-view.ts';
import { classifyAnswer, normalizeStatus, type RunnerStatus } from '../../lib/instructor/instructor-status.ts';
import { boardStrings, fill } from '../../lib/instructor/instructor-strings.ts';

const en = boardStrings('en');
const zh = boardStrings('zh');

/** What runnerStatus() (runner/src/pool/runner-status.ts) answers for a busy workshop. */
const busy = {
  pid: 4242,
  at: '2026-11-26T04:30:00.000Z',
  pool: {
    size: 4,
    clusters: [
      { name: 'svclab-pool-1', state: 'claimed', forSeconds: 754, owner: 'k3Jx9q' },
      { name: 'svclab-pool-2', state: 'claimed', forSeconds: 61, owner: 'Ab12Cd' },
      { name: 'svclab-pool-3', state: 'provisioning', forSeconds: 42 },
      { name: 'svclab-pool-4', state: 'recycling', forSeconds: 5 },
    ],
    waiting: 2,
    provisionMs: { last: 95_000, average: 92_400, count: 5 },
  },
  sessions: [
    { id: 's3', learner: 'zz99yy', labId: '02-selectors-and-endpoints', state: 'waiting', cluster: null, stepsDone: 0, solvedWithHelp: 0, idleSeconds: 3, wait: { position: 2 } },
    { id: 's1', learner: 'k3Jx9q', labId: '02-selectors-and-endpoints', state: 'ready', cluster: 'svclab-pool-1', stepsDone: 3, solvedWithHelp: 1, idleSeconds: 125 },
    { id: 's4', learner: 'Qw55er', labId: '10-externalname-and-loadbalancer', state: 'waiting', cluster: null, stepsDone: 0, solvedWithHelp: 0, idleSeconds: 0, wait: { position: 1, etaSeconds: 80 } },
    { id: 's2', learner: 'Ab12Cd', labId: '07-nodeport', state: 'applying', cluster: 'svclab-pool-2', stepsDone: 0, solvedWithHelp: 0, idleSeconds: 4000 },
  ],
};

const status = (raw: unknown): RunnerStatus => {
  const s = normalizeStatus(raw);
  if (!s) throw new Error('not a status');
  return s;
};
const texts = (cells: { text: string; sub?: string }[]) => cells.map((c) => (c.sub ? `${c.text} / ${c.sub}` : c.text));

describe('normalizeStatus', () => {
  it('keeps what the runner reports', () => {
    const s = status(busy);
    expect(s.pool?.clusters).toHaveLength(4);
    expect(s.pool?.provisionMs).toEqual({ last: 95_000, average: 92_400, count: 5 });
    expect(s.sessions[0]).toEqual({ id: 's3', learner: 'zz99yy', labId: '02-selectors-and-endpoints', state: 'waiting', cluster: null, stepsDone: 0, solvedWithHelp: 0, idleSeconds: 3, wait: { position: 2 } });
  });

  it('reads the session-view shape a runner without a status source answers', () => {
    const s = status({ pool: null, sessions: [{ id: 'abc', labId: '01-why-services', state: 'ready', cluster: 'svclab-main', steps: [], createdAt: 'x' }] });
    expect(s.pool).toBeNull();
    expect(s.sessions[0]).toEqual({ id: 'abc', learner: '', labId: '01-why-services', state: 'ready', cluster: 'svclab-main' });
    const row = boardView(s, en, 'en').learners[0]!;
    expect(texts(row.cells)).toEqual(['unknown', '01-why-services', 'ready / on svclab-main', 'unknown', 'unknown']);
  });

  it('refuses what is not a status, and drops malformed entries', () => {
    expect(normalizeStatus('<!doctype html>')).toBeUndefined();
    expect(normalizeStatus({ ok: true })).toBeUndefined();
    const s = status({ pool: { size: 'x', clusters: [{ state: 'ready' }, { name: 'c1', state: 'ready', forSeconds: -3 }] }, sessions: [{ labId: 'x' }, { id: 'a', wait: { etaSeconds: 3 } }] });
    expect(s.pool).toEqual({ size: 0, clusters: [{ name: 'c1', state: 'ready', forSeconds: 0 }], waiting: 0, provisionMs: { average: 0, count: 0 } });
    expect(s.sessions).toEqual([{ id: 'a', learner: '', labId: '', state: 'unknown', cluster: null }]);
  });
});

describe('classifyAnswer', () => {
  it('a 200 with a status is the status', () => {
    expect('status' in classifyAnswer(200, busy)).toBe(true);
  });
  it('a page that is not the runner (a static preview answers HTML or 404)', () => {
    expect(classifyAnswer(200, undefined)).toEqual({ failure: { kind: 'not-runner' } });
    expect(classifyAnswer(404, undefined)).toEqual({ failure: { kind: 'not-runner' } });
    expect(classifyAnswer(200, { labs: [] })).toEqual({ failure: { kind: 'not-runner' } });
  });
  it('a refused token, and a runner error with its code', () => {
    expect(classifyAnswer(401, { error: { code: 'TOKEN_WRONG', message: 'm', hint: 'h' } })).toEqual({ failure: { kind: 'token', code: 'TOKEN_WRONG' } });
    expect(classifyAnswer(500, { error: { code: 'INTERNAL', message: 'boom at x.ts:3', hint: 'h' } })).toEqual({ failure: { kind: 'failed', code: 'INTERNAL' } });
    expect(classifyAnswer(502, undefined)).toEqual({ failure: { kind: 'not-runner' } });
    expect(classifyAnswer(503, {})).toEqual({ failure: { kind: 'failed', code: 'HTTP_503' } });
  });
  it('the message and hint never carry the runner’s raw text; the hint says how to start it', () => {
    const f = failureText({ kind: 'failed', code: 'INTERNAL' }, en);
    expect(f).toEqual({ message: 'The runner could not report its status.', hint: expect.stringContaining('log') as string, code: 'Error code: INTERNAL' });
    expect(failureText({ kind: 'unreachable' }, en).hint).toContain('npm start or svclab start --pool auto');
    expect(failureText({ kind: 'unreachable' }, zh).hint).toContain('npm start 或 svclab start --pool auto');
    expect(failureText({ kind: 'unreachable' }, zh).code).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s', '0 秒'],
    [42.4, '42 s', '42 秒'],
    [60, '1 min', '1 分钟'],
    [185, '3 min 5 s', '3 分 5 秒'],
    [4000, '1 h 6 min', '1 小时 6 分'],
    [-5, '0 s', '0 秒'],
  ])('%s s → %s / %s', (s, e, z) => {
    expect(formatDuration(s, en)).toBe(e);
    expect(formatDuration(s, zh)).toBe(z);
  });
});

describe('boardView', () => {
  it('the pool: size, counts per state, each cluster, waiting learners, measured provisioning time', () => {
    const v = boardView(status(busy), en, 'en');
    expect(v.pool?.size).toBe('Pool size: 4 clusters.');
    expect(v.pool?.counts.map((c) => `${c.count} ${c.label}`)).toEqual(['0 ready', '2 claimed', '1 provisioning', '1 recycling']);
    expect(v.pool?.clusters.map((r) => texts(r.cells))).toEqual([
      ['svclab-pool-1', 'claimed', '12 min 34 s', 'k3Jx9q'],
      ['svclab-pool-2', 'claimed', '1 min 1 s', 'Ab12Cd'],
      ['svclab-pool-3', 'provisioning', '42 s', 'none'],
      ['svclab-pool-4', 'recycling', '5 s', 'none'],
    ]);
    expect(v.pool?.waiting).toBe('2 learners are waiting for a cluster.');
    expect(v.pool?.provision).toBe('Average provisioning time: 1 min 32 s (measured over 5 clusters).');
  });

  it('an estimate before any cluster was provisioned; a pool still filling; one learner waiting', () => {
    const raw = { ...busy, pool: { size: 3, clusters: [{ name: 'p1', state: 'provisioning', forSeconds: 10 }], waiting: 1, provisionMs: { average: 120_000, count: 0 } } };
    const v = boardView(status(raw), en, 'en');
    expect(v.pool?.provision).toBe('Average provisioning time: about 2 min (estimate; none provisioned yet).');
    expect(v.pool?.size).toBe('Pool size: 3 clusters (1 right now).');
    expect(v.pool?.waiting).toBe('1 learner is waiting for a cluster.');
    expect(boardView(status(raw), zh, 'zh').pool?.provision).toBe('平均创建时间：约 2 分钟（估计值，尚未创建过集群）。');
    const one = { ...busy, pool: { size: 1, clusters: [{ name: 'p1', state: 'claimed', forSeconds: 10 }], waiting: 1, provisionMs: { average: 45_000, count: 1 } } };
    expect(boardView(status(one), en, 'en').pool?.size).toBe('Pool size: 1 cluster.');
    expect(boardView(status(one), en, 'en').pool?.provision).toBe('Average provisioning time: 45 s (measured over 1 cluster).');
  });

  it('learners sorted by lab then learner, with the lab’s lesson link, place in line and ETA, help and idle time', () => {
    const titles = { '02-selectors-and-endpoints': 'Lab 02: Selectors and Endpoints' };
    const v = boardView(status(busy), en, 'en', titles);
    expect(v.learners.map((r) => r.key)).toEqual(['s1', 's3', 's2', 's4']);
    expect(v.learners.map((r) => texts(r.cells))).toEqual([
      ['k3Jx9q', 'Lab 02: Selectors and Endpoints', 'ready / on svclab-pool-1', '3 (1 with help)', '2 min 5 s'],
      ['zz99yy', 'Lab 02: Selectors and Endpoints', 'waiting / number 2 in line, no estimate yet', '0', '3 s'],
      ['Ab12Cd', '07-nodeport', 'setting up the lab / on svclab-pool-2', '0', '1 h 6 min'],
      ['Qw55er', '10-externalname-and-loadbalancer', 'waiting / number 1 in line, about 1 min 20 s', '0', '0 s'],
    ]);
    expect(v.learners[0]!.cells[1]!.href).toBe('/labs/02-selectors-and-endpoints/');
    expect(v.learnersSummary).toBe('4 sessions: 1 ready, 2 waiting.');
  });

  it('in Chinese, links go to the Chinese lessons', () => {
    const v = boardView(status(busy), zh, 'zh');
    expect(v.learners[0]!.cells[1]!.href).toBe('/zh-cn/labs/02-selectors-and-endpoints/');
    expect(texts(v.learners[3]!.cells)).toEqual(['Qw55er', '10-externalname-and-loadbalancer', '等待中 / 排第 1 位，约 1 分 20 秒', '0', '0 秒']);
    expect(texts(v.learners[0]!.cells)[3]).toBe('3（1 步借助了帮助）');
    expect(v.pool?.counts.map((c) => c.label)).toEqual(['就绪', '已分配', '创建中', '回收中']);
    expect(labHref('a b', 'zh')).toBe('/zh-cn/labs/a%20b/');
  });

  it('without a pool: no pool view, sessions still listed', () => {
    const v = boardView(status({ ...busy, pool: null }), en, 'en');
    expect(v.pool).toBeNull();
    expect(v.learners).toHaveLength(4);
    expect(v.announcement).toBe('Learners: 4 sessions on one shared cluster.');
  });

  it('the announcement changes with counts, not with idle times', () => {
    const a = boardView(status(busy), en, 'en').announcement;
    const later = { ...busy, sessions: busy.sessions.map((s) => ({ ...s, idleSeconds: s.idleSeconds + 5 })), pool: { ...busy.pool, clusters: busy.pool.clusters.map((c) => ({ ...c, forSeconds: c.forSeconds + 5 })) } };
    expect(boardView(status(later), en, 'en').announcement).toBe(a);
    expect(a).toBe('Pool: 0 ready, 2 claimed, 1 provisioning. Learners: 4 sessions, 2 waiting.');
    const ready = { ...busy, pool: { ...busy.pool, clusters: busy.pool.clusters.map((c) => (c.state === 'provisioning' ? { ...c, state: 'ready' } : c)) } };
    expect(boardView(status(ready), en, 'en').announcement).not.toBe(a);
  });
});

describe('refresh and announcements', () => {
  it('every 5 s, backing off to a minute after failures', () => {
    expect([0, 1, 2, 3, 4, 10].map(nextDelayMs)).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  });
  it('speaks a new sentence at most every 20 s, never the same one twice', () => {
    expect(shouldAnnounce('a', { text: '', at: 0 }, 1_000)).toBe(true);
    expect(shouldAnnounce('a', { text: 'a', at: 1_000 }, 60_000)).toBe(false);
    expect(shouldAnnounce('b', { text: 'a', at: 1_000 }, 6_000)).toBe(false);
    expect(shouldAnnounce('b', { text: 'a', at: 1_000 }, 21_000)).toBe(true);
  });
  it('fill leaves unknown placeholders as written', () => {
    expect(fill('{a} and {b}', { a: 1 })).toBe('1 and {b}');
  });
});
