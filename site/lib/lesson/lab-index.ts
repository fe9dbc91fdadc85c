// Fills the lesson index's "x/y steps done" from the lab panel's localStorage mirror; the step
// totals come from the mirror, or from the runner's GET /api/labs when the page is served by it.
import { readProgress } from '../lab/progress-store.ts';

export async function showIndexProgress(list: HTMLElement): Promise<void> {
  const spans = [...list.querySelectorAll<HTMLElement>('[data-lab-progress]')];
  const render = (totals: Record<string, number>) => {
    for (const span of spans) {
      const labId = span.dataset.labProgress ?? '';
      const p = readProgress(labId);
      const done = Object.keys(p.steps).length;
      const total = totals[labId] ?? p.total;
      span.dataset.done = String(done);
      span.textContent =
        done === 0 ? (list.dataset.none ?? '') : total ? (list.dataset.fmt ?? '').replace('{done}', String(done)).replace('{total}', String(total)) : (list.dataset.some ?? '').replace('{done}', String(done));
      span.closest('li')?.classList.toggle('svclab-index--done', total !== undefined && done >= total);
    }
  };
  render({});
  try {
    const res = await fetch('/api/labs', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (!res.ok) return;
    const body = (await res.json()) as { labs?: { id?: unknown; steps?: unknown }[] };
    const totals: Record<string, number> = {};
    for (const l of body.labs ?? []) if (typeof l.id === 'string' && typeof l.steps === 'number') totals[l.id] = l.steps;
    render(totals);
  } catch {
    /* a static preview without the runner: the mirror's totals stand */
  }
}
