// The loop every API and vantage-point check shares: deadline, interval, and
// which outcome wins when attempts disagree.
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../src/checks/kube-api.ts';
import { pollCheck, podGroup, type Observation } from '../../src/checks/poll-check.ts';
import { VantageUnavailable } from '../../src/checks/vantage.ts';
import { selectorCheckSchema } from '../../src/checks/kinds/selector.ts';
import { context, parse } from './check-fixtures.ts';

const check = parse(selectorCheckSchema, { kind: 'selector', service: 'nginx', deadlineSeconds: 10, intervalSeconds: 2, hint: { en: 'Lab hint', zh: '实验提示' } });
const fail: Observation = { status: 'fail', message: 'not yet', hint: 'engine hint', expected: 'e', observed: 'o' };

describe('pollCheck', () => {
  it('polls every interval until the deadline; a fail gets the lab hint over the engine one', async () => {
    const ctx = context();
    const at: number[] = [];
    const r = await pollCheck(check, ctx, async () => {
      at.push(ctx.elapsed());
      return fail;
    });
    expect(at).toEqual([0, 2000, 4000, 6000, 8000]);
    expect(r).toMatchObject({ status: 'fail', message: 'not yet', hint: 'Lab hint', details: { expected: 'e', observed: 'o (5 attempts over 8 s)' } });
  });

  it('stops at once on a pass or a final outcome', async () => {
    const ctx = context();
    let n = 0;
    expect((await pollCheck(check, ctx, async () => (++n === 3 ? { ...fail, status: 'pass', message: 'ok' } : fail))).status).toBe('pass');
    expect(n).toBe(3);
    n = 0;
    expect((await pollCheck(check, ctx, async () => (n++, { ...fail, final: true }))).status).toBe('fail');
    expect(n).toBe(1);
  });

  it('an attempt that could not run does not erase what an earlier one saw', async () => {
    const ctx = context();
    let n = 0;
    const r = await pollCheck(check, ctx, async () => {
      if (++n < 5) return fail;
      throw new VantageUnavailable('iptables-save at node:control-plane did not finish in time');
    });
    expect(r.status).toBe('fail');
  });

  it('only errors: error with the reason, retried until the deadline', async () => {
    const ctx = context();
    let n = 0;
    const r = await pollCheck(check, ctx, async () => {
      n++;
      throw new KubeApiError('the Kubernetes API did not answer within 10 s');
    });
    expect(n).toBe(5);
    expect(r).toMatchObject({ status: 'error', message: 'The check could not run: the Kubernetes API did not answer within 10 s' });
    expect(r.hint).toMatch(/^This says nothing about your cluster yet/);
  });

  it('a bug in a check is an error at once, never a pass or a fail', async () => {
    const r = await pollCheck(check, context(), async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'spec')");
    });
    expect(r).toMatchObject({ status: 'error', message: "The check could not run: internal error in the selector check: Cannot read properties of undefined (reading 'spec')" });
  });

  it('cancelled: error', async () => {
    const ac = new AbortController();
    const ctx = { ...context(), signal: ac.signal };
    const r = await pollCheck(check, ctx, async () => {
      ac.abort();
      return fail;
    });
    expect(r).toMatchObject({ status: 'error', message: 'The check could not run: the check was cancelled' });
  });

  it('pod names as a group', () => {
    expect(podGroup(['web-7d9c-abcde', 'web-7d9c-fghij'])).toBe('web-7d9c-*');
    expect(podGroup(['web-0'])).toBe('web-0');
    expect(podGroup(['alpha', 'beta'])).toBe('alpha, beta');
  });
});
