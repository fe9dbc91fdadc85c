// The "nested-kind pod" runtime: each environment is a pod made from the chart's
// environment-pod.yaml (svclab's node image, privileged or under a sandboxing runtime
// class), named after its Environment and owned by it, so deleting the Environment
// deletes the pod. What "ready" means is the pod's Ready condition: the template's
// readiness probe decides it.
import { parse } from 'yaml';
import { API_VERSION, type KubeObject, type KubeObjects } from '../kube-store/kube-objects.ts';
import { WORKSHOP_LABEL } from '../kube-store/kube-workshop-store.ts';
import type { EnvironmentInfo, EnvironmentRef, EnvironmentRuntime } from './environment-runtime.ts';

export const ENVIRONMENT_LABEL = 'svclab.dev/environment';
const COMPONENT = { 'app.kubernetes.io/component': 'environment' };

/** A container waiting for one of these will not start by waiting longer. */
const HOPELESS = new Set(['ErrImageNeverPull', 'InvalidImageName', 'ImageInspectError', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export class EnvironmentTemplateError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'EnvironmentTemplateError';
    this.hint = hint;
  }
}

/** The chart's environment-pod.yaml, checked enough that a broken ConfigMap fails at start, not at the first environment. */
export function parsePodTemplate(text: string, where: string): KubeObject {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new EnvironmentTemplateError(`${where} is not YAML: ${(e as Error).message}`, 'It is rendered by the chart (templates/config.yaml); render it again with helm template.');
  }
  const pod = doc as Partial<KubeObject> | null;
  const containers = (pod?.spec as { containers?: unknown } | undefined)?.containers;
  if (!pod || pod.apiVersion !== 'v1' || pod.kind !== 'Pod' || !Array.isArray(containers) || !containers.length) {
    throw new EnvironmentTemplateError(`${where} is not a Pod with at least one container.`, 'It must be the chart\'s environment-pod.yaml: apiVersion v1, kind Pod, spec.containers.');
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: '', labels: { ...(pod.metadata?.labels ?? {}) } }, spec: pod.spec as Record<string, unknown> };
}

export interface PodEnvironmentRuntimeOptions {
  objects: KubeObjects;
  /** The Workshop's name: its label selects this workshop's pods. */
  workshop: string;
  template: KubeObject;
  /** A pod not Ready this long after it was made has failed (default 10 min). */
  readyTimeoutMs?: number;
  now?: () => number;
}

export class PodEnvironmentRuntime implements EnvironmentRuntime {
  readonly kind = 'nested-kind-pod';
  private readonly o: PodEnvironmentRuntimeOptions;

  constructor(o: PodEnvironmentRuntimeOptions) {
    this.o = o;
  }

  podFor(env: EnvironmentRef): KubeObject {
    const t = this.o.template;
    return {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name: env.name,
        labels: { ...t.metadata.labels, ...COMPONENT, [WORKSHOP_LABEL]: this.o.workshop, [ENVIRONMENT_LABEL]: env.name },
        ownerReferences: [{ apiVersion: API_VERSION, kind: 'Environment', name: env.name, uid: env.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: structuredClone(t.spec),
    };
  }

  async start(env: EnvironmentRef): Promise<void> {
    await this.o.objects.create('pods', this.podFor(env));
  }

  async inspectAll(): Promise<Map<string, EnvironmentInfo>> {
    const pods = await this.o.objects.list('pods', { ...COMPONENT, [WORKSHOP_LABEL]: this.o.workshop });
    const out = new Map<string, EnvironmentInfo>();
    for (const p of pods) {
      const env = p.metadata.labels?.[ENVIRONMENT_LABEL];
      if (env) out.set(env, this.infoOf(p));
    }
    return out;
  }

  async stop(name: string): Promise<boolean> {
    return this.o.objects.delete('pods', name);
  }

  infoOf(p: KubeObject): EnvironmentInfo {
    const status = (p.status ?? {}) as PodStatus;
    const node = (p.spec?.['nodeName'] as string | undefined) ?? undefined;
    const base = { pod: p.metadata.name, ...(node ? { node } : {}) };
    if (p.metadata.deletionTimestamp) return { ...base, state: 'failed', message: `pod ${p.metadata.name} is being deleted` };
    if (status.phase === 'Failed' || status.phase === 'Succeeded') {
      const t = status.containerStatuses?.find((c) => c.state?.terminated)?.state?.terminated;
      const why = [status.reason, t?.reason, t?.exitCode === undefined ? undefined : `exit code ${t.exitCode}`, status.message ?? t?.message].filter(Boolean).join(', ');
      return { ...base, state: 'failed', message: `pod ${p.metadata.name} stopped (${status.phase}${why ? `: ${why}` : ''})` };
    }
    const waiting = status.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
    if (waiting?.reason && HOPELESS.has(waiting.reason)) {
      return { ...base, state: 'failed', message: `pod ${p.metadata.name} cannot start: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` };
    }
    if (status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return { ...base, state: 'ready' };
    const made = Date.parse(p.metadata.creationTimestamp ?? '');
    const timeout = this.o.readyTimeoutMs ?? 600_000;
    const now = (this.o.now ?? Date.now)();
    if (Number.isFinite(made) && now - made > timeout) {
      return { ...base, state: 'failed', message: `pod ${p.metadata.name} not Ready ${Math.round(timeout / 1000)} s after it was made${waiting?.reason ? ` (waiting: ${waiting.reason})` : ''}` };
    }
    const unscheduled = status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    const message = unscheduled ? `not scheduled: ${unscheduled.message ?? unscheduled.reason ?? 'no node fits'}` : waiting?.reason ? `waiting: ${waiting.reason}` : undefined;
    return { ...base, state: 'starting', ...(message ? { message } : {}) };
  }
}

interface PodStatus {
  phase?: string;
  reason?: string;
  message?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  containerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number; message?: string } } }[];
}
