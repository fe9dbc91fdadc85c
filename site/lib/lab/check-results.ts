// A Check's answer as the learner reads it: passed / not yet / could not run, then each
// check with its status, message, hint, and what it expected against what it observed.
import type { CheckResponse, CheckResult } from '../api/runner-api.ts';
import type { PanelStrings } from '../i18n/panel-strings.ts';
import { h, show } from './dom.ts';

export function checkAnswer(res: CheckResponse, s: PanelStrings): HTMLElement[] {
  const verdict = res.passed ? s.passed : res.results.some((r) => r.status === 'error') ? s.couldNotRun : s.notYet;
  return [h('p', { class: res.passed ? 'svclab-ok' : 'svclab-error' }, verdict), h('ul', { class: 'svclab-checks' }, ...res.results.map((r) => resultItem(r, s)))];
}

function resultItem(r: CheckResult, s: PanelStrings): HTMLElement {
  const word = r.status === 'pass' ? s.statusPass : r.status === 'fail' ? s.statusFail : s.statusError;
  const d = r.details;
  return h(
    'li',
    { class: `svclab-check svclab-check--${r.status}` },
    h('span', { class: 'svclab-badge' }, word),
    ' ',
    h('span', {}, r.message),
    r.hint ? h('p', { class: 'svclab-hint' }, `${s.hint}: ${r.hint}`) : null,
    d && (d.expected !== undefined || d.observed !== undefined)
      ? h('dl', { class: 'svclab-diff' }, h('dt', {}, s.expected), h('dd', {}, expectedValue(show(d.expected ?? ''))), h('dt', {}, s.observed), h('dd', {}, h('pre', {}, show(d.observed ?? ''))))
      : null,
  );
}

/**
 * What a check expected. A command check's is the script it ran: a summary line that
 * opens to the whole script, so the observation beside it stays in view.
 */
function expectedValue(text: string): HTMLElement {
  if (!text.includes('\n') && text.length <= 160) return h('pre', {}, text);
  const first = text.split('\n')[0]!;
  return h('details', { class: 'svclab-script' }, h('summary', {}, first.length > 80 ? `${first.slice(0, 77)}…` : first), h('pre', {}, text));
}
