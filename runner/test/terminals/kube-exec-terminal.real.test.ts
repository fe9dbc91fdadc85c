// A terminal attached through the Kubernetes API to a plain pod running svclab's
// workstation image (no nested cluster): the KubeExecTerminal contract with ClientNodePodExec
// — among it, a backend killed mid-session (its websocket terminated, the object dropped)
// and a NEW backend attached from the page's last seq, replaying what the shell printed
// meanwhile exactly once, with the shell's variable and cwd intact. Then: what a dead
// replica leaves behind in the pod is gone once its connection is. Cluster: svclab-term
// (`svclab up --name svclab-term --workers 0`), SVCLAB_TERM_CLUSTER, or under npm test one
// of its own; one SKIP line when docker, kind, a cluster or the workstation image is missing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeKubectl } from '../../src/cluster/cluster-driver.ts';
import { imageRef } from '../../src/images/images.ts';
import { ClientNodePodExec } from '../../src/terminals/client-node-pod-exec.ts';
import { KubeExecTerminal } from '../../src/terminals/kube-exec-terminal.ts';
import type { PodTarget } from '../../src/terminals/pod-exec.ts';
import { testCluster } from '../support/test-cluster.ts';
import { kubeTerminalContract, RecordingPodExec, Screen } from './kube-terminal-contract.ts';

const NS = 'svclab-term-test';
const POD = 'workstation-probe';
const target: PodTarget = { namespace: NS, pod: POD, container: 'workstation' };

const cluster = await testCluster({ prefix: 'svclab-term', env: 'SVCLAB_TERM_CLUSTER', existing: 'svclab-term', workers: 0 });
const image = 'skip' in cluster ? undefined : await imageRef(cluster.images, 'workstation').catch((e: unknown) => ({ skip: String(e) }));
const skip = 'skip' in cluster ? cluster.skip
  : typeof image !== 'string' ? `no workstation image (${image?.skip}; run \`svclab images build workstation\`)`
    : !(await cluster.engine.imageExists(image)) ? `the workstation image ${image} is not in docker (run \`svclab images build workstation\`)` : undefined;
if (skip) console.log(`SKIP terminals through the Kubernetes API (real): ${skip}`);

describe.skipIf(skip !== undefined)('KubeExecTerminal on a real pod (svclab workstation image)', () => {
  if (skip !== undefined || 'skip' in cluster || typeof image !== 'string') return;
  const { driver, name } = cluster;
  const cp = `${name}-control-plane`;
  let kubeconfig = '';
  const kubectl = async (args: string[], input?: string) => {
    const r = await driver.execOnNode(name, cp, nodeKubectl(args), { timeoutMs: 180_000, ...(input === undefined ? {} : { input }) });
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.exitCode}: ${r.stderr}`);
    return r.stdout;
  };
  /** The pod's processes, by command line (what a dead replica may have left running). */
  const processes = async () => (await kubectl(['-n', NS, 'exec', POD, '-c', 'workstation', '--', 'ps', '-eo', 'args'])).split('\n').slice(1).filter(Boolean);

  beforeAll(async () => {
    const t0 = Date.now();
    await driver.loadImage(name, image);
    await kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true']);
    await kubectl(['create', 'namespace', NS]);
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: POD, namespace: NS },
      spec: {
        terminationGracePeriodSeconds: 0,
        // As the chart's environment pod runs it (runner/src/environments/README.md): the learner, unprivileged.
        containers: [{
          name: 'workstation', image, imagePullPolicy: 'Never', command: ['/usr/bin/tini', '--', 'sleep', 'infinity'], workingDir: '/home/learner',
          env: [{ name: 'HOME', value: '/home/learner' }, { name: 'TERM', value: 'xterm-256color' }, { name: 'LANG', value: 'C.UTF-8' }],
          securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          resources: { requests: { cpu: '10m', memory: '32Mi' } },
        }],
      },
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify(pod));
    await kubectl(['-n', NS, 'wait', '--for=condition=Ready', `pod/${POD}`, '--timeout=180s']);
    kubeconfig = await driver.kubeconfig(name, 'host');
    console.log(`workstation pod Ready on ${name} in ${((Date.now() - t0) / 1000).toFixed(1)} s (image load included)`);
  }, 600_000);

  afterAll(async () => {
    if (cluster.owned) await cluster.remove();
    else await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  }, 300_000);

  let n = 0;
  kubeTerminalContract({
    exec: () => new ClientNodePodExec({ kubeconfig }),
    target,
    name: () => `real${++n}`,
    realShell: true,
    timeoutMs: 30_000,
    report: (line) => console.log(line),
  });

  it('a large replay: 1.3 MB printed while detached comes back whole and once, through the API, paced by acks', async () => {
    const exec = new RecordingPodExec(new ClientNodePodExec({ kubeconfig }));
    const t1 = new KubeExecTerminal({ name: 'large', target, exec });
    const c1 = new Screen();
    t1.attach(c1, 0, 80, 24);
    await c1.until('prompt', (s) => s.text.endsWith('$ '), 30_000);
    t1.write('sleep 1; seq 1 200000; echo seq-done\r');
    await c1.until('the command echoed', (s) => s.text.includes('seq-done\r\n'), 30_000);
    exec.abortAll();
    await new Promise((r) => setTimeout(r, 3000)); // seq runs while nobody is attached (paced at 2 MiB/s)
    const t2 = new KubeExecTerminal({ name: 'large', target, exec: new ClientNodePodExec({ kubeconfig }) });
    const c2 = new Screen(c1.lastSeq);
    const t0 = Date.now();
    const entry = t2.attach(c2, c1.lastSeq, 80, 24);
    const acker = setInterval(() => t2.ack(entry, c2.lastSeq), 20); // the page acks what it rendered
    try {
      await c2.until('the whole output', (s) => /\nseq-done\r\n/.test(s.text) && s.text.endsWith('$ '), 120_000);
    } finally {
      clearInterval(acker);
    }
    const ms = Date.now() - t0;
    const bytes = c2.lastSeq - c1.lastSeq;
    console.log(`large replay: ${bytes} bytes in ${ms} ms after attach (${(bytes / 1048576 / (ms / 1000)).toFixed(2)} MiB/s through the API server, acked every 20 ms)`);
    const numbers = Array.from({ length: 200_000 }, (_, i) => `${i + 1}\r\n`).join('');
    const all = c1.text + c2.text;
    expect(all.indexOf(numbers)).toBeGreaterThan(0);
    expect(all.indexOf(numbers)).toBe(all.lastIndexOf(numbers));
    expect(all.match(/\n200000\r\n/g)).toHaveLength(1);
    expect(c2.badSeqs).toEqual([]);
    t2.close();
  }, 180_000);

  it('a dead replica\'s exec leaves nothing running in the pod once its connection is gone; the shell stays', async () => {
    const exec = new RecordingPodExec(new ClientNodePodExec({ kubeconfig }));
    const term = new KubeExecTerminal({ name: 'leftovers', target, exec });
    const c = new Screen();
    term.attach(c, 0, 80, 24);
    await c.until('prompt', (s) => s.text.endsWith('$ '), 30_000);
    const attached = (await processes()).filter((p) => p.includes('svclab-term attach leftovers'));
    expect(attached.length).toBeGreaterThan(0);
    exec.abortAll();
    const deadline = Date.now() + 30_000;
    let left = attached;
    while (Date.now() < deadline) {
      left = (await processes()).filter((p) => /svclab-term attach leftovers|tail .*\/leftovers\/log/.test(p));
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(left).toEqual([]);
    expect((await processes()).some((p) => p.includes('svclab-term keep') && p.includes('leftovers'))).toBe(true);
  }, 120_000);
});
