// kill -9 the runner, start it again: the session, ~/answers and the terminal's history
// are still there (issue 16, item 2). The runner is a child process in this test's own
// cache dir; the workstation is real (docker + the workstation image), no cluster needed.
// Without docker or the image: one SKIP line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api, freePort, sessionsUnavailable, kill9, openTerminal, readySession, startRunnerProcess, stopRunner, until, type RunnerProcess } from '../support/runner-process.ts';

const reason = await sessionsUnavailable();
if (reason) console.log(`SKIP durable session (kill -9 and restart the runner): ${reason}`);

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', timeout: 60_000 }).trim();

describe.skipIf(reason)('a session survives kill -9 of the runner', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'svclab-durable-'));
  let runner: RunnerProcess | undefined;
  afterAll(async () => {
    await stopRunner(runner);
    // Only what this test's store made (its state-dir label), whatever happened above.
    const mine = `label=svclab.state-dir=${join(cacheDir, 'sessions')}`;
    for (const c of docker('ps', '-aq', '--filter', mine).split('\n').filter(Boolean)) docker('rm', '-f', c);
    for (const v of docker('volume', 'ls', '-q', '--filter', mine).split('\n').filter(Boolean)) docker('volume', 'rm', v);
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('same session id, ~/answers/x kept, the typed command replayed; Stop then removes the workstation and its home volume', async () => {
    const port = await freePort();
    runner = await startRunnerProcess({ cacheDir, port });
    const firstStartMs = runner.startMs;
    const id = await readySession(runner, '02-selectors-and-endpoints');
    const mark = `durable-${Date.now().toString(36)}`;
    const t1 = await openTerminal(runner, id);
    t1.type(`mkdir -p ~/answers && echo ${mark} > ~/answers/x && echo typed-${mark}-done\r`);
    // The command's output (not just its echo): the shell ran it.
    const screenLines = (t: string) => t.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split(/\r\n|\n|\r/).map((l) => l.trim());
    await until('the command ran', () => screenLines(t1.text()).includes(`typed-${mark}-done`) || undefined, 30_000, 100);
    await new Promise((r) => setTimeout(r, 600)); // the history is written 250 ms after a change
    const workstation = `svclab-ws-${id}`;
    const before = docker('inspect', '--format', '{{.Id}}', workstation);

    await kill9(runner);
    t1.close();
    // A dead runner: nothing answers on its port.
    await expect(fetch(`${runner.origin}/api/health`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    expect(docker('inspect', '--format', '{{.State.Running}}', workstation)).toBe('true');

    runner = await startRunnerProcess({ cacheDir, port });
    console.log(`restart: listening after ${Math.round(runner.startMs)} ms (first start ${Math.round(firstStartMs)} ms); ${runner.out.filter((l) => l.startsWith('•')).join(' | ')}`);
    const s = await api(runner, 'GET', `/api/sessions/${id}`);
    expect(s.status).toBe(200);
    expect(s.json.session).toMatchObject({ id, state: 'ready', labId: '02-selectors-and-endpoints' });
    expect(docker('inspect', '--format', '{{.Id}}', workstation)).toBe(before); // the same container, not a new one

    // A tab reconnecting from the start gets the screen back: the typed command is in the replay.
    const t2 = await openTerminal(runner, id, 0);
    const hello = await until('hello', () => t2.frames.find((f) => f.type === 'hello'), 10_000, 50);
    expect(hello).toMatchObject({ missed: false });
    await until('the replayed history', () => t2.text().includes(`typed-${mark}-done`) || undefined, 10_000, 50);
    t2.type('cat ~/answers/x\r');
    await until('~/answers/x read back', () => (t2.text().split(`cat ~/answers/x`).at(-1) ?? '').includes(mark) || undefined, 30_000, 100);
    t2.close();
    expect(runner.out.join('\n')).toContain(`took back 1 session(s) of an earlier runner: ${id}`);

    // Stop: the session ends for good — its container, home volume and record go.
    expect((await api(runner, 'DELETE', `/api/sessions/${id}`)).status).toBeLessThan(300);
    await until('workstation removed', () => docker('ps', '-aq', '--filter', `name=^${workstation}$`) === '' || undefined, 30_000, 200);
    expect(docker('volume', 'ls', '-q', '--filter', `name=^svclab-home-${id}$`)).toBe('');
    expect(readdirSync(join(cacheDir, 'sessions')).filter((f) => f.startsWith(id))).toEqual([]);
    expect(statSync(join(cacheDir, 'sessions')).mode & 0o777).toBe(0o700);
  });
});
