// The few Kubernetes API calls the workshop store and the reserve controller make, in one
// namespace: get, list, create, replace (conditional on metadata.resourceVersion) and
// replace status, over svclab's custom resources plus Secrets, ConfigMaps, the environment
// Pods and the reserve's Lease. An interface so the logic (claims, capacity, the reserve)
// is tested on FakeKubeObjects and run on ClientNodeKubeObjects.
import { ApiException, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';

export const GROUP = 'svclab.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export type CustomResource = 'workshops' | 'learnersessions' | 'environments';
export type CoreResource = 'secrets' | 'configmaps' | 'pods';
export type Resource = CustomResource | CoreResource | 'leases';

export const KINDS: Record<Resource, { apiVersion: string; kind: string }> = {
  workshops: { apiVersion: API_VERSION, kind: 'Workshop' },
  learnersessions: { apiVersion: API_VERSION, kind: 'LearnerSession' },
  environments: { apiVersion: API_VERSION, kind: 'Environment' },
  secrets: { apiVersion: 'v1', kind: 'Secret' },
  configmaps: { apiVersion: 'v1', kind: 'ConfigMap' },
  pods: { apiVersion: 'v1', kind: 'Pod' },
  leases: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' },
};

/** Resources whose status is a subresource the runner does not write with replace (custom resources and pods). */
export function hasStatusSubresource(r: Resource): boolean {
  return r !== 'secrets' && r !== 'configmaps' && r !== 'leases';
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  ownerReferences?: OwnerReference[];
  creationTimestamp?: string;
}

/** A plain API object as JSON carries it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  type?: string;
}

/** Why a call failed, as the store needs to tell: a lost race, a name taken, or something else. */
export type KubeObjectsReason = 'conflict' | 'exists' | 'not-found' | 'invalid' | 'forbidden' | 'unavailable' | 'other';

export class KubeObjectsError extends Error {
  readonly reason: KubeObjectsReason;
  readonly status: number | undefined;
  constructor(message: string, reason: KubeObjectsReason, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeObjectsError';
    this.reason = reason;
    this.status = status;
  }
}

export function isReason(e: unknown, reason: KubeObjectsReason): boolean {
  return e instanceof KubeObjectsError && e.reason === reason;
}

export interface KubeObjects {
  readonly namespace: string;
  /** undefined when the object does not exist. */
  get(r: Resource, name: string): Promise<KubeObject | undefined>;
  list(r: Resource, labels?: Record<string, string>): Promise<KubeObject[]>;
  /** Throws reason 'exists' when the name is taken. */
  create(r: Resource, obj: KubeObject): Promise<KubeObject>;
  /** Replaces spec/data/metadata; with metadata.resourceVersion set, throws reason 'conflict' when the object changed since. */
  replace(r: Resource, obj: KubeObject): Promise<KubeObject>;
  /** Replaces status only (custom resources); conditional on metadata.resourceVersion like replace. */
  replaceStatus(r: CustomResource, obj: KubeObject): Promise<KubeObject>;
  /** false when it was already gone. */
  delete(r: Resource, name: string): Promise<boolean>;
}

export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** The real API through @kubernetes/client-node, from kubeconfig text (or in-cluster when omitted). */
/** The calls of one resource, all with { namespace } (and name/body where they take one). */
interface ResourceCalls {
  read(a: { name: string; namespace: string }): Promise<unknown>;
  list(a: { namespace: string; labelSelector?: string }): Promise<unknown>;
  create(a: { namespace: string; body: never }): Promise<unknown>;
  replace(a: { name: string; namespace: string; body: never }): Promise<unknown>;
  delete(a: { name: string; namespace: string }): Promise<unknown>;
}

/** The real API through @kubernetes/client-node, from kubeconfig text (or in-cluster when omitted). */
export class ClientNodeKubeObjects implements KubeObjects {
  readonly namespace: string;
  private readonly custom: CustomObjectsApi;
  private readonly server: string;
  private readonly timeoutMs: number;
  private readonly typed: Record<CoreResource | 'leases', ResourceCalls>;

  constructor(o: { namespace: string; kubeconfig?: string; requestTimeoutMs?: number }) {
    const kc = new KubeConfig();
    if (o.kubeconfig === undefined) kc.loadFromCluster();
    else kc.loadFromString(o.kubeconfig);
    this.namespace = o.namespace;
    this.server = kc.getCurrentCluster()?.server ?? 'the API server';
    this.custom = kc.makeApiClient(CustomObjectsApi);
    const core = kc.makeApiClient(CoreV1Api);
    const coordination = kc.makeApiClient(CoordinationV1Api);
    // Plain JSON bodies pass through client-node's serializer (it maps fields by name, strings stay strings).
    this.typed = {
      secrets: {
        read: (a) => core.readNamespacedSecret(a), list: (a) => core.listNamespacedSecret(a), create: (a) => core.createNamespacedSecret(a),
        replace: (a) => core.replaceNamespacedSecret(a), delete: (a) => core.deleteNamespacedSecret(a),
      },
      configmaps: {
        read: (a) => core.readNamespacedConfigMap(a), list: (a) => core.listNamespacedConfigMap(a), create: (a) => core.createNamespacedConfigMap(a),
        replace: (a) => core.replaceNamespacedConfigMap(a), delete: (a) => core.deleteNamespacedConfigMap(a),
      },
      pods: {
        read: (a) => core.readNamespacedPod(a), list: (a) => core.listNamespacedPod(a), create: (a) => core.createNamespacedPod(a),
        replace: (a) => core.replaceNamespacedPod(a), delete: (a) => core.deleteNamespacedPod(a),
      },
      leases: {
        read: (a) => coordination.readNamespacedLease(a), list: (a) => coordination.listNamespacedLease(a), create: (a) => coordination.createNamespacedLease(a),
        replace: (a) => coordination.replaceNamespacedLease(a), delete: (a) => coordination.deleteNamespacedLease(a),
      },
    };
    this.timeoutMs = o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  private isCustom(r: Resource): r is CustomResource {
    return r === 'workshops' || r === 'learnersessions' || r === 'environments';
  }

  async get(r: Resource, name: string): Promise<KubeObject | undefined> {
    const namespace = this.namespace;
    try {
      return await this.call(`read ${r}/${name}`, () =>
        this.isCustom(r) ? this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: r, name }) : this.typed[r].read({ name, namespace }));
    } catch (e) {
      if (isReason(e, 'not-found')) return undefined;
      throw e;
    }
  }

  async list(r: Resource, labels?: Record<string, string>): Promise<KubeObject[]> {
    const namespace = this.namespace;
    const labelSelector = labels && Object.keys(labels).length ? selectorString(labels) : undefined;
    const list = await this.call<{ items: unknown[] }>(`list ${r}`, () =>
      this.isCustom(r) ? this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: r, labelSelector })
        : this.typed[r].list({ namespace, ...(labelSelector ? { labelSelector } : {}) }));
    return list.items as KubeObject[];
  }

  async create(r: Resource, obj: KubeObject): Promise<KubeObject> {
    const namespace = this.namespace;
    const body = { ...obj, metadata: { ...obj.metadata, namespace } };
    return this.call(`create ${r}/${obj.metadata.name}`, () =>
      this.isCustom(r) ? this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: r, body }) : this.typed[r].create({ namespace, body: body as never }));
  }

  async replace(r: Resource, obj: KubeObject): Promise<KubeObject> {
    const namespace = this.namespace;
    const name = obj.metadata.name;
    const body = { ...obj, metadata: { ...obj.metadata, namespace } };
    return this.call(`replace ${r}/${name}`, () =>
      this.isCustom(r) ? this.custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: r, name, body }) : this.typed[r].replace({ name, namespace, body: body as never }));
  }

  async replaceStatus(r: CustomResource, obj: KubeObject): Promise<KubeObject> {
    const namespace = this.namespace;
    const name = obj.metadata.name;
    return this.call(`replace ${r}/${name}/status`, () =>
      this.custom.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: r, name, body: { ...obj, metadata: { ...obj.metadata, namespace } } }));
  }

  async delete(r: Resource, name: string): Promise<boolean> {
    const namespace = this.namespace;
    try {
      await this.call(`delete ${r}/${name}`, () =>
        this.isCustom(r) ? this.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: r, name }) : this.typed[r].delete({ name, namespace }));
      return true;
    } catch (e) {
      if (isReason(e, 'not-found')) return false;
      throw e;
    }
  }

  private async call<T = KubeObject>(what: string, fn: () => Promise<unknown>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KubeObjectsError(`the Kubernetes API at ${this.server} did not answer within ${Math.round(this.timeoutMs / 1000)} s (${what})`, 'unavailable')), this.timeoutMs);
    });
    try {
      // Plain JSON: client-node returns class instances for core types (Date fields and all).
      return JSON.parse(JSON.stringify(await Promise.race([fn(), timeout]))) as T;
    } catch (e) {
      throw toError(e, what, this.server);
    } finally {
      clearTimeout(timer);
    }
  }
}

function toError(e: unknown, what: string, server: string): KubeObjectsError {
  if (e instanceof KubeObjectsError) return e;
  if (e instanceof ApiException) {
    let body = e.body as { message?: unknown; reason?: unknown } | string | undefined;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body) as { message?: unknown; reason?: unknown };
      } catch {
        // not a Status object: keep the text
      }
    }
    const said = typeof body === 'object' && typeof body?.message === 'string' ? body.message : typeof body === 'string' ? body.slice(0, 300) : '';
    const status = typeof body === 'object' ? body?.reason : undefined;
    // 404 without a NotFound Status: the server has no such resource (svclab's CRDs not installed).
    if (e.code === 404 && status !== 'NotFound') {
      return new KubeObjectsError(`the Kubernetes API at ${server} does not serve "${what.split(' ')[1]?.split('/')[0]}" (${what}); are svclab's CRDs installed? (helm install installs deploy/helm/svclab/crds; or kubectl apply -k deploy/kustomize)`, 'other', 404, { cause: e });
    }
    const reason: KubeObjectsReason =
      e.code === 409 ? (status === 'AlreadyExists' ? 'exists' : 'conflict')
        : e.code === 404 ? 'not-found'
          : e.code === 422 || e.code === 400 ? 'invalid'
            : e.code === 401 || e.code === 403 ? 'forbidden'
              : e.code >= 500 || e.code === 429 ? 'unavailable' : 'other';
    return new KubeObjectsError(`the Kubernetes API answered ${e.code} to "${what}"${said ? `: ${said}` : ''}`, reason, e.code, { cause: e });
  }
  const err = e as { message?: string; code?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  return new KubeObjectsError(`could not reach the Kubernetes API at ${server} (${what})${code ? `: ${code}` : err.message ? `: ${err.message}` : ''}`, 'unavailable', undefined, { cause: e });
}
