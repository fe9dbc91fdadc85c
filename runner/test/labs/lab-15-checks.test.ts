// Lab 15's command checks against recorded states: the health-check node port per node
// (a stub curl answers 200 for the node given in $SVCLAB_HEALTHY, 503 elsewhere), the
// node-local requests, and the EndpointSlice node hints.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labScripts, missingTools, unmappedExitCodes } from './lab-script-harness.ts';

const missing = missingTools(['sh', 'jq', 'awk', 'grep']);
if (missing.length) console.log(`SKIP lab 15 check scripts: ${missing.join(', ')} not installed on this machine`);

/** -w %{http_code}: 200 when the URL's host is $SVCLAB_HEALTHY; with -D -: X-Served-By $SVCLAB_SERVED_BY. */
const CURL = `#!/bin/sh
url=""; fmt=""; hdr=""
while [ $# -gt 0 ]; do case $1 in -w) fmt=$2; shift;; -D) hdr=1; shift;; http*) url=$1;; esac; shift; done
if [ -n "$hdr" ]; then printf 'HTTP/1.1 200 OK\\r\\nX-Served-By: %s\\r\\n\\r\\n' "$SVCLAB_SERVED_BY"; exit 0; fi
host=\${url#http://}; host=\${host%%:*}
case " $SVCLAB_HEALTHY " in *" $host "*) code=200;; *) code=503;; esac
[ -n "$fmt" ] && printf '%s' "$code"
exit 0
`;

const nodes = {
  items: [
    { metadata: { name: 'svclab-control-plane' }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }] } },
    { metadata: { name: 'svclab-worker' }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.3' }] } },
    { metadata: { name: 'svclab-worker2' }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.4' }] } },
  ],
};
const agents = {
  items: ['svclab-control-plane', 'svclab-worker', 'svclab-worker2'].map((n, i) => ({ metadata: { name: `node-agent-${i}` }, spec: { nodeName: n } })),
};
const agentBase = {
  'get service node-agent -o jsonpath={.spec.clusterIP}': '10.96.77.7',
  'get nodes -l node-role.kubernetes.io/control-plane -o jsonpath={.items[0].metadata.name}': 'svclab-control-plane',
  'get pods -l app=node-agent -o json': agents,
};
const slices = (hints: boolean) => ({
  'get endpointslices -l kubernetes.io/service-name=node-agent -o json': {
    items: [{ endpoints: agents.items.map((a, i) => ({ addresses: [`10.244.${i}.5`], nodeName: a.spec.nodeName, conditions: { ready: true }, ...(hints ? { hints: { forNodes: [{ name: a.spec.nodeName }] } } : {}) })) }],
  },
});

describe.skipIf(missing.length > 0)('lab 15 check scripts', () => {
  const lab = labScripts('15-traffic-policies');
  const run = async (step: string, env: Record<string, string>, checkId?: string) => {
    const bin = path.join(lab.home, '..', 'curl-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, 'curl'), CURL);
    await chmod(path.join(bin, 'curl'), 0o755);
    return lab.check(step, checkId, { ...env, PATH: `${path.join(lab.home, '..', 'bin')}:${bin}:${process.env.PATH}` });
  };

  it('every exit code a script uses is mapped in lab.yaml', () => {
    expect(unmappedExitCodes(lab.lab)).toEqual([]);
  });

  it('health check: the noted nodes must be exactly those answering 200', async () => {
    await lab.state({ 'get service echo -o jsonpath={.spec.healthCheckNodePort}': '31999', 'get nodes -o json': nodes });
    await lab.answer('healthy-nodes', 'svclab-worker\n');
    expect(await run('external-local', { SVCLAB_HEALTHY: '172.18.0.3' })).toMatchObject({ exitCode: 0, out: 'port 31999 answers 200 on svclab-worker only, as you noted' });
    await lab.answer('healthy-nodes', 'svclab-worker2\n');
    expect((await run('external-local', { SVCLAB_HEALTHY: '172.18.0.3' })).exitCode).toBe(9);
    expect((await run('external-local', { SVCLAB_HEALTHY: '' })).exitCode).toBe(8);
    await lab.state({ 'get nodes -o json': nodes });
    expect((await run('external-local', { SVCLAB_HEALTHY: '172.18.0.3' })).exitCode).toBe(7);
  });

  it('internal Local: requests must all reach the control-plane node\'s agent', async () => {
    await lab.state(agentBase);
    expect(await run('internal-local', { SVCLAB_SERVED_BY: 'node-agent-0' })).toMatchObject({ exitCode: 0, out: 'all 8 requests reached node-agent-0, the agent on svclab-control-plane' });
    expect((await run('internal-local', { SVCLAB_SERVED_BY: 'node-agent-2' })).exitCode).toBe(5);
  });

  it('PreferSameNode: node hints on every endpoint, and the requests stay on the node', async () => {
    await lab.state({ ...agentBase, ...slices(false) });
    expect(await run('prefer-same-node', { SVCLAB_SERVED_BY: 'node-agent-0' })).toMatchObject({ exitCode: 6, out: expect.stringContaining('carry no hint for their own node') });
    await lab.state({ ...agentBase, ...slices(true) });
    expect((await run('prefer-same-node', { SVCLAB_SERVED_BY: 'node-agent-0' })).exitCode).toBe(0);
    expect((await run('prefer-same-node', { SVCLAB_SERVED_BY: 'node-agent-1' })).exitCode).toBe(5);
  });
});
