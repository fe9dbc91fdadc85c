// Real tier: one kind cluster (svclab-access-t), learner access installed, then as the
// learner (kubectl on the control-plane node with the learner's kubeconfig, the same
// API server and certificate the workstation uses): an ordinary Deployment and Service
// are allowed; each way to the node or the host, to cluster-admin, to the policies
// and into the add-ons is refused with its message; lab 11's one node label can be set
// and removed, any other change to a node is refused; lab 05's kube-proxy edit and
// restart pass; every lab's setup and solution manifests pass a server dry run but
// the two hostNetwork stand-ins svclab applies as admin. Runs when docker answers and
// the kind binary, node image and web image are current; otherwise one SKIP line.
//
// The traefik namespace holds a stand-in Deployment made by admin (the policy judges
// the namespace, not what runs there), so this test needs no add-on artifacts.
// SVCLAB_TEST_KIND / SVCLAB_TEST_NODE_IMAGE pin a kind binary and node image.
// SVCLAB_ACCESS_KEEP=1 keeps the cluster afterwards and reuses it next time (while
// working on the policies; a reused cluster is not a clean run).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  LEARNER_KUBECONFIG_PATH, REFUSALS, checkLearnerAccess, explainRefusal, installLearnerAccess, refusalText, type LearnerAccess, type Refusal,
} from '../../src/access/index.ts';
import { kindBinary, nodeImageRef } from '../../src/cluster/cluster-tools.ts';
import { KindDriver } from '../../src/cluster/kind-driver.ts';
import { controlPlaneNode, nodeShell } from '../../src/cluster/node-shell.ts';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { isRunnerError } from '../../src/errors.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import type { CommandResult } from '../../src/exec/shell.ts';
import { defaultCacheDir, defaultImagesDir, imageRef, imagesStatus } from '../../src/images/images.ts';
import { ADMIN_KUBECONFIG, Kubectl } from '../../src/kube/kubectl.ts';

const CLUSTER = 'svclab-access-t';
const KEEP = process.env['SVCLAB_ACCESS_KEEP'] === '1';
const LABS = join(import.meta.dirname, '..', '..', '..', 'labs');
const runner = new ExecaRunner();
const engine = new DockerEngine({ runner, queryTimeoutMs: 15_000 });
const imagesDeps = { runner, engine, imagesDir: defaultImagesDir(), cacheDir: defaultCacheDir() };

const real = await (async (): Promise<{ skip: string } | { driver: KindDriver; nodeImage: string; web: string }> => {
  try {
    await engine.info();
  } catch (e) {
    return { skip: isRunnerError(e) ? `${e.code}: ${e.message}` : String(e) };
  }
  try {
    const kind = process.env['SVCLAB_TEST_KIND'] ?? (await kindBinary(imagesDeps));
    const nodeImage = process.env['SVCLAB_TEST_NODE_IMAGE'] ?? (await nodeImageRef(imagesDeps));
    if (!(await engine.imageExists(nodeImage))) return { skip: `the node image ${nodeImage} is not in docker` };
    const web = await imageRef(imagesDeps, 'web');
    return { driver: new KindDriver({ runner, engine, kindPath: kind, stateDir: `${defaultCacheDir()}/clusters` }), nodeImage, web };
  } catch (e) {
    return { skip: isRunnerError(e) ? `${e.code}: ${e.message} (run \`svclab images build\`)` : String(e) };
  }
})();
if ('skip' in real) console.log(`SKIP access (real): ${real.skip}`);

const list = (items: unknown[]) => stringifyYaml({ apiVersion: 'v1', kind: 'List', items }, { lineWidth: 0 });
const container = (extra: Record<string, unknown> = {}) => ({ name: 'c', image: 'svclab/web:latest', imagePullPolicy: 'Never', ...extra });
const pod = (name: string, spec: Record<string, unknown> = {}, c: Record<string, unknown> = {}) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { terminationGracePeriodSeconds: 0, containers: [container(c)], ...spec } });
const template = (labels: Record<string, string>, spec: Record<string, unknown> = {}) => ({ metadata: { labels }, spec: { terminationGracePeriodSeconds: 0, containers: [container()], ...spec } });

describe.skipIf('skip' in real)('learner access on a live cluster', () => {
  if ('skip' in real) return;
  const { driver, nodeImage } = real;
  const shell = nodeShell(driver, CLUSTER, controlPlaneNode(CLUSTER));
  const admin = new Kubectl({ shell, kubeconfig: ADMIN_KUBECONFIG, requestTimeout: '30s', timeoutMs: 120_000 });
  const learner = admin.with({ kubeconfig: LEARNER_KUBECONFIG_PATH });
  let access: LearnerAccess;
  /** Why lab 14's Gateway API objects are left out of the dry run, when they are. */
  let gatewayApiMissing: string | undefined;

  const must = async (r: Promise<CommandResult>) => {
    const x = await r;
    if (x.exitCode !== 0) throw new Error(`${x.argv.join(' ')} failed: ${x.stderr}`);
    return x;
  };
  /** The learner's request failed, and said `why` (a policy's bilingual message or RBAC's). */
  const refused = async (r: Promise<CommandResult>, why: Refusal | RegExp) => {
    const x = await r;
    expect(x.exitCode, `${x.argv.join(' ')} was accepted: ${x.stdout}`).not.toBe(0);
    if (why instanceof RegExp) expect(x.stderr).toMatch(why);
    else expect(x.stderr).toContain(refusalText(why));
    return x.stderr;
  };
  const applyAsLearner = (items: unknown[]) => learner.apply(list(items), { serverSide: true });

  beforeAll(async () => {
    const running = KEEP && (await driver.list()).some((c) => c.name === CLUSTER && c.state === 'running');
    if (!running) {
      await driver.delete(CLUSTER).catch(() => undefined);
      await driver.create({ name: CLUSTER, workers: 1, nodeImage, ports: [] });
    }
    access = await installLearnerAccess({ controlPlane: shell });
    // The Gateway API CRDs, as `svclab up`'s add-on step applies them (lab 14's objects need them).
    const gw = (await imagesStatus(imagesDeps)).find((x) => x.kind === 'artifact' && x.name === 'gateway-api');
    if (gw?.state === 'current') {
      const crds = readdirSync(join(gw.location, 'crds')).filter((f) => f.endsWith('.yaml'))
        .flatMap((f) => parseAllDocuments(readFileSync(join(gw.location, 'crds', f), 'utf8')).map((d) => d.toJS() as unknown).filter(Boolean));
      await must(admin.apply(list(crds), { serverSide: true }));
      await must(admin.run(['wait', '--for=condition=Established', '--timeout=60s', ...crds.map((c) => `crd/${(c as { metadata: { name: string } }).metadata.name}`)]));
    } else {
      gatewayApiMissing = `the gateway-api artifact is ${gw?.state ?? 'unknown'}`;
      console.log(`SKIP the Gateway API objects of lab 14 in the dry run below: ${gatewayApiMissing} (svclab images build gateway-api)`);
    }
    // A stand-in for Traefik, made by admin: the learner may read it, not change it.
    await must(admin.apply(list([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'traefik' } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'traefik', namespace: 'traefik' }, spec: { replicas: 1, selector: { matchLabels: { app: 'traefik' } }, template: template({ app: 'traefik' }) } },
    ]), { serverSide: true }));
  }, 900_000);

  afterAll(async () => {
    if (!KEEP) await driver.delete(CLUSTER).catch(() => undefined);
  }, 300_000);

  it('installs: the learner is not cluster-admin, and the kubeconfig names the workstation\'s server', async () => {
    expect(access.kubeconfig).toContain('server: https://127.0.0.1:6443');
    expect(access.reused).toBe(false);
    expect((await learner.run(['auth', 'can-i', '*', '*'])).stdout.trim()).toBe('no');
    expect((await learner.run(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}'])).stdout).toMatch(/^svclab:learner \["svclab:learners","system:authenticated"\]/);
  });

  it('allows an ordinary Deployment and Service, in default and in a namespace of the learner\'s own', async () => {
    await must(learner.run(['create', 'namespace', 'access-t-own']));
    for (const ns of ['default', 'access-t-own']) {
      await must(applyAsLearner([
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }, { containers: [container({ ports: [{ containerPort: 8080 }], securityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } } })] }) } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
      ]));
    }
    await must(learner.rolloutStatus('default', 'deployment', 'web', 120));
    await must(learner.run(['scale', 'deployment/web', '--replicas=2']));
    await must(learner.run(['delete', 'namespace', 'access-t-own', '--wait=false']));
  });

  it.each([
    ['a privileged pod', pod('priv', {}, { securityContext: { privileged: true } }), REFUSALS.privileged],
    ['a hostPath pod', pod('hp', { volumes: [{ name: 'root', hostPath: { path: '/' } }] }, { volumeMounts: [{ name: 'root', mountPath: '/host' }] }), REFUSALS.hostPath],
    ['a hostPID pod', pod('pid', { hostPID: true }), REFUSALS.hostNamespaces],
    ['a hostPort pod', pod('hport', {}, { ports: [{ containerPort: 8080, hostPort: 8080 }] }), REFUSALS.hostPort],
    ['a pod adding NET_ADMIN', pod('netadmin', {}, { securityContext: { capabilities: { add: ['NET_ADMIN'] } } }), REFUSALS.capabilities],
    ['a pod adding sys_admin (lower case)', pod('sysadmin', {}, { securityContext: { capabilities: { add: ['sys_admin'] } } }), REFUSALS.capabilities],
    ['an init container adding CAP_SYS_PTRACE', pod('init', { initContainers: [container({ name: 'i', securityContext: { capabilities: { add: ['CAP_SYS_PTRACE'] } } })] }), REFUSALS.capabilities],
    ['a hostNetwork DaemonSet', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'hn', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'hn' } }, template: template({ app: 'hn' }, { hostNetwork: true }) } }, REFUSALS.hostNetwork],
    ['a privileged CronJob', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj', namespace: 'default' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [container({ securityContext: { privileged: true } })] } } } } } }, REFUSALS.privileged],
    ['a pod in kube-system', { ...pod('sys'), metadata: { name: 'sys', namespace: 'kube-system' } }, REFUSALS.systemNamespaces],
    ['a Service with externalIPs', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'eip', namespace: 'default' }, spec: { externalIPs: ['10.96.0.10'], ports: [{ port: 53, protocol: 'UDP' }] } }, REFUSALS.externalIPs],
    ['an EndpointSlice for the Service kubernetes', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'kubernetes-x', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } }, addressType: 'IPv4', ports: [{ name: 'https', port: 6443, protocol: 'TCP' }], endpoints: [{ addresses: ['10.244.1.2'] }] }, REFUSALS.apiService],
  ])('refuses %s with its message', async (_what, obj, why) => {
    const err = await refused(applyAsLearner([obj]), why);
    expect(explainRefusal(err)).toEqual(why);
  });

  it('refuses `kubectl debug node/…` (hostPID, hostNetwork and the node\'s / as a hostPath)', async () => {
    await refused(learner.run(['debug', `node/${controlPlaneNode(CLUSTER)}`, '--image=svclab/web:latest', '--image-pull-policy=Never']), REFUSALS.hostNamespaces);
    await refused(learner.run(['debug', `node/${controlPlaneNode(CLUSTER)}`, '--image=svclab/web:latest', '--profile=sysadmin']), /this workshop doesn't allow (privileged|hostPID)/);
  });

  it('refuses a ClusterRoleBinding to cluster-admin, impersonation, node proxy, CSRs and kube-system secrets (RBAC), in the learner\'s words', async () => {
    const crb = await refused(learner.run(['create', 'clusterrolebinding', 'me', '--clusterrole=cluster-admin', '--user=svclab:learner']), /User "svclab:learner" cannot create resource "clusterrolebindings"/);
    expect(explainRefusal(crb)?.en).toMatch(/doesn't let you create clusterrolebindings.* who may do what/);
    await refused(learner.run(['create', 'rolebinding', 'me', '--clusterrole=cluster-admin', '--user=svclab:learner', '-n', 'default']), /cannot create resource "rolebindings"/);
    await refused(learner.run(['get', 'pods', '--as=system:admin']), /cannot impersonate resource "users"/);
    await refused(learner.run(['get', '--raw', `/api/v1/nodes/${controlPlaneNode(CLUSTER)}/proxy/pods`]), /forbidden/i);
    await refused(learner.run(['get', 'csr']), /cannot list resource "certificatesigningrequests"/);
    await refused(learner.run(['-n', 'kube-system', 'get', 'secrets']), /cannot list resource "secrets" in API group "" in the namespace "kube-system"/);
    const proxyPod = (await must(admin.run(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-proxy', '-o', 'jsonpath={.items[0].metadata.name}']))).stdout;
    await refused(learner.run(['-n', 'kube-system', 'exec', proxyPod, '--', 'id']), /cannot (create|get) resource "pods\/exec"/);
  });

  it('refuses deleting or changing the admission policies and their bindings', async () => {
    for (const [res, name] of [['validatingadmissionpolicy', 'svclab-learner-host-access'], ['validatingadmissionpolicybinding', 'svclab-learner-host-access'], ['validatingadmissionpolicybinding', 'svclab-learner-namespaces']]) {
      const err = await refused(learner.run(['delete', res!, name!]), /cannot delete resource "validatingadmissionpolic(ies|ybindings)"/);
      expect(explainRefusal(err)?.en).toMatch(/switch off this workshop's safety rules/);
    }
    await refused(learner.run(['patch', 'validatingadmissionpolicybinding', 'svclab-learner-host-access', '--type=merge', '-p', '{"spec":{"validationActions":["Audit"]}}']), /cannot (get|patch) resource "validatingadmissionpolicybindings"/);
    expect((await checkLearnerAccess({ controlPlane: shell })).problems).toEqual([]);
  });

  it("refuses editing Traefik's Deployment and deleting the add-ons' namespaces, while reading them", async () => {
    await must(learner.run(['-n', 'traefik', 'get', 'deployment', 'traefik']));
    await refused(learner.run(['-n', 'traefik', 'patch', 'deployment', 'traefik', '--type=merge', '-p', '{"spec":{"replicas":0}}']), REFUSALS.addonNamespaces);
    await refused(learner.run(['-n', 'traefik', 'scale', 'deployment', 'traefik', '--replicas=0']), REFUSALS.addonNamespaces);
    await refused(learner.run(['-n', 'traefik', 'set', 'env', 'deployment/traefik', 'X=1']), REFUSALS.addonNamespaces);
    await refused(learner.run(['delete', 'namespace', 'traefik']), REFUSALS.addonNamespaces);
    // (Deleting kube-system the API server refuses itself; labelling it is ours to refuse.)
    await refused(learner.run(['label', 'namespace', 'kube-system', 'x=y']), REFUSALS.systemNamespaces);
  });

  it("allows lab 05: kube-proxy's ConfigMap edited (replace, as its solution does) and its DaemonSet restarted; refuses changing its pods or other keys", async () => {
    const before = (await must(admin.run(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-proxy', '-o', 'jsonpath={.items[*].metadata.name}']))).stdout.trim().split(/\s+/);
    // Lab 05's solution, with the learner's kubeconfig: get | sed | replace. The mode stays iptables
    // (not every host has nftables); a changed line is a change all the same.
    await must(shell.run(['sh', '-c', 'kubectl --kubeconfig="$1" -n kube-system get configmap kube-proxy -o yaml | sed -E "s/^    mode:.*$/    mode: iptables # access test/" | kubectl --kubeconfig="$1" replace -f -', 'sh', LEARNER_KUBECONFIG_PATH], { timeoutMs: 60_000 }));
    expect((await must(admin.run(['-n', 'kube-system', 'get', 'configmap', 'kube-proxy', '-o', 'jsonpath={.data.config\\.conf}']))).stdout).toContain('mode: iptables # access test');
    // The solution's nftables edit passes admission too (server dry run).
    await must(shell.run(['sh', '-c', 'kubectl --kubeconfig="$1" -n kube-system get configmap kube-proxy -o yaml | sed -E "s/^    mode:.*$/    mode: nftables/" | kubectl --kubeconfig="$1" replace --dry-run=server -f -', 'sh', LEARNER_KUBECONFIG_PATH], { timeoutMs: 60_000 }));
    await must(learner.run(['-n', 'kube-system', 'rollout', 'restart', 'daemonset/kube-proxy']));
    await must(learner.rolloutStatus('kube-system', 'daemonset', 'kube-proxy', 240));
    const after = (await must(admin.run(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-proxy', '-o', 'jsonpath={.items[*].metadata.name}']))).stdout.trim().split(/\s+/);
    expect(after.filter((p) => before.includes(p))).toEqual([]);

    await refused(learner.run(['-n', 'kube-system', 'set', 'image', 'daemonset/kube-proxy', 'kube-proxy=svclab/web:latest']), /this workshop (doesn't allow privileged containers|lets you restart kube-proxy's DaemonSet, not change its pods)/);
    await refused(learner.run(['-n', 'kube-system', 'patch', 'configmap', 'kube-proxy', '--type=merge', '-p', '{"data":{"kubeconfig.conf":"x"}}']), REFUSALS.kubeProxyConfig);
    await refused(learner.run(['-n', 'kube-system', 'patch', 'configmap', 'coredns', '--type=merge', '-p', '{"data":{"x":"y"}}']), REFUSALS.systemNamespaces);
  }, 400_000);

  it('lets the learner set and remove lab 11\'s node label svclab.io/ingress=hostnetwork, and refuses every other change to a node', async () => {
    const edge = (await must(admin.run(['get', 'nodes', '-l', 'svclab.io/edge=true', '-o', 'jsonpath={.items[0].metadata.name}']))).stdout.trim();
    expect(edge).toBe(`${CLUSTER}-worker`);
    const labels = async () => JSON.parse((await must(admin.run(['get', 'node', edge, '-o', 'jsonpath={.metadata.labels}']))).stdout) as Record<string, string>;
    const spec = async () => (await must(admin.run(['get', 'node', edge, '-o', 'jsonpath={.spec}']))).stdout;
    const before = { labels: await labels(), spec: await spec() };
    expect(before.labels['svclab.io/ingress']).toBeUndefined();

    // Lab 11 step 5's solution, then Reset's removal (the same command the lab runs), as the learner.
    await must(learner.run(['label', 'node', edge, 'svclab.io/ingress=hostnetwork']));
    expect((await labels())['svclab.io/ingress']).toBe('hostnetwork');
    await must(learner.run(['label', 'node', edge, 'svclab.io/ingress=hostnetwork', '--overwrite']));
    await must(learner.run(['label', 'nodes', '--all', 'svclab.io/ingress-']));
    expect(await labels()).toEqual(before.labels);
    // Removing it again, from nodes that don't carry it, is no error (Reset on a fresh lab).
    await must(learner.run(['label', 'nodes', '--all', 'svclab.io/ingress-']));

    const nodeChange = REFUSALS.nodeChange;
    await refused(learner.run(['label', 'node', edge, 'svclab.io/ingress=other']), nodeChange);
    await refused(learner.run(['label', 'node', edge, 'team=blue']), nodeChange);
    await refused(learner.run(['label', 'node', edge, 'svclab.io/ingress=hostnetwork', 'team=blue']), nodeChange);
    await refused(learner.run(['label', 'node', edge, 'svclab.io/edge=false', '--overwrite']), nodeChange);
    await refused(learner.run(['label', 'node', edge, 'svclab.io/edge-']), nodeChange);
    await refused(learner.run(['annotate', 'node', edge, 'example.com/x=y']), nodeChange);
    await refused(learner.run(['taint', 'node', edge, 'dedicated=edge:NoSchedule']), nodeChange);
    // kubectl cordon prints a refused patch but exits 0 (it goes on with the next node): judged by what it printed and by the node.
    const cordon = await learner.run(['cordon', edge]);
    expect(cordon.stderr).toContain(refusalText(nodeChange));
    expect(await spec()).toBe(before.spec);
    await refused(learner.run(['patch', 'node', edge, '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/keep"]}}']), nodeChange);
    // The control plane too: the label is the learner's on any node, nothing else is.
    await refused(learner.run(['label', 'node', controlPlaneNode(CLUSTER), 'node-role.kubernetes.io/control-plane-']), nodeChange);
    // RBAC: no node create, delete or update (replace), and no nodes/status.
    await refused(learner.run(['delete', 'node', edge, '--wait=false']), /cannot delete resource "nodes"/);
    await refused(learner.run(['patch', 'node', edge, '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[]}}']), /cannot (get|patch) resource "nodes\/status"/);
    expect(explainRefusal(await refused(learner.run(['label', 'node', edge, 'team=blue']), nodeChange))).toEqual(nodeChange);
    expect({ labels: await labels(), spec: await spec() }).toEqual(before);
  }, 300_000);

  it("passes every lab's setup and solution manifests (server dry run) but the hostNetwork stand-ins svclab applies as admin", async () => {
    interface LabFile { setup?: { manifests?: string[] }; steps: { solution?: { manifests?: string[] } }[] }
    const docs = readdirSync(LABS, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(LABS, d.name, 'lab.yaml'))).flatMap((d) => {
      const lab = parseYaml(readFileSync(join(LABS, d.name, 'lab.yaml'), 'utf8')) as LabFile;
      const files = [...new Set([...(lab.setup?.manifests ?? []), ...lab.steps.flatMap((s) => s.solution?.manifests ?? [])])];
      return files.flatMap((f) => parseAllDocuments(readFileSync(join(LABS, d.name, f), 'utf8')).map((doc) => ({ where: `${d.name}/${f}`, obj: doc.toJS() as { apiVersion?: string; kind: string; metadata: { name: string } } | null })))
        .filter((x): x is { where: string; obj: { apiVersion?: string; kind: string; metadata: { name: string } } } => !!x.obj);
    });
    // The earlier tests' web is gone; namespaces for real (a dry-run object can't live in a namespace that doesn't exist).
    await must(learner.run(['delete', 'deployment,service', 'web', '--ignore-not-found', '--wait=true']));
    await must(applyAsLearner(docs.filter((d) => d.obj.kind === 'Namespace').map((d) => d.obj)));
    const outcome: string[] = [];
    const gatewayKind = (o: { apiVersion?: string }) => String(o.apiVersion).startsWith('gateway.networking.k8s.io/');
    for (const d of docs.filter((x) => x.obj.kind !== 'Namespace' && !(gatewayApiMissing && gatewayKind(x.obj)))) {
      const r = await learner.apply(list([d.obj]), { serverSide: true, forceConflicts: true, dryRun: 'server' });
      if (r.exitCode !== 0) outcome.push(`${d.where} ${d.obj.kind}/${d.obj.metadata.name}: ${explainRefusal(r.stderr)?.en ?? r.stderr.trim()}`);
    }
    expect(outcome).toEqual([
      `03-endpoints-without-selector/manifests/inventory-servers.yaml DaemonSet/inventory-vm: ${REFUSALS.hostNetwork.en}`,
      `12-egress/manifests/receiver.yaml Pod/receiver: ${REFUSALS.hostNetwork.en}`,
    ]);
    // Applied by admin, the stand-in can be restarted by the learner, not changed.
    const inventory = docs.find((d) => d.obj.metadata.name === 'inventory-vm')!.obj;
    await must(admin.apply(list([inventory]), { serverSide: true }));
    await must(learner.run(['rollout', 'restart', 'daemonset/inventory-vm']));
    await refused(learner.run(['set', 'env', 'daemonset/inventory-vm', 'MESSAGE=changed']), REFUSALS.hostNetwork);
    await must(learner.run(['delete', 'daemonset', 'inventory-vm', '--wait=false']));
  }, 300_000);

  it('installs again idempotently (certificate kept), and checkLearnerAccess tells an admin\'s removal of a binding', async () => {
    const again = await installLearnerAccess({ controlPlane: shell });
    expect(again.reused).toBe(true);
    expect(again.kubeconfig).toBe(access.kubeconfig);
    await must(admin.run(['delete', 'validatingadmissionpolicybinding', 'svclab-learner-namespaces']));
    expect(await checkLearnerAccess({ controlPlane: shell })).toEqual({ ok: false, problems: ['ValidatingAdmissionPolicyBinding/svclab-learner-namespaces is gone'] });
    await installLearnerAccess({ controlPlane: shell });
    expect(await checkLearnerAccess({ controlPlane: shell })).toEqual({ ok: true, problems: [] });
  }, 300_000);
});
