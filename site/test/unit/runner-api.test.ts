// The runner API client: RunnerErrors reach the panel as data; lab text is localized.
import { describe, expect, it } from 'vitest';
import { createRunnerApi, normalizeLab, normalizeProgress, normalizeTerminals, RunnerApiError } from '../../lib/api/runner-api.ts';

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('runner API client', () => {
  it('turns an error body into a RunnerApiError with code, message and hint', async () => {
    const api = createRunnerApi('en', '', async () => json(409, { error: { code: 'NO_CLUSTER', message: 'There is no cluster yet.', hint: 'Run svclab cluster up.' } }));
    const err = await api.apply('s1', 'kind: Service\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunnerApiError);
    expect(err).toMatchObject({ code: 'NO_CLUSTER', message: 'There is no cluster yet.', hint: 'Run svclab cluster up.', status: 409 });
  });

  it('says the runner is unreachable when fetch itself fails', async () => {
    const api = createRunnerApi('en', '', async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(api.health()).rejects.toMatchObject({ code: 'RUNNER_UNREACHABLE' });
  });

  it('sends the page language with a check request', async () => {
    let body = '';
    const api = createRunnerApi('zh', '', async (_u, init) => ((body = String(init?.body)), json(200, { results: [], passed: true })));
    await api.check('s1', 'observe');
    expect(JSON.parse(body)).toEqual({ lang: 'zh' });
  });

  it('picks the page language from lab.yaml text and finds the editor text', () => {
    const lab = normalizeLab(
      {
        id: '02-selectors-and-endpoints',
        title: { en: 'Selectors and endpoints', zh: 'Service 的 selector 与 Endpoints' },
        summary: { en: 'S', zh: '摘要' },
        steps: [
          { id: 'observe', title: { en: 'Observe', zh: '观察' }, checks: [{ id: 'c', kind: 'command', description: { en: 'd', zh: '描述' } }], hintCount: 3 },
          { id: 'label-the-pods', title: { en: 'Label', zh: '打标签' }, checks: [], hintCount: 0, editor: { file: 'manifests/deployment.yaml', text: 'kind: Deployment\n' } },
        ],
      },
      'zh',
    );
    expect(lab.title).toBe('Service 的 selector 与 Endpoints');
    expect(lab.steps[0]).toMatchObject({ title: '观察', startingYaml: undefined, hintCount: 3, checks: [{ kind: 'command', description: '描述' }] });
    expect(lab.steps[1]).toMatchObject({ startingYaml: 'kind: Deployment\n', editorFile: 'manifests/deployment.yaml' });
  });

  it('calls Solve, Reset, progress and terminals on the session routes', async () => {
    const calls: string[] = [];
    const api = createRunnerApi('en', '', async (url, init) => {
      calls.push(`${init?.method} ${String(url)}`);
      if (String(url).endsWith('/solve')) return json(200, { solved: true });
      if (String(url).endsWith('/reset')) return json(200, { session: { id: 's1', labId: 'l', state: 'running' } });
      if (String(url).endsWith('/progress')) return json(200, { labId: 'l', steps: { a: { status: 'solved-with-help', at: 't' } } });
      return json(200, { terminals: [{ name: 'workstation', title: 'workstation' }, { name: 'node:cp', title: 'cp (control-plane, root)' }], nodeShells: true });
    });
    expect(await api.solve('s1', 'a')).toEqual({ solved: true });
    expect((await api.resetLab('s1')).id).toBe('s1');
    expect((await api.progress('s1')).steps.a!.status).toBe('solved-with-help');
    expect((await api.terminals('s1')).terminals.map((t) => t.name)).toEqual(['workstation', 'node:cp']);
    expect(calls).toEqual(['POST /api/sessions/s1/steps/a/solve', 'POST /api/sessions/s1/reset', 'GET /api/sessions/s1/progress', 'GET /api/sessions/s1/terminals']);
  });

  it('keeps only well-formed progress and offers node terminals only with nodeShells', () => {
    expect(normalizeProgress({ labId: 'l', steps: { a: { status: 'passed', at: 't' }, b: { status: 'bogus' }, c: null } }).steps).toEqual({ a: { status: 'passed', at: 't' } });
    expect(normalizeTerminals({ terminals: [{ name: 'node:cp', title: 'cp' }], nodeShells: false })).toEqual({ terminals: [{ name: 'workstation', title: 'workstation' }], nodeShells: false });
    expect(normalizeTerminals(undefined).terminals).toEqual([{ name: 'workstation', title: 'workstation' }]);
  });
});
