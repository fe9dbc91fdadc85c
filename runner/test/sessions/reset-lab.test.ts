import { describe, expect, it } from 'vitest';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { loadLab } from '../../src/labs/load-labs.ts';
import { resetLab } from '../../src/sessions/lab-cluster.ts';
import type { Session } from '../../src/sessions/session-manager.ts';
import { projectRoot } from '../../src/version.ts';

describe('Reset lab', () => {
  it("deletes what the lab's commands made (setup.cleanup), its manifests' objects, then applies the setup", async () => {
    const engine = new FakeContainerEngine();
    engine.addImage('svclab/ws:t');
    await engine.runContainer({ name: 'svclab-ws-r', image: 'svclab/ws:t', labels: {}, command: ['sleep', 'infinity'] });
    const calls: string[][] = [];
    engine.execHandler = (_c, argv) => { calls.push([...argv]); return { exitCode: 0, stdout: '', stderr: '' }; };
    const r = await loadLab(projectRoot, '11-ingress-and-tls');
    if (r.status !== 'ok') throw new Error('lab 11 does not load');
    const session = { id: 'r', labId: r.lab.id, workstation: 'svclab-ws-r', cluster: { name: 'svclab-x', kubeconfigPath: '' } } as unknown as Session;
    await resetLab(engine, session, r.lab);
    const verbs = calls.map((a) => a.slice(2).filter((x) => !x.startsWith('--')).slice(0, 5).join(' '));
    expect(verbs).toEqual(['delete -f -', 'delete -n default secret shop-tls', 'apply -f -']);
  });
});
