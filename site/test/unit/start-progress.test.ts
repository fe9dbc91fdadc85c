import { describe, expect, it } from 'vitest';
import { panelStrings } from '../../lib/i18n/panel-strings.ts';
import { phasesOf, startError, startStatus, startTicker } from '../../lib/lab/start-progress.ts';
import type { Session } from '../../lib/api/runner-api.ts';

const en = panelStrings.en;
const zh = panelStrings['zh-CN'];
const session = (over: Partial<Session>): Session => ({ id: 's1', labId: '02-selectors-and-endpoints', createdAt: '', workstation: 'svclab-ws-s1', cluster: null, steps: [], state: 'claiming', ...over });
const steps = (running: number): Session['steps'] =>
  (['claiming', 'starting', 'applying'] as const).map((id, i) => ({ id, state: i < running ? 'done' : i === running ? 'running' : 'pending' }));

describe('start progress', () => {
  it('lists the runner’s phases, with the wait in front only once the session has waited', () => {
    const starting = session({ state: 'starting', steps: steps(1) });
    expect(phasesOf(starting, en, false).map((p) => `${p.id}:${p.state}`)).toEqual(['claiming:done', 'starting:running', 'applying:pending']);
    expect(phasesOf(starting, en, true).map((p) => `${p.id}:${p.state}`)).toEqual(['waiting:done', 'claiming:done', 'starting:running', 'applying:pending']);
    const waiting = session({ state: 'waiting', steps: steps(-1), wait: { position: 2, etaSeconds: 40 } });
    expect(phasesOf(waiting, en, false).map((p) => `${p.id}:${p.state}`)).toEqual(['waiting:running', 'claiming:pending', 'starting:pending', 'applying:pending']);
    expect(phasesOf(waiting, zh, false)[0]!.label).toBe('等待空闲集群');
  });

  it('derives the phases from the state when the runner sends no steps', () => {
    expect(phasesOf(session({ state: 'applying' }), en, false).map((p) => p.state)).toEqual(['done', 'done', 'running']);
  });

  it('says the phase and its number, or the place in line', () => {
    const starting = session({ state: 'starting', steps: steps(1) });
    expect(startStatus(starting, en, phasesOf(starting, en, true))).toBe('Starting the lab: Start your workstation (step 2 of 3)…');
    const waiting = session({ state: 'waiting', wait: { position: 3, etaSeconds: 90 } });
    expect(startStatus(waiting, en, phasesOf(waiting, en, false))).toBe('Every cluster is in use: you are number 3 in line.');
    expect(startStatus(waiting, zh, phasesOf(waiting, zh, false))).toBe('集群都在使用中：你排在第 3 位。');
  });

  it('counts down to the estimate while waiting, then says it is late; elapsed time otherwise', () => {
    const waiting = session({ state: 'waiting', wait: { position: 1, etaSeconds: 30 } });
    const t0 = 1_000_000;
    expect(startTicker(waiting, en, t0, t0, t0 + 30_000)).toBe('Preparing — ready in about 30 s.');
    expect(startTicker(waiting, en, t0 + 12_400, t0, t0 + 30_000)).toBe('Preparing — ready in about 18 s.');
    expect(startTicker(waiting, en, t0 + 31_000, t0, t0 + 30_000)).toBe('Preparing — taking a little longer than estimated…');
    expect(startTicker(waiting, zh, t0 + 12_400, t0, t0 + 30_000)).toBe('正在准备，大约 18 秒后就绪。');
    expect(startTicker(session({ state: 'waiting' }), en, t0 + 5_000, t0, undefined)).toBe('Preparing — 5 s so far.');
    expect(startTicker(session({ state: 'applying' }), en, t0 + 7_000, t0, undefined)).toBe('Time so far: 7 s');
  });

  it('shows a failure as message and hint, never a bare code', () => {
    const err = { code: 'POOL_TIMEOUT', message: 'No cluster became free in time.', hint: 'Press Start lab again in a few minutes.' };
    expect(startError(err, en)).toEqual({ message: err.message, hint: err.hint });
    expect(startError(err, zh).message).toBe('等了很久也没有集群空出来。');
    // An unknown code in Chinese: the runner's text. No text at all: a general one, not the code.
    expect(startError({ code: 'SOMETHING_NEW', message: 'It broke.', hint: 'Try again.' }, zh)).toEqual({ message: 'It broke.', hint: 'Try again.' });
    const bare = startError({ code: 'SOMETHING_NEW' }, en);
    expect(bare.message).toBe(en.startFailed);
    expect(JSON.stringify(bare)).not.toContain('SOMETHING_NEW');
    expect(startError(undefined, en).hint).toBe(en.startFailedHint);
  });
});
