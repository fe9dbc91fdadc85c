// The live instructor page: one event stream (event-feed.ts) brings the room's snapshot after
// every change; this file puts it on the page (labs' grids, failing checks, the pool) and wires
// the controls (gate, broadcast, extend, end, reset) to /api/instructor.
import type { InstructorSnapshot } from '../../../runner/src/api/instructor.ts';
import { h, ref } from '../lab/dom.ts';
import { boardView, formatDuration, shouldAnnounce } from './board-view.ts';
import { openFeed, type FeedFailure, type FeedHandle } from './event-feed.ts';
import { boardStrings, fill, type BoardLang } from './instructor-strings.ts';
import { labSection, updateLabSection } from './room-grid.ts';
import { roomStrings } from './room-strings.ts';
import { roomView } from './room-view.ts';
import { scrollable, setText, syncRows } from './table-rows.ts';

export function startRoom(root: HTMLElement): FeedHandle {
  const lang = (root.dataset.lang === 'zh' ? 'zh' : 'en') as BoardLang;
  const t = roomStrings(lang);
  const b = boardStrings(lang);
  const r = (name: string) => ref(root, name);
  const timeFmt = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  let last: InstructorSnapshot | undefined;
  let lastAnnounced = { text: '', at: 0 };
  let countdown: ReturnType<typeof setInterval> | undefined;

  function render(s: InstructorSnapshot): void {
    last = s;
    const v = roomView(s, { t, b, lang }, Date.now());
    r('error').hidden = true;
    r('room').hidden = false;
    setText(r('status'), fill(t.live, { time: timeFmt.format(new Date(s.at)) }));
    setText(r('broadcast-now'), v.broadcast);
    r('extend-all').hidden = !v.workshop;
    // Labs: one section each, in the snapshot's order.
    const box = r('labs');
    const have = new Map([...box.querySelectorAll<HTMLElement>('section[data-lab]')].map((el) => [el.dataset.lab!, el]));
    const sections = v.labs.map((lab) => {
      const el = have.get(lab.labId) ?? labSection(lab, t);
      have.delete(lab.labId);
      updateLabSection(el, lab, t, v.workshop);
      return el;
    });
    for (const el of have.values()) el.remove();
    sections.forEach((el, i) => {
      if (box.children[i] !== el) box.insertBefore(el, box.children[i] ?? null);
    });
    r('no-labs').hidden = v.labs.length > 0;
    // Failing checks.
    r('failing-none').hidden = v.failing.length > 0;
    const sig = JSON.stringify(v.failing);
    const list = r('failing');
    if (list.dataset.sig !== sig) {
      list.dataset.sig = sig;
      list.replaceChildren(...v.failing.map((f) => h('li', {}, h('span', {}, f.text), h('ul', {}, ...f.messages.map((m) => h('li', {}, m))))));
    }
    renderPool(s);
    for (const region of root.querySelectorAll<HTMLElement>('[data-scroll]')) scrollable(region);
    if (shouldAnnounce(v.announcement, lastAnnounced, Date.now())) {
      lastAnnounced = { text: v.announcement, at: Date.now() };
      r('announce').textContent = v.announcement;
    }
  }

  function renderPool(s: InstructorSnapshot): void {
    r('shared').hidden = s.pool !== null;
    r('pool').hidden = s.pool === null;
    const pool = boardView({ pool: s.pool, sessions: [] }, b, lang).pool;
    if (!pool) return;
    setText(r('pool-size'), pool.size);
    setText(r('pool-waiting'), pool.waiting);
    setText(r('pool-provision'), pool.provision);
    const counts = pool.counts.map((c) => h('li', { 'data-state': c.state }, h('strong', {}, String(c.count)), ` ${c.label}`));
    if (r('pool-counts').textContent !== counts.map((li) => li.textContent).join('')) r('pool-counts').replaceChildren(...counts);
    r('no-clusters').hidden = pool.clusters.length > 0;
    syncRows(r('clusters') as HTMLTableSectionElement, pool.clusters);
  }

  function showLost(failure: FeedFailure, retryInMs: number): void {
    const e = t.errors[failure.kind];
    const wasHidden = r('error').hidden;
    r('error').hidden = false;
    r('reconnect').hidden = false;
    setText(r('error-message'), e.message);
    setText(r('error-hint'), e.hint);
    setText(r('error-code'), failure.code ? fill(b.errorCode, { code: failure.code }) : '');
    r('error-code').hidden = !failure.code;
    clearInterval(countdown);
    const retryAt = Date.now() + retryInMs;
    const auto = failure.kind !== 'token' && failure.kind !== 'forbidden';
    const tick = () => setText(r('status'), auto ? fill(t.reconnectIn, { t: formatDuration(Math.max(0, Math.ceil((retryAt - Date.now()) / 1000)), b) }) : '');
    tick();
    if (auto) countdown = setInterval(tick, 1000);
    if (wasHidden) r('announce').textContent = `${e.message} ${e.hint}`;
  }

  const feed = openFeed('/api/instructor/events', {
    onSnapshot: render,
    onState: (s) => {
      if (s.connected) {
        clearInterval(countdown);
        r('error').hidden = true;
        r('reconnect').hidden = true;
      } else {
        showLost(s.failure, s.retryInMs);
      }
    },
  });
  r('reconnect').addEventListener('click', () => feed.reconnect());

  // Controls. The answer comes back through the stream; the result line says done or why not.
  async function control(path: string, body: unknown): Promise<void> {
    const out = r('control-result');
    try {
      const res = await fetch(`/api/instructor/${path}`, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json().catch(() => ({}))) as { affected?: number; error?: { message: string; hint: string } };
      out.textContent = res.ok ? fill(t.done, { n: json.affected ?? 0 }) : fill(t.controlFailed, { message: json.error?.message ?? `HTTP ${res.status}`, hint: json.error?.hint ?? '' });
    } catch {
      out.textContent = `${t.errors.unreachable.message} ${t.errors.unreachable.hint}`;
    }
  }

  root.addEventListener('click', (ev) => {
    const btn = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
    if (!btn) return;
    const d = btn.dataset;
    const name = d.name ?? '';
    if (d.action === 'gate') void control('gate', { labId: d.lab, open: d.open === 'all' ? null : Number(d.open) });
    else if (d.action === 'reset' && confirm(fill(t.confirmReset, { name }))) void control('reset', { session: d.session });
    else if (d.action === 'end' && confirm(fill(t.confirmEnd, { name }))) void control('end', { learner: d.learner });
    else if (d.action === 'end-all' && confirm(t.confirmEndAll)) void control('end', { all: true });
    else if (d.action === 'extend-all') void control('extend', { all: true, minutes: 15 });
    else if (d.action === 'extend') void control('extend', { learner: d.learner, minutes: 15 });
    else if (d.action === 'broadcast-clear') {
      (r('broadcast-text') as HTMLTextAreaElement).value = '';
      void control('broadcast', { message: '' });
    }
  });
  r('broadcast-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void control('broadcast', { message: (r('broadcast-text') as HTMLTextAreaElement).value });
  });
  // Idle times move on between snapshots.
  const clock = setInterval(() => last && document.visibilityState === 'visible' && render(last), 15_000);
  return { reconnect: feed.reconnect, stop: () => { feed.stop(); clearInterval(clock); clearInterval(countdown); } };
}
