// The runner's real HTTP/WebSocket app (buildApp, SessionManager, replay buffer, the real
// labs) serving the built site, with a scripted terminal instead of a workstation
// container. Lets the browser tests exercise the lab panel and the terminal protocol on a
// machine without docker; the real tier (runner/test/support/stack.ts) runs when it can.
import { join } from 'node:path';
import { pino } from 'pino';
import { FakeContainerEngine } from '../../../runner/src/engine/fake-container-engine.ts';
import { buildApp, noClusterApply, type ApplyPort, type ChecksPort, type LabActionsPort } from '../../../runner/src/http/app.ts';
import { labsPort } from '../../../runner/src/http/lab-ports.ts';
import { loadLabs } from '../../../runner/src/labs/load-labs.ts';
import { FakePty } from '../../../runner/src/pty/fake-pty-factory.ts';
import type { PtyFactory, PtySpawnOptions } from '../../../runner/src/pty/pty-factory.ts';
import { SessionManager, type SessionManagerDeps } from '../../../runner/src/sessions/session-manager.ts';
import { siteDir } from './browser.ts';

const root = join(import.meta.dirname, '../../..');

/**
 * A shell that knows `echo WORDS`, `hostname` and `seq FIRST LAST` (printed in bursts, like a
 * real one). The workstation's runs as learner; a node shell (no --user) as root on the node.
 */
export class ScriptedPtyFactory implements PtyFactory {
  readonly spawned: FakePty[] = [];
  spawn(argv: readonly string[], opts: PtySpawnOptions): FakePty {
    const learner = argv.includes('--user');
    const host = learner ? 'workstation' : (argv.at(-3) ?? 'node'); // …, container, 'bash', '-l'
    const prompt = learner ? 'learner@workstation:~$ ' : `root@${host}:/# `;
    const pty: FakePty = new FakePty(argv, opts, 2000 + this.spawned.length, (line) => {
      const words = line.trim().split(/\s+/);
      if (words[0] === 'echo') return `${words.slice(1).join(' ')}\r\n$ `;
      if (words[0] === 'hostname') return `${host}\r\n$ `;
      if (words[0] === 'seq' && words.length === 3) {
        const first = Number(words[1]);
        const last = Number(words[2]);
        let n = first;
        const burst = () => {
          if (pty.killed) return;
          let out = '';
          for (let i = 0; i < 250 && n <= last; i++, n++) out += `${n}\r\n`;
          pty.emit(n > last ? `${out}$ ` : out);
          if (n <= last) setTimeout(burst, 4);
        };
        setTimeout(burst, 0);
        return '';
      }
      return words[0] ? `${words[0]}: command not found\r\n$ ` : '$ ';
    });
    this.spawned.push(pty);
    setTimeout(() => pty.emit(prompt), 10);
    return pty;
  }
}

export type FakeTierStack = { url: string; origin: string; token: string; ptys: ScriptedPtyFactory; close(): Promise<void> };

/** Nodes of the fake cluster a session may open root shells in (node shells on loopback). */
export const FAKE_NODES = [
  { name: 'svclab-main-control-plane', container: 'svclab-main-control-plane', role: 'control-plane' },
  { name: 'svclab-main-worker', container: 'svclab-main-worker', role: 'worker' },
];

export type FakeTierOptions = {
  actions?: LabActionsPort;
  /** Apply and the live objects for the editor's diff (default: no cluster). */
  apply?: ApplyPort;
  nodeShells?: boolean;
  /** A start that waits in line, takes its time or fails: the session manager's hooks. */
  start?: Pick<SessionManagerDeps, 'workstationNetwork' | 'prepare'>;
  /** How long POST /api/sessions waits before answering 202 (the runner's default is 8 s). */
  startWaitMs?: number;
};

export async function startFakeTierStack(checks?: ChecksPort, opts: FakeTierOptions = {}): Promise<FakeTierStack> {
  const logger = pino({ level: 'silent' });
  const engine = new FakeContainerEngine();
  engine.addImage('svclab/workstation:fake');
  const ptys = new ScriptedPtyFactory();
  const { labs } = await loadLabs(root);
  const sessions = new SessionManager({
    engine,
    ptys,
    logger,
    workstationImage: async () => 'svclab/workstation:fake',
    ...(opts.nodeShells ? { nodeShells: async () => FAKE_NODES } : {}),
    ...opts.start,
  });
  const token = 'fake-tier-token-0123456789';
  let origins: string[] = [];
  const app = await buildApp({
    logger,
    token,
    allowedOrigins: () => origins,
    sessions,
    labs: labsPort(labs),
    checks: checks ?? { run: async () => ({ results: [], passed: true }) },
    apply: opts.apply ?? noClusterApply,
    ...(opts.actions ? { actions: opts.actions } : {}),
    ...(opts.startWaitMs !== undefined ? { startWaitMs: opts.startWaitMs } : {}),
    siteDir,
    version: '0.0.0-fake-tier',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  origins = [origin];
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    ptys,
    close: async () => {
      await sessions.closeAll();
      await app.close();
    },
  };
}
