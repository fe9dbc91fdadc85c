// The cluster watch's probe: GET /readyz on a cluster's API server from this machine (kind
// publishes it on 127.0.0.1), verified against the cluster's own CA from its kubeconfig. A
// 200 is ready; 401/403 means the server answers but refuses anonymous reads (still alive);
// anything else — refused, reset, timed out, 5xx, a certificate of another cluster — fails.
import { request } from 'node:https';

/** Reads a cluster's host kubeconfig (ClusterDriver.kubeconfig(name, 'host')). */
export type KubeconfigReader = (cluster: string) => Promise<string>;

interface Endpoint { url: URL; ca: string }

function endpointOf(kubeconfig: string): Endpoint | undefined {
  const server = /^\s*server:\s*(https:\/\/\S+)\s*$/m.exec(kubeconfig)?.[1];
  const caData = /^\s*certificate-authority-data:\s*(\S+)\s*$/m.exec(kubeconfig)?.[1];
  if (!server || !caData) return undefined;
  return { url: new URL(server), ca: Buffer.from(caData, 'base64').toString('utf8') };
}

/**
 * A probe for ClusterWatch. Endpoints are cached per cluster name; a failed probe drops the
 * entry, so a cluster made anew under the same name is read again.
 */
export function apiReadyProbe(kubeconfig: KubeconfigReader): (cluster: string, signal: AbortSignal) => Promise<boolean> {
  const cache = new Map<string, Endpoint>();
  return async (cluster, signal) => {
    let ep = cache.get(cluster);
    try {
      if (!ep) {
        ep = endpointOf(await kubeconfig(cluster));
        if (!ep) return false;
        cache.set(cluster, ep);
      }
      const status = await getStatus(ep, signal);
      const ok = status === 200 || status === 401 || status === 403;
      if (!ok) cache.delete(cluster);
      return ok;
    } catch {
      cache.delete(cluster);
      return false;
    }
  };
}

function getStatus(ep: Endpoint, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/readyz', ep.url), { method: 'GET', ca: ep.ca, signal, headers: { accept: 'text/plain' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
