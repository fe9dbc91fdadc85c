import { describe, expect, it } from 'vitest';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { loadLab } from '../../src/labs/load-labs.ts';
import { sessionPorts } from '../../src/sessions/lab-cluster.ts';
import type { Session } from '../../src/sessions/session-manager.ts';
import { projectRoot } from '../../src/version.ts';

describe('Reset lab (a session)', () => {
  it("as the learner in the workstation: clears ~/answers, deletes what the lab's commands made (setup.cleanup, setup.cleanupNodeLabels) and its manifests' objects, then applies the setup", async () => {
    const engine = new FakeContainerEngine();
    engine.addImage('svclab/ws:t');
    await engine.runContainer({ name: 'svclab-ws-r', image: 'svclab/ws:t', labels: {}, command: ['sleep', 'infinity'] });
    const calls: { argv: string[]; user?: string; container: string }[] = [];
    engine.execHandler = (c, argv, opts) => { calls.push({ container: c.spec.name, argv: [...argv], ...(opts.user ? { user: opts.user } : {}) }); return { exitCode: 0, stdout: '', stderr: '' }; };
    const r = await loadLab(projectRoot, '11-ingress-and-tls');
    if (r.status !== 'ok') throw new Error('lab 11 does not load');
    const session = { id: 'r', labId: r.lab.id, workstation: 'svclab-ws-r', cluster: { name: 'svclab-x', kubeconfigPath: '' } } as unknown as Session;
    await sessionPorts(engine, () => r.lab).actions.reset(session);
    expect(calls.every((c) => c.user === 'learner' && c.container === 'svclab-ws-r')).toBe(true);
    const verbs = calls.map((c) => c.argv.filter((x) => !x.startsWith('--')).slice(0, 6).join(' '));
    expect(verbs).toEqual(['sh -c rm -rf "$HOME/answers"', 'kubectl delete -f -', 'kubectl delete secret shop-tls -n default', 'kubectl delete endpointslices.discovery.k8s.io edge-1 -n default', 'kubectl label nodes svclab.io/ingress-', 'kubectl apply -f -']);
  });
});
