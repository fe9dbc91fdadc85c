// The instructor board's client: asks GET /api/status every 5 s while the page is visible
// (none while hidden or paused, slower after failures) and updates the markup that
// InstructorBoard.astro rendered. Rows are kept by key and only changed cells are rewritten,
// so a focused link in the table survives a refresh.
import { h, ref } from '../lab/dom.ts';
import { boardView, failureText, nextDelayMs, shouldAnnounce, type BoardView, type Row } from './board-view.ts';
import { classifyAnswer, type StatusFailure } from './instructor-status.ts';
import { fill, type BoardLang, type BoardStrings } from './instructor-strings.ts';

const REQUEST_TIMEOUT_MS = 10_000;

export type BoardHandle = { refresh(): void; stop(): void };

export function startBoard(root: HTMLElement): BoardHandle {
  const t = JSON.parse(root.dataset.strings ?? '{}') as BoardStrings;
  const lang = (root.dataset.lang === 'zh' ? 'zh' : 'en') as BoardLang;
  const labTitles = JSON.parse(root.dataset.labs ?? '{}') as Record<string, string>;
  const r = (name: string) => ref(root, name);
  const timeFmt = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

  let timer: ReturnType<typeof setTimeout> | undefined;
  let inflight: AbortController | undefined;
  let failures = 0;
  let failure: StatusFailure | undefined;
  let paused = false;
  let stopped = false;
  let updatedAt: Date | undefined;
  let lastAnnounced = { text: '', at: 0 };
  let countdown: ReturnType<typeof setInterval> | undefined;
  let retryAt = 0;

  const announce = (text: string) => {
    lastAnnounced = { text, at: Date.now() };
    r('announce').textContent = text;
  };

  function showUpdated(): void {
    const line = r('updated');
    if (paused) line.textContent = t.paused;
    else if (updatedAt) line.textContent = fill(failure ? t.staleUpdated : t.updated, { time: timeFmt.format(updatedAt) });
    else if (!failure) line.textContent = t.loading;
    else line.textContent = '';
  }

  function render(view: BoardView): void {
    r('pool-section').hidden = false;
    r('learners-section').hidden = false;
    r('shared').hidden = view.pool !== null;
    r('pool').hidden = view.pool === null;
    if (view.pool) {
      setText(r('pool-size'), view.pool.size);
      setText(r('pool-waiting'), view.pool.waiting);
      setText(r('pool-provision'), view.pool.provision);
      const counts = view.pool.counts.map((c) => h('li', { 'data-state': c.state }, h('strong', {}, String(c.count)), ` ${c.label}`));
      if (r('pool-counts').textContent !== counts.map((li) => li.textContent).join('')) r('pool-counts').replaceChildren(...counts);
      r('no-clusters').hidden = view.pool.clusters.length > 0;
      syncRows(r('clusters') as HTMLTableSectionElement, view.pool.clusters);
    }
    setText(r('learners-summary'), view.learnersSummary);
    r('learners-none').hidden = view.learners.length > 0;
    r('learners-table').hidden = view.learners.length === 0;
    syncRows(r('learners') as HTMLTableSectionElement, view.learners);
    for (const region of root.querySelectorAll<HTMLElement>('[data-scroll]')) scrollable(region);
    const now = Date.now();
    if (shouldAnnounce(view.announcement, lastAnnounced, now)) announce(view.announcement);
  }

  function showFailure(f: StatusFailure | undefined, delayMs: number): void {
    const box = r('error');
    clearInterval(countdown);
    if (!f) {
      box.hidden = true;
      return;
    }
    const text = failureText(f, t);
    const wasSame = !box.hidden && r('error-message').textContent === text.message;
    box.hidden = false;
    setText(r('error-message'), text.message);
    setText(r('error-hint'), text.hint);
    setText(r('error-code'), text.code ?? '');
    r('error-code').hidden = !text.code;
    retryAt = Date.now() + delayMs;
    const tick = () => setText(r('retry-in'), paused ? '' : fill(t.retryIn, { t: formatSeconds(Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))) }));
    tick();
    countdown = setInterval(tick, 1000);
    // Errors are announced once, not on every retry that fails the same way.
    if (!wasSame) announce(`${text.message} ${text.hint}`);
  }

  const formatSeconds = (s: number) => fill(t.seconds, { s });

  /** `asked`: the instructor pressed Try again, which works while paused too. */
  async function poll(asked = false): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    if (stopped || (paused && !asked) || document.visibilityState === 'hidden') return;
    inflight?.abort();
    const ac = new AbortController();
    inflight = ac;
    const deadline = setTimeout(() => ac.abort(), REQUEST_TIMEOUT_MS);
    let outcome: ReturnType<typeof classifyAnswer>;
    try {
      const res = await fetch('/api/status', { credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store', signal: ac.signal });
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      outcome = classifyAnswer(res.status, body);
    } catch {
      outcome = { failure: { kind: 'unreachable' } };
    } finally {
      clearTimeout(deadline);
    }
    // Superseded (hidden, paused, a newer refresh): that one decides what is shown.
    if (inflight !== ac || stopped) return;
    inflight = undefined;
    if ('status' in outcome) {
      if (failure) announce(t.announceBack);
      failures = 0;
      failure = undefined;
      updatedAt = new Date();
      render(boardView(outcome.status, t, lang, labTitles));
      showFailure(undefined, 0);
    } else {
      failures++;
      failure = outcome.failure;
      showFailure(failure, nextDelayMs(failures));
    }
    showUpdated();
    schedule(nextDelayMs(failures));
  }

  function schedule(ms: number): void {
    clearTimeout(timer);
    if (!stopped && !paused && document.visibilityState !== 'hidden') timer = setTimeout(() => void poll(), ms);
  }

  function halt(): void {
    clearTimeout(timer);
    timer = undefined;
    inflight?.abort();
    inflight = undefined;
  }

  const onVisibility = () => (document.visibilityState === 'hidden' ? halt() : void poll());
  document.addEventListener('visibilitychange', onVisibility);

  const pause = r('pause');
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    if (paused) halt();
    showUpdated();
    if (failure) setText(r('retry-in'), '');
    if (!paused) void poll();
  });
  r('retry').addEventListener('click', () => void poll(true));

  void poll();
  return {
    refresh: () => void poll(),
    stop: () => {
      stopped = true;
      halt();
      clearInterval(countdown);
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}

function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** A wide table scrolls inside its own box; only then is that box a keyboard stop. */
function scrollable(region: HTMLElement): void {
  const wide = region.scrollWidth > region.clientWidth + 1;
  if (wide) {
    region.setAttribute('tabindex', '0');
    region.setAttribute('role', 'region');
    region.setAttribute('aria-labelledby', region.dataset.scroll ?? '');
  } else {
    region.removeAttribute('tabindex');
    region.removeAttribute('role');
    region.removeAttribute('aria-labelledby');
  }
}

/** Make tbody's rows match `rows`, reusing rows by key and rewriting only changed cells. */
function syncRows(tbody: HTMLTableSectionElement, rows: Row[]): void {
  // Column names label each cell where the table turns into cards (narrow screens).
  const labels = [...((tbody.parentElement as HTMLTableElement | null)?.tHead?.rows[0]?.cells ?? [])].map((c) => c.textContent ?? '');
  const existing = new Map<string, HTMLTableRowElement>();
  for (const tr of tbody.rows) existing.set(tr.dataset.key ?? '', tr);
  const wanted = rows.map((row) => {
    const tr = existing.get(row.key) ?? h('tr', { 'data-key': row.key, role: 'row' });
    existing.delete(row.key);
    row.cells.forEach((cell, i) => {
      const sig = JSON.stringify(cell);
      let td = tr.cells[i];
      if (!td) {
        td = i === 0 ? h('th', { scope: 'row', role: 'rowheader' }) : h('td', { role: 'cell', 'data-label': labels[i] });
        tr.append(td);
      }
      if (td.dataset.sig === sig) return;
      td.dataset.sig = sig;
      if (cell.state) td.dataset.state = cell.state;
      else delete td.dataset.state;
      const main = cell.href ? h('a', { href: cell.href }, cell.text) : cell.state ? h('span', { class: 'svclab-board__state' }, cell.text) : cell.text;
      td.replaceChildren(main, ...(cell.sub ? [h('span', { class: 'svclab-board__sub' }, cell.sub)] : []));
    });
    return tr;
  });
  for (const tr of existing.values()) tr.remove();
  // Move only what is out of place (moving a row would blur a focused link inside it).
  wanted.forEach((tr, i) => {
    if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] ?? null);
  });
}
