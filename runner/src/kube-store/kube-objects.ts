// The few Kubernetes API calls the workshop store makes, in one namespace: get, list,
// create, replace (conditional on metadata.resourceVersion) and replace status, over
// svclab's custom resources plus Secrets and ConfigMaps. An interface so the store's
// logic (claims, capacity) is tested on FakeKubeObjects and run on ClientNodeKubeObjects.
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';

export const GROUP = 'svclab.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export type CustomResource = 'workshops' | 'learnersessions' | 'environments';
export type Resource = CustomResource | 'secrets' | 'configmaps';

export const KINDS: Record<Resource, { apiVersion: string; kind: string }> = {
  workshops: { apiVersion: API_VERSION, kind: 'Workshop' },
  learnersessions: { apiVersion: API_VERSION, kind: 'LearnerSession' },
  environments: { apiVersion: API_VERSION, kind: 'Environment' },
  secrets: { apiVersion: 'v1', kind: 'Secret' },
  configmaps: { apiVersion: 'v1', kind: 'ConfigMap' },
};

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
export class ClientNodeKubeObjects implements KubeObjects {
  readonly namespace: string;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly server: string;
  private readonly timeoutMs: number;

  constructor(o: { namespace: string; kubeconfig?: string; requestTimeoutMs?: number }) {
    const kc = new KubeConfig();
    if (o.kubeconfig === undefined) kc.loadFromCluster();
    else kc.loadFromString(o.kubeconfig);
    this.namespace = o.namespace;
    this.server = kc.getCurrentCluster()?.server ?? 'the API server';
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.timeoutMs = o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  async get(r: Resource, name: string): Promise<KubeObject | undefined> {
    const namespace = this.namespace;
    try {
      return await this.call(`read ${r}/${name}`, () =>
        r === 'secrets' ? this.core.readNamespacedSecret({ name, namespace })
          : r === 'configmaps' ? this.core.readNamespacedConfigMap({ name, namespace })
            : this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: r, name }));
    } catch (e) {
      if (isReason(e, 'not-found')) return undefined;
      throw e;
    }
  }

  async list(r: Resource, labels?: Record<string, string>): Promise<KubeObject[]> {
    const namespace = this.namespace;
    const labelSelector = labels && Object.keys(labels).length ? selectorString(labels) : undefined;
    const list = await this.call<{ items: unknown[] }>(`list ${r}`, () =>
      r === 'secrets' ? this.core.listNamespacedSecret({ namespace, labelSelector })
        : r === 'configmaps' ? this.core.listNamespacedConfigMap({ namespace, labelSelector })
          : this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: r, labelSelector }));
    return list.items as KubeObject[];
  }

  async create(r: Resource, obj: KubeObject): Promise<KubeObject> {
    const namespace = this.namespace;
    const body = { ...obj, metadata: { ...obj.metadata, namespace } };
    return this.call(`create ${r}/${obj.metadata.name}`, () =>
      r === 'secrets' ? this.core.createNamespacedSecret({ namespace, body: body as never })
        : r === 'configmaps' ? this.core.createNamespacedConfigMap({ namespace, body: body as never })
          : this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: r, body }));
  }

  async replace(r: Resource, obj: KubeObject): Promise<KubeObject> {
    const namespace = this.namespace;
    const name = obj.metadata.name;
    const body = { ...obj, metadata: { ...obj.metadata, namespace } };
    return this.call(`replace ${r}/${name}`, () =>
      r === 'secrets' ? this.core.replaceNamespacedSecret({ name, namespace, body: body as never })
        : r === 'configmaps' ? this.core.replaceNamespacedConfigMap({ name, namespace, body: body as never })
          : this.custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: r, name, body }));
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
        r === 'secrets' ? this.core.deleteNamespacedSecret({ name, namespace })
          : r === 'configmaps' ? this.core.deleteNamespacedConfigMap({ name, namespace })
            : this.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: r, name }));
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
              : e.code >= 500 ? 'unavailable' : 'other';
    return new KubeObjectsError(`the Kubernetes API answered ${e.code} to "${what}"${said ? `: ${said}` : ''}`, reason, e.code, { cause: e });
  }
  const err = e as { message?: string; code?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  return new KubeObjectsError(`could not reach the Kubernetes API at ${server} (${what})${code ? `: ${code}` : err.message ? `: ${err.message}` : ''}`, 'unavailable', undefined, { cause: e });
}
