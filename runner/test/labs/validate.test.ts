// validate on fakes: a recorded cluster state that the "solution" switches from
// broken to fixed. Checks must fail before and pass after; violations become
// JUnit failures and errors; progress comes per lab and step.
import { describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.ts';
import type { KubeObject } from '../../src/checks/kube-api.ts';
import { labSchema } from '../../src/labs/lab-schema.ts';
import type { Lab } from '../../src/labs/load-labs.ts';
import { validateLabs, type ValidateEvent, type ValidateTarget } from '../../src/labs/validate.ts';
import { context, lab02Fixed, relabelled } from '../checks/check-fixtures.ts';

const sel = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'selector',
  description: { en: 'selects the pods', zh: '选中 Pod' },
  deadlineSeconds: 30,
  intervalSeconds: 3,
  service: 'nginx',
  minPods: 3,
  ...extra,
});

function lab(steps: Record<string, unknown>[], id = '02-selectors-and-endpoints'): Lab {
  const spec = labSchema.parse({
    id,
    title: { en: 'T', zh: '标题' },
    summary: { en: 'S', zh: '摘要' },
    setup: { manifests: ['manifests/deployment.yaml'] },
    steps,
  });
  return { ...spec, steps: spec.steps, dir: `/labs/${id}`, file: `labs/${id}/lab.yaml` };
}

const step = (id: string, checks: Record<string, unknown>[], solution: Record<string, unknown> = { manifests: ['solution/deployment.yaml'] }) => ({
  id,
  title: { en: id, zh: id },
  checks,
  solution,
});

/** A cluster whose state the manifests choose: setup → unlabelled pods; solution → lab 02 fixed. */
function fakeTarget(opts: { commandExit?: number; states?: Record<string, KubeObject[]> } = {}) {
  const ctx = context(relabelled(() => ({ app: 'nginx' })));
  const calls: string[] = [];
  const states = opts.states ?? { 'deployment.yaml': relabelled(() => ({ app: 'nginx' })), 'solution/deployment.yaml': lab02Fixed() };
  const target: ValidateTarget = {
    async reset(l) {
      calls.push(`reset ${l.id}`);
      ctx.kube.set([]);
    },
    async applyManifests(_l, files) {
      for (const f of files) {
        calls.push(`apply ${f}`);
        const key = Object.keys(states).filter((k) => f.endsWith(`/${k}`)).sort((a, b) => b.length - a.length)[0];
        if (key) ctx.kube.set(states[key]!);
      }
    },
    async runCommand(_l, argv) {
      calls.push(`run ${argv.join(' ')}`);
      return { exitCode: opts.commandExit ?? 0, stdout: '', stderr: opts.commandExit ? 'error: deployment "nginx" exceeded its progress deadline' : '' };
    },
    checkContext: (): CheckContext => ctx,
  };
  return { target, calls, ctx };
}

describe('validateLabs', () => {
  it('a good lab: every check fails before its solution and passes after; progress per lab and step', async () => {
    const { target, calls, ctx } = fakeTarget();
    const events: ValidateEvent[] = [];
    const r = await validateLabs({ labs: [lab([step('label-the-pods', [sel('selects')], { manifests: ['solution/deployment.yaml'], commands: [['kubectl', 'rollout', 'status', 'deployment/nginx']] })])], target, onStep: (e) => events.push(e), now: ctx.now });
    expect(r.ok).toBe(true);
    expect(r.violations).toBe(0);
    expect(calls).toEqual([
      'reset 02-selectors-and-endpoints',
      'apply /labs/02-selectors-and-endpoints/manifests/deployment.yaml',
      'apply /labs/02-selectors-and-endpoints/solution/deployment.yaml',
      'run kubectl rollout status deployment/nginx',
    ]);
    expect(events.map((e) => `${e.step} ${e.state}`)).toEqual([
      '02-selectors-and-endpoints start',
      '02-selectors-and-endpoints/label-the-pods start',
      '02-selectors-and-endpoints/label-the-pods done',
      '02-selectors-and-endpoints done',
    ]);
    expect(r.labs[0]!.cases.map((c) => `${c.name} ${c.status}`)).toEqual([
      'setup passed',
      'label-the-pods: selects fails before the solution passed',
      'label-the-pods: solution applies passed',
      'label-the-pods: selects passes after the solution passed',
    ]);
  });

  it('the must-fail run caps each deadline (a fail only comes at the deadline)', async () => {
    const { target, ctx } = fakeTarget();
    const t0 = ctx.now();
    await validateLabs({ labs: [lab([step('s', [sel('selects')])])], target, beforeDeadlineSeconds: 6, now: ctx.now });
    // Before: attempts at 0, 3 s (the 6 s cap, 3 s interval); after: passes at once.
    expect(ctx.now() - t0).toBe(3000);
  });

  it('a check that passes before the solution is a lab bug, reported as a failure', async () => {
    const { target, ctx } = fakeTarget({ states: { 'deployment.yaml': lab02Fixed(), 'solution/deployment.yaml': lab02Fixed() } });
    const events: ValidateEvent[] = [];
    const r = await validateLabs({ labs: [lab([step('s', [sel('selects')])])], target, onStep: (e) => events.push(e), now: ctx.now });
    expect(r.ok).toBe(false);
    expect(r.violations).toBe(1);
    const bad = r.labs[0]!.cases.find((c) => c.status === 'failed')!;
    expect(bad.message).toMatch(/^lab bug: check selects passes before the step's solution, so it cannot tell the learner's work from the starting state/);
    expect(events.at(-1)).toMatchObject({ step: '02-selectors-and-endpoints', state: 'fail' });
    expect(r.junit).toContain('<failure message="lab bug: check selects passes before');
  });

  it('a check still failing after the solution fails, and later steps are skipped', async () => {
    const { target, ctx } = fakeTarget({ states: { 'deployment.yaml': relabelled(() => ({ app: 'nginx' })), 'solution/deployment.yaml': relabelled(() => ({ app: 'nginx', role: 'logstore' })) } });
    const r = await validateLabs({ labs: [lab([step('one', [sel('selects')]), step('two', [sel('again')])])], target, now: ctx.now });
    const cases = r.labs[0]!.cases;
    expect(cases.find((c) => c.name === 'one: selects passes after the solution')).toMatchObject({
      status: 'failed',
      message: 'check selects still fails after the solution: Service nginx selects app=nginx,role=logstor; pods nginx-6c9f8d7b5-* have role=logstore.',
    });
    expect(cases.at(-1)).toMatchObject({ name: 'two', status: 'skipped', message: 'an earlier step (one) did not reach its solved state' });
    expect(r.junit).toContain('<skipped message="an earlier step (one) did not reach its solved state"/>');
  });

  it('a failing solution command is an error with its output; a failing setup skips the lab', async () => {
    const { target, ctx } = fakeTarget({ commandExit: 1 });
    const r = await validateLabs({ labs: [lab([step('s', [sel('selects')], { commands: [['kubectl', 'rollout', 'status', 'deployment/nginx']] })])], target, now: ctx.now });
    expect(r.labs[0]!.cases.find((c) => c.status === 'error')).toMatchObject({
      message: 'solution command `kubectl rollout status deployment/nginx` exited 1: error: deployment "nginx" exceeded its progress deadline',
      detail: expect.stringContaining('exceeded its progress deadline'),
    });

    const broken = fakeTarget();
    broken.target.applyManifests = async () => {
      throw new Error('kubectl apply failed (exit 1): The Deployment "nginx" is invalid');
    };
    const r2 = await validateLabs({ labs: [lab([step('s', [sel('selects')])])], target: broken.target, now: broken.ctx.now });
    expect(r2.labs[0]!.cases.map((c) => c.status)).toEqual(['error', 'skipped']);
    expect(r2.labs[0]!.cases[0]!.message).toBe('setup failed: kubectl apply failed (exit 1): The Deployment "nginx" is invalid');
  });

  it('a check that cannot run before the solution is an error, not a pass', async () => {
    const { target, ctx } = fakeTarget();
    ctx.kube.unreachable = 'the Kubernetes API did not answer within 10 s';
    const r = await validateLabs({ labs: [lab([step('s', [sel('selects')])])], target, now: ctx.now });
    expect(r.labs[0]!.cases[1]).toMatchObject({ status: 'error', message: expect.stringContaining('could not run before the solution') });
  });

  it('a lab for another kube-proxy mode is skipped, saying which', async () => {
    const { target, calls, ctx } = fakeTarget();
    target.proxyMode = async () => 'nftables';
    const l = { ...lab([step('s', [sel('selects')])]), proxyMode: 'iptables' as const };
    const events: ValidateEvent[] = [];
    const r = await validateLabs({ labs: [l], target, onStep: (e) => events.push(e), now: ctx.now });
    expect(calls).toEqual([]);
    expect(r.labs[0]!.cases).toEqual([{ name: 'proxy mode', classname: '02-selectors-and-endpoints', status: 'skipped', durationMs: 0, message: 'the lab needs kube-proxy in iptables mode; this cluster runs nftables' }]);
    expect(events.at(-1)).toMatchObject({ state: 'skip' });
    target.proxyMode = async () => 'iptables';
    expect((await validateLabs({ labs: [l], target, now: ctx.now })).ok).toBe(true);
  });

  it('JUnit XML: one testsuite per lab, counts, escaped text', async () => {
    const { target, ctx } = fakeTarget({ states: { 'deployment.yaml': lab02Fixed(), 'solution/deployment.yaml': lab02Fixed() } });
    const r = await validateLabs({ labs: [lab([step('s', [sel('selects')])]), lab([step('t', [sel('x')])], '03-endpoints-without-selector')], target, now: ctx.now });
    expect(r.junit.split('\n').slice(0, 3)).toEqual([
      '<?xml version="1.0" encoding="UTF-8"?>',
      expect.stringMatching(/^<testsuites name="svclab validate" tests="8" failures="2" errors="0" skipped="0" time="[\d.]+">$/),
      expect.stringMatching(/^  <testsuite name="02-selectors-and-endpoints" tests="4" failures="1" errors="0" skipped="0" time="[\d.]+">$/),
    ]);
    expect(r.junit).toContain('<testsuite name="03-endpoints-without-selector"');
    expect(r.junit).toContain('classname="02-selectors-and-endpoints.s" name="s: selects fails before the solution"');
    expect(r.junit).not.toMatch(/<failure[^>]*message="[^"]*<[^"]*"/); // "<" is escaped inside attributes
  });
});

describe('validate CLI helpers', () => {
  it('picks labs by id and names the unknown ones; formats progress lines', async () => {
    const { pickLabs, formatValidateEvent } = await import('../../src/labs/validate.ts');
    const a = lab([step('s', [sel('x')])]);
    const b = lab([step('s', [sel('x')])], '03-endpoints-without-selector');
    expect(pickLabs([a, b], [])).toEqual({ labs: [a, b], unknown: [] });
    expect(pickLabs([a, b], ['03-endpoints-without-selector', '99-nope'])).toEqual({ labs: [b], unknown: ['99-nope'] });
    expect(formatValidateEvent({ step: '02-x/observe', state: 'done', detail: '7 s' })).toBe('  ✓ 02-x/observe (7 s)');
    expect(formatValidateEvent({ step: '02-x', state: 'fail', detail: 'setup failed: boom' })).toBe('✗ 02-x: setup failed: boom');
  });
});
