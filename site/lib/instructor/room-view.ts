// What the live room shows, computed from a snapshot without touching the DOM: one grid per lab
// (cells as text), the gate line and its next action, the failing checks, the summary the live
// region may announce. instructor-room.ts puts it on the page.
import type { GridCell, InstructorSnapshot, LabGrid } from '../../../runner/src/api/instructor.ts';
import { formatDuration } from './board-view.ts';
import { fill, type BoardLang, type BoardStrings } from './instructor-strings.ts';
import type { RoomStrings } from './room-strings.ts';

export type CellView = { text: string; sub?: string; state: string };
export type RowView = { key: string; session: string; learner: string; name: string; sub: string; cells: CellView[]; activity: string };
export type GateView = { text: string; actions: { label: string; open: number | null }[] };
export type LabView = { labId: string; title: string; caption: string; steps: string[]; gate: GateView; rows: RowView[] };
export type FailingView = { key: string; text: string; messages: string[] };
export type RoomView = { labs: LabView[]; failing: FailingView[]; broadcast: string; workshop: boolean; announcement: string };

export type Texts = { t: RoomStrings; b: BoardStrings; lang: BoardLang };

const seconds = (from: string, now: number) => Math.max(0, (now - Date.parse(from)) / 1000);

export function cellView(c: GridCell, x: Texts): CellView {
  const parts: string[] = [];
  if (c.seconds !== undefined && c.state !== 'not-started') parts.push(formatDuration(c.seconds, x.b));
  if (c.attempts) parts.push(fill(x.t.attempts, { n: c.attempts }));
  if (c.failing) parts.push(fill(x.t.failingNow, { n: c.failing }));
  return { text: x.t.gridStates[c.state], state: c.state, ...(parts.length ? { sub: parts.join(' · ') } : {}) };
}

export function gateView(g: Pick<LabGrid, 'open' | 'steps'>, t: RoomStrings): GateView {
  const total = g.steps.length;
  if (g.open === null) return { text: t.gateAll, actions: total > 1 ? [{ label: t.gateStart, open: 1 }] : [] };
  return {
    text: fill(g.open === 1 ? t.gateOne : t.gateSome, { open: g.open, total }),
    actions: [{ label: fill(t.unlockNext, { n: g.open + 1 }), open: g.open + 1 }, { label: t.openAll, open: null }],
  };
}

export function roomView(s: InstructorSnapshot, x: Texts, now = Date.parse(s.at)): RoomView {
  const { t, lang } = x;
  const title = (l: { en: string; zh: string }) => (lang === 'zh' ? l.zh : l.en);
  const time = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
  const labs = s.labs.map((g): LabView => ({
    labId: g.labId,
    title: title(g.title),
    caption: fill(t.gridCaption, { lab: title(g.title) }),
    steps: g.steps.map((st, i) => fill(t.stepHeader, { n: i + 1, title: title(st.title) })),
    gate: gateView(g, t),
    rows: g.rows.map((r) => ({
      key: r.session,
      session: r.session,
      learner: r.learner,
      name: r.name,
      sub: [r.state !== 'ready' ? (t.sessionStates[r.state] ?? r.state) : '', r.expiresAt ? fill(t.expires, { time: time.format(new Date(r.expiresAt)) }) : ''].filter(Boolean).join(' · '),
      cells: r.cells.map((c) => cellView(c, x)),
      activity: fill(t.idleFor, { t: formatDuration(seconds(r.lastActivity, now), x.b) }),
    })),
  }));
  const labTitle = new Map(s.labs.map((g) => [g.labId, g]));
  const failing = s.failing.map((f): FailingView => {
    const g = labTitle.get(f.labId);
    const i = g?.steps.findIndex((st) => st.id === f.stepId) ?? -1;
    return {
      key: `${f.labId}/${f.stepId}/${f.checkId}`,
      text: fill(t.failingItem, { learners: f.learners, of: f.of, lab: g ? title(g.title) : f.labId, step: i + 1, title: g && i >= 0 ? title(g.steps[i]!.title) : f.stepId, check: f.checkId }),
      messages: f.messages.map((m) => fill(t.failingMessage, { learners: m.learners, message: m.message })),
    };
  });
  const cells = s.labs.flatMap((g) => g.rows.flatMap((r) => r.cells));
  return {
    labs,
    failing,
    broadcast: s.broadcast ? fill(t.broadcastNow, { message: s.broadcast.message }) : t.broadcastNone,
    workshop: s.workshop,
    announcement: fill(t.announce, {
      learners: new Set(s.labs.flatMap((g) => g.rows.map((r) => r.learner))).size,
      passed: cells.filter((c) => c.state === 'passed' || c.state === 'solved-with-help').length,
      failing: s.failing.reduce((n, f) => n + f.learners, 0),
    }),
  };
}
