// The YAML editor: Monaco + monaco-yaml with the bundled Kubernetes 1.34 schema. Loaded with
// `import()` when the learner opens the editor, never on first paint.
import * as monaco from './monaco-slim.ts';
import { configureMonacoYaml } from 'monaco-yaml';
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker';
import YamlWorker from './yaml-worker.ts?worker';
import schemaText from '../k8s/kubernetes-1.34.schema.json?raw';
import { loadYaml, saveYaml } from './yaml-store.ts';

export type EditorStep = { id: string; startingYaml: string };

export type YamlEditorOptions = {
  host: HTMLElement;
  labId: string;
  steps: EditorStep[];
  initialStep: string;
  ariaLabel: string;
  storage?: Storage;
};

export type YamlEditor = {
  readonly stepId: string;
  setStep(stepId: string): void;
  value(): string;
  /** Back to the step's starting text as one undoable edit. */
  reset(): void;
  /** Show a runner-reported problem (e.g. APPLY_REJECTED with a line) as an inline marker. */
  markApplyError(message: string, line?: number, column?: number): void;
  clearApplyError(): void;
  focus(): void;
  dispose(): void;
};

const SCHEMA_URI = 'svclab://schemas/kubernetes-1.34.json';

/**
 * Monaco's own themes with two changes for contrast (WCAG AA, checked by axe in the browser
 * tests): token colours a shade further from the background, and fainter diff backgrounds,
 * so text on an inserted or removed line stays readable in both themes.
 */
function defineThemes(): void {
  monaco.editor.defineTheme('svclab-light', {
    base: 'vs',
    inherit: true,
    rules: [
      { token: 'type', foreground: '00666b' },
      { token: 'number', foreground: '05603e' },
    ],
    colors: {
      'diffEditor.insertedLineBackground': '#9bb95526',
      'diffEditor.insertedTextBackground': '#9ccc2c33',
      'diffEditor.removedLineBackground': '#ff000012',
      'diffEditor.removedTextBackground': '#ff00001a',
    },
  });
  monaco.editor.defineTheme('svclab-dark', {
    base: 'vs-dark',
    inherit: true,
    rules: [{ token: 'string', foreground: 'e3a88f' }],
    colors: {
      'diffEditor.insertedLineBackground': '#9bb9551a',
      'diffEditor.insertedTextBackground': '#9ccc2c26',
      'diffEditor.removedLineBackground': '#ff00001a',
      'diffEditor.removedTextBackground': '#ff000026',
    },
  });
}

export function themeName(): string {
  return document.documentElement.dataset.theme === 'light' ? 'svclab-light' : 'svclab-dark';
}

/**
 * Monaco's worker hook and monaco-yaml's configuration are global to the page by design
 * (monaco-yaml allows one configured instance), so the "done" mark lives on that global hook
 * rather than in a module variable.
 */
function configureOnce(): void {
  const g = globalThis as { MonacoEnvironment?: { svclab?: true } };
  if (g.MonacoEnvironment?.svclab) return;
  g.MonacoEnvironment = {
    svclab: true,
    getWorker(_moduleId: string, label: string) {
      return label === 'yaml' ? new YamlWorker() : new EditorWorker();
    },
  } as { svclab: true };
  defineThemes();
  configureMonacoYaml(monacoForYaml(), {
    enableSchemaRequest: false,
    isKubernetes: true,
    completion: true,
    hover: true,
    validate: true,
    schemas: [{ uri: SCHEMA_URI, fileMatch: ['**/*.yaml'], schema: JSON.parse(schemaText) }],
  });
}

type LegacyWorkerOptions = { createData?: unknown; label?: string; moduleId?: string; host?: Record<string, Function>; keepIdleModels?: boolean };

/**
 * monaco-yaml 5.5 (through monaco-worker-manager) still calls the pre-0.55
 * `editor.createWebWorker({ moduleId, label, createData })`; Monaco 0.57 wants
 * `{ worker }` and expects the create data as the worker's second message (see
 * monaco-editor/esm/vs/internal/common/workers.js). Translate between the two.
 */
function monacoForYaml(): typeof monaco {
  const createWebWorker = (opts: LegacyWorkerOptions | monaco.editor.IInternalWebWorkerOptions) => {
    if ('worker' in opts) return monaco.editor.createWebWorker(opts);
    const worker = new YamlWorker();
    worker.postMessage('ignore');
    worker.postMessage(opts.createData);
    return monaco.editor.createWebWorker({ worker, host: opts.host, keepIdleModels: opts.keepIdleModels });
  };
  return { ...monaco, editor: { ...monaco.editor, createWebWorker } } as typeof monaco;
}

export function createYamlEditor(opts: YamlEditorOptions): YamlEditor {
  configureOnce();
  const storage = opts.storage ?? safeLocalStorage();
  const models = new Map<string, monaco.editor.ITextModel>();
  const stepText = new Map(opts.steps.map((s) => [s.id, s.startingYaml]));

  function modelFor(stepId: string): monaco.editor.ITextModel {
    let model = models.get(stepId);
    if (model) return model;
    const uri = monaco.Uri.parse(`file:///labs/${opts.labId}/${stepId}.yaml`);
    const text = loadYaml(storage, opts.labId, stepId) ?? stepText.get(stepId) ?? '';
    model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(text, 'yaml', uri);
    model.updateOptions({ tabSize: 2, insertSpaces: true });
    const m = model;
    m.onDidChangeContent(() => {
      saveYaml(storage, opts.labId, stepId, m.getValue());
      monaco.editor.setModelMarkers(m, 'svclab-apply', []);
    });
    models.set(stepId, m);
    return m;
  }

  let stepId = opts.initialStep;
  const editor = monaco.editor.create(opts.host, {
    model: modelFor(stepId),
    automaticLayout: true,
    minimap: { enabled: false },
    scrollBeyondLastLine: false,
    fontSize: 13,
    tabSize: 2,
    insertSpaces: true,
    detectIndentation: false,
    renderWhitespace: 'boundary',
    ariaLabel: opts.ariaLabel,
    theme: themeName(),
    // Monaco dims the number of the empty line after a final newline below contrast AA.
    renderFinalNewline: 'on',
    fixedOverflowWidgets: true,
    'semanticHighlighting.enabled': true,
  });

  // Follow Starlight's theme switch.
  const themeObserver = new MutationObserver(() => {
    monaco.editor.setTheme(themeName());
  });
  themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });

  return {
    get stepId() {
      return stepId;
    },
    setStep(next) {
      stepId = next;
      editor.setModel(modelFor(next));
    },
    value: () => editor.getModel()?.getValue() ?? '',
    reset() {
      const model = editor.getModel();
      if (!model) return;
      editor.pushUndoStop();
      editor.executeEdits('svclab-reset', [{ range: model.getFullModelRange(), text: stepText.get(stepId) ?? '' }]);
      editor.pushUndoStop();
    },
    markApplyError(message, line, column) {
      const model = editor.getModel();
      if (!model) return;
      const ln = Math.min(Math.max(line ?? 1, 1), model.getLineCount());
      monaco.editor.setModelMarkers(model, 'svclab-apply', [
        {
          severity: monaco.MarkerSeverity.Error,
          message,
          startLineNumber: ln,
          startColumn: column ?? model.getLineFirstNonWhitespaceColumn(ln) ?? 1,
          endLineNumber: ln,
          endColumn: model.getLineMaxColumn(ln),
          source: 'kubectl',
        },
      ]);
      editor.revealLineInCenterIfOutsideViewport(ln);
    },
    clearApplyError() {
      const model = editor.getModel();
      if (model) monaco.editor.setModelMarkers(model, 'svclab-apply', []);
    },
    focus: () => editor.focus(),
    dispose() {
      themeObserver.disconnect();
      editor.dispose();
      for (const m of models.values()) m.dispose();
    },
  };
}

function safeLocalStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

/** For tests and debugging: the markers the learner sees on the current model. */
export function currentMarkers(): { owner: string; message: string; line: number }[] {
  return monaco.editor.getModelMarkers({}).map((m) => ({ owner: m.owner, message: m.message, line: m.startLineNumber }));
}
