// Table and text updates that keep what the instructor is on: rows are kept by key and only
// changed cells are rewritten, so a focused button or link in a table survives an update.
import { h } from '../lab/dom.ts';
import type { Row } from './board-view.ts';

export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** A wide table scrolls inside its own box; only then is that box a keyboard stop. */
export function scrollable(region: HTMLElement): void {
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
export function syncRows(tbody: HTMLTableSectionElement, rows: Row[]): void {
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
