// `svclab workshop serve --store kube`: what each runner replica of the Helm chart runs
// (deploy/helm/svclab/templates/deployment.yaml). It serves the same HTTP app as
// `svclab workshop start`, with the workshop's state in the Kubernetes API
// (KubeWorkshopStore), and runs the reserve controller (one replica at a time, by Lease).
// The first replica up writes the Workshop from the chart's workshop.json; the others,
// and every restart, open the one written, so all replicas share one event code.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RunnerError } from '../errors.ts';
import { parsePublicOrigin } from '../http/auth.ts';
import { ClientNodeKubeObjects, isReason, type KubeObjects, type OwnerReference } from '../kube-store/kube-objects.ts';
import { KubeStoreError, KubeWorkshopStore } from '../kube-store/kube-workshop-store.ts';
import { claimCluster, EnvironmentClusterDriver, environmentLearnerKubeconfig, EnvironmentWorkstationEngine, prepareEnvironment, WORKSTATION_CONTAINER } from '../environments/environment-cluster.ts';
import type { EnvironmentRuntime } from '../environments/environment-runtime.ts';
import { HeldEnvironments } from '../environments/held-environments.ts';
import { kubeSharedSessions } from '../environments/shared-sessions.ts';
import { ClientNodePodExecutor } from '../kube-store/pod-executor.ts';
import { ClientNodePodExec } from '../terminals/client-node-pod-exec.ts';
import { kubeWorkstationTerminals } from '../terminals/workstation-terminals.ts';
import { buildWiring } from '../main/wiring.ts';
import { LeaseElector } from '../environments/lease-elector.ts';
import { EnvironmentTemplateError, parsePodTemplate, PodEnvironmentRuntime } from '../environments/pod-environment-runtime.ts';
import { ReserveController } from '../environments/reserve-controller.ts';
import { loadLabs } from '../labs/load-labs.ts';
import { projectRoot } from '../version.ts';
import { parseDuration, Workshop } from '../workshop/workshop.ts';
import { resolveLabs } from './workshop.ts';
import { startRunner } from './start.ts';

export const RUNTIMES = ['nested-kind-pod', 'none'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/** The chart's workshop.json (templates/config.yaml). */
export interface WorkshopConfig {
  name: string;
  labs: string[];
  capacity: number;
  reserve: number;
  expiry: string;
}

export interface ServeOptions {
  host: string;
  port: number;
  namespace: string;
  name: string;
  replica: string;
  config: WorkshopConfig;
  runtime: RuntimeName;
  environmentPodFile: string | undefined;
  kubeconfigFile: string | undefined;
  /** Where browsers reach the runner: the Service's names, the Ingress host (served names, allowed Origins). */
  publicOrigins: string[];
  /** The release's ConfigMap, which the Workshop is owned by (so `helm uninstall` collects it all). */
  ownerConfigMap: string | undefined;
}

const invalid = (message: string, hint: string) => new RunnerError('INVALID_ARGUMENT', { message, hint });

export function parseWorkshopConfig(text: string, where: string): WorkshopConfig {
  let c: Partial<WorkshopConfig>;
  try {
    c = JSON.parse(text) as Partial<WorkshopConfig>;
  } catch (e) {
    throw invalid(`${where} is not JSON (${(e as Error).message}).`, 'It is rendered by the chart (templates/config.yaml, workshop.json); render it again with helm template.');
  }
  const problems: string[] = [];
  if (typeof c.name !== 'string' || !c.name) problems.push('name (a string)');
  if (!Array.isArray(c.labs) || !c.labs.length || !c.labs.every((l) => typeof l === 'string')) problems.push('labs (lab numbers or ids)');
  if (!Number.isInteger(c.capacity) || c.capacity! < 1) problems.push('capacity (a whole number ≥ 1)');
  if (!Number.isInteger(c.reserve) || c.reserve! < 0) problems.push('reserve (a whole number ≥ 0)');
  if (typeof c.expiry !== 'string') problems.push('expiry (like 2h or 90m)');
  if (problems.length) throw invalid(`${where} lacks or has a wrong ${problems.join(', ')}.`, 'Set them in the chart\'s values (workshop.*) and upgrade the release.');
  return c as WorkshopConfig;
}

/** Flags first, then the environment the chart's Deployment sets (SVCLAB_*). */
export function serveOptions(args: string[], env: NodeJS.ProcessEnv, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): ServeOptions {
  const { values } = parseArgs({ args, options: {
    store: { type: 'string' }, host: { type: 'string', default: '0.0.0.0' }, port: { type: 'string', default: '8080' },
    namespace: { type: 'string' }, name: { type: 'string' }, config: { type: 'string' }, 'environment-pod': { type: 'string' },
    runtime: { type: 'string', default: 'nested-kind-pod' }, kubeconfig: { type: 'string' }, replica: { type: 'string' },
    'public-origin': { type: 'string', multiple: true }, 'owner-configmap': { type: 'string' },
  } });
  const store = values.store ?? env['SVCLAB_STORE'];
  if (store !== 'kube') {
    throw invalid(`svclab workshop serve --store ${store ?? '(missing)'}: only "kube" is served this way.`, 'On one machine use `svclab workshop start`; in a cluster the chart runs `svclab workshop serve --store kube`.');
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`--port ${values.port} is not a port number.`, 'Use a number from 1 to 65535.');
  if (!(RUNTIMES as readonly string[]).includes(values.runtime)) throw invalid(`--runtime ${values.runtime}: unknown.`, `Use one of ${RUNTIMES.join(', ')} ("none": this replica keeps no reserve).`);
  const namespace = values.namespace ?? env['SVCLAB_NAMESPACE'] ?? (values.kubeconfig ? undefined : readOptional(read, '/var/run/secrets/kubernetes.io/serviceaccount/namespace')?.trim());
  if (!namespace) throw invalid('svclab workshop serve needs a namespace.', 'Pass --namespace NS or set SVCLAB_NAMESPACE (the chart sets it from the pod\'s namespace).');
  const configFile = values.config ?? env['SVCLAB_WORKSHOP_CONFIG'];
  if (!configFile) throw invalid('svclab workshop serve needs the workshop\'s settings.', 'Pass --config FILE or set SVCLAB_WORKSHOP_CONFIG (the chart mounts /etc/svclab/workshop.json).');
  const text = readOptional(read, configFile);
  if (text === undefined) throw invalid(`The workshop settings ${configFile} cannot be read.`, 'Check the ConfigMap is mounted (the chart mounts it on /etc/svclab).');
  const config = parseWorkshopConfig(text, configFile);
  const name = values.name ?? env['SVCLAB_WORKSHOP_NAME'] ?? config.name;
  const environmentPodFile = values['environment-pod'] ?? env['SVCLAB_ENVIRONMENT_POD'];
  const runtime = values.runtime as RuntimeName;
  if (runtime === 'nested-kind-pod' && !environmentPodFile) {
    throw invalid('The nested-kind-pod runtime needs the environment pod template.', 'Pass --environment-pod FILE or set SVCLAB_ENVIRONMENT_POD (the chart mounts /etc/svclab/environment-pod.yaml), or --runtime none.');
  }
  // The chart passes SVCLAB_PUBLIC_ORIGINS (comma-separated); each is checked now, so a typo stops the start, not a request.
  const publicOrigins = [...(values['public-origin'] ?? []), ...(env['SVCLAB_PUBLIC_ORIGINS'] ?? '').split(',').map((x) => x.trim()).filter(Boolean)]
    .map((x) => parsePublicOrigin(x, values['public-origin']?.includes(x) ? '--public-origin' : 'SVCLAB_PUBLIC_ORIGINS'));
  return {
    host: values.host, port, namespace, name, config, runtime, environmentPodFile, publicOrigins,
    ownerConfigMap: values['owner-configmap'] ?? env['SVCLAB_OWNER_CONFIGMAP'],
    replica: values.replica ?? env['SVCLAB_REPLICA'] ?? env['HOSTNAME'] ?? `runner-${process.pid}`,
    kubeconfigFile: values.kubeconfig,
  };
}

function readOptional(read: (file: string) => string, file: string): string | undefined {
  try {
    return read(file);
  } catch {
    return undefined;
  }
}

/**
 * The Workshop every replica shares: opened when it exists, else written from the config,
 * once: of replicas starting together, one writes it and the others open what it wrote.
 */
export async function openOrCreateWorkshop(store: KubeWorkshopStore, config: WorkshopConfig, labIds: string[], o: { waitMs?: number; apiWaitMs?: number; retryMs?: number; out?: (l: string) => void } = {}): Promise<{ workshop: Workshop; created: boolean }> {
  const deadline = Date.now() + (o.waitMs ?? 15_000);
  const apiDeadline = Date.now() + (o.apiWaitMs ?? 120_000);
  for (;;) {
    let existing: Workshop | undefined;
    try {
      existing = await Workshop.open({ store });
    } catch (e) {
      // The API server not ready for svclab's CRDs yet (429 "storage is (re)initializing"
      // right after helm installed them, measured): wait for it instead of crashing.
      if (isReason(e, 'unavailable') && Date.now() < apiDeadline) {
        o.out?.(`  waiting for the Kubernetes API: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, o.retryMs ?? 2_000));
        continue;
      }
      // Another replica wrote the Workshop and is writing its Secret right now.
      if (!(e instanceof KubeStoreError) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    if (existing) {
      if (existing.capacity !== config.capacity || existing.reserve !== config.reserve || existing.labs.join() !== labIds.join()) {
        o.out?.(`! Workshop ${store.name} already exists with labs ${existing.labs.join(',')}, capacity ${existing.capacity}, reserve ${existing.reserve}; the chart's values differ and are not applied to a running workshop (delete the Workshop object to start a new one).`);
      }
      return { workshop: existing, created: false };
    }
    let lost = false;
    const firstWrite = Object.assign(Object.create(store) as KubeWorkshopStore, {
      putWorkshop: async (r: Parameters<KubeWorkshopStore['putWorkshop']>[0]) => {
        if (!(await store.createWorkshop(r))) {
          lost = true;
          throw new KubeStoreError('another replica wrote the Workshop first', 'open it');
        }
      },
    });
    try {
      await Workshop.create({ store: firstWrite }, { labs: labIds, capacity: config.capacity, reserve: Math.min(config.reserve, config.capacity), durationMs: parseDuration(config.expiry) });
    } catch (e) {
      if (lost) continue;
      throw e;
    }
    // From now on the Workshop writes (extend, end) go to the store itself.
    const workshop = await Workshop.open({ store });
    if (!workshop) throw new KubeStoreError(`Workshop ${store.name} vanished right after it was written.`, 'Something deletes it; look for another release with the same workshop.name.');
    return { workshop, created: true };
  }
}

/** The release's ConfigMap as the Workshop's owner; without it (not found) the Workshop is made unowned, said in the log. */
export async function ownerOf(objects: KubeObjects, configMap: string, out: (l: string) => void = () => undefined, waitMs = 120_000): Promise<OwnerReference | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const cm = await objects.get('configmaps', configMap);
      if (!cm?.metadata.uid) {
        out(`! ConfigMap ${configMap} not found: the Workshop is not owned by the release (helm uninstall leaves it; delete it with kubectl)`);
        return undefined;
      }
      return { apiVersion: 'v1', kind: 'ConfigMap', name: configMap, uid: cm.metadata.uid, blockOwnerDeletion: false };
    } catch (e) {
      if (!isReason(e, 'unavailable') || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}

/** The workstation image the chart's environment pod runs (what a session reports as its image). */
export function workstationImageOfTemplate(runtime: EnvironmentRuntime | undefined): string {
  const spec = runtime instanceof PodEnvironmentRuntime ? runtime.podFor({ name: 'x', uid: 'x' }).spec : undefined;
  const c = (spec?.['containers'] as { name: string; image?: string }[] | undefined)?.find((x) => x.name === WORKSTATION_CONTAINER);
  return c?.image ?? `the ${WORKSTATION_CONTAINER} container of each environment pod`;
}

export function environmentRuntime(o: ServeOptions, objects: KubeObjects, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): EnvironmentRuntime | undefined {
  if (o.runtime === 'none') return undefined;
  const file = o.environmentPodFile!;
  const text = readOptional(read, file);
  if (text === undefined) throw invalid(`The environment pod template ${file} cannot be read.`, 'Check the ConfigMap is mounted (the chart mounts it on /etc/svclab).');
  try {
    return new PodEnvironmentRuntime({ objects, workshop: o.name, template: parsePodTemplate(text, file) });
  } catch (e) {
    if (e instanceof EnvironmentTemplateError) throw invalid(e.message, e.hint);
    throw e;
  }
}

export async function workshopServeCommand(args: string[], out: (line: string) => void): Promise<number> {
  const o = serveOptions(args, process.env);
  const kubeconfig = o.kubeconfigFile ? { kubeconfig: readFileSync(o.kubeconfigFile, 'utf8') } : {};
  const objects = new ClientNodeKubeObjects({ namespace: o.namespace, ...kubeconfig });
  // Into the environment pods (learner access, the workstation): the Kubernetes API's exec.
  const exec = new ClientNodePodExecutor({ namespace: o.namespace, ...kubeconfig });
  const driver = new EnvironmentClusterDriver({ objects, exec, workshop: o.name });
  const engine = new EnvironmentWorkstationEngine({ objects, exec });
  const owner = o.ownerConfigMap ? await ownerOf(objects, o.ownerConfigMap, out) : undefined;
  const store = new KubeWorkshopStore({ objects, name: o.name, replica: o.replica, ...(owner ? { owner } : {}) });
  const { labs } = await loadLabs(projectRoot);
  const labIds = resolveLabs(o.config.labs.join(','), labs.map((l) => l.id));
  const runtime = environmentRuntime(o, objects);
  const { workshop, created } = await openOrCreateWorkshop(store, o.config, labIds, { out });
  out(`workshop ${o.namespace}/${o.name}: ${created ? 'written by this replica' : 'opened'}; labs ${workshop.labs.join(', ')}; ${workshop.capacity} places; reserve ${workshop.reserve}; ends ${new Date(workshop.expiresAt).toISOString()}`);

  const controller = runtime && new ReserveController({
    objects, store, runtime, log: (l) => out(`• ${l}`),
    elector: new LeaseElector({ objects, name: `${o.name}-reserve`, identity: o.replica }),
    // Ready means a learner can use it: learner access installed, the workstation's kubeconfig written.
    prepare: (name) => prepareEnvironment({ driver, exec }, name),
  });
  controller?.start();
  out(controller ? `  reserve: kept by whichever replica holds Lease ${o.name}-reserve (runtime ${runtime!.kind})` : '  reserve: not kept by this replica (--runtime none)');

  const cacheDir = process.env['SVCLAB_CACHE'] ?? join(homedir(), '.cache', 'svclab');
  const workstationImage = workstationImageOfTemplate(runtime);
  const clusterFor = claimCluster(store, { usable: (name) => driver.running(name) });
  // A learner whose environment fails (pod lost, API gone) is moved to a new one within seconds.
  const held = new HeldEnvironments({ store, log: (l) => out(`• ${l}`) });
  held.start();
  const running = await startRunner({
    host: o.host, port: o.port, allowRemote: true, cacheDir, out, workshop, publicOrigins: o.publicOrigins, replica: o.replica,
    // A session's cluster is the learner's environment (claimed from the reserve), its
    // workstation that environment's `workstation` container: the local session path,
    // behind the same driver and engine interfaces.
    wiring: { runner: buildWiring(cacheDir).runner, engine },
    // A learner back on the environment they held for this lab (another replica took over) keeps its state.
    cluster: { engine, driver, clusterFor, resumes: (s) => clusterFor.resumed(s.id), learnerKubeconfig: environmentLearnerKubeconfig(driver) },
    workstationImage: async () => workstationImage,
    // The workstation terminal: the shell in the environment pod's workstation container,
    // kept by svclab-term there, attached through the API from any replica (runner/src/terminals).
    workstationTerminal: kubeWorkstationTerminals({ exec: new ClientNodePodExec(kubeconfig), namespace: o.namespace }),
    // Sessions on the learners' LearnerSessions: either replica serves any session, a lost one costs a reconnect.
    sharedSessions: kubeSharedSessions({ store, engine, work: (learner, lab) => workshop.work(learner, lab) }),
    held,
    // The environment's API probed every 3 s; two failures in a row move the learner (a lost
    // pod fails at once: the driver finds no running pod to take the kubeconfig from).
    clusterWatch: { intervalMs: 3_000, failures: 2, slowFailures: 6 },
  });
  out(`  serving http://${o.host}:${running.port}/ (learners: /join/; instructor: the secret in Secret ${store.secretName})`);
  await new Promise<void>((resolve) => {
    const stop = () => { out('stopping: giving up the reserve lease…'); resolve(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await controller?.stop();
  held.stop();
  await running.close();
  return 0;
}
