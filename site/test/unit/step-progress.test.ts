// Step progress as the panel keeps it: locks follow the step before, "Unlock anyway" opens a
// step early, the runner's entries win on merge, and Reset lab clears the ticks.
import { describe, expect, it } from 'vitest';
import type { LabStep } from '../../lib/api/runner-api.ts';
import { isPending } from '../../lib/lab/start-progress.ts';
import { StepProgress } from '../../lib/lab/step-progress.ts';

const step = (id: string): LabStep => ({ id, title: id, startingYaml: undefined, editorFile: undefined, checks: [], hintCount: 0 });
const steps = [step('observe'), step('label'), step('fix')];

function progress() {
  let changes = 0;
  const p = new StepProgress('00-test', () => steps, () => changes++);
  return { p, changes: () => changes };
}

describe('step progress', () => {
  it('locks each step until the one before it is done, and knows the open step', () => {
    const { p, changes } = progress();
    expect([0, 1, 2].map((i) => p.locked(i))).toEqual([false, true, true]);
    expect(p.openStep()?.id).toBe('observe');
    p.record('observe', 'passed');
    expect([0, 1, 2].map((i) => p.locked(i))).toEqual([false, false, true]);
    expect(p.openStep()?.id).toBe('label');
    p.unlock('fix');
    expect(p.locked(2)).toBe(false);
    expect(p.done()).toBe(1);
    expect(changes()).toBe(2);
  });

  it('lets the runner’s entries win, keeps ticks only this browser has, and clears on reset', () => {
    const { p } = progress();
    p.record('observe', 'passed');
    p.merge({ labId: '00-test', steps: { label: { status: 'solved-with-help', at: 't' }, observe: { status: 'solved-with-help', at: 't' } } });
    expect([p.status('observe'), p.status('label'), p.status('fix')]).toEqual(['solved-with-help', 'solved-with-help', undefined]);
    expect(p.openStep()?.id).toBe('fix');
    p.clear();
    expect(p.done()).toBe(0);
    expect(p.openStep()?.id).toBe('observe');
  });
});

describe('pending session states', () => {
  it('are exactly the runner’s, and nothing it never sends', () => {
    expect((['waiting', 'claiming', 'starting', 'applying'] as const).every((s) => isPending(s))).toBe(true);
    for (const s of ['ready', 'failed', 'creating', 'pending', 'provisioning', 'toString']) expect(isPending(s as never), s).toBe(false);
  });
});
