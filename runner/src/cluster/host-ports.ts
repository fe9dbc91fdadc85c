// Host ports for a cluster's port mappings (127.0.0.1 only). The first cluster
// gets the familiar numbers (30080, 80, 443); when another cluster or program
// holds one, a free port is chosen instead and recorded with the cluster.

import { createServer } from 'node:net';
import { RunnerError } from '../errors.ts';
import type { PortMapping, PortRequest } from './cluster-driver.ts';

export const LISTEN_ADDRESS = '127.0.0.1';

export interface PortProbe {
  /** Can we bind host:port right now? */
  isFree(port: number, host: string): Promise<boolean>;
  /** A port the kernel hands out as free. */
  ephemeral(host: string): Promise<number>;
}

export class NetPortProbe implements PortProbe {
  isFree(port: number, host: string): Promise<boolean> {
    return new Promise((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
    });
  }

  ephemeral(host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen({ port: 0, host, exclusive: true }, () => {
        const addr = srv.address();
        const port = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(port));
      });
    });
  }
}

/**
 * Resolve each request to a host port. `reserved` holds ports recorded by other
 * svclab clusters (a stopped cluster does not listen but will again when started).
 * An explicit hostPort that is taken is an error; an implicit one moves.
 */
export async function choosePorts(requests: readonly PortRequest[], reserved: ReadonlySet<number>, probe: PortProbe): Promise<PortMapping[]> {
  const used = new Set(reserved);
  const out: PortMapping[] = [];
  for (const r of requests) {
    if (r.hostPort !== undefined) {
      if (used.has(r.hostPort) || !(await probe.isFree(r.hostPort, LISTEN_ADDRESS))) {
        throw new RunnerError('INVALID_ARGUMENT', {
          message: `Host port ${LISTEN_ADDRESS}:${r.hostPort} (for container port ${r.containerPort}) is already in use.`,
          hint: 'Leave the host port out so svclab picks a free one, or stop what holds it.',
          details: { containerPort: r.containerPort, hostPort: r.hostPort },
        });
      }
      used.add(r.hostPort);
      out.push({ containerPort: r.containerPort, hostPort: r.hostPort, listenAddress: LISTEN_ADDRESS });
      continue;
    }
    let port = r.containerPort;
    if (used.has(port) || !(await probe.isFree(port, LISTEN_ADDRESS))) {
      port = 0;
      for (let attempt = 0; attempt < 20 && port === 0; attempt++) {
        const p = await probe.ephemeral(LISTEN_ADDRESS);
        if (!used.has(p)) port = p;
      }
      if (port === 0) throw new RunnerError('INTERNAL', { message: `No free host port found for container port ${r.containerPort}.` });
    }
    used.add(port);
    out.push({ containerPort: r.containerPort, hostPort: port, listenAddress: LISTEN_ADDRESS });
  }
  return out;
}
