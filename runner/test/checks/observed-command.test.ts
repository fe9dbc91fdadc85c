// The observed-command kind: a node's observation handed to the workstation script as
// its last argument; the command kind's exit-code mapping, polling and errors.
import { describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.ts';
import { observedCommandCheckSchema, runObservedCommandCheck, explainObservedCommandCheck } from '../../src/checks/kinds/observed-command.ts';
import { checkSchema } from '../../src/checks/registry.ts';
import { FakeVantageExec } from '../../src/checks/vantage.ts';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';

const WS = 'svclab-ws-test';
const ENTRY = 'tcp 6 86397 ESTABLISHED src=172.18.0.2 dst=10.96.16.16 sport=45678 dport=80 src=10.244.1.5 dst=172.18.0.2 sport=80 dport=45678 [ASSURED]';

const check = (over: Record<string, unknown> = {}) =>
  observedCommandCheckSchema.parse({
    id: 'entry',
    kind: 'observed-command',
    description: { en: 'the noted connection is tracked', zh: '记下的连接在跟踪表里' },
    observe: { from: 'node:control-plane', argv: ['conntrack', '-L', '-p', 'tcp', '--orig-dst', '10.96.16.16'] },
    argv: ['sh', '-c', 'script', 'sh'],
    deadlineSeconds: 10,
    intervalSeconds: 2,
    failures: [
      { exitCode: 6, retry: false, message: { en: 'No such connection is tracked.', zh: '没有跟踪到这条连接。' } },
      { exitCode: 5, message: { en: 'Not yet.', zh: '还没有。' } },
    ],
    ...over,
  });

/** The workstation answers with `exit(observation)`; the node with `table()`. */
async function setup(exit: (observation: string) => number, table: () => string) {
  const engine = new FakeContainerEngine();
  engine.addImage('svclab/workstation:test');
  await engine.runContainer({ name: WS, image: 'svclab/workstation:test', labels: {} });
  const seen: string[] = [];
  engine.execHandler = (_c, command) => {
    const observation = command.at(-1) ?? '';
    seen.push(observation);
    return { exitCode: exit(observation), stdout: '' };
  };
  const vantage = new FakeVantageExec().on('node:control-plane', 'conntrack', () => ({ exitCode: 0, stdout: table(), stderr: '1 flow entries have been shown.\n' }));
  let t = 1_000_000;
  const ctx: CheckContext = { engine, workstation: WS, vantage, now: () => t, sleep: async (ms) => { t += ms; } };
  return { ctx, seen, vantage };
}

describe('observed-command check', () => {
  it('is a registered kind: lab.yaml can use it', () => {
    expect(checkSchema.parse({ ...check(), kind: 'observed-command' }).kind).toBe('observed-command');
    expect(() => observedCommandCheckSchema.parse({ ...check(), observe: { from: 'workstation', argv: ['true'] } })).toThrow(/node or pod vantage point/);
    expect(explainObservedCommandCheck(check())).toMatch(/^runs `conntrack -L -p tcp --orig-dst 10.96.16.16` at node:control-plane, then `sh -c script sh`/);
  });

  it('hands the node\'s output to the workstation script as its last argument, and passes on exit 0', async () => {
    const { ctx, seen, vantage } = await setup((o) => (o.includes('sport=45678') ? 0 : 6), () => `${ENTRY}\n`);
    const r = await runObservedCommandCheck(check(), ctx);
    expect(r).toMatchObject({ status: 'pass', kind: 'observed-command', message: 'the noted connection is tracked' });
    expect(seen).toEqual([`${ENTRY}\n`]);
    expect(vantage.calls[0]).toEqual({ vantage: 'node:control-plane', argv: ['conntrack', '-L', '-p', 'tcp', '--orig-dst', '10.96.16.16'] });
  });

  it('a final failure answers at once with its message; a retryable one observes again until it passes', async () => {
    const final = await setup(() => 6, () => '');
    expect(await runObservedCommandCheck(check(), final.ctx)).toMatchObject({ status: 'fail', message: 'No such connection is tracked.' });
    expect(final.seen).toHaveLength(1);

    let calls = 0;
    const later = await setup((o) => (o.includes('ESTABLISHED') ? 0 : 5), () => (calls++ === 0 ? '' : `${ENTRY}\n`));
    // First attempt saw the table empty (exit 5, retry), the second the entry.
    expect(await runObservedCommandCheck(check(), later.ctx)).toMatchObject({ status: 'pass' });
    expect(later.seen).toEqual(['', `${ENTRY}\n`]);
  });

  it('a node that cannot be reached, or a missing program there, is an error in the learner\'s language', async () => {
    const { ctx, vantage } = await setup(() => 0, () => '');
    vantage.unavailable.add('node:control-plane');
    expect(await runObservedCommandCheck(check(), { ...ctx, lang: 'zh' })).toMatchObject({ status: 'error', message: expect.stringContaining('没能查看 node:control-plane') });
    const missing = await setup(() => 0, () => '');
    expect(await runObservedCommandCheck(check({ observe: { from: 'node:control-plane', argv: ['ss', '-tn'] } }), missing.ctx)).toMatchObject({ status: 'error', message: expect.stringContaining('ss is not installed at node:control-plane') });
  });
});
