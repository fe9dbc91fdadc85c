// `validate --repeat N`: the runs of a lab merged case by case; a case whose outcome
// differs between runs is flaky, in the result, the console lines and the JUnit (a
// failure of type "flaky" whose body lists every run). Recorded outcomes first (no
// cluster), then played on play's fake cluster with a check that passes one run in two.
import { describe, expect, it } from 'vitest';
import type { LabValidation, ValidateCase } from '../../src/play/validate-labs.ts';
import { flakyLines, isFlaky, mergeRuns, outcomesText, summarize, validateRepeated } from '../../src/play/validate-repeat.ts';
import type { ValidateEvent, ValidateTarget } from '../../src/play/validate-labs.ts';
import { configMap, configMapCheck, DEPLOYMENT, FakeLabCluster, labSpec, stepSpec, writeLab } from './fake-lab-cluster.ts';

const c = (name: string, status: ValidateCase['status'], extra: Partial<ValidateCase> = {}): ValidateCase => ({ name, classname: `02-x.${name.split(':')[0]}`, status, durationMs: 1000, ...extra });
const run = (cases: ValidateCase[]): LabValidation => ({ lab: '02-x', ok: cases.every((x) => x.status === 'passed'), durationMs: 5000, cases });

describe('flaky classification on recorded outcomes', () => {
  it('only runs where the case ran count: passed/failed is flaky, passed/not run or passed/skipped is not', () => {
    expect(isFlaky([{ status: 'passed' }, { status: 'failed' }])).toBe(true);
    expect(isFlaky([{ status: 'passed' }, { status: 'error' }, { status: 'passed' }])).toBe(true);
    expect(isFlaky([{ status: 'failed' }, { status: 'error' }])).toBe(true);
    expect(isFlaky([{ status: 'passed' }, { status: 'passed' }])).toBe(false);
    expect(isFlaky([{ status: 'failed' }, { status: 'failed' }])).toBe(false);
    expect(isFlaky([{ status: 'passed' }, { status: 'not run' }])).toBe(false);
    expect(isFlaky([{ status: 'passed' }, { status: 'skipped' }])).toBe(false);
    expect(isFlaky([])).toBe(false);
  });

  it('merges three runs: the same outcome stays as it was, a differing one is flaky with every run in its body', () => {
    const pass = 'one: answer-set passes after the solution';
    const runs = [
      run([c('setup', 'passed'), c(pass, 'passed'), c('two: noted passes after the solution', 'passed')]),
      run([c('setup', 'passed'), c(pass, 'failed', { message: 'check answer-set still fails after the solution: ConfigMap answer: not found.', detail: 'check answer-set (resource): ConfigMap default/answer must exist\nobserved: none' }), c('two', 'skipped', { message: 'an earlier step (one) did not reach its solved state' })]),
      run([c('setup', 'passed'), c(pass, 'passed'), c('two: noted passes after the solution', 'passed')]),
    ];
    const m = mergeRuns(runs);
    expect(m.ok).toBe(false);
    expect(m.runs).toBe(3);
    expect(m.durationMs).toBe(15_000);
    expect(m.cases.map((x) => `${x.name} ${x.status}`)).toEqual([
      'setup passed',
      `${pass} flaky`,
      'two: noted passes after the solution passed', // did not run in run 2: compared over runs 1 and 3
      'two skipped',
    ]);
    const flaky = m.cases[1]!;
    expect(flaky.message).toBe('flaky: passed in runs 1, 3; failed in run 2 — run 2: check answer-set still fails after the solution: ConfigMap answer: not found.');
    expect(flaky.detail).toBe([
      'run 1: passed (1.0 s)',
      'run 2: failed (1.0 s)',
      '  check answer-set still fails after the solution: ConfigMap answer: not found.',
      '  check answer-set (resource): ConfigMap default/answer must exist',
      '  observed: none',
      'run 3: passed (1.0 s)',
    ].join('\n'));
    expect(m.cases[2]!.runs!.map((o) => o.status)).toEqual(['passed', 'not run', 'passed']);
    expect(flakyLines([m])).toEqual([`flaky 02-x.one › ${pass}: passed, failed, passed`]);
  });

  it('a case that fails the same way in every run is a failure, not flaky; one run is returned as it is', () => {
    const bad = c('one: answer-set passes after the solution', 'failed', { message: 'still fails' });
    const m = mergeRuns([run([c('setup', 'passed'), bad]), run([c('setup', 'passed'), bad])]);
    expect(m.cases.map((x) => x.status)).toEqual(['passed', 'failed']);
    expect(m.cases[1]!.message).toBe('still fails');
    expect(flakyLines([m])).toEqual([]);
    const one = run([c('setup', 'passed')]);
    expect(mergeRuns([one])).toBe(one);
  });

  it('summarize and outcomesText name each run', () => {
    const o = [{ run: 1, status: 'error' as const, durationMs: 2500, message: 'could not run' }, { run: 2, status: 'not run' as const, durationMs: 0 }, { run: 3, status: 'error' as const, durationMs: 0 }];
    expect(summarize(o)).toBe('error in runs 1, 3; not run in run 2');
    expect(outcomesText(o)).toBe('run 1: error (2.5 s)\n  could not run\nrun 2: not run\nrun 3: error (0.0 s)');
  });
});

describe('validateRepeated on the fake cluster', () => {
  async function lab() {
    return writeLab(labSpec('02-flaky', [stepSpec('one', [configMapCheck('answer-set', 'answer', '42')], { manifests: ['solution/answer.yaml'] })]), {
      'manifests/deployment.yaml': DEPLOYMENT, 'solution/answer.yaml': configMap('answer', '42'),
    });
  }

  it('a solution that lands only in every other run: the after-check is flaky, validate is not ok, the JUnit says so', async () => {
    const cluster = new FakeLabCluster();
    let runs = 0;
    // In the second run Solve "succeeds" but its object never shows up (what a slow controller looks like).
    const target: ValidateTarget = {
      clean: async () => {},
      actions: (l) => {
        const a = cluster.actions(l, { setupAs: 'admin' }).actions;
        if (++runs === 2) a.solve = async () => {};
        return a;
      },
    };
    const events: ValidateEvent[] = [];
    const r = await validateRepeated({ labs: [await lab()], target, repeat: 3, beforeDeadlineSeconds: 2, onStep: (e) => events.push(e), now: cluster.now });
    expect(events.filter((e) => e.state === 'info').map((e) => e.detail)).toEqual(['run 1 of 3', 'run 2 of 3', 'run 3 of 3']);
    expect(r.ok).toBe(false);
    expect(r.flaky).toBe(1);
    expect(r.violations).toBe(0);
    const flaky = r.labs[0]!.cases.filter((x) => x.status === 'flaky');
    expect(flaky.map((x) => x.name)).toEqual(['one: answer-set passes after the solution']);
    expect(flaky[0]!.runs!.map((o) => o.status)).toEqual(['passed', 'failed', 'passed']);
    expect(r.junit).toMatch(/<testsuite name="02-flaky" tests="\d+" failures="1" errors="0"/);
    const failure = /<failure type="flaky" message="flaky: passed in runs 1, 3; failed in run 2 — run 2: check answer-set still fails after the solution[^"]*">([^<]*)<\/failure>/.exec(r.junit);
    expect(failure?.[1]).toMatch(/^flaky: passed in runs 1, 3; failed in run 2 — run 2: check answer-set still fails after the solution: .*\n\nrun 1: passed \([\d.]+ s\)\nrun 2: failed \([\d.]+ s\)\n {2}check answer-set still fails/);
    expect(failure?.[1]).toContain('check answer-set (resource): ConfigMap default/answer must exist with data.value &quot;42&quot;');
  });

  it('a steady lab played 3 times passes, with each case once', async () => {
    const cluster = new FakeLabCluster();
    const target: ValidateTarget = { clean: async () => {}, actions: (l) => cluster.actions(l, { setupAs: 'admin' }).actions };
    const r = await validateRepeated({ labs: [await lab()], target, repeat: 3, beforeDeadlineSeconds: 2, now: cluster.now });
    expect(r.ok).toBe(true);
    expect(r.flaky).toBe(0);
    expect(r.labs[0]!.runs).toBe(3);
    expect(r.labs[0]!.cases.map((x) => x.name)).toEqual([
      'setup', 'one: answer-set fails before the solution', 'one: solution applies', 'one: answer-set passes after the solution', 'reset: Reset lab succeeds', 'reset: one: answer-set fails again after Reset lab',
    ]);
    expect(r.junit).not.toContain('<failure');
  });
});
