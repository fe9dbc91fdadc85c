// deploy/helm/svclab through the helm svclab builds (images/artifacts/helm): lint,
// the refusals at render time, what each mode renders, a strict schema check of every
// rendered object against Kubernetes' own OpenAPI spec, and the committed
// deploy/kustomize render being current. One SKIP line when helm is not built.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { defaultImagesDir } from '../../src/images/cache-dir.ts';
import { hash16, hashRecipes } from '../../src/images/recipe-hash.ts';
import { loadRecipes } from '../../src/images/recipes.ts';
import { KubernetesSchemas } from './openapi-check.ts';
import { helmBinary, openApiDir } from './tools.ts';

const root = new URL('../../../', import.meta.url).pathname;
const chart = join(root, 'deploy/helm/svclab');
const found = helmBinary();
if ('skip' in found) console.log(`SKIP helm chart tests: ${found.skip}`);
const ACK = ['--set', 'environment.acknowledgePrivilegedPods=true'];

interface Obj { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown }

function helm(args: string[]): { code: number; out: string; err: string } {
  if ('skip' in found) throw new Error(found.skip);
  const r = spawnSync(found.helm, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), 'svclab-helm-cache'), HELM_CONFIG_HOME: join(tmpdir(), 'svclab-helm-config'), HELM_DATA_HOME: join(tmpdir(), 'svclab-helm-data') } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function render(...set: string[]): Obj[] {
  const r = helm(['template', 'svclab', chart, '--namespace', 'svclab', ...set]);
  if (r.code !== 0) throw new Error(`helm template failed (${r.code}): ${r.err}`);
  return parseAllDocuments(r.out).map((d) => d.toJS() as Obj).filter(Boolean);
}

const find = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
const envPod = (objs: Obj[]) => {
  const cm = find(objs, 'ConfigMap')[0] as Obj & { data: Record<string, string> };
  return parseAllDocuments(cm.data['environment-pod.yaml']!)[0]!.toJS() as { spec: { runtimeClassName?: string; nodeSelector?: unknown; tolerations?: unknown; containers: { securityContext: { privileged: boolean }; resources: unknown }[] } };
};

describe.skipIf('skip' in found)('helm chart deploy/helm/svclab', () => {
  it('helm lint --strict passes in both modes', () => {
    for (const set of [ACK, ['--set', 'environment.runtimeClassName=sysbox-runc']]) {
      const r = helm(['lint', '--strict', chart, ...set]);
      expect(r.code, r.out + r.err).toBe(0);
    }
  });

  it('refuses to render without a runtimeClassName or the acknowledgement, saying why and what to set', () => {
    const r = helm(['template', 'svclab', chart]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('root on the Kubernetes node');
    expect(r.err).toContain('--set environment.runtimeClassName=');
    expect(r.err).toContain('--set environment.acknowledgePrivilegedPods=true');
    // (helm lint logs a template's `fail` as [INFO] and passes by design: the refusal is at template/install.)
  });

  it('refuses bad values with the numbers or the field', () => {
    const over = helm(['template', 'svclab', chart, ...ACK, '--set', 'workshop.capacity=3,workshop.reserve=5']);
    expect(over.code).not.toBe(0);
    expect(over.err).toContain('workshop.reserve (5) is more than workshop.capacity (3)');
    const noHost = helm(['template', 'svclab', chart, ...ACK, '--set', 'ingress.enabled=true']);
    expect(noHost.err).toContain('ingress.host is empty');
    for (const [set, field] of [['workshop.expiry=soon', 'expiry'], ['workshop.capacity=0', 'capacity'], ['workshop.name=My_WS', 'name'], ['environment.acknowledgePrivileged=true', 'acknowledgePrivileged']] as const) {
      const r = helm(['template', 'svclab', chart, ...ACK, '--set', set]);
      expect(r.code, set).not.toBe(0);
      expect(r.err, set).toContain(field);
    }
  });

  it('runtime class mode: environment pods get the class and are not privileged', () => {
    const pod = envPod(render('--set', 'environment.runtimeClassName=sysbox-runc'));
    expect(pod.spec.runtimeClassName).toBe('sysbox-runc');
    expect(pod.spec.containers[0]!.securityContext.privileged).toBe(false);
    expect(envPod(render('--set', 'environment.runtimeClassName=kata', '--set', 'environment.privilegedInRuntimeClass=true')).spec.containers[0]!.securityContext.privileged).toBe(true);
  });

  it('privileged mode: pods are privileged, pinned by node selector and toleration, sized from the measured cluster', () => {
    const objs = render(...ACK, '--set', 'environment.nodeSelector.svclab\\.dev/pool=environments', '--set', 'environment.tolerations[0].key=svclab.dev/pool,environment.tolerations[0].operator=Exists,environment.tolerations[0].effect=NoSchedule');
    const pod = envPod(objs);
    expect(pod.spec.runtimeClassName).toBeUndefined();
    expect(pod.spec.containers[0]!.securityContext.privileged).toBe(true);
    expect(pod.spec.nodeSelector).toEqual({ 'svclab.dev/pool': 'environments' });
    expect(pod.spec.tolerations).toEqual([{ key: 'svclab.dev/pool', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.spec.containers[0]!.resources).toEqual({ requests: { cpu: '250m', memory: '1280Mi' }, limits: { memory: '2560Mi' } });
  });

  it('the runner: 2 replicas, its own ServiceAccount, rights in its namespace only, a Service and an Ingress with TLS', () => {
    const objs = render(...ACK, '--set', 'ingress.enabled=true,ingress.host=labs.example.org,ingress.tlsSecretName=labs-tls');
    const dep = find(objs, 'Deployment')[0] as Obj & { spec: { replicas: number; template: { spec: { serviceAccountName: string; containers: { env: { name: string; value?: string }[] }[] } } } };
    expect(dep.spec.replicas).toBe(2);
    expect(dep.spec.template.spec.serviceAccountName).toBe('svclab-runner');
    expect(dep.spec.template.spec.containers[0]!.env).toContainEqual({ name: 'SVCLAB_WORKSHOP_NAME', value: 'workshop' });
    expect(find(objs, 'ServiceAccount').map((o) => o.metadata.name)).toEqual(['svclab-runner']);
    expect(find(objs, 'ClusterRole')).toEqual([]);
    const role = find(objs, 'Role')[0] as Obj & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    expect(role.rules).toContainEqual(expect.objectContaining({ apiGroups: ['svclab.dev'], resources: ['workshops/status', 'learnersessions/status', 'environments/status'] }));
    expect(role.rules.flatMap((r) => r.resources)).toEqual(expect.arrayContaining(['environments', 'pods', 'pods/exec', 'pods/attach', 'secrets', 'configmaps']));
    const ing = find(objs, 'Ingress')[0] as Obj & { spec: { tls: unknown; rules: { host: string }[] } };
    expect(ing.spec.tls).toEqual([{ hosts: ['labs.example.org'], secretName: 'labs-tls' }]);
    expect(ing.spec.rules[0]!.host).toBe('labs.example.org');
    expect(find(objs, 'Service')).toHaveLength(1);
    expect(find(objs, 'PodDisruptionBudget')).toHaveLength(1);
  });

  const api = openApiDir();
  if ('skip' in api) console.log(`SKIP schema check of rendered manifests: ${api.skip}`);
  it.skipIf('skip' in api)('every rendered object (and the environment pod) passes a strict check against Kubernetes v1.34 OpenAPI', () => {
    if ('skip' in api) return;
    const schemas = new KubernetesSchemas(api.dir);
    const objs = render(...ACK, '--set', 'ingress.enabled=true,ingress.host=labs.example.org,ingress.tlsSecretName=labs-tls,environment.nodeSelector.pool=env');
    const errors = [...objs, { ...envPod(objs), apiVersion: 'v1', kind: 'Pod', metadata: { name: 'env' } }].flatMap((o) => schemas.check(o).map((e) => `${o.kind}/${o.metadata?.name}: ${e}`));
    expect(errors).toEqual([]);
    // The check can fail: a misspelt field is caught.
    expect(schemas.check({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replica: 2 } } as Obj)).toContain('.spec.replica: unknown field');
  });

  const scratch = mkdtempSync(join(tmpdir(), 'svclab-kustomize-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  it('environment pods: a private cgroup namespace before the node entrypoint, the bootstrap unit from the ConfigMap, Ready with the cluster', () => {
    const objs = render(...ACK);
    const cm = find(objs, 'ConfigMap')[0] as Obj & { data: Record<string, string> };
    const pod = parseAllDocuments(cm.data['environment-pod.yaml']!)[0]!.toJS() as {
      spec: { containers: { command: string[]; args: string[]; readinessProbe: { exec: { command: string[] } }; volumeMounts: { name: string; mountPath: string }[] }[]; volumes: { name: string; configMap?: { name: string; items: { key: string }[] } }[] };
    };
    const c = pod.spec.containers[0]!;
    expect(c.command).toEqual(['/bin/bash', '-c']);
    expect(c.args[0]).toMatch(/exec unshare --cgroup -- \/usr\/local\/bin\/entrypoint \/sbin\/init$/);
    expect(c.readinessProbe.exec.command).toEqual(['test', '-f', '/run/svclab/environment-ready']);
    expect(c.volumeMounts).toContainEqual(expect.objectContaining({ name: 'bootstrap', mountPath: '/svclab' }));
    const vol = pod.spec.volumes.find((v) => v.name === 'bootstrap')!;
    expect(vol.configMap!.name).toBe(cm.metadata.name);
    for (const item of vol.configMap!.items) expect(cm.data[item.key], item.key).toBeTruthy();
    expect(cm.data['environment-bootstrap.sh']).toContain('touch "$ready"');
    expect(cm.data['svclab-environment.service']).toContain('ExecStart=/bin/bash /svclab/environment-bootstrap.sh');
  });

  it('environment pods: a workstation container (the contract in runner/src/environments/README.md): unprivileged, user learner, KUBECONFIG, idle', () => {
    const pod = envPod(render(...ACK, '--set', 'environment.workstation.image.tag=abc123')) as unknown as {
      spec: { dnsPolicy: string; dnsConfig: { nameservers: string[] }; containers: { name: string; image: string; command: string[]; env: { name: string; value: string }[]; workingDir: string; securityContext: Record<string, unknown> }[] };
    };
    expect(pod.spec.containers.map((c) => c.name)).toEqual(['node', 'workstation']);
    const w = pod.spec.containers[1]!;
    expect(w.image).toBe('svclab/workstation:abc123');
    expect(w.command).toEqual(['/usr/bin/tini', '--', 'sleep', 'infinity']);
    expect(w.workingDir).toBe('/home/learner');
    expect(w.env).toEqual(expect.arrayContaining([{ name: 'HOME', value: '/home/learner' }, { name: 'KUBECONFIG', value: '/home/learner/.kube/config' }]));
    expect(w.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    // Even when the node container is privileged (no runtime class), the workstation is not.
    expect(pod.spec.containers[0]!.securityContext['privileged']).toBe(true);
    // The pod resolves names in the learner's cluster (its DNS Service), as a pod there does.
    expect(pod.spec.dnsPolicy).toBe('None');
    expect(pod.spec.dnsConfig.nameservers).toEqual(['10.96.0.10']);
    // The labs' addresses: lab 02's Service is 10.97.97.97, lab 01's pods are in 10.244.0.0/16.
    const cm = find(render(...ACK), 'ConfigMap')[0] as Obj & { data: Record<string, string> };
    expect(cm.data['environment-bootstrap.sh']).toContain('podSubnet: "$pods", serviceSubnet: 10.96.0.0/12');
    const node = (pod.spec.containers[0] as unknown as { env: { name: string; value: string }[] }).env;
    expect(node).toContainEqual({ name: 'SVCLAB_POD_SUBNET', value: '10.244.200.0/21' });
    expect(cm.data['svclab-environment.service']).toContain('PassEnvironment=SVCLAB_UPSTREAM_DNS SVCLAB_POD_SUBNET');
    expect(cm.data['environment-bootstrap.sh']).toContain('certSANs: [127.0.0.1');
    expect(helm(['template', 'svclab', chart, ...ACK, '--set', 'environment.upstreamDNS=not-an-ip']).code).not.toBe(0);
  });

  it('the default node and workstation image tags are the current recipes\' (a stale default installs pods that never pull)', () => {
    const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as { environment: { image: { tag: string }; workstation: { image: { tag: string } } } };
    const hashes = hashRecipes(loadRecipes(defaultImagesDir()));
    expect(values.environment.image.tag, 'environment.image.tag: svclab/node').toBe(hash16(hashes.get('image:node')!));
    expect(values.environment.workstation.image.tag, 'environment.workstation.image.tag: svclab/workstation').toBe(hash16(hashes.get('image:workstation')!));
  });

  it('deploy/kustomize is the current render of the chart (deploy/render-kustomize.sh)', () => {
    if ('skip' in found) return;
    const r = spawnSync('bash', [join(root, 'deploy/render-kustomize.sh'), scratch], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HELM: found.helm } });
    expect(r.status, r.stderr).toBe(0);
    const committed = join(root, 'deploy/kustomize');
    const files = readdirSync(scratch).sort();
    expect(readdirSync(committed).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(join(committed, f), 'utf8'), `deploy/kustomize/${f} is stale: run HELM=… deploy/render-kustomize.sh`).toBe(readFileSync(join(scratch, f), 'utf8'));
  });
});
