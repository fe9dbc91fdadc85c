// A "Run in terminal" button under each shell block of the lesson text: it types the command
// at the prompt of the panel's terminal (the learner presses Enter).
import type { PanelStrings } from '../i18n/panel-strings.ts';
import { h } from './dom.ts';

export function addRunButtons(prose: Element, s: PanelStrings, run: (command: string, note: HTMLElement) => void): void {
  for (const pre of prose.querySelectorAll<HTMLPreElement>('pre[data-language="sh"], pre[data-language="bash"], pre[data-language="shell"]')) {
    const block = pre.closest('.expressive-code') ?? pre;
    if (block.nextElementSibling?.classList.contains('svclab-run')) continue;
    const lines = [...pre.querySelectorAll('.ec-line')].map((l) => l.textContent ?? '');
    const command = (lines.length ? lines.join('\n') : (pre.textContent ?? '')).trim();
    if (!command) continue;
    const out = h('span', { class: 'svclab-run__note', role: 'status' });
    const button = h('button', { type: 'button', class: 'svclab-btn svclab-btn--quiet svclab-run__button', 'aria-label': `${s.runInTerminal}: ${command.split('\n')[0]}` }, `▶ ${s.runInTerminal}`);
    button.addEventListener('click', () => run(command, out));
    block.after(h('div', { class: 'svclab-run' }, button, out));
  }
}
