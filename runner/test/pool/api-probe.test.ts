// The cluster watch's probe against a real HTTPS server on loopback with a certificate made by
// openssl (as kind's API server would present one): ready, refusing anonymous reads (alive),
// failing, gone, and another cluster's certificate under the same name.
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../src/cli/workshop.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { apiReadyProbe } from '../../src/pool/api-probe.ts';

const shell = new ExecaRunner();
const servers: Server[] = [];
afterEach(async () => { await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r)))); });

async function apiServer(status: () => number): Promise<{ port: number; cert: string; server: Server }> {
  const tls = await selfSignedCertificate(shell, join(mkdtempSync(join(tmpdir(), 'svclab-probe-')), 'tls'), '127.0.0.1');
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    res.statusCode = req.url === '/readyz' ? status() : 404;
    res.end('ok');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, cert: tls.cert, server };
}

const kubeconfig = (port: number, ca: string) => `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${Buffer.from(ca).toString('base64')}\n    server: https://127.0.0.1:${port}\n  name: kind-x\n`;
const signal = () => AbortSignal.timeout(5_000);

const noOpenssl = (await shell.run(['openssl', 'version'], { timeoutMs: 10_000 }).catch(() => ({ exitCode: 1 }))).exitCode !== 0;
if (noOpenssl) console.log('SKIP api-probe: no openssl');

describe.skipIf(noOpenssl)('apiReadyProbe', () => {
  it('answers true for 200 and for 401/403 (alive, anonymous refused); false for 5xx', async () => {
    let status = 200;
    const api = await apiServer(() => status);
    let reads = 0;
    const probe = apiReadyProbe(async () => { reads++; return kubeconfig(api.port, api.cert); });
    expect(await probe('c1', signal())).toBe(true);
    status = 403;
    expect(await probe('c1', signal())).toBe(true);
    expect(reads).toBe(1); // the endpoint is cached
    status = 503;
    expect(await probe('c1', signal())).toBe(false);
    status = 200;
    expect(await probe('c1', signal())).toBe(true);
    expect(reads).toBe(2); // read again after a failure
  });

  it('answers false once the server is gone, and for a server with another certificate', async () => {
    const api = await apiServer(() => 200);
    const other = await apiServer(() => 200);
    let current = kubeconfig(api.port, api.cert);
    const probe = apiReadyProbe(async () => current);
    expect(await probe('c1', signal())).toBe(true);
    await new Promise((r) => api.server.close(r));
    api.server.closeAllConnections();
    expect(await probe('c1', signal())).toBe(false);
    // Another cluster listening where this one's kubeconfig points, with its own CA: not this cluster.
    current = kubeconfig(other.port, api.cert);
    expect(await probe('c1', signal())).toBe(false);
    current = kubeconfig(other.port, other.cert);
    expect(await probe('c1', signal())).toBe(true);
    // A kubeconfig that cannot be read (the cluster is gone): false, not a throw.
    const gone = apiReadyProbe(async () => { throw new Error('There is no cluster named c2.'); });
    expect(await gone('c2', signal())).toBe(false);
  });
});
