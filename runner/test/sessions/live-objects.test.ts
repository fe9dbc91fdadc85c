import { describe, expect, it } from 'vitest';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { parseManifests } from '../../src/http/yaml-input.ts';
import { liveYaml, sessionPorts } from '../../src/sessions/lab-cluster.ts';
import type { Lab } from '../../src/labs/load-labs.ts';

/** Diff reads only the editor's text: a lab with no files at all is enough. */
const NO_FILES: Lab = { id: '02-x', title: { en: '-', zh: '-' }, summary: { en: '-', zh: '-' }, setup: { manifests: [], cleanup: [] }, steps: [], dir: '/nonexistent', file: '-' };
const liveObjects = (engine: FakeContainerEngine, s: Session, yaml: string, manifests: ReturnType<typeof parseManifests>) =>
  sessionPorts(engine, () => NO_FILES).apply.live(s, yaml, manifests);
import type { Session } from '../../src/sessions/session-manager.ts';

const YAML = `apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  selector: { app: nginx }
  ports: [{ port: 80 }]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  namespace: web
`;

const liveService = {
  apiVersion: 'v1', kind: 'Service',
  metadata: {
    name: 'nginx', namespace: 'default', uid: 'u-1', resourceVersion: '42', creationTimestamp: '2026-11-26T00:00:00Z',
    managedFields: [{ manager: 'kubectl' }], annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
  },
  spec: { selector: { app: 'nginx' }, clusterIP: '10.97.97.97', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] },
  status: { loadBalancer: {} },
};

async function sessionWith(engine: FakeContainerEngine, cluster = true): Promise<Session> {
  engine.images.set('svclab/ws:latest', { ref: 'svclab/ws:latest', id: 'sha256:ws', labels: {} });
  await engine.runContainer({ name: 'svclab-ws-a', image: 'svclab/ws:latest', labels: {}, command: ['sleep', 'infinity'] });
  return {
    id: 'a', labId: '02', createdAt: '', workstation: 'svclab-ws-a', state: 'ready', terminals: new Map(), progress: new Map(),
    ...(cluster ? { cluster: { name: 'svclab-x', kubeconfigPath: '' } } : {}),
  } as Session;
}

describe('live objects for the editor diff', () => {
  it('strips status and server-filled metadata, keeping what the learner can compare', () => {
    const y = liveYaml(liveService);
    expect(y).toContain('clusterIP: 10.97.97.97');
    expect(y).not.toMatch(/managedFields|resourceVersion|uid:|creationTimestamp|last-applied|status:|annotations/);
  });

  it('pairs each document with its live object, null when it is not created yet', async () => {
    const engine = new FakeContainerEngine();
    let seen: { argv: readonly string[]; input?: string } | undefined;
    engine.execHandler = (_c, argv, opts) => {
      seen = { argv, ...(opts.input === undefined ? {} : { input: opts.input }) };
      return { exitCode: 0, stdout: JSON.stringify({ kind: 'List', items: [liveService] }), stderr: '' };
    };
    const s = await sessionWith(engine);
    const objects = await liveObjects(engine, s, YAML, parseManifests(YAML));
    expect(seen?.argv).toEqual(expect.arrayContaining(['kubectl', 'get', '--ignore-not-found', '-f', '-']));
    expect(seen?.input).toBe(YAML);
    expect(objects.map((o) => [o.kind, o.name, o.line, o.live === null])).toEqual([['Service', 'nginx', 1, false], ['Deployment', 'nginx', 9, true]]);
    expect(objects[0]!.live).toContain('app: nginx');
  });

  it('turns an unknown resource type into a clear error at the document line', async () => {
    const engine = new FakeContainerEngine();
    engine.execHandler = () => ({ exitCode: 1, stdout: '', stderr: 'error: resource mapping not found for name: "web" namespace: "" from "STDIN": no matches for kind "Ingres" in version "networking.k8s.io/v1"' });
    const s = await sessionWith(engine);
    const y = 'apiVersion: networking.k8s.io/v1\nkind: Ingres\nmetadata:\n  name: web\n';
    await expect(liveObjects(engine, s, y, parseManifests(y))).rejects.toMatchObject({ code: 'APPLY_REJECTED', details: { line: 1 } });
  });

  it('needs a cluster', async () => {
    const engine = new FakeContainerEngine();
    const s = await sessionWith(engine, false);
    await expect(liveObjects(engine, s, YAML, parseManifests(YAML))).rejects.toMatchObject({ code: 'NO_CLUSTER' });
  });
});
