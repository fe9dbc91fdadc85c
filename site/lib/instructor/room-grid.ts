// One lab's section of the live room: heading, gate line with its buttons, and the learner ×
// step table (a real table: caption, column and row headers; cards on a phone). Rows are kept
// by session and cells rewritten only when they change, so a focused button survives updates.
import { h } from '../lab/dom.ts';
import { fill } from './instructor-strings.ts';
import type { LabView, RowView } from './room-view.ts';
import type { RoomStrings } from './room-strings.ts';
import { setText } from './table-rows.ts';

const slug = (s: string) => s.replace(/[^a-z0-9-]/gi, '-');

export function labSection(v: LabView, t: RoomStrings): HTMLElement {
  const id = `svclab-room-${slug(v.labId)}`;
  return h('section', { class: 'svclab-board__section', 'data-lab': v.labId, 'aria-labelledby': `${id}-h` },
    h('h2', { id: `${id}-h` }, v.title),
    h('div', { class: 'svclab-board__bar' }, h('p', { 'data-part': 'gate' }), h('p', { class: 'svclab-board__actions', 'data-part': 'gate-actions' })),
    h('p', { 'data-part': 'none', hidden: true }, t.noLearners),
    h('div', { class: 'svclab-board__scroll', 'data-scroll': `${id}-caption`, 'data-part': 'scroll' },
      h('table', { class: 'svclab-board__table svclab-board__cards svclab-room__grid', role: 'table' },
        h('caption', { id: `${id}-caption` }, v.caption),
        h('thead', { role: 'rowgroup' }),
        h('tbody', { role: 'rowgroup' }))));
}

function headers(v: LabView, t: RoomStrings): string[] {
  return [t.colLearner, ...v.steps, t.colActivity, t.colActions];
}

/** `workshop`: rows get a per-learner extend button (places have an end only in a workshop). */
export function updateLabSection(section: HTMLElement, v: LabView, t: RoomStrings, workshop = false): void {
  const part = (n: string) => section.querySelector<HTMLElement>(`[data-part="${n}"]`)!;
  setText(section.querySelector('h2')!, v.title);
  setText(section.querySelector('caption')!, v.caption);
  setText(part('gate'), v.gate.text);
  const gateSig = JSON.stringify(v.gate.actions);
  const actions = part('gate-actions');
  if (actions.dataset.sig !== gateSig) {
    actions.dataset.sig = gateSig;
    actions.replaceChildren(...v.gate.actions.map((a) => h('button', { type: 'button', class: 'svclab-btn', 'data-action': 'gate', 'data-lab': v.labId, 'data-open': a.open === null ? 'all' : String(a.open) }, a.label)));
  }
  part('none').hidden = v.rows.length > 0;
  part('scroll').hidden = v.rows.length === 0;
  const table = section.querySelector('table')!;
  const cols = headers(v, t);
  const thead = table.tHead!;
  if (thead.dataset.sig !== JSON.stringify(cols)) {
    thead.dataset.sig = JSON.stringify(cols);
    thead.replaceChildren(h('tr', { role: 'row' }, ...cols.map((c) => h('th', { scope: 'col', role: 'columnheader' }, c))));
  }
  syncGridRows(table.tBodies[0]!, v.rows, cols, t, workshop);
}

function cellContent(td: HTMLElement, sig: string, build: () => (Node | string)[], state?: string): void {
  if (td.dataset.sig === sig) return;
  td.dataset.sig = sig;
  if (state) td.dataset.state = state;
  else delete td.dataset.state;
  td.replaceChildren(...build());
}

function syncGridRows(tbody: HTMLTableSectionElement, rows: RowView[], cols: string[], t: RoomStrings, workshop: boolean): void {
  const existing = new Map<string, HTMLTableRowElement>();
  for (const tr of tbody.rows) existing.set(tr.dataset.key ?? '', tr);
  const wanted = rows.map((r) => {
    const tr = existing.get(r.key) ?? h('tr', { 'data-key': r.key, role: 'row' });
    existing.delete(r.key);
    const n = r.cells.length + 3;
    while (tr.cells.length > n) tr.lastElementChild!.remove();
    for (let i = tr.cells.length; i < n; i++) tr.append(i === 0 ? h('th', { scope: 'row', role: 'rowheader' }) : h('td', { role: 'cell' }));
    for (let i = 1; i < n; i++) tr.cells[i]!.setAttribute('data-label', cols[i] ?? '');
    cellContent(tr.cells[0]!, JSON.stringify([r.name, r.learner, r.sub]), () => [
      h('span', {}, r.name),
      ...(r.name !== r.learner ? [h('span', { class: 'svclab-board__sub' }, r.learner)] : []),
      ...(r.sub ? [h('span', { class: 'svclab-board__sub' }, r.sub)] : []),
    ]);
    r.cells.forEach((c, i) => cellContent(tr.cells[i + 1]!, JSON.stringify(c), () => [h('span', { class: 'svclab-board__state' }, c.text), ...(c.sub ? [h('span', { class: 'svclab-board__sub' }, c.sub)] : [])], c.state));
    cellContent(tr.cells[n - 2]!, r.activity, () => [r.activity]);
    // Buttons are made once per row: a focused one stays focused through updates.
    cellContent(tr.cells[n - 1]!, JSON.stringify([r.session, r.name, workshop]), () => [
      h('span', { class: 'svclab-board__actions' },
        h('button', { type: 'button', class: 'svclab-btn', 'data-action': 'reset', 'data-session': r.session, 'data-name': r.name, 'aria-label': `${t.reset}: ${r.name}` }, t.reset),
        workshop ? h('button', { type: 'button', class: 'svclab-btn', 'data-action': 'extend', 'data-learner': r.learner, 'data-name': r.name, 'aria-label': fill(t.extendOneLabel, { name: r.name }) }, t.extendOne) : null,
        h('button', { type: 'button', class: 'svclab-btn', 'data-action': 'end', 'data-learner': r.learner, 'data-name': r.name, 'aria-label': `${t.end}: ${r.name}` }, t.end)),
    ]);
    return tr;
  });
  for (const tr of existing.values()) tr.remove();
  wanted.forEach((tr, i) => {
    if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] ?? null);
  });
}
