// <svclab-editor> (LabEditor.astro): the YAML editor (Monaco, loaded when the learner opens
// it), Apply with its dry run, Diff against the live objects (loaded on first use), and
// Reset to the step's starting text.
import type { LiveObject } from '../api/runner-api.ts';
import type { LiveDiff } from '../editor/yaml-diff.ts';
import type { YamlEditor } from '../editor/yaml-editor.ts';
import { h } from './dom.ts';
import { contextOf, type LabContext } from './lab-context.ts';

export class LabEditor extends HTMLElement {
  #ctx!: LabContext;
  editor: YamlEditor | undefined;
  liveDiff: LiveDiff | undefined;
  #loading: Promise<void> | undefined;

  connectedCallback(): void {
    if (this.#ctx) return;
    const ctx = (this.#ctx = contextOf(this));
    ctx.ref('apply').addEventListener('click', () => void this.apply());
    ctx.ref('diff').addEventListener('click', () => void this.diff());
    ctx.ref('diff-close').addEventListener('click', () => this.closeDiff(true));
    ctx.ref('diff-view').addEventListener('keydown', (ev) => {
      if (ev.key !== 'Escape' || ev.defaultPrevented) return;
      ev.preventDefault();
      this.closeDiff(true);
    });
    ctx.ref('reset').addEventListener('click', () => this.reset());
    const details = ctx.ref<HTMLDetailsElement>('editor-details');
    details.addEventListener('toggle', () => details.open && void this.open());
    if (details.open) void this.open();
    ctx.ref<HTMLSelectElement>('editor-step').addEventListener('change', (ev) => {
      this.editor?.setStep((ev.currentTarget as HTMLSelectElement).value);
      this.closeDiff();
      this.#result();
    });
    ctx.on('lab', () => this.#fillSteps());
  }

  /** Steps that come with starting YAML; a scratch buffer when the lab has none. */
  #steps(): { id: string; startingYaml: string; label: string }[] {
    const withEditor = (this.#ctx.lab?.steps ?? [])
      .map((st, i) => ({ st, i }))
      .filter(({ st }) => st.startingYaml !== undefined)
      .map(({ st, i }) => ({ id: st.id, startingYaml: st.startingYaml ?? '', label: `${i + 1}. ${st.title}${st.editorFile ? ` (${st.editorFile})` : ''}` }));
    return withEditor.length ? withEditor : [{ id: 'scratch', startingYaml: '', label: this.#ctx.s.scratch }];
  }

  #fillSteps(): void {
    const select = this.#ctx.ref<HTMLSelectElement>('editor-step');
    const current = select.value;
    select.replaceChildren(...this.#steps().map((step) => h('option', { value: step.id }, step.label)));
    if (current && [...select.options].some((o) => o.value === current)) select.value = current;
  }

  open(): Promise<void> {
    const ctx = this.#ctx;
    this.#loading ??= (async () => {
      const host = ctx.ref('editor');
      try {
        await ctx.labLoad; // the steps' starting YAML comes with the lab
        const steps = this.#steps();
        const select = ctx.ref<HTMLSelectElement>('editor-step');
        if (!select.options.length) this.#fillSteps();
        const { createYamlEditor } = await import('../editor/yaml-editor.ts');
        host.replaceChildren();
        this.editor = createYamlEditor({ host, labId: ctx.labId, steps, initialStep: select.value || steps[0]!.id, ariaLabel: ctx.s.editorLabel });
      } catch (err) {
        this.#loading = undefined;
        host.replaceChildren(h('p', { class: 'svclab-error' }, String(err)));
      }
    })();
    return this.#loading;
  }

  /**
   * Apply and Diff: the open editor and the session, with the button busy meanwhile; a runner
   * error goes under the editor, and to its line when it has one.
   */
  async #withEditor(button: string, busyText: string, work: (editor: YamlEditor, sessionId: string) => Promise<void>): Promise<void> {
    await this.open();
    const editor = this.editor;
    const session = editor && this.#ctx.needSession(this.#ctx.ref('apply-result'));
    if (!editor || !session) return;
    const b = this.#ctx.ref<HTMLButtonElement>(button);
    b.disabled = true;
    b.setAttribute('aria-busy', 'true');
    this.#result(h('p', {}, busyText));
    editor.clearApplyError();
    try {
      await work(editor, session.id);
    } catch (err) {
      const e = this.#ctx.fail(err, this.#ctx.ref('apply-result'));
      const { line, column } = e.details ?? {};
      if (typeof line === 'number') editor.markApplyError(e.message, line, typeof column === 'number' ? column : undefined);
    } finally {
      b.disabled = false;
      b.removeAttribute('aria-busy');
    }
  }

  apply(): Promise<void> {
    const s = this.#ctx.s;
    return this.#withEditor('apply', s.applying, async (editor, id) => {
      const res = await this.#ctx.api.apply(id, editor.value(), editor.stepId);
      this.closeDiff(); // it showed the cluster before this Apply
      this.#result(h('p', { class: 'svclab-ok' }, s.applied), res.applied || res.dryRun ? h('pre', {}, [res.dryRun, res.applied].filter(Boolean).join('\n')) : null);
    });
  }

  /** Diff: the editor's YAML against the live objects (Monaco's diff editor, loaded now). */
  diff(): Promise<void> {
    const ctx = this.#ctx;
    const s = ctx.s;
    return this.#withEditor('diff', s.diffLoading, async (editor, id) => {
      const yaml = editor.value();
      const [objects, { createLiveDiff }, { documentAt }] = await Promise.all([ctx.api.live(id, yaml), import('../editor/yaml-diff.ts'), import('../editor/yaml-documents.ts')]);
      this.#result();
      const view = ctx.ref('diff-view');
      const host = ctx.ref('diff-host');
      const note = ctx.ref('diff-note');
      const select = ctx.ref<HTMLSelectElement>('diff-object');
      const name = (o: LiveObject) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
      select.replaceChildren(...objects.map((o, i) => h('option', { value: String(i) }, name(o))));
      ctx.ref('diff-pick').hidden = objects.length < 2;
      const showObject = (i: number) => {
        const o = objects[i];
        if (!o || o.live === null) {
          note.textContent = o ? s.diffNotCreated.replace('{object}', name(o)) : s.diffEmpty;
          host.hidden = true;
          return;
        }
        note.textContent = '';
        host.hidden = false;
        this.liveDiff ??= createLiveDiff({ host, liveLabel: s.diffLive, mineLabel: s.diffMine });
        this.liveDiff.set(o.live, documentAt(yaml, o.line));
      };
      select.onchange = () => showObject(Number(select.value));
      view.hidden = false;
      showObject(0);
      view.querySelector<HTMLElement>('h4')?.focus();
    });
  }

  /** Hide the diff (its text was the cluster at that moment); focus back on Diff when asked. */
  closeDiff(refocus = false): void {
    const view = this.#ctx.ref('diff-view');
    if (view.hidden) return;
    view.hidden = true;
    this.liveDiff?.dispose();
    this.liveDiff = undefined;
    this.#ctx.ref('diff-host').replaceChildren();
    if (refocus) this.#ctx.ref('diff').focus();
  }

  /** The open diff's two texts and its number of changed ranges, if a diff is shown (tests read it). */
  diffState(): { live: string; mine: string; changes: number | undefined } | undefined {
    const texts = this.liveDiff?.texts();
    return texts && { ...texts, changes: this.liveDiff?.changes() };
  }

  reset(): void {
    if (!this.editor) return;
    this.closeDiff();
    this.editor.reset();
    this.#result(h('p', {}, this.#ctx.s.resetDone));
  }

  #result(...nodes: (Node | null)[]): void {
    this.#ctx.ref('apply-result').replaceChildren(...nodes.filter((n): n is Node => n !== null));
  }
}
