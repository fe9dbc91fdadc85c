// One replica at a time keeps the reserve: a coordination.k8s.io Lease, held by the
// replica that wrote its holderIdentity last and renewed before leaseDurationSeconds
// pass. Every write carries the resourceVersion read, so of two replicas taking an
// expired lease at once, the API server lets one through.
import { isReason, type KubeObject, type KubeObjects } from '../kube-store/kube-objects.ts';

export interface LeaseElectorOptions {
  objects: KubeObjects;
  /** The Lease object's name (one per workshop). */
  name: string;
  /** This replica (its pod name). */
  identity: string;
  /** A holder that has not renewed for this long has lost it (default 15 s). */
  durationMs?: number;
  now?: () => number;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaseElector {
  private readonly o: LeaseElectorOptions;
  private readonly durationMs: number;
  private readonly now: () => number;

  constructor(o: LeaseElectorOptions) {
    this.o = o;
    this.durationMs = o.durationMs ?? 15_000;
    this.now = o.now ?? Date.now;
  }

  /** Takes or renews the lease; true while this replica holds it. A lost race is false, not an error. */
  async tryAcquire(): Promise<boolean> {
    const { objects, name, identity } = this.o;
    const now = this.now();
    const cur = await objects.get('leases', name);
    const spec: Record<string, unknown> = { holderIdentity: identity, leaseDurationSeconds: Math.ceil(this.durationMs / 1000), renewTime: microTime(now) };
    try {
      if (!cur) {
        await objects.create('leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, labels: { 'app.kubernetes.io/part-of': 'svclab' } }, spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 } });
        return true;
      }
      const s = cur.spec ?? {};
      const holder = s['holderIdentity'] as string | undefined;
      if (holder === identity) {
        await objects.replace('leases', { ...cur, spec: { ...s, ...spec } });
        return true;
      }
      if (holder && !this.expired(cur, now)) return false;
      const transitions = Number(s['leaseTransitions'] ?? 0) + 1;
      await objects.replace('leases', { ...cur, spec: { ...s, ...spec, acquireTime: microTime(now), leaseTransitions: transitions } });
      return true;
    } catch (e) {
      if (isReason(e, 'conflict') || isReason(e, 'exists')) return false;
      throw e;
    }
  }

  /** Gives the lease up (on shutdown) so the other replica takes over at once instead of after the duration. */
  async release(): Promise<void> {
    const cur = await this.o.objects.get('leases', this.o.name);
    if (!cur || cur.spec?.['holderIdentity'] !== this.o.identity) return;
    const spec = { ...cur.spec };
    delete spec['holderIdentity'];
    try {
      await this.o.objects.replace('leases', { ...cur, spec });
    } catch (e) {
      if (!isReason(e, 'conflict') && !isReason(e, 'not-found')) throw e;
    }
  }

  private expired(lease: KubeObject, now: number): boolean {
    const s = lease.spec ?? {};
    const renewed = Date.parse(String(s['renewTime'] ?? s['acquireTime'] ?? ''));
    const seconds = Number(s['leaseDurationSeconds'] ?? this.durationMs / 1000);
    return !Number.isFinite(renewed) || now - renewed > seconds * 1000;
  }
}
