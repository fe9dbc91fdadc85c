// The workstation's keeper (images/workstation/files/svclab-term) run on this machine: the
// KubeExecTerminal contract with a PodExec that starts the script as a local process
// instead of through the Kubernetes API — the same bytes on stdin/stdout/stderr, no cluster.
// It needs what the workstation image has: bash, script, flock, fallocate, setsid, perl.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runThrough, type ExecEnd, type ExecHandlers, type ExecStream, type PodExec, type PodTarget } from '../../src/terminals/pod-exec.ts';
import { kubeTerminalContract } from './kube-terminal-contract.ts';

const SCRIPT = new URL('../../../images/workstation/files/svclab-term', import.meta.url).pathname;
const TOOLS = ['bash', 'script', 'flock', 'fallocate', 'setsid', 'perl', 'tail', 'stty'];
const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
if (missing.length) console.log(`SKIP svclab-term on this machine: ${missing.join(', ')} not installed (the workstation image has them)`);

const work = mkdtempSync(join(tmpdir(), 'svclab-term-test-'));
const home = join(work, 'home');
mkdirSync(home);
// A prompt the contract recognises ("… $ "), whoever runs the test.
writeFileSync(join(home, '.bash_profile'), "PS1='host $ '\n");

/** Each "pod" is a directory of its own (SVCLAB_TERM_DIR), as each pod has its own /tmp. */
class HostPodExec implements PodExec {
  private readonly env: (t: PodTarget) => NodeJS.ProcessEnv;
  constructor(o: { rate?: number; keep?: number } = {}) {
    this.env = (t) => ({ ...process.env, HOME: home, SVCLAB_TERM_DIR: join(work, t.pod), ...(o.rate ? { SVCLAB_TERM_RATE: String(o.rate) } : {}), ...(o.keep ? { SVCLAB_TERM_KEEP: String(o.keep) } : {}) });
  }
  async open(target: PodTarget, command: readonly string[], h: ExecHandlers): Promise<ExecStream> {
    if (command[0] !== 'svclab-term') throw new Error(`only svclab-term runs here, not ${command[0]}`);
    const child = spawn('bash', [SCRIPT, ...command.slice(1)], { env: this.env(target), stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => h.stdout(b));
    child.stderr.on('data', (b: Buffer) => h.stderr(b));
    child.stdin.on('error', () => undefined);
    let gone = false;
    const done = new Promise<ExecEnd>((resolve) => {
      child.on('close', (code) => resolve(gone ? { dropped: true, message: 'closed' } : { ...(code === null ? {} : { exitCode: code }), dropped: false }));
    });
    return {
      write: (d) => { if (!gone) child.stdin.write(d); },
      pause: () => child.stdout.pause(),
      resume: () => child.stdout.resume(),
      close: () => { gone = true; child.stdin.end(); },
      // A dead replica: the pipes vanish with no goodbye.
      abort: () => { gone = true; child.kill('SIGKILL'); child.stdin.destroy(); child.stdout.destroy(); child.stderr.destroy(); },
      done,
    };
  }
  run(target: PodTarget, command: readonly string[], timeoutMs: number) {
    return runThrough(this, target, command, timeoutMs);
  }
}

/** The keepers this file started: each is its own process group (setsid). */
function stopKeepers(): void {
  for (const pod of readdirSync(work).filter((d) => d !== 'home')) {
    for (const name of readdirSync(join(work, pod))) {
      try {
        const pid = Number(readFileSync(join(work, pod, name, 'pid'), 'utf8'));
        if (pid > 1) process.kill(-pid, 'SIGKILL');
      } catch { /* not a shell dir, or already gone */ }
    }
  }
}

afterAll(() => {
  stopKeepers();
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(missing.length > 0)('svclab-term (the workstation\'s keeper) on this machine', () => {
  let n = 0;
  const exec = new HostPodExec();
  kubeTerminalContract({
    exec: () => exec,
    target: { namespace: 'host', pod: 'pod-a', container: 'workstation' },
    name: () => `t${++n}`,
    realShell: true,
  });

  it('paces a flood (yes) to its rate, keeps the log to about KEEP bytes on disk, and ^C stops it', async () => {
    const { KubeExecTerminal } = await import('../../src/terminals/kube-exec-terminal.ts');
    const { Screen } = await import('./kube-terminal-contract.ts');
    const pod = { namespace: 'host', pod: 'pod-flood', container: 'workstation' };
    const term = new KubeExecTerminal({ name: 'flood', target: pod, exec: new HostPodExec({ rate: 1 << 20, keep: 256 * 1024 }) });
    const c = new Screen();
    const entry = term.attach(c, 0, 80, 24);
    await c.until('prompt', (s) => s.text.endsWith('$ '));
    const t0 = Date.now();
    const start = c.lastSeq;
    term.write('yes\r');
    // The page acks what it rendered; here everything is rendered at once.
    const acker = setInterval(() => term.ack(entry, c.lastSeq), 20);
    await new Promise((r) => setTimeout(r, 2000));
    term.write('\x03');
    await c.until('the prompt after ^C', (s) => /\^C\r\n(\x1b\[\?2004h)?host \$ $/.test(s.text.slice(-40)), 10_000);
    clearInterval(acker);
    const seconds = (Date.now() - t0) / 1000;
    const rate = (c.lastSeq - start) / seconds;
    const log = join(work, 'pod-flood', 'flood', 'log');
    const onDisk = statSync(log).blocks * 512;
    console.log(`yes for 2 s at SVCLAB_TERM_RATE=1 MiB/s: ${((c.lastSeq - start) / 1048576).toFixed(2)} MiB in ${seconds.toFixed(1)} s (${(rate / 1048576).toFixed(2)} MiB/s); log ${statSync(log).size} bytes long, ${onDisk} on disk (KEEP 256 KiB)`);
    expect(rate).toBeLessThan(1.5 * (1 << 20));
    expect(onDisk).toBeLessThan(3 * 256 * 1024);
    expect(Number(readFileSync(join(work, 'pod-flood', 'flood', 'oldest'), 'utf8'))).toBeGreaterThan(0);
    expect(c.badSeqs).toEqual([]);
    term.close();
  }, 30_000);

  it('a page that stopped reading during a flood: the stretch trimmed under it is not shown as NULs, its reconnect is told it missed some', async () => {
    const { KubeExecTerminal } = await import('../../src/terminals/kube-exec-terminal.ts');
    const { Screen } = await import('./kube-terminal-contract.ts');
    const pod = { namespace: 'host', pod: 'pod-lag', container: 'workstation' };
    const exec = new HostPodExec({ rate: 1 << 20, keep: 64 * 1024 });
    const term = new KubeExecTerminal({ name: 'lag', target: pod, exec, highWater: 8 * 1024, lowWater: 2 * 1024 });
    const c = new Screen();
    const entry = term.attach(c, 0, 80, 24);
    await c.until('prompt', (s) => s.text.endsWith('$ '));
    term.ack(entry, c.lastSeq);
    term.write('seq 1 150000; echo flood-done\r'); // ~1 MB, paced at 1 MiB/s; this page reads 8 KiB and stops
    await new Promise((r) => setTimeout(r, 2500));
    const acker = setInterval(() => term.ack(entry, c.lastSeq), 20); // it reads again
    await c.until('hang-up', (s) => s.closed !== undefined, 15_000);
    clearInterval(acker);
    expect(c.closed?.code).toBe(1012);
    expect(c.text).not.toContain('\0');
    const d = new Screen(c.lastSeq);
    const ed = term.attach(d, c.lastSeq, 80, 24);
    await d.until('the end of the flood', (s) => { term.ack(ed, s.lastSeq); return /\nflood-done\r\n/.test(s.text) && s.text.endsWith('$ '); }, 15_000);
    expect(d.hello?.missed).toBe(true);
    expect(d.text).not.toContain('\0');
    expect(d.text).toContain('\r\n150000\r\n');
    term.close();
  }, 40_000);

  it('answers bad arguments with a message and no shell', () => {
    const r = spawnSync('bash', [SCRIPT, 'attach', '../etc', '0', '80', '24'], { env: { ...process.env, SVCLAB_TERM_DIR: join(work, 'pod-bad') }, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("bad terminal name '../etc'");
    const s = spawnSync('bash', [SCRIPT, 'attach', 'x', '-1', '80', '24'], { env: { ...process.env, SVCLAB_TERM_DIR: join(work, 'pod-bad') }, encoding: 'utf8' });
    expect(s.stderr).toContain("SINCE must be a whole number, not '-1'");
  });
});
