// The runner's HTTP API as the lab panel uses it. Same origin as the page: the auth cookie set
// by the token URL rides along on every request. Types come from the runner's contract
// (runner/src/api, types only: nothing of the runner ships to the browser).
import type { ErrorBody, Lang, Localized } from '../../../runner/src/api/common.ts';
import type { PublicLab } from '../../../runner/src/api/labs.ts';
import type { Body, Reply, RouteName, routes } from '../../../runner/src/api/routes.ts';
import type { SessionView } from '../../../runner/src/api/sessions.ts';

export type { CheckResult, LiveObject, StepStatus, TerminalInfo } from '../../../runner/src/api/sessions.ts';
export type RunnerErrorBody = ErrorBody['error'];

/** A RunnerError as received by the browser, or a network failure dressed as one. */
export class RunnerApiError extends Error {
  readonly code: string;
  readonly hint: string;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  constructor(body: RunnerErrorBody, status: number) {
    super(body.message);
    this.name = 'RunnerApiError';
    this.code = body.code;
    this.hint = body.hint;
    this.status = status;
    this.details = body.details && typeof body.details === 'object' ? (body.details as Record<string, unknown>) : undefined;
  }
}

/** A session as GET/POST /api/sessions return it (POST may answer 202 while it starts). */
export type Session = SessionView;
export type CheckResponse = Reply<'check'>;
export type ApplyResponse = Reply<'apply'>;
export type Progress = Reply<'progress'>;
export type TerminalList = Reply<'terminals'>;

/** The two languages lab.yaml speaks (Localized = { en, zh }). */
export type LabLang = Lang;
/** A lab step as the panel shows it: the contract's PublicStep in the page's language. */
export type LabStep = {
  id: string;
  title: string;
  /** The editor's starting text for this step; undefined when the step has no editor. */
  startingYaml: string | undefined;
  editorFile: string | undefined;
  checks: { kind: string; description: string }[];
  hintCount: number;
};
export type Lab = { id: string; title: string; summary: string; steps: LabStep[] };

export type RunnerApi = ReturnType<typeof createRunnerApi>;

export function createRunnerApi(lang: LabLang = 'en', base = '', fetchImpl: typeof fetch = (...a) => fetch(...a)) {
  /** One route of the contract: `call<'apply'>('POST', …)` checks the method, body and reply type. */
  async function call<K extends RouteName>(method: (typeof routes)[K]['method'], path: string, body?: Body<K>, signal?: AbortSignal): Promise<Reply<K>> {
    let res: Response;
    try {
      res = await fetchImpl(base + path, {
        method,
        credentials: 'same-origin',
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new RunnerApiError(
        { code: 'RUNNER_UNREACHABLE', message: 'Cannot reach the svclab runner.', hint: 'Is `npm start` still running? Open the URL it prints (with its token).' },
        0,
      );
    }
    if (res.status === 204) return undefined as Reply<K>;
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = (json as { error?: RunnerErrorBody } | undefined)?.error;
      throw new RunnerApiError(
        err ?? { code: `HTTP_${res.status}`, message: `The runner answered ${res.status} ${res.statusText}.`, hint: 'Check the runner’s log in the terminal where you ran `npm start`.' },
        res.status,
      );
    }
    return json as Reply<K>;
  }
  const enc = encodeURIComponent;
  return {
    health: () => call<'health'>('GET', '/api/health'),
    lab: async (labId: string) => normalizeLab(await call<'lab'>('GET', `/api/labs/${enc(labId)}`), lang),
    startSession: async (labId: string) => (await call<'startSession'>('POST', '/api/sessions', { labId })).session,
    session: async (id: string) => (await call<'session'>('GET', `/api/sessions/${enc(id)}`)).session,
    endSession: (id: string) => call<'endSession'>('DELETE', `/api/sessions/${enc(id)}`),
    apply: (id: string, yaml: string, stepId?: string) => call<'apply'>('POST', `/api/sessions/${enc(id)}/apply`, stepId ? { yaml, stepId } : { yaml }),
    live: async (id: string, yaml: string) => (await call<'live'>('POST', `/api/sessions/${enc(id)}/live`, { yaml })).objects,
    /** An aborted check (signal) also stops the runner's polling: it sees the request close. */
    check: (id: string, stepId: string, signal?: AbortSignal) => call<'check'>('POST', `/api/sessions/${enc(id)}/steps/${enc(stepId)}/check`, { lang }, signal),
    solve: (id: string, stepId: string) => call<'solve'>('POST', `/api/sessions/${enc(id)}/steps/${enc(stepId)}/solve`),
    resetLab: async (id: string) => (await call<'reset'>('POST', `/api/sessions/${enc(id)}/reset`)).session,
    progress: async (id: string) => normalizeProgress(await call<'progress'>('GET', `/api/sessions/${enc(id)}/progress`)),
    terminals: async (id: string) => normalizeTerminals(await call<'terminals'>('GET', `/api/sessions/${enc(id)}/terminals`)),
    hint: async (id: string, stepId: string, index: number) =>
      localized((await call<'hint'>('POST', `/api/sessions/${enc(id)}/steps/${enc(stepId)}/hint`, { index })).hint, lang),
  };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** lab.yaml text is `{ en, zh }`: the page's language, else English. */
export function localized(v: Localized, lang: LabLang): string {
  return v[lang] || v.en;
}

/** The lab as the panel needs it, from GET /api/labs/:id: in the page's language, the editor text per step. */
export function normalizeLab(lab: PublicLab, lang: LabLang = 'en'): Lab {
  return {
    id: lab.id,
    title: localized(lab.title, lang),
    summary: localized(lab.summary, lang),
    steps: lab.steps.map((s) => ({
      id: s.id,
      title: localized(s.title, lang),
      startingYaml: s.editor?.text,
      editorFile: s.editor?.file,
      checks: s.checks.map((c) => ({ kind: c.kind, description: localized(c.description, lang) })),
      hintCount: s.hintCount,
    })),
  };
}

/** GET /progress, keeping only well-formed step entries. */
export function normalizeProgress(raw: unknown): Progress {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const steps: Progress['steps'] = {};
  const src = o.steps && typeof o.steps === 'object' ? (o.steps as Record<string, unknown>) : {};
  for (const [id, v] of Object.entries(src)) {
    const e = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
    if (e.status === 'passed' || e.status === 'solved-with-help') steps[id] = { status: e.status, at: str(e.at) };
  }
  return { labId: str(o.labId), steps };
}

/** GET /terminals; the workstation is always first and always there. */
export function normalizeTerminals(raw: unknown): TerminalList {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const list = Array.isArray(o.terminals) ? (o.terminals as Record<string, unknown>[]) : [];
  const terminals = list.map((t) => ({ name: str(t.name), title: str(t.title) || str(t.name) })).filter((t) => t.name);
  const nodeShells = o.nodeShells === true;
  const ws = terminals.find((t) => t.name === 'workstation') ?? { name: 'workstation', title: 'workstation' };
  return { terminals: [ws, ...terminals.filter((t) => t.name !== 'workstation' && (nodeShells || !t.name.startsWith('node:')))], nodeShells };
}
