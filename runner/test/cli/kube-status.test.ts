// `svclab status --store kube` reads the chart's custom resources and prints them with the
// CRDs' own printer columns: the same columns and values `kubectl get` shows.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { age, evalJsonPath, kubeStatusCommand, kubeStatusLines, printerColumns } from '../../src/cli/kube-status.ts';
import { RunnerError } from '../../src/errors.ts';
import { API_VERSION, KubeObjectsError, type KubeObjects } from '../../src/kube-store/kube-objects.ts';
import { FakeKubeObjects } from '../../src/kube-store/fake-kube-objects.ts';

const CRDS = join(import.meta.dirname, '..', '..', '..', 'deploy', 'helm', 'svclab', 'crds');
const NOW = Date.parse('2026-12-02T10:00:00Z');

async function room(): Promise<FakeKubeObjects> {
  const o = new FakeKubeObjects('svclab');
  o.now = () => NOW - 300_000;
  await o.create('workshops', { apiVersion: API_VERSION, kind: 'Workshop', metadata: { name: 'workshop' }, spec: { labs: ['02'], capacity: 20, reserve: 2, expiresAt: '2026-12-02T12:00:00Z' } });
  const ls = await o.create('learnersessions', { apiVersion: API_VERSION, kind: 'LearnerSession', metadata: { name: 'workshop-ab12' }, spec: { workshop: 'workshop', learnerId: 'ab12', displayName: 'Ada', joinedAt: '2026-12-02T09:55:00Z' } });
  await o.replaceStatus('learnersessions', { ...ls, status: { lab: '02', environment: 'workshop-env-1', phase: 'Playing' } });
  await o.create('learnersessions', { apiVersion: API_VERSION, kind: 'LearnerSession', metadata: { name: 'workshop-cd34' }, spec: { workshop: 'workshop', learnerId: 'cd34', displayName: 'Lin', joinedAt: '2026-12-02T09:58:00Z' } });
  const env = await o.create('environments', { apiVersion: API_VERSION, kind: 'Environment', metadata: { name: 'workshop-env-1' }, spec: { workshop: 'workshop', claim: { learnerId: 'ab12', lab: '02', at: '2026-12-02T09:56:00Z' } } });
  await o.replaceStatus('environments', { ...env, status: { phase: 'Ready', pod: 'workshop-env-1', node: 'worker-2' } });
  return o;
}

describe('svclab status --store kube', () => {
  it('prints each resource with the CRD printer columns kubectl get shows, values from the same JSONPaths', async () => {
    const lines = await kubeStatusLines(await room(), CRDS, NOW);
    const text = lines.join('\n');
    expect(text).toContain('Learners (LearnerSession) in namespace svclab: 2');
    const cols = printerColumns(CRDS, 'learnersessions').map((c) => c.name.toUpperCase());
    expect(cols).toEqual(['WORKSHOP', 'LEARNER', 'LAB', 'ENVIRONMENT', 'PHASE', 'AGE']); // priority-1 Node-Shells is -o wide only, as in kubectl
    const header = lines.find((l) => l.trim().startsWith('NAME') && l.includes('ENVIRONMENT') && l.includes('LEARNER'))!;
    expect(header.trim().split(/\s+/)).toEqual(['NAME', ...cols]);
    const ada = lines.find((l) => l.includes('workshop-ab12'))!.trim().split(/\s+/);
    expect(ada).toEqual(['workshop-ab12', 'workshop', 'Ada', '02', 'workshop-env-1', 'Playing', '5m']);
    // Not yet placed: kubectl's <none>.
    expect(lines.find((l) => l.includes('workshop-cd34'))!.trim().split(/\s+/)).toEqual(['workshop-cd34', 'workshop', 'Lin', '<none>', '<none>', '<none>', '5m']);
    const env = lines.find((l) => l.includes('workshop-env-1') && l.includes('Ready'))!.trim().split(/\s+/);
    expect(env).toEqual(['workshop-env-1', 'workshop', 'Ready', 'ab12', '02', 'worker-2', '5m']);
    // The Workshop's Expires column is a string (a future time), its labs a list.
    expect(text).toMatch(/workshop\s+\["02"\]\s+20\s+<none>\s+2\s+2026-12-02T12:00:00Z\s+5m/);
  });

  it('JSONPaths and ages as kubectl writes them', () => {
    expect(evalJsonPath({ spec: { claim: { lab: '02' } } }, '.spec.claim.lab')).toBe('02');
    expect(evalJsonPath({ spec: {} }, '.spec.claim.lab')).toBeUndefined();
    expect(() => evalJsonPath({}, '.items[0]')).toThrow(RunnerError);
    expect([age('2026-12-02T09:59:15Z', NOW), age('2026-12-02T09:00:00Z', NOW), age('2026-11-29T10:00:00Z', NOW), age('x', NOW)]).toEqual(['45s', '60m', '3d', '<unknown>']);
  });

  it('no CRDs in the cluster, a refused user, bad arguments: what happened and what to do', async () => {
    const failing = (reason: 'not-found' | 'forbidden'): KubeObjects => ({
      namespace: 'svclab',
      list: async () => { throw new KubeObjectsError('the server could not find the requested resource', reason, reason === 'forbidden' ? 403 : 404); },
    } as unknown as KubeObjects);
    const e1 = await kubeStatusLines(failing('not-found'), CRDS).catch((e: unknown) => e) as RunnerError;
    expect(e1).toMatchObject({ code: 'CLUSTER_FAILED', hint: expect.stringContaining('helm install svclab deploy/helm/svclab') });
    const e2 = await kubeStatusLines(failing('forbidden'), CRDS).catch((e: unknown) => e) as RunnerError;
    expect(e2.hint).toContain('may not list svclab.dev objects in namespace svclab');

    const out: string[] = [];
    await expect(kubeStatusCommand(['--store', 'pool'], (l) => out.push(l), CRDS, {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', hint: expect.stringContaining('--store kube') });
    await expect(kubeStatusCommand(['--store', 'kube', '--bogus'], (l) => out.push(l), CRDS, {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(kubeStatusCommand(['--store', 'kube', '--kubeconfig', '/nonexistent/kc'], (l) => out.push(l), CRDS, {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('/nonexistent/kc') });

    // With a kubeconfig, the namespace asked for is the one read.
    const dir = mkdtempSync(join(tmpdir(), 'svclab-ks-'));
    writeFileSync(join(dir, 'kc'), 'apiVersion: v1\nkind: Config\n');
    let asked = '';
    const o = await room();
    expect(await kubeStatusCommand(['--store', 'kube', '-n', 'svclab', '--kubeconfig', join(dir, 'kc')], (l) => out.push(l), CRDS, {}, ({ namespace }) => { asked = namespace; return o; })).toBe(0);
    expect(asked).toBe('svclab');
    expect(out.join('\n')).toContain('Environments in namespace svclab: 1');
  });
});
