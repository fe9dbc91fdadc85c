// svclab on an existing Kubernetes cluster, end to end through the HTTP API: a svclab-made
// kind cluster plays the school's cluster; the chart is installed with helm (the helm
// artifact) and runs the runner image (2 replicas) and a reserve of environment pods (the
// node image running a nested one-node cluster, plus the workstation container). A learner
// joins, presses Start lab for lab 02 and gets a claimed Environment; step 1's check fails,
// Solve, and it passes (then steps 2 and 3 after Solve) — kubectl and the checks running as
// svclab:learner in the environment's workstation container. A second learner is moved off
// a deleted environment pod. The runner replica serving both is deleted while their terminals
// are open: both reconnect at the other replica (which takes their sessions over from their
// LearnerSessions) with every line once; then both replicas are lost and Ana's page carries on
// with the same session, not reset. helm uninstall leaves nothing. Measured on the way: environment
// Ready cold (pod made → Ready, learner access included), Start lab from the reserve, memory
// of one environment pod from the outer node's cgroup, the move's delays.
// One SKIP line when a prerequisite is missing (docker, kind, the node, workstation or
// runner image, helm); the cluster is the file's own under SVCLAB_TEST_CREATE_CLUSTER=1
// (npm test), else svclab-k8s or the one SVCLAB_TEST_K8S_CLUSTER names.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { nodeKubectl } from '../../src/cluster/cluster-driver.ts';
import { nodeImageRef } from '../../src/cluster/cluster-tools.ts';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { defaultCacheDir, defaultImagesDir, imageRef, imagesBuild, type ImagesDeps } from '../../src/images/images.ts';
import { ClientNodeKubeObjects, isReason, type KubeObject } from '../../src/kube-store/kube-objects.ts';
import { helmBinary } from '../deploy/tools.ts';
import { testCluster, type TestCluster } from '../support/test-cluster.ts';

const NS = 'svclab-s';
const LAB = '02-selectors-and-endpoints';
const root = new URL('../../../', import.meta.url).pathname;
const runner = new ExecaRunner();

/** The images the chart runs and helm, or why not (checked before any cluster is made). */
const prereq = await (async (): Promise<{ skip: string } | { helm: string; images: { node: string; workstation: string; runner: string } }> => {
  const helm = helmBinary();
  if ('skip' in helm) return helm;
  const engine = new DockerEngine({ runner, queryTimeoutMs: 15_000 });
  const deps: ImagesDeps = { runner, engine, imagesDir: defaultImagesDir(), cacheDir: defaultCacheDir() };
  try {
    await engine.info();
    const node = process.env['SVCLAB_TEST_NODE_IMAGE'] ?? (await nodeImageRef(deps));
    // Built by hand or by another tree (its recipe may be moving): SVCLAB_TEST_*_IMAGE names the one to use.
    const workstation = process.env['SVCLAB_TEST_WORKSTATION_IMAGE'] ?? (await imageRef(deps, 'workstation'));
    // The runner image is built on request (images/runner): under npm test (which may make
    // what a real file needs) this file builds it for the sources as they are (~1 min cached).
    const runnerRef = async () => {
      try {
        return await imageRef(deps, 'runner');
      } catch (e) {
        if (process.env['SVCLAB_TEST_CREATE_CLUSTER'] !== '1') throw new Error(`${e instanceof Error ? e.message : String(e)} (svclab images build runner)`);
        const built = await imagesBuild(deps, { only: ['runner'], prune: false });
        return built.steps.find((x) => x.name === 'runner')!.location;
      }
    };
    const runnerImage = process.env['SVCLAB_TEST_RUNNER_IMAGE'] ?? (await runnerRef());
    for (const ref of [node, workstation, runnerImage]) if (!(await engine.imageExists(ref))) return { skip: `${ref} is not in docker (svclab images build)` };
    return { helm: helm.helm, images: { node, workstation, runner: runnerImage } };
  } catch (e) {
    return { skip: e instanceof Error ? e.message : String(e) };
  }
})();
const cluster: TestCluster = 'skip' in prereq ? prereq : await testCluster({ prefix: 'svclab-k8s-s', env: 'SVCLAB_TEST_K8S_CLUSTER', existing: 'svclab-k8s', workers: 0 });
if ('skip' in cluster) console.log(`SKIP svclab on Kubernetes, a learner's lab in an environment pod (real): ${cluster.skip}`);

const tag = (ref: string) => ref.slice(ref.lastIndexOf(':') + 1);
const repo = (ref: string) => ref.slice(0, ref.lastIndexOf(':'));

interface Reply { status: number; body: unknown; cookies: string[] }

describe.skipIf('skip' in cluster)('svclab chart on a kind cluster: Start lab claims an environment pod and plays lab 02 there', () => {
  if ('skip' in cluster || 'skip' in prereq) return;
  const { driver, name } = cluster;
  const cp = `${name}-control-plane`;
  const dir = mkdtempSync(join(tmpdir(), 'svclab-k8s-s-'));
  const kubeconfigFile = join(dir, 'kubeconfig');
  let objects: ClientNodeKubeObjects;
  let base = { host: '', port: 0 };
  // The Service's in-cluster name: a served origin (the chart passes it to the runner).
  const origin = `http://svclab.${NS}.svc`;

  const kubectl = async (args: string[], input?: string) => {
    const r = await driver.execOnNode(name, cp, nodeKubectl(args), { timeoutMs: 180_000, ...(input === undefined ? {} : { input }) });
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.exitCode}: ${r.stderr}`);
    return r.stdout;
  };
  const helm = async (args: string[]) => {
    const r = await runner.run([prereq.helm, ...args, '--kubeconfig', kubeconfigFile], { timeoutMs: 300_000, env: { HELM_CACHE_HOME: join(dir, 'c'), HELM_CONFIG_HOME: join(dir, 'f'), HELM_DATA_HOME: join(dir, 'd') } });
    if (r.exitCode !== 0) throw new Error(`helm ${args.join(' ')} → ${r.exitCode}: ${r.stderr}`);
    return r.stdout;
  };
  /** The runner through its NodePort, as a browser on the Service's name would ask. */
  const http = (method: string, path: string, o: { body?: unknown; cookies?: string[] } = {}) => new Promise<Reply>((resolve, reject) => {
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = request({
      host: base.host, port: base.port, method, path, timeout: 300_000,
      headers: { host: new URL(origin).host, origin, ...(payload ? { 'content-type': 'application/json' } : {}), ...(o.cookies?.length ? { cookie: o.cookies.join('; ') } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try { body = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body, cookies: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!) });
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer`)));
    req.end(payload);
  });
  const until = async <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 2000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let v: T | undefined;
      try {
        v = await fn();
      } catch (e) {
        if (!isReason(e, 'unavailable') && !(e instanceof Error && /ECONNREFUSED|ECONNRESET|socket hang up/.test(e.message))) throw e;
      }
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  let ana: string[] = [];
  let anaSession = { id: '', env: '' };
  let boSession = { id: '', env: '' };
  let boCookies: string[] = [];
  /**
   * A learner's terminal as the page keeps it: every data frame's seq, the text, and on a
   * reconnect a hello with the last seq rendered (what terminal-connection.ts does).
   */
  const terminal = (sid: string, cookies: string[]) => {
    const t = { screen: '', lastSeq: 0, backwards: [] as number[], fatal: '', ws: undefined as WebSocket | undefined, closed: Promise.resolve() };
    const connect = () => new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`ws://${base.host}:${base.port}/api/sessions/${sid}/terminal`, { headers: { host: new URL(origin).host, origin, cookie: cookies.join('; ') } });
      ws.on('message', (raw: Buffer) => {
        const f = JSON.parse(raw.toString('utf8')) as { type: string; seq?: number; data?: string; message?: string; fatal?: boolean };
        if (f.type === 'data') {
          if (f.seq! <= t.lastSeq) t.backwards.push(f.seq!);
          t.lastSeq = f.seq!;
          t.screen += f.data;
        }
        if (f.type === 'error' && f.fatal) t.fatal = f.message ?? 'fatal';
      });
      t.closed = new Promise<void>((r) => ws.once('close', () => r()));
      ws.once('open', () => {
        ws.send(JSON.stringify({ type: 'hello', since: t.lastSeq, cols: 100, rows: 30 }));
        t.ws = ws;
        resolve();
      });
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    const shows = (text: string, timeoutMs = 60_000) => until(`"${text}" on ${sid}'s terminal`, async () => {
      if (t.fatal) throw new Error(`terminal ${sid}: ${t.fatal}`);
      return t.screen.includes(text) ? true : undefined;
    }, timeoutMs, 200);
    const type = (text: string) => t.ws!.send(JSON.stringify({ type: 'data', data: text }));
    return { t, connect, shows, type, count: (text: string) => t.screen.split(text).length - 1 };
  };
  const readySeconds = (e: KubeObject) => (Date.parse(String(e.status?.['readyAt'])) - Date.parse(e.metadata.creationTimestamp!)) / 1000;

  beforeAll(async () => {
    const t0 = Date.now();
    for (const ref of Object.values(prereq.images)) await driver.loadImage(name, ref);
    console.log(`images into ${name} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    writeFileSync(kubeconfigFile, await driver.kubeconfig(name, 'host'), { mode: 0o600 });
    objects = new ClientNodeKubeObjects({ namespace: NS, kubeconfig: await driver.kubeconfig(name, 'host'), requestTimeoutMs: 30_000 });
    const { images } = prereq;
    await helm(['upgrade', '--install', 'svclab', join(root, 'deploy/helm/svclab'), '--namespace', NS, '--create-namespace',
      '--set', 'environment.acknowledgePrivilegedPods=true',
      '--set', 'workshop.capacity=3,workshop.reserve=1,workshop.expiry=2h',
      '--set', `runner.image.repository=${repo(images.runner)},runner.image.tag=${tag(images.runner)},runner.image.pullPolicy=Never`,
      '--set', `environment.image.repository=${repo(images.node)},environment.image.tag=${tag(images.node)},environment.image.pullPolicy=Never`,
      '--set', `environment.workstation.image.repository=${repo(images.workstation)},environment.workstation.image.tag=${tag(images.workstation)},environment.workstation.image.pullPolicy=Never`,
      // Two cores: the chart's per-environment request would leave room for one.
      '--set', 'environment.resources.requests.cpu=100m,runner.resources.requests.cpu=50m',
      '--set', 'service.type=NodePort']);
    const svc = JSON.parse(await kubectl(['-n', NS, 'get', 'service', 'svclab', '-o', 'json'])) as { spec: { ports: { nodePort: number }[] } };
    base = { host: (await driver.nodes(name))[0]!.internalIP, port: svc.spec.ports[0]!.nodePort };
  }, 900_000);

  afterAll(async () => {
    await helm(['uninstall', 'svclab', '--namespace', NS, '--wait', '--timeout', '120s']).catch(() => undefined);
    await cluster.remove();
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it('a learner joins, Start lab claims a Ready environment, step 1 fails, Solve, it passes — in the environment pod', async () => {
    // The reserve: one environment, Ready once its nested cluster is up and learner access installed.
    const first = await until('an Environment Ready', async () => (await objects.list('environments')).find((e) => e.status?.['phase'] === 'Ready'), 900_000, 5000);
    console.log(`environment ${first.metadata.name} Ready cold in ${readySeconds(first).toFixed(1)} s (pod made → nested cluster up → learner access)`);
    await until('the runner answering', async () => ((await http('GET', '/api/health')).status === 200 ? true : undefined), 300_000);

    const secret = (await objects.get('secrets', 'workshop-secrets'))!;
    const code = Buffer.from(secret.data!['code']!, 'base64').toString('utf8');
    const join1 = await http('POST', '/api/workshop/join', { body: { code, name: 'Ana' } });
    expect(join1.status, JSON.stringify(join1.body)).toBe(200);
    ana = join1.cookies;

    const t0 = Date.now();
    const start = await http('POST', '/api/sessions', { body: { labId: LAB }, cookies: ana });
    expect([201, 202], JSON.stringify(start.body)).toContain(start.status);
    const id = (start.body as { session: { id: string } }).session.id;
    const session = await until('the session ready', async () => {
      const r = await http('GET', `/api/sessions/${id}`, { cookies: ana });
      const s = (r.body as { session?: { state: string; cluster: string | null; error?: unknown } }).session;
      if (s?.state === 'failed') throw new Error(`the session failed: ${JSON.stringify(s.error)}`);
      return s?.state === 'ready' ? s : undefined;
    }, 300_000, 1000);
    console.log(`Start lab → ready from the reserve in ${((Date.now() - t0) / 1000).toFixed(1)} s (claim, learner kubeconfig, the lab's setup)`);
    anaSession = { id, env: session.cluster! };
    // The session's cluster is the Environment it claimed, held by this learner.
    const env = (await objects.get('environments', session.cluster!))!;
    expect(env.spec?.['claim']).toMatchObject({ lab: LAB });
    expect(env.status?.['phase']).toBe('Ready');
    // The lab's setup is in the nested cluster (as admin), and the learner is svclab:learner there.
    const node = { pod: session.cluster!, container: 'node' };
    const inNode = await kubectl(['-n', NS, 'exec', node.pod, '-c', node.container, '--', 'kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', 'get', 'service', 'nginx', '-o', 'jsonpath={.spec.clusterIP}']);
    expect(inNode).toBe('10.97.97.97');
    const whoami = await kubectl(['-n', NS, 'exec', node.pod, '-c', 'workstation', '--', 'kubectl', 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(whoami).toBe('svclab:learner');

    const check = async () => {
      const r = await http('POST', `/api/sessions/${id}/steps/observe/check`, { body: {}, cookies: ana });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body as { passed: boolean; results: { status: string; message: string }[] };
    };
    const before = await check();
    expect(before.passed).toBe(false);
    expect(before.results[0]).toMatchObject({ status: 'fail' });
    expect(before.results[0]!.message).toMatch(/answers\/endpoints/);
    const solved = await http('POST', `/api/sessions/${id}/steps/observe/solve`, { body: {}, cookies: ana });
    expect(solved.status, JSON.stringify(solved.body)).toBe(200);
    const after = await check();
    expect(after, JSON.stringify(after)).toMatchObject({ passed: true });
    // Solve wrote the answer as the learner, in the environment's workstation.
    expect((await kubectl(['-n', NS, 'exec', node.pod, '-c', 'workstation', '--', 'cat', '/home/learner/answers/endpoints'])).trim()).toBe('0');
    // The learner's terminal: the shell in the environment's workstation container, attached
    // through the Kubernetes API (k8s-term's svclab-term), as the learner with their kubeconfig.
    const term = new WebSocket(`ws://${base.host}:${base.port}/api/sessions/${id}/terminal`, { headers: { host: new URL(origin).host, origin, cookie: ana.join('; ') } });
    let screen = '';
    const shown = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the terminal did not show svclab:learner: ${JSON.stringify(screen.slice(-500))}`)), 120_000);
      term.on('message', (raw: Buffer) => {
        const f = JSON.parse(raw.toString('utf8')) as { type: string; data?: string; message?: string; fatal?: boolean };
        if (f.type === 'data') screen += f.data;
        if (f.type === 'error' && f.fatal) reject(new Error(`terminal error: ${f.message}`));
        if (screen.includes('whoami=svclab:learner')) { clearTimeout(timer); resolve(); }
      });
      term.on('error', reject);
    });
    await new Promise<void>((resolve, reject) => { term.once('open', () => resolve()); term.once('error', reject); });
    term.send(JSON.stringify({ type: 'hello', since: 0, cols: 100, rows: 30 }));
    term.send(JSON.stringify({ type: 'data', data: 'echo whoami=$(kubectl auth whoami -o jsonpath={.status.userInfo.username})\r' }));
    await shown;
    term.close();

    // The rest of lab 02 on the nested cluster: three svclab/web pods Ready behind the Service
    // (the node image's preloaded lab image), then http://10.97.97.97/ from the workstation —
    // the nested kube-proxy's ClusterIP in the pod's own network namespace.
    for (const step of ['label-the-pods', 'reach-the-service']) {
      const r = await http('POST', `/api/sessions/${id}/steps/${step}/solve`, { body: {}, cookies: ana });
      expect(r.status, `${step}: ${JSON.stringify(r.body)}`).toBe(200);
      const c = await http('POST', `/api/sessions/${id}/steps/${step}/check`, { body: {}, cookies: ana });
      expect(c.body, step).toMatchObject({ passed: true });
    }

    // Memory of one environment pod, from the outer node's cgroup (kubectl top needs metrics-server).
    const pod = (await objects.get('pods', session.cluster!))!;
    const uid = pod.metadata.uid!.replace(/-/g, '_');
    const cg = await driver.execOnNode(name, cp, ['sh', '-c', `d=$(find /sys/fs/cgroup/memory -maxdepth 4 -type d -name "*pod${uid}.slice" | head -1); echo "$d"; cat "$d/memory.usage_in_bytes"; grep -E '^total_(rss|cache|inactive_file) ' "$d/memory.stat"`], { timeoutMs: 30_000 });
    const [, usage, ...stat] = cg.stdout.trim().split('\n');
    const s = Object.fromEntries(stat.map((l) => l.split(' ')).map(([k, v]) => [k, Number(v) / 2 ** 20]));
    console.log(`environment pod memory: usage ${(Number(usage) / 2 ** 20).toFixed(0)} MiB, rss ${s['total_rss']?.toFixed(0)} MiB, cache ${s['total_cache']?.toFixed(0)} MiB, working set ${((Number(usage) / 2 ** 20) - (s['total_inactive_file'] ?? 0)).toFixed(0)} MiB`);

    // The reserve refills after the claim: a second environment, cold again.
    const second = await until('the reserve refilled', async () => (await objects.list('environments')).find((e) => e.metadata.name !== first.metadata.name && e.status?.['phase'] === 'Ready'), 900_000, 5000);
    console.log(`refill ${second.metadata.name} Ready in ${readySeconds(second).toFixed(1)} s`);
  }, 1_800_000);

  it('a second learner\'s environment pod is deleted: their page says so within seconds, a new environment is claimed, their applied objects come back', async () => {
    const secret = (await objects.get('secrets', 'workshop-secrets'))!;
    const code = Buffer.from(secret.data!['code']!, 'base64').toString('utf8');
    const bo = (await http('POST', '/api/workshop/join', { body: { code, name: 'Bo' } })).cookies;
    const start = await http('POST', '/api/sessions', { body: { labId: LAB }, cookies: bo });
    expect([201, 202], JSON.stringify(start.body)).toContain(start.status);
    const ready = (sid: string) => until(`session ${sid} ready`, async () => {
      const s = (await http('GET', `/api/sessions/${sid}`, { cookies: bo })).body as { session?: { state: string; cluster: string | null; error?: unknown } };
      if (s.session?.state === 'failed') throw new Error(`session ${sid} failed: ${JSON.stringify(s.session.error)}`);
      return s.session?.state === 'ready' ? s.session : undefined;
    }, 900_000, 1000);
    const id = (start.body as { session: { id: string } }).session.id;
    const mine = await ready(id);
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bo-notes\n  namespace: default\ndata:\n  note: kept\n';
    const applied = await http('POST', `/api/sessions/${id}/apply`, { body: { yaml }, cookies: bo });
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);

    const t0 = Date.now();
    await kubectl(['-n', NS, 'delete', 'pod', mine.cluster!, '--wait=false']);
    const move = await until('the move on Bo\'s page', async () => {
      const me = (await http('GET', '/api/workshop/me', { cookies: bo })).body as { moves: { from: string; to: string; cluster: string }[] };
      return me.moves.find((m) => m.from === id);
    }, 120_000, 500);
    const saidAfter = (Date.now() - t0) / 1000;
    console.log(`environment pod deleted → the learner's page says so after ${saidAfter.toFixed(1)} s`);
    expect(move.cluster).toBe(mine.cluster);
    expect(saidAfter).toBeLessThan(30);
    const moved = await ready(move.to);
    boSession = { id: move.to, env: moved.cluster! };
    boCookies = bo;
    console.log(`… and their session is ready on ${moved.cluster} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(moved.cluster).not.toBe(mine.cluster);
    expect((await objects.get('environments', moved.cluster!))?.spec?.['claim']).toMatchObject({ lab: LAB });
    // What Bo applied is on the new environment; the lab's starting objects too.
    const note = await kubectl(['-n', NS, 'exec', moved.cluster!, '-c', 'workstation', '--', 'kubectl', 'get', 'configmap', 'bo-notes', '-o', 'jsonpath={.data.note}']);
    expect(note).toBe('kept');
    // The failed environment is gone (a used cluster never returns).
    await until('the failed Environment deleted', async () => ((await objects.get('environments', mine.cluster!)) ? undefined : true), 60_000);
    // Ana was not moved: the watch's probe of her environment (GET /readyz at the pod IP:6443,
    // verified against the nested cluster's CA: kubeadm's serving certificate names the pod IP)
    // kept answering all along.
    expect(((await http('GET', '/api/workshop/me', { cookies: ana })).body as { moves: unknown[] }).moves).toEqual([]);
  }, 1_800_000);

  it('one runner replica is lost: both learners\' terminals reconnect at the other with nothing lost, their sessions carry on', async () => {
    await kubectl(['-n', NS, 'rollout', 'status', 'deployment/svclab-runner', '--timeout=300s']);
    const serving = ((await http('GET', '/api/health', { cookies: ana })).body as { replica?: string }).replica;
    expect(serving, 'the replica answering (the Service keeps this client on it)').toMatch(/^svclab-runner-/);
    const learners = [terminal(anaSession.id, ana), terminal(boSession.id, boCookies)];
    for (const [i, l] of learners.entries()) {
      await l.connect();
      l.type(`echo before-$((6*7))-${i}\r`);
      await l.shows(`before-42-${i}`);
    }
    const t0 = Date.now();
    await kubectl(['-n', NS, 'delete', 'pod', serving!, '--wait=false']);
    // The replica stops: its sockets close. The pages reconnect (whichever replica the Service picks now).
    for (const l of learners) await l.t.closed;
    for (const l of learners) {
      await until('a reconnect', async () => {
        try {
          await l.connect();
          return true;
        } catch {
          return undefined;
        }
      }, 180_000, 1000);
    }
    for (const [i, l] of learners.entries()) {
      l.type(`echo after-$((6*8))-${i}\r`);
      await l.shows(`after-48-${i}`);
    }
    console.log(`runner replica ${serving} deleted → both terminals reconnected and answering in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const now = ((await http('GET', '/api/health', { cookies: ana })).body as { replica?: string }).replica;
    expect(now).not.toBe(serving);
    for (const [i, l] of learners.entries()) {
      // Nothing lost, nothing twice: each line once, and no seq went backwards over the move.
      expect(l.count(`before-42-${i}`), l.t.screen.slice(-800)).toBe(1);
      expect(l.count(`after-48-${i}`), l.t.screen.slice(-800)).toBe(1);
      expect(l.t.backwards).toEqual([]);
      l.t.ws?.close();
    }
    // Their sessions are the same ones (taken over from the LearnerSessions), on the same environments.
    for (const [sess, cookies] of [[anaSession, ana], [boSession, boCookies]] as const) {
      const got = await http('GET', `/api/sessions/${sess.id}`, { cookies });
      expect(got.status, JSON.stringify(got.body)).toBe(200);
      expect((got.body as { session: { cluster: string } }).session.cluster).toBe(sess.env);
    }
  }, 900_000);

  it('both runner replicas are lost: the learner\'s page carries on with the same session, as they left it', async () => {
    await kubectl(['-n', NS, 'delete', 'pod', '-l', 'app.kubernetes.io/component=runner', '--wait=true']);
    await kubectl(['-n', NS, 'rollout', 'status', 'deployment/svclab-runner', '--timeout=300s']);
    await until('a runner answering', async () => ((await http('GET', '/api/health')).status === 200 ? true : undefined), 300_000);
    const t0 = Date.now();
    // The session is recorded on her LearnerSession: a new replica serves it, no Start lab needed.
    const got = await http('GET', `/api/sessions/${anaSession.id}`, { cookies: ana });
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect((got.body as { session: { state: string; cluster: string } }).session).toMatchObject({ state: 'ready', cluster: anaSession.env });
    console.log(`runner replicas lost → her session served by a new replica in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Another learner cannot take it over by naming it.
    expect((await http('GET', `/api/sessions/${anaSession.id}`, { cookies: boCookies })).status).toBe(403);
    // Not reset: her answers are still there, and her last steps still pass without Solve — a
    // reset would have brought back the lab's unlabelled Deployment and cleared ~/answers.
    expect((await kubectl(['-n', NS, 'exec', anaSession.env, '-c', 'workstation', '--', 'cat', '/home/learner/answers/endpoints'])).trim()).toBe('0');
    for (const step of ['label-the-pods', 'reach-the-service']) {
      const c = await http('POST', `/api/sessions/${anaSession.id}/steps/${step}/check`, { body: {}, cookies: ana });
      expect(c.body, step).toMatchObject({ passed: true });
    }
    // Start lab again finds the environment she held, also not reset.
    const start = await http('POST', '/api/sessions', { body: { labId: LAB }, cookies: ana });
    expect([201, 202], JSON.stringify(start.body)).toContain(start.status);
    const id = (start.body as { session: { id: string } }).session.id;
    const again = await until('the new session ready', async () => {
      const s = ((await http('GET', `/api/sessions/${id}`, { cookies: ana })).body as { session?: { state: string; cluster: string | null; error?: unknown } }).session;
      if (s?.state === 'failed') throw new Error(`failed: ${JSON.stringify(s.error)}`);
      return s?.state === 'ready' ? s : undefined;
    }, 300_000, 1000);
    expect(again.cluster).toBe(anaSession.env);
    const c = await http('POST', `/api/sessions/${id}/steps/reach-the-service/check`, { body: {}, cookies: ana });
    expect(c.body).toMatchObject({ passed: true });
  }, 900_000);

  it('helm uninstall leaves nothing behind: the Workshop (owned by the release\'s ConfigMap), its environments and their pods are collected', async () => {
    expect((await objects.get('workshops', 'workshop'))!.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'ConfigMap', name: 'svclab' })]);
    await helm(['uninstall', 'svclab', '--namespace', NS, '--wait', '--timeout', '120s']);
    await until('everything collected', async () => {
      const left = [...await objects.list('workshops'), ...await objects.list('environments'), ...await objects.list('pods', { 'svclab.dev/workshop': 'workshop' })];
      return left.length === 0 ? true : undefined;
    }, 180_000);
  }, 300_000);
});
