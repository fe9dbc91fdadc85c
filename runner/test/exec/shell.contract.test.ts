// The same suite against the host Shell (ExecaRunner, real processes) and FakeShell
// (rules set up to behave like the same programs would).
import { describe, expect, it } from 'vitest';
import { outputTail, type Shell } from '../../src/exec/shell.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { FakeShell } from '../../src/exec/fake-shell.ts';

function fake(): Shell {
  return new FakeShell()
    .on(['sh', '-c', 'echo out; echo err >&2; exit 3'], { exitCode: 3, stdout: 'out\n', stderr: 'err\n' })
    .on(['cat'], (_argv, opts) => ({ stdout: opts.input ?? '' }))
    .on(['sleep'], (_argv, opts) => new Promise((resolve) => {
      const t = setTimeout(() => resolve({ exitCode: 0 }), 10_000);
      opts.signal?.addEventListener('abort', () => { clearTimeout(t); resolve({ exitCode: -1, aborted: true }); });
      setTimeout(() => { clearTimeout(t); resolve({ exitCode: -1, timedOut: true }); }, opts.timeoutMs);
    }));
}

for (const [name, make] of [['ExecaRunner', () => new ExecaRunner()], ['FakeShell', fake]] as const) {
  describe(`Shell contract: ${name}`, () => {
    it('returns a failing command as data with its argv, exit code and output', async () => {
      const r = await make().run(['sh', '-c', 'echo out; echo err >&2; exit 3'], { timeoutMs: 5000 });
      expect(r).toMatchObject({ argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'], exitCode: 3, timedOut: false, aborted: false });
      expect(r.stdout.trim()).toBe('out');
      expect(r.stderr.trim()).toBe('err');
      expect(outputTail(r)).toBe('out\n\nerr');
    });

    it('passes input on stdin', async () => {
      const r = await make().run(['cat'], { timeoutMs: 5000, input: 'hello\n' });
      expect(r.stdout).toBe('hello\n');
    });

    it('kills a command at its timeout', async () => {
      const r = await make().run(['sleep', '30'], { timeoutMs: 200 });
      expect(r.timedOut).toBe(true);
      expect(r.exitCode).not.toBe(0);
      expect(r.durationMs).toBeLessThan(5000);
    });

    it('kills a command on abort', async () => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const r = await make().run(['sleep', '30'], { timeoutMs: 20_000, signal: ac.signal });
      expect(r.aborted).toBe(true);
      expect(r.durationMs).toBeLessThan(5000);
    });
  });
}

describe('ExecaRunner process groups', () => {
  it('kills the children a command started, not only the command', async () => {
    const r = await new ExecaRunner().run(['sh', '-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    const child = Number(r.stdout.trim());
    expect(child).toBeGreaterThan(0);
    // Gone, or a zombie waiting for a reaper: either way no longer running.
    await new Promise((res) => setTimeout(res, 300));
    const { readFileSync } = await import('node:fs');
    let state = 'gone';
    try { state = /State:\s+(\S)/.exec(readFileSync(`/proc/${child}/status`, 'utf8'))?.[1] ?? 'gone'; } catch { /* gone */ }
    expect(['gone', 'Z', 'X']).toContain(state);
    expect(r.durationMs).toBeLessThan(2000);
  });

  it('reports a missing program as exit code -1 or 127, not a crash', async () => {
    const r = await new ExecaRunner().run(['svclab-no-such-program'], { timeoutMs: 2000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/ENOENT|not found/);
  });
});

describe('the host shell and a container shell', () => {
  it('the host shell runs as the runner only: a user is refused, not ignored', async () => {
    await expect(new ExecaRunner().run(['id', '-u'], { timeoutMs: 2000, user: 'learner' })).rejects.toThrow(/runs as the runner's user/);
  });

  it('a container shell runs as its default user unless a call names another, with env merged', async () => {
    const { FakeContainerEngine } = await import('../../src/engine/fake-container-engine.ts');
    const { ContainerShell } = await import('../../src/engine/container-shell.ts');
    const engine = new FakeContainerEngine();
    engine.addImage('ws');
    await engine.runContainer({ name: 'svclab-ws-t', image: 'ws', labels: {} });
    const seen: { user?: string; env?: Record<string, string> }[] = [];
    engine.execHandler = (_c, _argv, o) => { seen.push({ ...(o.user ? { user: o.user } : {}), ...(o.env ? { env: o.env } : {}) }); return { exitCode: 3, stderr: 'no' }; };
    const sh = new ContainerShell(engine, 'svclab-ws-t', { user: 'learner', env: { A: '1' } });
    const r = await sh.run(['false'], { timeoutMs: 1000, env: { B: '2' } });
    await sh.run(['id'], { timeoutMs: 1000, user: 'root' });
    expect(r).toMatchObject({ exitCode: 3, stderr: 'no', timedOut: false, aborted: false });
    expect(seen).toEqual([{ user: 'learner', env: { A: '1', B: '2' } }, { user: 'root', env: { A: '1' } }]);
  });
});
