// `svclab start`: the runner on loopback, serving the built site and the API.
import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { ClusterPool } from '../pool/cluster-pool.ts';
import { runnerStatus, writeRunnerStatus } from '../pool/runner-status.ts';
import { join } from 'node:path';
import { ClusterCheckContexts } from '../checks/cluster-check-context.ts';
import { loadRunnerToken } from '../main/runner-token.ts';
import { buildWiring, type Wiring } from '../main/wiring.ts';
import { RunnerError } from '../errors.ts';
import { buildApp, noClusterApply, type ApplyPort } from '../http/app.ts';
import { parsePublicOrigin, siteOrigins } from '../http/auth.ts';
import { checksPort, labsPort } from '../http/lab-ports.ts';
import { formatLabError, loadLabs, type LabsLocation } from '../labs/load-labs.ts';
import { makeLogger } from '../logger.ts';
import { NodePtyFactory } from '../pty/node-pty-factory.ts';
import { prepareSessionCluster, sessionPorts, workstationNetwork, type LabClusterDeps } from '../sessions/lab-cluster.ts';
import { nodeAdminKubectl } from '../cluster/node-shell.ts';
import { SessionManager, type RecoverReport, type Session, type SessionManagerDeps } from '../sessions/session-manager.ts';
import { FileSessionStore } from '../sessions/session-store.ts';
import { parseManifests } from '../http/yaml-input.ts';
import type { Workshop } from '../workshop/workshop.ts';
import { endExpiredSessions, watchLearnerClusters } from '../workshop/live-sessions.ts';
import { apiReadyProbe } from '../pool/api-probe.ts';
import type { ClusterWatchOptions } from '../pool/cluster-watch.ts';
import { projectRoot, svclabVersion } from '../version.ts';

export interface StartOptions {
  /** Where the labs are (`--labs DIR`); svclab's own by default. */
  labs?: LabsLocation;
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
  /** Workshop mode: each learner claims a cluster of this warm pool (cluster.clusterFor claims from it). */
  pool?: ClusterPool;
  /**
   * Without a pool, the clusters learners hold some other way (a Kubernetes install: their
   * claimed environments), so the workshop's watch moves a learner off one that fails.
   */
  held?: { claimed(): { name: string; owner: string }[]; discard(owner: string): string | undefined };
  /** A session's workstation terminal from elsewhere than a local pty (a Kubernetes install: the environment pod's, through the API). */
  workstationTerminal?: SessionManagerDeps['workstationTerminal'];
  /** Sessions every runner replica serves (a Kubernetes install: kept in the learners' LearnerSessions). */
  sharedSessions?: SessionManagerDeps['shared'];
  /** This replica's name (its pod), said by /api/health. */
  replica?: string;
  /** Sessions unused this long are ended (their pooled cluster goes back). Default 60 min. */
  sessionIdleMs?: number;
  /** Where `svclab status` finds what this runner holds. */
  statusFile?: string;
  /** Make a new token instead of the one kept in the cache dir (open tabs need the new URL). */
  newToken?: boolean;
  /** The process's real objects (cli.ts builds them once); made here when not given. */
  wiring?: Pick<Wiring, 'runner' | 'engine'>;
  /** A workshop for a room (svclab workshop start): learners join; its instructor secret replaces the token. */
  workshop?: Workshop;
  /** The built site to serve; dist/ of the checkout by default (tests: a private `astro build --outDir`). */
  siteDir?: string;
  /** Origins the site is also reached at through a proxy or a Service (parsePublicOrigin): served names and allowed Origins. */
  publicOrigins?: readonly string[];
  /** Serve HTTPS: the certificate, its key and the names it is valid for (allowed Origins besides --host). */
  tls?: { cert: string; key: string; names: readonly string[] };
  /** A workshop's watch over learners' clusters (a learner whose cluster fails its probes moves to a new one); tests shorten it. */
  clusterWatch?: ClusterWatchOptions;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
/** How long after start the sweep still looks for workstations an earlier runner's in-flight `docker run` made. */
const LATE_WORKSTATION_WINDOW_MS = 2 * 60_000;

export async function startRunner(opts: StartOptions): Promise<{ url: string; port: number; close: () => Promise<void> }> {
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
  const workshop = opts.workshop;
  const logger = makeLogger({ destination: logFile, secrets: () => workshop?.secrets() ?? [] });
  const { runner, engine } = opts.wiring ?? buildWiring(opts.cacheDir);
  const { labs, errors } = await loadLabs(opts.labs ?? projectRoot);
  for (const e of errors) opts.out(`! lab skipped: ${formatLabError(e)}`);
  const labPorts = labsPort(labs);
  // A lab's setup is svclab's own doing (labs 03 and 12 start host-network stand-ins a learner
  // may not create): it is applied as admin on the control-plane node in every mode.
  const cluster: LabClusterDeps | undefined = opts.cluster && { setupKubectl: (name: string) => nodeAdminKubectl(opts.cluster!.driver, name), ...opts.cluster };
  // Apply, Diff, Solve, Reset and Check: one LabActions per request, one check context builder.
  const ports = cluster && sessionPorts(engine, labPorts.lab, {
    contexts: new ClusterCheckContexts({ driver: cluster.driver, engine, host: runner }),
    ...(cluster.setupKubectl ? { setupKubectl: cluster.setupKubectl } : {}),
  });
  const sessions = new SessionManager({
    engine, ptys: new NodePtyFactory(), logger, workstationImage: opts.workstationImage, maxSessions: opts.maxSessions,
    ...(opts.workstationTerminal ? { workstationTerminal: opts.workstationTerminal } : {}),
    ...(opts.sharedSessions ? { shared: opts.sharedSessions } : {}),
    // Sessions, their secrets' hashes and terminal history: a runner killed and started again takes them back.
    store: new FileSessionStore(join(opts.cacheDir, 'sessions')),
    // Taken back only when the workstation's cluster is still the one sessions get: a pooled
    // cluster's claim lived in the dead runner's memory, so pooled sessions are not.
    canAdopt: async (rec) => {
      if (opts.pool || workshop) return false;
      if (!rec.cluster) return true;
      // The cluster a new session would get now (the running --cluster), not just any running one.
      return cluster !== undefined && (await cluster.clusterFor({ id: rec.id, learner: rec.learner, labId: rec.labId } as Session, () => undefined)) === rec.cluster;
    },
    ...(cluster ? {
      workstationNetwork: workstationNetwork(cluster),
      prepare: async (s) => {
        await prepareSessionCluster(cluster, s, labPorts.lab(s.labId));
        // A workshop learner back on a new cluster (theirs expired, failed or was deleted): what they applied, again.
        for (const yaml of workshop ? (await workshop.work(s.learner, s.labId)).applied : []) {
          await ports!.apply.apply(s, yaml, parseManifests(yaml)).catch((e: unknown) => logger.warn({ session: s.id, err: String(e) }, 'a saved apply did not re-apply'));
        }
      },
      ...(opts.pool ? {
        // A learner's cluster goes back once none of their sessions is left.
        onRemoved: async (s: Session) => {
          if (!sessions.list().some((o) => o.learner === s.learner && o.id !== s.id && o.state !== 'failed')) await opts.pool!.release(s.learner);
        },
        onNodeShell: (s: Session) => opts.pool!.taint(s.learner),
      } : {}),
      // Node shells are root in privileged containers: only for a runner on loopback, and in a
      // workshop only for a learner the instructor enabled them for.
      ...(LOOPBACK.has(opts.host) || workshop ? {
        nodeShells: async (s: Session) => {
          if (workshop && !(await workshop.store.getLearner(s.learner))?.nodeShells) return [];
          return s.cluster ? (await cluster.driver.nodes(s.cluster.name)).map((n) => ({ name: n.name, container: n.container, role: n.role })) : [];
        },
      } : {}),
    } : {}),
  });
  // Listen once the verified sessions are back (open tabs then find theirs); removing the rest takes seconds and goes on meanwhile.
  let recovery!: Promise<RecoverReport>;
  const adopted = await new Promise<string[]>((resolve) => {
    recovery = sessions.recover({ onAdopted: resolve });
    recovery.catch((e: unknown) => {
      opts.out(`! could not look for workstations of an earlier runner: ${String(e)}`);
      resolve([]);
    });
  });
  const startedAt = Date.now();
  const status = () => runnerStatus(sessions, opts.pool);
  const idleMs = opts.sessionIdleMs ?? 60 * 60_000;
  const sweep = setInterval(() => {
    void sessions.expireIdle(idleMs).catch(() => undefined);
    // A `docker run` the killed runner left running can make a workstation after the first look:
    // look again for the first two minutes, not for the runner's whole life.
    if (Date.now() - startedAt < LATE_WORKSTATION_WINDOW_MS) void sessions.recover().catch(() => undefined);
    // A learner's place is over (the workshop's end, or their own when extended): their sessions end, so the pool recycles their clusters.
    if (workshop) void endExpiredSessions(workshop, sessions).catch(() => undefined);
    if (opts.statusFile) void writeRunnerStatus(opts.statusFile, status()).catch(() => undefined);
  }, 15_000);
  sweep.unref();
  const held = opts.pool ?? opts.held;
  const watch = workshop && held && cluster
    ? watchLearnerClusters({ pool: held, sessions, workshop, probe: apiReadyProbe((name) => cluster.driver.kubeconfig(name, 'host')), logger }, opts.clusterWatch)
    : undefined;
  watch?.start();
  if (adopted.length) opts.out(`• took back ${adopted.length} session(s) of an earlier runner: ${adopted.join(', ')}`);
  void recovery.then((r) => { for (const x of r.removed) opts.out(`• removed workstation ${x.name} left by an earlier runner (${x.reason})`); }, () => undefined);
  // Kept across restarts (0600 in the cache dir), so open tabs survive a crashed or restarted runner.
  const { token, renewed } = workshop ? { token: workshop.instructorSecret, renewed: undefined } : loadRunnerToken(opts.cacheDir, { rotate: opts.newToken ?? false });
  if (renewed && renewed !== 'first start') opts.out(`• a new token (${renewed}): tabs opened before need the URL below`);
  const siteDir = opts.siteDir ?? join(projectRoot, 'dist');
  let origins: string[] = [];
  const app = await buildApp({
    logger, token, allowedOrigins: () => origins, sessions, ...(opts.replica ? { replica: opts.replica } : {}),
    labs: labPorts, checks: ports ? ports.checks : checksPort(labPorts, engine), apply: opts.apply ?? ports?.apply ?? noClusterApply,
    ...(ports ? { actions: ports.actions } : {}),
    siteDir: existsSync(join(siteDir, 'index.html')) ? siteDir : undefined,
    version: svclabVersion(),
    status,
    ...(opts.pool ? { instructor: { pool: opts.pool } } : {}),
    ...(workshop ? { workshop } : {}),
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key } } : {}),
  });
  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const scheme = opts.tls ? 'https' : 'http';
  origins = [...siteOrigins(opts.host, port, scheme, opts.tls?.names ?? []), ...(opts.publicOrigins ?? []).map((o) => parsePublicOrigin(o))];
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `${scheme}://${host}:${port}/?token=${token}`;
  opts.out(`svclab ${svclabVersion()} is running.`);
  if (!workshop) opts.out(`  open: ${url}`);
  opts.out(`  logs: ${logFile}`);
  if (!existsSync(join(siteDir, 'index.html'))) opts.out('! the site is not built (dist/ missing): only the API is served. Run `npm start` or `astro build`.');
  return {
    url,
    port,
    close: async () => {
      clearInterval(sweep);
      await watch?.stop();
      await opts.pool?.close();
      await sessions.closeAll();
      await app.close();
      if (opts.statusFile) await rm(opts.statusFile, { force: true });
    },
  };
}
