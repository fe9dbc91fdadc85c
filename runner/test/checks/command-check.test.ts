import { describe, expect, it } from 'vitest';
import { commandCheckSchema, runCommandCheck, type CommandCheck } from '../../src/checks/kinds/command.ts';
import { runStepChecks } from '../../src/checks/run-checks.ts';
import type { CheckContext } from '../../src/checks/check.ts';
import { FakeContainerEngine, type FakeExecHandler } from '../../src/engine/fake-container-engine.ts';
import { RunnerError } from '../../src/errors.ts';
import { commandResult } from '../../src/exec/shell.ts';

const WS = 'svclab-ws-test';

function check(over: Record<string, unknown> = {}): CommandCheck {
  return commandCheckSchema.parse({
    id: 'ready',
    kind: 'command',
    description: { en: 'Service nginx has 3 ready endpoints', zh: 'Service nginx 有 3 个 ready 的 endpoint' },
    argv: ['sh', '-c', 'test-script'],
    deadlineSeconds: 10,
    intervalSeconds: 2,
    hint: { en: 'Label the pods.', zh: '给 Pod 打上 label。' },
    ...over,
  });
}

/** A workstation whose exec answers come from `handler`, and a clock that never waits. */
async function setup(handler: FakeExecHandler, over: Partial<CheckContext> = {}) {
  const engine = new FakeContainerEngine();
  engine.addImage('svclab/workstation:test');
  await engine.runContainer({ name: WS, image: 'svclab/workstation:test', labels: {} });
  const calls: { command: readonly string[]; user?: string; at: number }[] = [];
  let t = 1_000_000;
  const timeouts: number[] = [];
  const realExec = engine.exec.bind(engine);
  engine.exec = (container, command, opts) => {
    timeouts.push(opts.timeoutMs);
    return realExec(container, command, opts);
  };
  engine.execHandler = (c, command, opts) => {
    calls.push({ command, at: t - 1_000_000, ...(opts.user ? { user: opts.user } : {}) });
    return handler(c, command, opts);
  };
  const ctx: CheckContext = {
    engine,
    workstation: WS,
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
    ...over,
  };
  return { engine, ctx, calls, timeouts };
}

describe('command check', () => {
  it('passes on exit 0 at the first attempt, with the description as message', async () => {
    const { ctx, calls } = await setup(() => ({ exitCode: 0, stdout: 'Service nginx has 3 ready endpoints\n' }));
    const r = await runCommandCheck(check(), ctx);
    expect(r).toMatchObject({ checkId: 'ready', kind: 'command', status: 'pass', message: 'Service nginx has 3 ready endpoints' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.command).toEqual(['sh', '-c', 'test-script']);
  });

  it('polls every interval until the deadline, then fails with what it last saw', async () => {
    const { ctx, calls } = await setup(() => ({ exitCode: 1, stdout: 'only 1 of 3 pods have role=logstor\n' }));
    const r = await runCommandCheck(check(), ctx);
    expect(r.status).toBe('fail');
    // Attempts at 0, 2, 4, 6 and 8 s; a sixth would start at the 10 s deadline.
    expect(calls.map((c) => c.at)).toEqual([0, 2000, 4000, 6000, 8000]);
    expect(r.message).toBe('Not yet: Service nginx has 3 ready endpoints The check saw: "only 1 of 3 pods have role=logstor"');
    expect(r.hint).toBe('Label the pods.');
    expect(r.details?.expected).toContain('exit code 0');
    expect(r.details?.observed).toContain('exit code 1 after 5 attempts over 8 s');
  });

  it('passes as soon as the cluster catches up (eventual consistency)', async () => {
    let n = 0;
    const { ctx, calls } = await setup(() => ({ exitCode: ++n < 3 ? 8 : 0 }));
    const r = await runCommandCheck(check(), ctx);
    expect(r.status).toBe('pass');
    expect(calls).toHaveLength(3);
  });

  it('respects a deadline shorter than the interval: one attempt only', async () => {
    const { ctx, calls } = await setup(() => ({ exitCode: 1 }));
    const r = await runCommandCheck(check({ deadlineSeconds: 1, intervalSeconds: 1 }), ctx);
    expect(r.status).toBe('fail');
    expect(calls).toHaveLength(1);
  });

  it('gives each attempt a timeout within the deadline, at least 1 s and at most 30 s', async () => {
    const { ctx, timeouts } = await setup(() => ({ exitCode: 1 }));
    await runCommandCheck(check({ deadlineSeconds: 100, intervalSeconds: 40 }), ctx);
    expect(timeouts).toEqual([30_000, 30_000, 20_000]);
  });

  it('maps a failure mode to its own message and hint, in the learner\'s language', async () => {
    const failures = [{ exitCode: 4, retry: false, message: { en: 'role=logstor is on the Deployment, not its pods.', zh: 'role=logstor 加在了 Deployment 上，而不是 Pod 模板里。' }, hint: { en: 'Move it to spec.template.metadata.labels.', zh: '挪到 spec.template.metadata.labels 下面。' } }];
    const { ctx, calls } = await setup(() => ({ exitCode: 4 }), { lang: 'zh' });
    const r = await runCommandCheck(check({ failures }), ctx);
    expect(r).toMatchObject({ status: 'fail', message: 'role=logstor 加在了 Deployment 上，而不是 Pod 模板里。', hint: '挪到 spec.template.metadata.labels 下面。' });
    // retry: false — waiting cannot change it, so the learner gets the answer at once.
    expect(calls).toHaveLength(1);
  });

  it('keeps polling on a failure mode that may still change, and falls back to the check hint', async () => {
    const failures = [{ exitCode: 8, message: { en: 'Pods are labelled; waiting for them to be ready.', zh: 'Pod 已打上 label，等待就绪。' } }];
    const { ctx, calls } = await setup(() => ({ exitCode: 8 }));
    const r = await runCommandCheck(check({ failures }), ctx);
    expect(r).toMatchObject({ status: 'fail', message: 'Pods are labelled; waiting for them to be ready.', hint: 'Label the pods.' });
    expect(calls).toHaveLength(5);
  });

  it('reports an exit the lab marks as "could not observe" as error, not fail', async () => {
    const failures = [{ exitCode: 10, status: 'error', message: { en: 'the Kubernetes API did not answer', zh: 'Kubernetes API 没有响应' } }];
    const { ctx } = await setup(() => ({ exitCode: 10 }));
    const r = await runCommandCheck(check({ failures }), ctx);
    expect(r.status).toBe('error');
    expect(r.message).toBe('The check could not run: the Kubernetes API did not answer');
  });

  it('honours expectExit', async () => {
    const { ctx } = await setup(() => ({ exitCode: 1 }));
    expect((await runCommandCheck(check({ expectExit: 1 }), ctx)).status).toBe('pass');
  });

  it('is error, not fail, when the workstation container is gone (and does not poll)', async () => {
    const { ctx, engine } = await setup(() => ({ exitCode: 0 }));
    await engine.removeContainer(WS);
    const r = await runCommandCheck(check(), ctx);
    expect(r.status).toBe('error');
    expect(r.message).toContain('No such container');
    expect(r.hint).toBeTruthy();
  });

  it('is error when docker is down', async () => {
    const { ctx, engine } = await setup(() => ({ exitCode: 0 }));
    engine.unavailable = 'DOCKER_DOWN';
    const r = await runCommandCheck(check(), ctx);
    expect(r).toMatchObject({ status: 'error' });
    expect(r.message).toContain('The Docker daemon is not running');
  });

  it('is error when a program the check needs is missing in the workstation (exit 127)', async () => {
    const { ctx, calls } = await setup(() => ({ exitCode: 127, stderr: 'sh: 1: kubectl: not found\n' }));
    const r = await runCommandCheck(check(), ctx);
    expect(r.status).toBe('error');
    expect(r.message).toContain('kubectl: not found');
    expect(calls).toHaveLength(1);
  });

  it('is error when docker exec answers with a daemon error on stderr', async () => {
    const { ctx } = await setup(() => ({ exitCode: 1, stderr: 'Error response from daemon: Container abc is not running' }));
    expect((await runCommandCheck(check(), ctx)).status).toBe('error');
  });

  it('keeps trying through timeouts, and is error if it never learns the answer', async () => {
    const { ctx, engine } = await setup(() => ({ exitCode: 0 }));
    let n = 0;
    engine.exec = async () => {
      n++;
      throw new RunnerError('COMMAND_TIMEOUT');
    };
    const r = await runCommandCheck(check(), ctx);
    expect(n).toBe(5);
    expect(r.status).toBe('error');
    expect(r.message).toContain('did not finish');
  });

  it('a timeout followed by an answer counts the answer', async () => {
    const { ctx, engine } = await setup(() => ({ exitCode: 0 }));
    let n = 0;
    engine.exec = async () => {
      if (n++ === 0) throw new RunnerError('COMMAND_TIMEOUT');
      return commandResult([], { exitCode: 0 });
    };
    expect((await runCommandCheck(check(), ctx)).status).toBe('pass');
  });

  it('is error when cancelled, and stops polling', async () => {
    const ac = new AbortController();
    const { ctx, calls } = await setup(() => {
      ac.abort();
      return { exitCode: 1 };
    }, { signal: ac.signal });
    const r = await runCommandCheck(check(), { ...ctx, signal: ac.signal });
    expect(r.status).toBe('error');
    expect(calls).toHaveLength(1);
  });

  it('runs as the workstation user when the context names one', async () => {
    const { ctx, calls } = await setup(() => ({ exitCode: 0 }), { user: 'learner' });
    await runCommandCheck(check(), ctx);
    expect(calls[0]!.user).toBe('learner');
  });
});

describe('runStepChecks', () => {
  it('runs the checks in order and passes only when all pass', async () => {
    const { ctx, calls } = await setup((_c, command) => ({ exitCode: command[2] === 'b' ? 1 : 0 }));
    const a = check({ id: 'a', argv: ['sh', '-c', 'a'] });
    const b = check({ id: 'b', argv: ['sh', '-c', 'b'], deadlineSeconds: 1, intervalSeconds: 1 });
    const all = await runStepChecks([a, b], ctx);
    expect(all.passed).toBe(false);
    expect(all.results.map((r) => [r.checkId, r.status])).toEqual([['a', 'pass'], ['b', 'fail']]);
    expect(calls.map((c) => c.command[2])).toEqual(['a', 'b']);
    expect((await runStepChecks([a], ctx)).passed).toBe(true);
    expect((await runStepChecks([], ctx)).passed).toBe(false);
  });
});
