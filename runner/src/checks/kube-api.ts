// The Kubernetes API as the checks see it: a few reads, always plain JSON objects
// as the API server sends them. ClientNodeKubeApi talks to a cluster through
// @kubernetes/client-node; FakeKubeApi answers from recorded objects in tests.
import { ApiException, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';

export type Labels = Record<string, string>;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [k: string]: unknown;
}

export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface Service extends KubeObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    selector?: Labels;
    ports?: ServicePort[];
    externalName?: string;
    sessionAffinity?: string;
    [k: string]: unknown;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export interface Pod extends KubeObject {
  spec?: { nodeName?: string; containers?: { name: string; ports?: { name?: string; containerPort: number; protocol?: string }[] }[]; [k: string]: unknown };
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[]; [k: string]: unknown };
}

export interface EndpointSlice extends KubeObject {
  addressType?: string;
  endpoints?: {
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    targetRef?: { kind?: string; name?: string; namespace?: string };
    nodeName?: string;
  }[] | null;
  ports?: { name?: string; port?: number; protocol?: string }[] | null;
}

export interface Ingress extends KubeObject {
  spec?: {
    ingressClassName?: string;
    tls?: { hosts?: string[]; secretName?: string }[];
    rules?: { host?: string; [k: string]: unknown }[];
    [k: string]: unknown;
  };
}

/** A Secret as the API sends it: `data` values are base64. */
export interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  /** Omitted for cluster-scoped kinds. */
  namespace?: string;
}

/**
 * What API checks read. Reads of a missing object give undefined; anything that
 * stops the check from seeing the cluster (unreachable, forbidden, unknown kind)
 * throws KubeApiError, which a check reports as `error`.
 */
export interface KubeApi {
  getObject(ref: ObjectRef): Promise<KubeObject | undefined>;
  getService(namespace: string, name: string): Promise<Service | undefined>;
  /** Pods in a namespace; with `selector`, only those carrying all its labels. */
  listPods(namespace: string, selector?: Labels): Promise<Pod[]>;
  /** The EndpointSlices the EndpointSlice controller (or a person) made for a Service. */
  listEndpointSlices(namespace: string, service: string): Promise<EndpointSlice[]>;
  /** Ingresses in a namespace; in every namespace when it is omitted. */
  listIngresses(namespace?: string): Promise<Ingress[]>;
}

export class KubeApiError extends Error {
  /** HTTP status when the server answered; undefined when it could not be reached. */
  readonly status: number | undefined;
  /** The server said NotFound for an object (not for the resource type). */
  readonly objectNotFound: boolean;
  constructor(message: string, status?: number, options?: { cause?: unknown; objectNotFound?: boolean }) {
    super(message, options);
    this.name = 'KubeApiError';
    this.status = status;
    this.objectNotFound = options?.objectNotFound ?? false;
  }
}

export function selectorString(selector: Labels): string {
  return Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
}

export function matchesSelector(labels: Labels | undefined, selector: Labels): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** The real API, from kubeconfig text (ClusterDriver.kubeconfig(name, 'host')). */
export class ClientNodeKubeApi implements KubeApi {
  private readonly client: KubernetesObjectApi;
  private readonly server: string;
  private readonly timeoutMs: number;

  constructor(kubeconfig: string, opts: { requestTimeoutMs?: number } = {}) {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig);
    this.server = kc.getCurrentCluster()?.server ?? 'the API server';
    this.client = KubernetesObjectApi.makeApiClient(kc);
    this.timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  async getObject(ref: ObjectRef): Promise<KubeObject | undefined> {
    const metadata = ref.namespace === undefined ? { name: ref.name } : { name: ref.name, namespace: ref.namespace };
    try {
      return plain(await this.call(`read ${ref.kind} ${ref.name}`, () => this.client.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata }))) as unknown as KubeObject;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404 && e.objectNotFound) return undefined;
      if (e instanceof KubeApiError && e.status === 404) {
        // 404 without a NotFound Status: the server has no such resource type (a CRD not installed, say).
        throw new KubeApiError(`the cluster does not know the kind ${ref.kind} (${ref.apiVersion}); is the add-on that defines it installed?`, 404, { cause: e });
      }
      throw e;
    }
  }

  async getService(namespace: string, name: string): Promise<Service | undefined> {
    return (await this.getObject({ apiVersion: 'v1', kind: 'Service', namespace, name })) as Service | undefined;
  }

  async listPods(namespace: string, selector?: Labels): Promise<Pod[]> {
    const labelSelector = selector && Object.keys(selector).length > 0 ? selectorString(selector) : undefined;
    const list = await this.call(`list pods in ${namespace}`, () => this.client.list('v1', 'Pod', namespace, undefined, undefined, undefined, undefined, labelSelector));
    return plain(list.items) as Pod[];
  }

  async listEndpointSlices(namespace: string, service: string): Promise<EndpointSlice[]> {
    const list = await this.call(`list EndpointSlices of ${namespace}/${service}`, () =>
      this.client.list('discovery.k8s.io/v1', 'EndpointSlice', namespace, undefined, undefined, undefined, undefined, `kubernetes.io/service-name=${service}`),
    );
    return plain(list.items) as EndpointSlice[];
  }

  async listIngresses(namespace?: string): Promise<Ingress[]> {
    const list = await this.call(`list Ingresses${namespace === undefined ? '' : ` in ${namespace}`}`, () => this.client.list('networking.k8s.io/v1', 'Ingress', namespace));
    return plain(list.items) as Ingress[];
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KubeApiError(`the Kubernetes API at ${this.server} did not answer within ${Math.round(this.timeoutMs / 1000)} s (${what})`)), this.timeoutMs);
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (e) {
      throw toKubeApiError(e, what, this.server);
    } finally {
      clearTimeout(timer);
    }
  }
}

function toKubeApiError(e: unknown, what: string, server: string): KubeApiError {
  if (e instanceof KubeApiError) return e;
  if (e instanceof ApiException) {
    const body = e.body as { message?: unknown } | string | undefined;
    const said = typeof body === 'string' ? safeMessage(body) : typeof body?.message === 'string' ? body.message : '';
    return new KubeApiError(`the Kubernetes API answered ${e.code} to "${what}"${said ? `: ${said}` : ''}`, e.code, { cause: e, objectNotFound: isNotFoundStatus(body) });
  }
  const err = e as { message?: string; code?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  // client-node's own "resource not found" for an unknown kind is a lab bug, not a missing object.
  if (typeof err.message === 'string' && /Unrecognized API version and kind|Could not find/i.test(err.message)) {
    return new KubeApiError(`the cluster does not know the kind in "${what}": ${err.message}`, 400, { cause: e });
  }
  return new KubeApiError(`the Kubernetes API at ${server} could not be reached (${what}): ${code ?? err.message ?? String(e)}`, undefined, { cause: e });
}

/** A Status {reason: NotFound, details.name}: the object is missing, the type exists. */
function isNotFoundStatus(body: unknown): boolean {
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return false;
    }
  }
  const st = b as { kind?: unknown; reason?: unknown } | null;
  return !!st && st.kind === 'Status' && st.reason === 'NotFound';
}

function safeMessage(body: string): string {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    return typeof m === 'string' ? m : '';
  } catch {
    return body.slice(0, 200);
  }
}

/** client-node returns model class instances (Dates and all); checks compare JSON as the server sent it. */
function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * Recorded objects in memory. `unreachable` makes every call throw as if the API
 * were down; `calls` records what was asked.
 */
export class FakeKubeApi implements KubeApi {
  private objects: KubeObject[] = [];
  unreachable: string | undefined;
  readonly calls: string[] = [];

  constructor(objects: readonly KubeObject[] = []) {
    this.set(objects);
  }

  /** Replace every object (a new recorded state). Lists (kind: *List) are flattened. */
  set(objects: readonly KubeObject[]): this {
    this.objects = objects.flatMap((o) => (Array.isArray((o as { items?: unknown }).items) ? ((o as { items: KubeObject[] }).items) : [o]));
    return this;
  }

  add(...objects: KubeObject[]): this {
    this.objects.push(...objects);
    return this;
  }

  remove(kind: string, namespace: string | undefined, name: string): this {
    this.objects = this.objects.filter((o) => !(o.kind === kind && o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace)));
    return this;
  }

  async getObject(ref: ObjectRef): Promise<KubeObject | undefined> {
    this.check(`get ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`);
    return this.objects.find((o) => o.kind === ref.kind && sameGroup(o.apiVersion, ref.apiVersion) && o.metadata?.name === ref.name && (ref.namespace === undefined || ns(o) === ref.namespace));
  }

  async getService(namespace: string, name: string): Promise<Service | undefined> {
    return (await this.getObject({ apiVersion: 'v1', kind: 'Service', namespace, name })) as Service | undefined;
  }

  async listPods(namespace: string, selector?: Labels): Promise<Pod[]> {
    this.check(`list pods ${namespace}`);
    return this.objects.filter((o) => o.kind === 'Pod' && ns(o) === namespace && (!selector || matchesSelector(o.metadata?.labels, selector))) as Pod[];
  }

  async listEndpointSlices(namespace: string, service: string): Promise<EndpointSlice[]> {
    this.check(`list endpointslices ${namespace}/${service}`);
    return this.objects.filter((o) => o.kind === 'EndpointSlice' && ns(o) === namespace && o.metadata?.labels?.['kubernetes.io/service-name'] === service) as EndpointSlice[];
  }

  async listIngresses(namespace?: string): Promise<Ingress[]> {
    this.check(`list ingresses ${namespace ?? '*'}`);
    return this.objects.filter((o) => o.kind === 'Ingress' && (namespace === undefined || ns(o) === namespace)) as Ingress[];
  }

  private check(call: string): void {
    this.calls.push(call);
    if (this.unreachable !== undefined) throw new KubeApiError(this.unreachable);
  }
}

function ns(o: KubeObject): string {
  return o.metadata?.namespace ?? 'default';
}

/** Recorded objects may omit apiVersion; when both have one, the group must agree. */
function sameGroup(a: string | undefined, b: string): boolean {
  if (a === undefined) return true;
  const group = (v: string) => (v.includes('/') ? v.split('/')[0] : '');
  return group(a) === group(b);
}
