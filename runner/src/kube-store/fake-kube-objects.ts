// KubeObjects in memory, with the API server's rules the store relies on: names are
// unique (409 AlreadyExists), every write bumps resourceVersion and a write carrying an
// older one is refused (409 Conflict), replace keeps status and replaceStatus keeps
// spec (status subresource), and a read returns a copy. Each call yields to the event
// loop before it acts, so concurrent callers interleave as two replicas would.
import { KINDS, KubeObjectsError, hasStatusSubresource, type CustomResource, type KubeObject, type KubeObjects, type Resource } from './kube-objects.ts';

export class FakeKubeObjects implements KubeObjects {
  readonly namespace: string;
  /** Off only to show that the race tests catch a store without optimistic concurrency. */
  checkResourceVersion = true;
  readonly calls: string[] = [];
  /** The API server's clock (creationTimestamp); tests move it. */
  now: () => number = Date.now;
  private readonly objects = new Map<string, KubeObject>();
  private rv = 0;
  private uid = 0;

  constructor(namespace = 'svclab') {
    this.namespace = namespace;
  }

  async get(r: Resource, name: string): Promise<KubeObject | undefined> {
    await this.turn(`get ${r}/${name}`);
    const o = this.objects.get(`${r}/${name}`);
    return o && structuredClone(o);
  }

  async list(r: Resource, labels?: Record<string, string>): Promise<KubeObject[]> {
    await this.turn(`list ${r}`);
    return [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith(`${r}/`) && Object.entries(labels ?? {}).every(([lk, lv]) => o.metadata.labels?.[lk] === lv))
      .map(([, o]) => structuredClone(o));
  }

  async create(r: Resource, obj: KubeObject): Promise<KubeObject> {
    await this.turn(`create ${r}/${obj.metadata.name}`);
    const key = `${r}/${obj.metadata.name}`;
    if (this.objects.has(key)) throw new KubeObjectsError(`${r} "${obj.metadata.name}" already exists`, 'exists', 409);
    const stored: KubeObject = {
      ...structuredClone(obj), ...KINDS[r],
      metadata: { ...structuredClone(obj.metadata), namespace: this.namespace, uid: `uid-${++this.uid}`, resourceVersion: String(++this.rv), creationTimestamp: new Date(this.now()).toISOString() },
    };
    // Resources with a status subresource ignore status on create.
    if (hasStatusSubresource(r)) delete stored.status;
    if (stored.stringData) {
      stored.data = { ...stored.data, ...Object.fromEntries(Object.entries(stored.stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
      delete stored.stringData;
    }
    this.objects.set(key, stored);
    return structuredClone(stored);
  }

  async replace(r: Resource, obj: KubeObject): Promise<KubeObject> {
    await this.turn(`replace ${r}/${obj.metadata.name}`);
    const current = this.current(r, obj);
    const next: KubeObject = { ...structuredClone(obj), ...KINDS[r], metadata: { ...structuredClone(obj.metadata), namespace: this.namespace, uid: current.metadata.uid!, creationTimestamp: current.metadata.creationTimestamp!, resourceVersion: String(++this.rv) } };
    if (hasStatusSubresource(r)) {
      if (current.status) next.status = structuredClone(current.status);
      else delete next.status;
    }
    if (next.stringData) {
      next.data = Object.fromEntries(Object.entries(next.stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
      delete next.stringData;
    }
    this.objects.set(`${r}/${obj.metadata.name}`, next);
    return structuredClone(next);
  }

  async replaceStatus(r: CustomResource, obj: KubeObject): Promise<KubeObject> {
    await this.turn(`replace ${r}/${obj.metadata.name}/status`);
    const current = this.current(r, obj);
    const next: KubeObject = { ...structuredClone(current), metadata: { ...structuredClone(current.metadata), resourceVersion: String(++this.rv) } };
    if (obj.status) next.status = structuredClone(obj.status);
    else delete next.status;
    this.objects.set(`${r}/${obj.metadata.name}`, next);
    return structuredClone(next);
  }

  async delete(r: Resource, name: string): Promise<boolean> {
    await this.turn(`delete ${r}/${name}`);
    const gone = this.objects.delete(`${r}/${name}`);
    // Garbage collection, as the API server's collector does it for owner references.
    if (gone) this.collect();
    return gone;
  }

  /** What the kubelet does: writes a pod's status (tests play the node with it). */
  async setPodStatus(name: string, status: Record<string, unknown>): Promise<void> {
    await this.turn(`kubelet pods/${name}/status`);
    const current = this.objects.get(`pods/${name}`);
    if (!current) throw new KubeObjectsError(`pods "${name}" not found`, 'not-found', 404);
    this.objects.set(`pods/${name}`, { ...current, metadata: { ...current.metadata, resourceVersion: String(++this.rv) }, status: structuredClone(status) });
  }

  private collect(): void {
    const uids = new Set([...this.objects.values()].map((o) => o.metadata.uid));
    for (const [k, o] of this.objects) {
      const owners = o.metadata.ownerReferences ?? [];
      if (owners.length && owners.every((ref) => !uids.has(ref.uid))) {
        this.objects.delete(k);
        this.collect();
        return;
      }
    }
  }

  private current(r: Resource, obj: KubeObject): KubeObject {
    const current = this.objects.get(`${r}/${obj.metadata.name}`);
    if (!current) throw new KubeObjectsError(`${r} "${obj.metadata.name}" not found`, 'not-found', 404);
    const asked = obj.metadata.resourceVersion;
    if (this.checkResourceVersion && asked !== undefined && asked !== current.metadata.resourceVersion) {
      throw new KubeObjectsError(`Operation cannot be fulfilled on ${r} "${obj.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`, 'conflict', 409);
    }
    return current;
  }

  private async turn(what: string): Promise<void> {
    this.calls.push(what);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
