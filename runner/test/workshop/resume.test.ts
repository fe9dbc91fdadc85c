// What a workshop learner keeps: progress and applied YAML saved per learner and lab, brought
// back to a new session (their cluster expired, failed or was deleted); one session per lab.
import { afterEach, describe, expect, it } from 'vitest';
import { LAB, workshopApp } from './workshop-app.ts';

let t: Awaited<ReturnType<typeof workshopApp>> | undefined;
afterEach(async () => { await t?.close(); t = undefined; });

const YAML = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n';

describe('a learner who comes back', () => {
  it('gets their progress back on a new session, and their applied YAML is kept for re-applying', async () => {
    const applied: string[] = [];
    t = await workshopApp({ overrides: { apply: { apply: async (_s, yaml) => { applied.push(yaml); return { dryRun: 'ok', applied: 'service/web created' }; } } } });
    const a = await t.join('Ana');
    const first = await a.startLab();
    expect((await a.as({ method: 'POST', url: `/api/sessions/${first}/apply`, payload: { yaml: YAML } })).statusCode).toBe(200);
    expect((await a.as({ method: 'POST', url: `/api/sessions/${first}/steps/observe/check`, payload: {} })).json().passed).toBe(true);
    expect((await a.as({ method: 'POST', url: `/api/sessions/${first}/editor`, payload: { file: 'web.yaml', text: YAML } })).json()).toEqual({ saved: true });
    // The session (and its cluster) is gone: expired, failed its probe, or deleted.
    await t.sessions.remove(first);
    const second = await a.startLab();
    expect(second).not.toBe(first);
    const progress = (await a.as({ url: `/api/sessions/${second}/progress` })).json();
    expect(progress.steps.observe).toMatchObject({ status: 'passed' });
    const learner = (await t.workshop.learners())[0]!;
    expect(await t.workshop.work(learner.id, LAB)).toMatchObject({ applied: [YAML], editor: { 'web.yaml': YAML } });
  });

  it('Start lab again gives the same session; Reset clears the saved progress', async () => {
    t = await workshopApp();
    const a = await t.join('Ana');
    const s1 = await a.startLab();
    expect(await a.startLab()).toBe(s1);
    await a.as({ method: 'POST', url: `/api/sessions/${s1}/steps/observe/check`, payload: {} });
    const learner = (await t.workshop.learners())[0]!;
    expect(Object.keys((await t.workshop.work(learner.id, LAB)).progress)).toEqual(['observe']);
    // Reset needs a cluster here (NO_CLUSTER without one): the saved progress stays as it was.
    expect((await a.as({ method: 'POST', url: `/api/sessions/${s1}/reset` })).json().error.code).toBe('NO_CLUSTER');
    expect(Object.keys((await t.workshop.work(learner.id, LAB)).progress)).toEqual(['observe']);
  });

  it('a lab of the catalogue outside the workshop is 403 LAB_NOT_IN_WORKSHOP', async () => {
    t = await workshopApp({ labs: ['06-nodeport'] });
    const a = await t.join('Ana');
    const r = await a.as({ method: 'POST', url: '/api/sessions', payload: { labId: LAB } });
    expect(r.statusCode).toBe(403);
    expect(r.json().error).toMatchObject({ code: 'LAB_NOT_IN_WORKSHOP', details: { labs: ['06-nodeport'] } });
    expect(t.sessions.list()).toHaveLength(0);
  });

  it('an unknown lab is LAB_UNKNOWN; the instructor enables node shells for one learner; /me tells the page who and when', async () => {
    t = await workshopApp();
    const a = await t.join('Ana');
    const other = await a.as({ method: 'POST', url: '/api/sessions', payload: { labId: '03-other' } });
    expect(other.json().error.code).toBe('LAB_UNKNOWN'); // not a lab at all: said before the workshop's list
    const learner = (await t.workshop.learners())[0]!;
    const on = await t.instructor({ method: 'POST', url: `/api/workshop/learners/${learner.id}/node-shells`, payload: { enabled: true } });
    expect(on.json().learner).toMatchObject({ name: 'Ana', nodeShells: true });
    const me = (await a.as({ url: '/api/workshop/me' })).json();
    expect(me).toMatchObject({ role: 'learner', learner: { name: 'Ana', nodeShells: true }, workshop: { labs: [LAB], endingSoon: false, ended: false } });
    t.clock.advance(2 * 3600_000 - 4 * 60_000);
    expect((await a.as({ url: '/api/workshop/me' })).json().workshop).toMatchObject({ endingSoon: true, ended: false });
  });
});
