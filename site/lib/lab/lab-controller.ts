// The lab panel, hydrated: makes the panel's shared context (lab-context.ts), defines its
// parts as custom elements (session, terminals, editor, steps: each beside its .astro file),
// adds the lesson's "Run in terminal" buttons, and resumes this tab's session. Loaded by
// define-lab-element.ts when the panel comes near; xterm and Monaco load later still.
import { createRunnerApi } from '../api/runner-api.ts';
import type { PanelStrings } from '../i18n/panel-strings.ts';
import { addRunButtons } from './code-block-actions.ts';
import { LabContext, type LabHost } from './lab-context.ts';
import { LabEditor } from './lab-editor.ts';
import { LabSession } from './lab-session.ts';
import { LabSteps } from './lab-steps.ts';
import { LabTerminals } from './lab-terminals.ts';
import { sessionStore, tabStorage } from './session-store.ts';
import { stripTokenFromUrl } from './strip-token.ts';

const PARTS = { 'svclab-session': LabSession, 'svclab-terminals': LabTerminals, 'svclab-editor': LabEditor, 'svclab-steps': LabSteps } as const;

/** What tests and the debugging console can reach (no globals). */
export type LabDebug = {
  controller: { readonly editor: LabEditor['editor']; readonly context: LabContext; readonly terminalNames: string[] };
  terminalText(): string;
  dropTerminal(): void;
  tapTerminal(fn: (data: string) => void): () => void;
  markers(): Promise<{ owner: string; message: string; line: number }[]>;
  /** The open diff's two texts and its number of changed ranges, if a diff is shown. */
  diff(): ReturnType<LabEditor['diffState']>;
};

function part<K extends keyof typeof PARTS>(host: HTMLElement, name: K): InstanceType<(typeof PARTS)[K]> {
  const el = host.querySelector(name);
  if (!(el instanceof PARTS[name])) throw new Error(`lab panel markup lacks <${name}>`);
  return el as InstanceType<(typeof PARTS)[K]>;
}

export async function hydrateLab(host: LabHost): Promise<LabContext> {
  const strings = JSON.parse(host.dataset.strings ?? '{}') as PanelStrings;
  const labId = host.getAttribute('lab-id') ?? '';
  const ctx = new LabContext(host, labId, strings, createRunnerApi(host.dataset.lang === 'zh' ? 'zh' : 'en'), sessionStore(tabStorage(), labId));
  host.labContext = ctx;
  for (const [name, cls] of Object.entries(PARTS)) if (!customElements.get(name)) customElements.define(name, cls);
  const session = part(host, 'svclab-session');
  const terminals = part(host, 'svclab-terminals');
  const editor = part(host, 'svclab-editor');
  (host as LabHost & { svclab?: LabDebug }).svclab = {
    controller: { get editor() { return editor.editor; }, context: ctx, get terminalNames() { return terminals.names; } },
    terminalText: () => terminals.text(),
    dropTerminal: () => terminals.view?.connection.drop(),
    tapTerminal: (fn) => terminals.view?.tap(fn) ?? (() => undefined),
    markers: async () => (await import('../editor/yaml-editor.ts')).currentMarkers(),
    diff: () => editor.diffState(),
  };

  stripTokenFromUrl();
  const labLoad = ctx.loadLab();
  const lesson = host.closest('.svclab-lesson');
  const prose = lesson?.querySelector('.svclab-lesson__prose');
  if (prose) addRunButtons(prose, strings, (command, note) => void terminals.run(command, note));
  // The phone-only "Lab panel ↓" link is in the way once the panel itself is on screen.
  const jump = lesson?.querySelector<HTMLElement>('.svclab-jump');
  const aside = host.closest('aside');
  if (jump && aside) new IntersectionObserver((entries) => (jump.hidden = entries.some((e) => e.isIntersecting))).observe(aside);

  const stored = ctx.store.get();
  if (stored) await session.resume(stored);
  else if (host.pendingStart) await session.start();
  await labLoad;
  return ctx;
}
