// Results for the instructor to keep: the grid as JSON (per lab, per learner, per step) and the
// same as CSV, one line per learner and step (spreadsheets open it as is).
import type { ExportReply, LabGrid } from '../api/instructor.ts';

export function exportJson(grids: readonly LabGrid[], at: string): ExportReply {
  return {
    exportedAt: at,
    labs: grids.map((g) => ({
      labId: g.labId,
      steps: g.steps.map((s) => s.id),
      learners: g.rows.map((r) => ({
        learner: r.learner,
        name: r.name,
        session: r.session,
        steps: Object.fromEntries(g.steps.map((st, i) => {
          const c = r.cells[i]!;
          return [st.id, { state: c.state, ...(c.doneAt ? { doneAt: c.doneAt } : {}), ...(c.seconds !== undefined ? { seconds: c.seconds } : {}), attempts: c.attempts }];
        })),
      })),
    })),
  };
}

export const CSV_COLUMNS = ['lab', 'step_number', 'step', 'learner', 'name', 'session', 'state', 'done_at', 'seconds_on_step', 'check_attempts'] as const;

/** RFC 4180 quoting; a leading =, +, - or @ is prefixed with ' so a spreadsheet never runs a learner's name as a formula. */
export function csvField(value: string | number | undefined): string {
  let s = value === undefined ? '' : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function exportCsv(grids: readonly LabGrid[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const g of grids) {
    for (const r of g.rows) {
      g.steps.forEach((st, i) => {
        const c = r.cells[i]!;
        lines.push([g.labId, i + 1, st.id, r.learner, r.name, r.session, c.state, c.doneAt, c.seconds, c.attempts].map(csvField).join(','));
      });
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
