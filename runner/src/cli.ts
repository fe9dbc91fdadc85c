// The svclab command line. Each command is a small function; errors a user can
// cause are RunnerErrors, printed as what happened + a hint, with exit code 1.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Progress } from './cli/progress.ts';
import { startRunner } from './cli/start.ts';
import { validateCommand } from './cli/validate.ts';
import { workshopCommand } from './cli/workshop.ts';
import { workshopServeCommand } from './cli/workshop-serve.ts';
import { buildWiring, clusterCommandDeps, interruptSignal, LEARNER_ACCESS_ON_PROVISION, learnerAccessStep, makePool, runnerStatusFile, workstationImageOf, type Wiring } from './main/wiring.ts';
import { formatProvisionEvent, provisionCluster } from './main/provision.ts';
import { DEFAULT_CLUSTER_NAME } from './cluster/cluster-driver.ts';
import { gib } from './pool/pool-size.ts';
import { formatRunnerStatus, readRunnerStatus } from './pool/runner-status.ts';
import * as clusterCommands from './cluster/cluster-commands.ts';
import { reapLeftoverClusters } from './cluster/reaper.ts';
import { parseIngressMode } from './addons/manifests.ts';
import { runDoctor } from './doctor/doctor.ts';
import { doctorCommand } from './doctor/fix.ts';
import { RunnerError } from './errors.ts';
import { defaultCacheDir, imagesBuild, imagesStatus } from './images/images.ts';
import { bundleCommand } from './images/bundle.ts';
import { formatLabError, labsLocation, loadLab, loadLabs, runLabsLint } from './labs/load-labs.ts';
import { newCommand } from './authoring/new-command.ts';
import { importCommand } from './authoring/import-command.ts';
import { projectRoot, svclabVersion } from './version.ts';
import { kubeStatusCommand } from './cli/kube-status.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  tty: boolean;
}

const defaultIo: CliIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  tty: Boolean(process.stdout.isTTY) && process.env.CI !== 'true',
};

export const cacheDir = (): string => defaultCacheDir();

const HELP = `svclab — interactive labs for Kubernetes Service networking

Usage: svclab <command> [options]

  start [--port N] [--host ADDR --allow-remote]   run the runner and site (127.0.0.1:4173)
        [--cluster NAME]         every session in one shared cluster (default svclab-main)
        [--pool N|auto] [--pool-memory GiB] [--session-idle-minutes M]
                                 workshop: a warm pool, one cluster per learner
        [--labs DIR]             a course folder's labs instead of svclab's own (no lesson pages for them)
        [--new-token]            a new token (the one in ~/.cache/svclab/runner-token is kept across restarts)
  doctor [--fix] [--for start|test]  every prerequisite with the fix; --fix installs what is
                                 missing (as root; otherwise prints the exact command)
  labs list | show ID | lint [--labs DIR]   the labs (svclab's own, or a course folder DIR);
                                 lint checks every lab.yaml and manifest
  images status | build [NAME…]  container images svclab builds (content-addressed)
  images export FILE | import FILE   every image and artifact in one zstd file, and back (no build)
  up [--name N] [--workers 0..4] [--proxy-mode iptables|nftables|ipvs]
     [--ingress-mode nodeport|daemonset]   Traefik as Deployment + NodePort, or DaemonSet on the edge node
  down [--name N | --all]        remove a cluster, or everything svclab made
  status                         clusters and sessions
  status --store kube [--namespace NS] [--kubeconfig F]   a workshop the Helm chart runs, from its
                                 custom resources (the columns of kubectl get svclabsessions)
  kubectl [--name N] ARGS…       kubectl against a cluster
  workshop start --labs 02,06,11 --capacity N --reserve R --expires 2h [--code CODE]
         [--host ADDR [--tls-cert F --tls-key F]]   a workshop for a room: learner and instructor URLs
         (HTTPS when ADDR is not loopback); workshop status | extend 30m | end
  workshop serve --store kube    a runner replica on Kubernetes (what the Helm chart runs): state in
                                 svclab's custom resources, the reserve kept by one replica (Lease)
  validate [LAB…] [--labs DIR] [--junit FILE] [--keep] [--name svclab-validate-X]
           [--repeat N] [--only-changed BASE]   (svclab validate --help for each)
                                 each lab on its own cluster: checks fail before, pass after;
                                 --repeat reports flaky checks, --only-changed the labs changed since BASE
  new lab NN-name [--labs DIR]   scaffold a lab: lab.yaml, a failing check, its solution, lesson stubs
  import killercoda DIR [--out DIR] [--id NN-name]   a Killercoda scenario as a lab skeleton
  version                        print the version

Set SVCLAB_CACHE to move the build cache (now ${cacheDir()}).`;

/** `wiring()` builds the real objects on first use, once per process. */
type Command = (args: string[], io: CliIo, wiring: () => Wiring) => Promise<number>;

function progressFor(io: CliIo): Progress {
  return new Progress({ write: (s) => process.stdout.write(s), tty: io.tty });
}

const commands: Record<string, Command> = {
  async help(_args, io) { io.out(HELP); return 0; },
  async version(_args, io) { io.out(svclabVersion()); return 0; },

  async start(args, io, wiring) {
    const { values } = parseArgs({ args, options: {
      port: { type: 'string', default: '4173' }, host: { type: 'string', default: '127.0.0.1' }, 'allow-remote': { type: 'boolean', default: false }, cluster: { type: 'string' },
      pool: { type: 'string' }, 'pool-memory': { type: 'string' }, 'session-idle-minutes': { type: 'string', default: '60' },
      'new-token': { type: 'boolean', default: false }, labs: { type: 'string' },
    } });
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RunnerError('INVALID_ARGUMENT', { message: `--port ${values.port} is not a port number.`, hint: 'Use a number from 1 to 65535 (0 picks a free one).' });
    const idleMinutes = Number(values['session-idle-minutes']);
    if (!(idleMinutes > 0)) throw new RunnerError('INVALID_ARGUMENT', { message: `--session-idle-minutes ${values['session-idle-minutes']}: expected a number of minutes above 0.`, hint: 'Example: --session-idle-minutes 90' });
    if (values.pool !== undefined && values.cluster !== undefined) throw new RunnerError('INVALID_ARGUMENT', { message: 'Use either --cluster (one shared cluster) or --pool (a cluster per learner), not both.', hint: 'svclab start --pool auto' });
    const d = wiring();
    const clusterName = values.cluster ?? DEFAULT_CLUSTER_NAME;
    const pool = values.pool === undefined ? undefined : makePool(d, values.pool, values['pool-memory']);
    const running = await startRunner({
      host: values.host, port, allowRemote: values['allow-remote'], cacheDir: d.cacheDir, out: io.out, workstationImage: workstationImageOf(d), wiring: d, newToken: values['new-token'], labs: labsLocation(projectRoot, values.labs),
      cluster: {
        engine: d.engine, driver: d.driver,
        clusterFor: pool
          ? (s, onWait) => pool.pool.claim(s.learner, { onWait })
          : async () => ((await d.driver.list()).some((c) => c.name === clusterName && c.state === 'running') ? clusterName : undefined),
      },
      ...(pool ? { pool: pool.pool } : {}),
      sessionIdleMs: idleMinutes * 60_000,
      statusFile: runnerStatusFile(d.cacheDir),
    });
    // Leftovers of a failed or killed `up` (workstations are reaped by the session manager).
    await reapLeftoverClusters({ engine: d.engine, driver: d.driver, out: (l) => io.out(`• ${l}`) }).catch((e: unknown) => io.out(`! could not look for leftovers: ${String(e)}`));
    const clusters = await d.driver.list().catch(() => []);
    if (pool) {
      await pool.pool.start();
      io.out(`  pool: ${pool.sizing.size} cluster(s) per learner (budget ${gib(pool.sizing.budgetBytes)}, ${pool.sizing.budgetSource}; at most ${pool.sizing.max}); filling in the background — see \`svclab status\``);
    } else io.out(clusters.some((c) => c.name === clusterName && c.state === 'running')
      ? `  cluster: ${clusterName} (sessions get a workstation inside it)`
      : `  cluster: none running named ${clusterName}; the terminal works, Apply and cluster checks wait for \`svclab up\``);
    await new Promise<void>((resolve) => {
      const stop = () => { io.out('stopping: removing workstation containers…'); resolve(); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await running.close();
    return 0;
  },

  async doctor(args, io, wiring) {
    const { values } = parseArgs({ args, options: { fix: { type: 'boolean', default: false }, for: { type: 'string', default: 'test' } } });
    if (values.for !== 'start' && values.for !== 'test') {
      throw new RunnerError('INVALID_ARGUMENT', { message: `doctor --for ${values.for}: unknown purpose.`, hint: 'Use --for start (what running labs needs) or --for test (also the browser tests\' chromium and font).' });
    }
    const { runner, engine } = wiring();
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    return doctorCommand({ fix: values.fix, purpose: values.for }, {
      runner, isRoot, repoDir: projectRoot, out: io.out,
      check: () => runDoctor({ runner, engine, repoDir: projectRoot }),
    });
  },

  async images(args, io, wiring) {
    const [sub, ...names] = args;
    const { images } = wiring();
    if (sub === 'status') {
      const list = await imagesStatus(images);
      for (const s of list) io.out(`${s.state.padEnd(8)} ${s.kind.padEnd(8)} ${s.name.padEnd(16)} ${s.location}${s.older.length ? `  (older: ${s.older.join(', ')})` : ''}${s.onRequest && s.state !== 'current' ? `  (built on request: svclab images build ${s.name})` : ''}`);
      return list.every((s) => s.state === 'current' || s.onRequest) ? 0 : 3;
    }
    if (sub === 'build') {
      const progress = progressFor(io);
      const r = await imagesBuild(images, {
        only: names,
        onStep: (e) => progress.event({ step: `${e.kind} ${e.name}`, state: e.status === 'start' ? 'start' : e.status === 'failed' ? 'fail' : e.status === 'up-to-date' ? 'skip' : 'done', detail: e.status === 'up-to-date' ? 'up to date' : e.logPath && e.status !== 'start' ? `log: ${e.logPath}` : undefined, elapsedMs: e.status === 'start' ? undefined : e.elapsedMs }),
      }).finally(() => progress.end());
      const built = r.steps.filter((s) => s.status === 'built').length;
      io.out(`images build: ${built} built, ${r.steps.length - built} up to date (${(r.elapsedMs / 1000).toFixed(1)}s)`);
      return 0;
    }
    if (sub === 'export' || sub === 'import') {
      const progress = progressFor(io);
      return bundleCommand(sub, names, { ...images, svclabVersion: svclabVersion(), onStep: (e) => progress.event({ step: e.step, state: e.state, detail: e.detail, elapsedMs: e.elapsedMs }) }, io.out).finally(() => progress.end());
    }
    throw new RunnerError('INVALID_ARGUMENT', { message: `Unknown: svclab images ${args.join(' ')}`, hint: 'Use svclab images status, images build [NAME…], images export FILE or images import FILE.' });
  },

  async up(args, io, wiring) {
    // --ingress-mode is the add-ons'; the rest is the cluster's.
    const rest = [...args];
    let ingressMode: unknown = 'nodeport';
    const i = rest.findIndex((a) => a === '--ingress-mode' || a.startsWith('--ingress-mode='));
    if (i >= 0) {
      const [flag] = rest.splice(i, 1);
      ingressMode = flag!.includes('=') ? flag!.slice(flag!.indexOf('=') + 1) : rest.splice(i, 1)[0];
    }
    const mode = parseIngressMode(ingressMode); // before any cluster is made
    const a = clusterCommands.parseUpArgs(rest);
    await provisionCluster(wiring(), {
      ...a, ingressMode: mode, ...(LEARNER_ACCESS_ON_PROVISION ? { learnerAccess: learnerAccessStep } : {}), signal: interruptSignal(io.out), out: io.out,
      onStep: (e) => { const line = formatProvisionEvent(e); if (line) io.out(line); },
    });
    return 0;
  },
  async down(args, io, wiring) { await clusterCommands.down(args, await clusterCommandDeps(wiring(), io.out, interruptSignal(io.out))); return 0; },
  async status(args, io, wiring) {
    if (args.length) return kubeStatusCommand(args, io.out, join(projectRoot, 'deploy', 'helm', 'svclab', 'crds'));
    const w = wiring();
    await clusterCommands.status(await clusterCommandDeps(w, io.out, interruptSignal(io.out)));
    const runner = await readRunnerStatus(runnerStatusFile(w.cacheDir));
    for (const l of runner ? formatRunnerStatus(runner) : ['runner: not running (start it with `npm start`, or `svclab start --pool auto` for a workshop)']) io.out(l);
    return 0;
  },
  async kubectl(args, io, wiring) { return clusterCommands.kubectl(args, await clusterCommandDeps(wiring(), io.out, interruptSignal(io.out))); },

  async validate(args, io) { return validateCommand(args, io.out, cacheDir()); },
  async workshop(args, io, wiring) { return args[0] === 'serve' ? workshopServeCommand(args.slice(1), io.out) : workshopCommand(args, io.out, wiring, cacheDir()); },
  async new(args, io) { return newCommand(args, io.out, projectRoot); },
  async import(args, io) { return importCommand(args, io.out, projectRoot); },

  async labs(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { labs: { type: 'string' } } });
    const [sub, id] = positionals;
    const where = labsLocation(projectRoot, values.labs);
    if (sub === 'list') {
      const { labs, errors } = await loadLabs(where);
      for (const l of labs) io.out(`${l.id.padEnd(34)} ${l.steps.length} steps  ${l.title.en}`);
      for (const e of errors) io.err(`! ${formatLabError(e)}`);
      return errors.length ? 1 : 0;
    }
    if (sub === 'show' && id) {
      const r = await loadLab(where, id);
      if (r.status === 'unknown') throw new RunnerError('LAB_UNKNOWN', { message: `There is no lab "${id}".` });
      if (r.status === 'invalid') { for (const e of r.errors) io.err(formatLabError(e)); return 1; }
      const lab = r.lab;
      io.out(`${lab.id}: ${lab.title.en} / ${lab.title.zh}`);
      io.out(`  ${lab.summary.en}`);
      lab.steps.forEach((s, i) => {
        io.out(`  ${i + 1}. ${s.id}: ${s.title.en}`);
        for (const c of s.checks) io.out(`       check ${c.id} (${c.kind}): ${c.description.en}`);
      });
      return 0;
    }
    if (sub === 'lint') {
      const r = await runLabsLint(where);
      for (const l of r.lines) io.err(l);
      io.out(r.ok ? `labs lint: ${r.labs.length} lab(s) OK` : `labs lint: ${r.errors.length} problem(s)`);
      return r.ok ? 0 : 1;
    }
    throw new RunnerError('INVALID_ARGUMENT', { message: `Unknown: svclab labs ${args.join(' ')}`, hint: 'Use svclab labs list, labs show ID, or labs lint.' });
  },
};

/**
 * `svclab <command> --help`: that command's lines of HELP. Answered before anything is
 * built or run, so `svclab down --help` never removes a cluster and `images export --help`
 * never writes a file named --help.
 */
export function commandHelp(name: string): string | undefined {
  const blocks: string[][] = [];
  for (const line of HELP.split('\n')) {
    if (/^  [a-z]/.test(line)) blocks.push([line]);
    else if (blocks.length && /^ {3,}\S/.test(line)) blocks.at(-1)!.push(line);
    else if (blocks.length && !line.trim()) blocks.push([]);
  }
  const mine = blocks.filter((b) => b[0]?.startsWith(`  ${name} `) || b[0]?.trim() === name);
  if (!mine.length) return undefined;
  return [`Usage: svclab ${name} …`, '', ...mine.flat(), '', 'svclab --help lists every command.'].join('\n');
}


function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export async function main(argv: string[], io: CliIo = defaultIo, makeWiring: () => Wiring = () => buildWiring(cacheDir())): Promise<number> {
  const [name = 'help', ...rest] = argv;
  const cmd = commands[name === '--help' || name === '-h' ? 'help' : name === '--version' ? 'version' : name];
  if (!cmd) {
    io.err(`svclab: unknown command "${name}"`);
    io.err('hint: run `svclab --help` for the commands.');
    return 2;
  }
  // kubectl passes --help on to kubectl; validate and help answer it themselves.
  if (cmd !== commands.kubectl && cmd !== commands.validate && cmd !== commands.help && wantsHelp(rest)) {
    io.out(commandHelp(name) ?? HELP);
    return 0;
  }
  let built: Wiring | undefined;
  const wiring = () => (built ??= makeWiring());
  try {
    return await cmd(rest, io, wiring);
  } catch (e) {
    if (e instanceof RunnerError) {
      io.err(`svclab: ${e.message}`);
      io.err(`hint: ${e.hint}`);
      if (e.details !== undefined && process.env.SVCLAB_DEBUG) io.err(JSON.stringify(e.details, null, 2));
      return 1;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`svclab ${name}: ${e.message}`);
      io.err('hint: run `svclab --help`.');
      return 2;
    }
    throw e;
  }
}

export { progressFor };
