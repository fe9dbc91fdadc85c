// `svclab start`: the runner on loopback, serving the built site and the API.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterCheckContexts } from '../checks/cluster-check-context.ts';
import { DockerEngine } from '../engine/docker-engine.ts';
import { ExecaRunner } from '../exec/execa-runner.ts';
import { RunnerError } from '../errors.ts';
import { buildApp, noClusterApply, type ApplyPort } from '../http/app.ts';
import { siteOrigins } from '../http/auth.ts';
import { checksPort, labsPort } from '../http/lab-ports.ts';
import { formatLabError, loadLabs } from '../labs/load-labs.ts';
import { makeLogger } from '../logger.ts';
import { NodePtyFactory } from '../pty/node-pty-factory.ts';
import { prepareSessionCluster, resetSession, solveStep, workstationApply, workstationNetwork, type LabClusterDeps } from '../sessions/lab-cluster.ts';
import { SessionManager, type Session } from '../sessions/session-manager.ts';
import { projectRoot, svclabVersion } from '../version.ts';

export interface StartOptions {
  host: string;
  port: number;
  allowRemote: boolean;
  cacheDir: string;
  out: (line: string) => void;
  /** Resolves the current workstation image tag (throws IMAGE_MISSING / IMAGE_STALE). */
  workstationImage: () => Promise<string>;
  apply?: ApplyPort;
  maxSessions?: number;
  /** Give sessions the running svclab cluster of this name (the learner's cluster). */
  cluster?: LabClusterDeps;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export async function startRunner(opts: StartOptions): Promise<{ url: string; close: () => Promise<void> }> {
  if (!LOOPBACK.has(opts.host) && !opts.allowRemote) {
    throw new RunnerError('INVALID_ARGUMENT', {
      message: `--host ${opts.host} would expose shells to the network.`,
      hint: 'The runner listens on 127.0.0.1 only. Add --allow-remote if you really mean to serve other machines (everyone with the token gets a shell).',
    });
  }
  if (!LOOPBACK.has(opts.host)) opts.out(`! WARNING: listening on ${opts.host}: anyone who can reach it and has the token gets a shell in a workstation container.`);
  const logDir = join(opts.cacheDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, 'runner.log');
  const logger = makeLogger({ destination: logFile });
  const runner = new ExecaRunner();
  const engine = new DockerEngine({ runner });
  const { labs, errors } = await loadLabs(projectRoot);
  for (const e of errors) opts.out(`! lab skipped: ${formatLabError(e)}`);
  const labPorts = labsPort(labs);
  const cluster = opts.cluster;
  const sessions = new SessionManager({
    engine, ptys: new NodePtyFactory(), logger, workstationImage: opts.workstationImage, maxSessions: opts.maxSessions,
    ...(cluster ? {
      workstationNetwork: workstationNetwork(cluster),
      prepare: (s) => prepareSessionCluster(cluster, s, labPorts.lab(s.labId)),
      // Node shells are root in privileged containers: only for a runner on loopback.
      ...(LOOPBACK.has(opts.host) ? {
        nodeShells: async (s: Session) => (s.cluster ? (await cluster.driver.nodes(s.cluster.name)).map((n) => ({ name: n.name, container: n.container, role: n.role })) : []),
      } : {}),
    } : {}),
  });
  const reaped = await sessions.reapOrphans().catch(() => []);
  if (reaped.length) opts.out(`• removed ${reaped.length} workstation container(s) left by an earlier runner`);
  const token = randomBytes(24).toString('base64url');
  const siteDir = join(projectRoot, 'dist');
  let origins: string[] = [];
  const app = await buildApp({
    logger, token, allowedOrigins: () => origins, sessions,
    labs: labPorts, checks: checksPort(labPorts, engine, cluster ? new ClusterCheckContexts({ driver: cluster.driver, engine, host: runner }) : undefined), apply: opts.apply ?? (cluster ? workstationApply(engine) : noClusterApply),
    ...(cluster ? { actions: { solve: (s: Session, stepId: string) => solveStep(engine, s, labPorts.lab(s.labId), stepId), reset: (s: Session) => resetSession(engine, s, labPorts.lab(s.labId)) } } : {}),
    siteDir: existsSync(join(siteDir, 'index.html')) ? siteDir : undefined,
    version: svclabVersion(),
  });
  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  origins = siteOrigins(opts.host, port);
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}/?token=${token}`;
  opts.out(`svclab ${svclabVersion()} is running.`);
  opts.out(`  open: ${url}`);
  opts.out(`  logs: ${logFile}`);
  if (!existsSync(join(siteDir, 'index.html'))) opts.out('! the site is not built (dist/ missing): only the API is served. Run `npm start` or `astro build`.');
  return {
    url,
    close: async () => {
      await sessions.closeAll();
      await app.close();
    },
  };
}
