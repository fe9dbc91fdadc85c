// `svclab workshop start|status|extend|end`: a workshop for a room. `start` checks the machine
// holds the reserve (the pool's sizing, refused with numbers), serves HTTPS when the address is
// not loopback (a given certificate, or a self-signed one made with openssl whose fingerprint
// it prints), and prints the learner URL (event code) and the instructor URL (own secret).
// The other subcommands talk to the running workshop's API with the instructor secret kept in
// <cache>/workshop.json (0600), pinning its certificate by fingerprint.
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { availableParallelism, totalmem } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readLearnerKubeconfig } from '../access/index.ts';
import { controlPlaneNode, nodeShell } from '../cluster/node-shell.ts';
import { RunnerError } from '../errors.ts';
import type { Shell } from '../exec/shell.ts';
import { outputTail } from '../exec/shell.ts';
import { loadLabs } from '../labs/load-labs.ts';
import { makePool, runnerStatusFile, workstationImageOf, type Wiring } from '../main/wiring.ts';
import { gib, poolSizing } from '../pool/pool-size.ts';
import { projectRoot } from '../version.ts';
import { parseDuration, Workshop } from '../workshop/workshop.ts';
import { MemoryWorkshopStore } from '../workshop/workshop-store.ts';
import { startRunner } from './start.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** What `svclab workshop status|extend|end` need to reach the running workshop. */
export interface WorkshopStateFile {
  origin: string;
  secret: string;
  /** SHA-256 fingerprint of the served certificate (HTTPS), pinned by the CLI. */
  fingerprint256?: string;
  pid: number;
}

export const workshopStateFile = (cacheDir: string): string => join(cacheDir, 'workshop.json');

function writeState(file: string, state: WorkshopStateFile): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  renameSync(tmp, file);
}

function readState(cacheDir: string): WorkshopStateFile {
  try {
    return JSON.parse(readFileSync(workshopStateFile(cacheDir), 'utf8')) as WorkshopStateFile;
  } catch {
    throw new RunnerError('WORKSHOP_NOT_RUNNING');
  }
}

/** "02,06,11" → the lab ids they start ("02-selectors-and-endpoints", …). */
export function resolveLabs(asked: string, known: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of asked.split(',').map((x) => x.trim()).filter(Boolean)) {
    const hit = known.filter((id) => id === a || id.startsWith(`${a}-`));
    if (hit.length !== 1) {
      throw new RunnerError('LAB_UNKNOWN', { message: `--labs: "${a}" ${hit.length ? `matches ${hit.join(', ')}` : 'is not a lab'}.`, hint: `Use lab numbers or ids: ${known.map((k) => k.slice(0, 2)).join(',')}.` });
    }
    if (!out.includes(hit[0]!)) out.push(hit[0]!);
  }
  if (!out.length) throw new RunnerError('INVALID_ARGUMENT', { message: '--labs is empty.', hint: 'Example: --labs 02,06,11' });
  return out;
}

/** The certificate's DNS and IP names (subjectAltName). */
export function certificateNames(pem: string): string[] {
  const san = new X509Certificate(pem).subjectAltName ?? '';
  return san.split(',').map((x) => x.trim()).flatMap((x) => (x.startsWith('DNS:') ? [x.slice(4)] : x.startsWith('IP Address:') ? [x.slice(11)] : []));
}

/** A self-signed certificate for `host` (its only subjectAltName), made by openssl through the host Shell. */
export async function selfSignedCertificate(shell: Shell, dir: string, host: string): Promise<{ cert: string; key: string }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const san = isIP(host) ? `IP:${host}` : `DNS:${host}`;
  const r = await shell.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '7',
    '-subj', '/CN=svclab workshop', '-addext', `subjectAltName=${san}`, '-keyout', keyFile, '-out', certFile], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) {
    throw new RunnerError('COMMAND_FAILED', { message: 'openssl could not make the workshop\'s certificate.', hint: 'Install openssl, or pass --tls-cert FILE --tls-key FILE.', details: { argv: r.argv, output: outputTail(r) } });
  }
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

/** One request to the running workshop's API as the instructor. */
async function adminCall(state: WorkshopStateFile, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const url = new URL(path, state.origin);
  const https = url.protocol === 'https:';
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(url, {
      method,
      headers: { authorization: `Bearer ${state.secret}`, accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}) },
      // Self-signed: trust exactly the certificate the workshop printed (checked below), nothing else.
      ...(https ? { rejectUnauthorized: false } : {}),
      // A fresh connection each time, so the certificate is checked before anything is sent.
      agent: false,
      timeout: 10_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: { error?: { code: string; message: string; hint: string } } | undefined;
        try { json = JSON.parse(text); } catch { json = undefined; }
        if ((res.statusCode ?? 500) >= 400) {
          const e = json?.error;
          reject(new RunnerError('COMMAND_FAILED', { message: e ? `${e.message} (${e.code})` : `The workshop answered ${res.statusCode}.`, hint: e?.hint ?? 'See the runner log.' }));
        } else resolve(json);
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => reject(e instanceof RunnerError ? e : new RunnerError('WORKSHOP_NOT_RUNNING', { message: `No workshop answers at ${state.origin} (${e.message}).`, details: { origin: state.origin } })));
    if (!https || !state.fingerprint256) {
      req.end(payload);
      return;
    }
    req.once('socket', (socket) => socket.once('secureConnect', () => {
      const peer = (socket as import('node:tls').TLSSocket).getPeerCertificate();
      if (peer.fingerprint256 !== state.fingerprint256) {
        req.destroy(new RunnerError('INVALID_ARGUMENT', { message: `The workshop at ${state.origin} shows another certificate (${peer.fingerprint256}) than the one it started with; nothing was sent.`, hint: 'Something else answers on that address; stop it, or start the workshop again.' }));
      } else req.end(payload);
    }));
  });
}

export async function workshopCommand(args: string[], out: (line: string) => void, wiring: () => Wiring, cacheDir: string): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'start') return workshopStart(rest, out, wiring);
  if (sub === 'status') {
    const s = (await adminCall(readState(cacheDir), 'GET', '/api/workshop')) as {
      labs: string[]; capacity: number; expiresAt: string; secondsLeft: number; ended: boolean;
      learners: { id: string; name: string; nodeShells: boolean; sessions: { labId: string; state: string }[] }[];
    };
    out(`workshop: ${s.learners.length}/${s.capacity} learners, labs ${s.labs.join(', ')}; ${s.ended ? 'ended' : `ends ${s.expiresAt} (${Math.round(s.secondsLeft / 60)} min left)`}`);
    for (const l of s.learners) out(`  ${l.name}  (${l.id.slice(0, 6)})${l.nodeShells ? '  node shells on' : ''}  ${l.sessions.map((x) => `${x.labId} ${x.state}`).join(', ') || 'no lab started'}`);
    return 0;
  }
  if (sub === 'extend') {
    const ms = parseDuration(rest[0] ?? '');
    const t = (await adminCall(readState(cacheDir), 'POST', '/api/workshop/extend', { minutes: Math.ceil(ms / 60_000) })) as { expiresAt: string };
    out(`workshop now ends ${t.expiresAt}`);
    return 0;
  }
  if (sub === 'end') {
    await adminCall(readState(cacheDir), 'POST', '/api/workshop/end');
    out('workshop ended: learners can no longer join or work; their clusters are recycled within a minute.');
    return 0;
  }
  throw new RunnerError('INVALID_ARGUMENT', { message: `Unknown: svclab workshop ${args.join(' ')}`, hint: 'Use svclab workshop start --labs 02,06 --capacity N --reserve R --expires 2h, or workshop status | extend 30m | end.' });
}

async function workshopStart(args: string[], out: (line: string) => void, wiring: () => Wiring): Promise<number> {
  const { values } = parseArgs({ args, options: {
    labs: { type: 'string' }, capacity: { type: 'string' }, reserve: { type: 'string', default: '0' }, expires: { type: 'string', default: '2h' },
    code: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '4173' },
    'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'pool-memory': { type: 'string' },
  } });
  if (!values.labs) throw new RunnerError('INVALID_ARGUMENT', { message: 'svclab workshop start needs --labs.', hint: 'Example: svclab workshop start --labs 02,06,11 --capacity 20 --reserve 4 --expires 2h' });
  const capacity = Number(values.capacity);
  const reserve = Number(values.reserve);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RunnerError('INVALID_ARGUMENT', { message: `--port ${values.port} is not a port number.`, hint: 'Use a number from 1 to 65535.' });
  if (values.host === '0.0.0.0' || values.host === '::') {
    throw new RunnerError('INVALID_ARGUMENT', { message: `--host ${values.host} is every address; learners need one they can reach.`, hint: 'Give this machine\'s address on the room\'s network (see `hostname -I`).' });
  }
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) throw new RunnerError('INVALID_ARGUMENT', { message: '--tls-cert and --tls-key go together.', hint: 'Give both PEM files, or neither for a self-signed certificate.' });
  const durationMs = parseDuration(values.expires);
  const { labs } = await loadLabs(projectRoot);
  const labIds = resolveLabs(values.labs, labs.map((l) => l.id));
  if (!Number.isInteger(capacity) || capacity < 1) throw new RunnerError('INVALID_ARGUMENT', { message: `--capacity ${values.capacity ?? '(missing)'}: expected a whole number of learners ≥ 1.`, hint: 'Example: --capacity 20' });

  // The reserve must fit this machine (the pool's memory budget), refused with the numbers.
  const memGiB = values['pool-memory'] === undefined ? undefined : Number(values['pool-memory']);
  if (!Number.isInteger(reserve) || reserve < 0) throw new RunnerError('INVALID_ARGUMENT', { message: `--reserve ${values.reserve}: expected a whole number of clusters ≥ 0.`, hint: 'Example: --reserve 4' });
  let sizing: ReturnType<typeof poolSizing>;
  try {
    sizing = poolSizing({ requested: Math.max(1, reserve), totalMemBytes: totalmem(), cpus: availableParallelism(), ...(memGiB !== undefined ? { budgetGiB: memGiB } : {}) });
  } catch (e) {
    if (e instanceof RunnerError && e.code === 'POOL_TOO_BIG') {
      const max = (e.details as { max: number }).max;
      throw new RunnerError('POOL_TOO_BIG', { message: `--reserve ${reserve}: ${e.message}`, hint: `Use --reserve ${max} or fewer (learners beyond the warm clusters wait while one is made), or raise --pool-memory (GiB).`, details: e.details });
    }
    throw e;
  }
  const size = Math.min(capacity, sizing.max);

  const d = wiring();
  let tls: { cert: string; key: string; names: string[] } | undefined;
  let fingerprint: string | undefined;
  if (!LOOPBACK.has(values.host)) {
    const pair = values['tls-cert'] && values['tls-key']
      ? { cert: readPem(values['tls-cert'], '--tls-cert'), key: readPem(values['tls-key'], '--tls-key') }
      : await selfSignedCertificate(d.runner, join(d.cacheDir, 'workshop-tls'), values.host);
    const names = certificateNames(pair.cert);
    fingerprint = new X509Certificate(pair.cert).fingerprint256;
    tls = { ...pair, names };
  }

  const workshop = await Workshop.create({ store: new MemoryWorkshopStore() }, { labs: labIds, capacity, reserve, durationMs, ...(values.code ? { code: values.code } : {}) });
  const pool = makePool(d, String(size), values['pool-memory']);
  const running = await startRunner({
    host: values.host, port, allowRemote: true, cacheDir: d.cacheDir, out, workstationImage: workstationImageOf(d), wiring: d,
    cluster: {
      engine: d.engine, driver: d.driver,
      clusterFor: (s, onWait) => pool.pool.claim(s.learner, { onWait }),
      // The workstation's kubeconfig is the learner identity the pipeline installed, not cluster-admin.
      learnerKubeconfig: async (name) => {
        const k = await readLearnerKubeconfig(nodeShell(d.driver, name, controlPlaneNode(name)));
        if (!k) throw new RunnerError('CLUSTER_FAILED', { message: `Cluster ${name} has no learner kubeconfig: its learner-access step did not run.`, hint: 'Run `svclab down --all` and start the workshop again.' });
        return k;
      },
    },
    pool: pool.pool, workshop, statusFile: runnerStatusFile(d.cacheDir),
    ...(tls ? { tls } : {}),
  });
  const scheme = tls ? 'https' : 'http';
  const hostPart = values.host.includes(':') ? `[${values.host}]` : values.host;
  const origin = `${scheme}://${hostPart}:${running.port}`;
  const stateFile = workshopStateFile(d.cacheDir);
  writeState(stateFile, { origin, secret: workshop.instructorSecret, pid: process.pid, ...(fingerprint ? { fingerprint256: fingerprint } : {}) });
  await pool.pool.start();
  out(`workshop: labs ${labIds.join(', ')}; ${capacity} places; ends ${new Date(workshop.expiresAt).toISOString()}`);
  out(`  pool: up to ${size} cluster(s) (reserve ${reserve}; this machine's budget of ${gib(sizing.budgetBytes)} holds ${sizing.max}, ${sizing.budgetSource})${size < capacity ? `; learners beyond ${size} wait in line for a free cluster` : ''}`);
  out(`  learner URL:    ${origin}/join/?code=${workshop.code}   (event code ${workshop.code})`);
  out(`  instructor URL: ${origin}/instructor/?token=${workshop.instructorSecret}   (keep it to yourself)`);
  if (fingerprint) out(`  certificate SHA-256 fingerprint (learners compare it when the browser warns): ${fingerprint}`);
  out('  svclab workshop status | extend 30m | end   (from this machine)');
  await new Promise<void>((resolve) => {
    const stop = () => { out('stopping: removing workstations, recycling clusters…'); resolve(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  rmSync(stateFile, { force: true });
  await running.close();
  return 0;
}

function readPem(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new RunnerError('INVALID_ARGUMENT', { message: `${flag} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}).`, hint: 'Give a PEM file this user can read.' });
  }
}
