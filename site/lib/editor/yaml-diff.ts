// The editor's Diff: Monaco's diff editor (inline, read-only) with the live object on the
// left ("original") and the learner's document on the right. Imported only when the learner
// presses Diff; Monaco itself is already here by then (the YAML editor loaded it).
import * as monaco from './monaco-slim.ts';
import 'monaco-editor/editor/browser/widget/diffEditor/diffEditor.contribution.js';

export type LiveDiff = {
  /** Show `live` (the cluster's) against `mine` (the editor's). */
  set(live: string, mine: string): void;
  texts(): { live: string; mine: string } | undefined;
  /** Changed line ranges once the diff is computed (undefined while computing). */
  changes(): number | undefined;
  focus(): void;
  dispose(): void;
};

export function createLiveDiff(opts: { host: HTMLElement; liveLabel: string; mineLabel: string }): LiveDiff {
  const diff = monaco.editor.createDiffEditor(opts.host, {
    readOnly: true,
    originalEditable: false,
    renderSideBySide: false,
    automaticLayout: true,
    minimap: { enabled: false },
    scrollBeyondLastLine: false,
    renderOverviewRuler: false,
    ignoreTrimWhitespace: false,
    fontSize: 13,
    originalAriaLabel: opts.liveLabel,
    ariaLabel: opts.mineLabel,
    accessibilityVerbose: true,
  });
  let models: monaco.editor.ITextModel[] = [];
  return {
    set(live, mine) {
      const original = monaco.editor.createModel(live, 'yaml');
      const modified = monaco.editor.createModel(mine, 'yaml');
      diff.setModel({ original, modified });
      for (const m of models) m.dispose();
      models = [original, modified];
    },
    texts: () => (models.length ? { live: models[0]!.getValue(), mine: models[1]!.getValue() } : undefined),
    changes: () => diff.getLineChanges()?.length,
    focus: () => diff.getModifiedEditor().focus(),
    dispose() {
      diff.dispose();
      for (const m of models) m.dispose();
      models = [];
    },
  };
}
