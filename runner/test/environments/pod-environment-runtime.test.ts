import { describe, expect, it } from 'vitest';
import { FakeKubeObjects } from '../../src/kube-store/fake-kube-objects.ts';
import { EnvironmentTemplateError, parsePodTemplate, PodEnvironmentRuntime } from '../../src/environments/pod-environment-runtime.ts';
import type { KubeObject } from '../../src/kube-store/kube-objects.ts';

// As the chart renders it (templates/config.yaml, environment-pod.yaml).
const TEMPLATE = `apiVersion: v1
kind: Pod
metadata:
  labels:
    app.kubernetes.io/name: svclab
    app.kubernetes.io/component: environment
    svclab.dev/workshop: ws
spec:
  automountServiceAccountToken: false
  restartPolicy: Never
  containers:
    - name: node
      image: svclab/node:0a3b729ebe14195e
      securityContext:
        privileged: true
      volumeMounts:
        - { name: run, mountPath: /run }
  volumes:
    - { name: run, emptyDir: { medium: Memory } }
`;

const T0 = Date.parse('2026-12-02T05:00:00Z');

function runtime(objects = new FakeKubeObjects(), now = () => T0) {
  return { objects, rt: new PodEnvironmentRuntime({ objects, workshop: 'ws', template: parsePodTemplate(TEMPLATE, 'environment-pod.yaml'), readyTimeoutMs: 600_000, now }) };
}

const pod = (status: Record<string, unknown>, o: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ws-e-1', creationTimestamp: new Date(T0 - 30_000).toISOString(), ...o }, spec: { nodeName: 'svclab-k8s-worker' }, status,
});

describe('PodEnvironmentRuntime (nested-kind pod)', () => {
  it("makes the chart's pod, named after its Environment, labelled for the workshop and owned by the Environment", async () => {
    const { objects, rt } = runtime();
    await rt.start({ name: 'ws-e-1', uid: 'uid-env-1' });
    const p = (await objects.get('pods', 'ws-e-1'))!;
    expect(p.metadata.labels).toMatchObject({ 'svclab.dev/workshop': 'ws', 'svclab.dev/environment': 'ws-e-1', 'app.kubernetes.io/component': 'environment' });
    expect(p.metadata.ownerReferences).toEqual([{ apiVersion: 'svclab.dev/v1alpha1', kind: 'Environment', name: 'ws-e-1', uid: 'uid-env-1', controller: true, blockOwnerDeletion: true }]);
    expect(p.spec).toMatchObject({ restartPolicy: 'Never', containers: [{ image: 'svclab/node:0a3b729ebe14195e', securityContext: { privileged: true } }] });
    expect((await rt.inspectAll()).get('ws-e-1')).toEqual({ state: 'starting', pod: 'ws-e-1' });
    await objects.setPodStatus('ws-e-1', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] });
    expect((await rt.inspectAll()).get('ws-e-1')?.state).toBe('ready');
    expect(await rt.stop('ws-e-1')).toBe(true);
    expect((await rt.inspectAll()).size).toBe(0);
  });

  it("another workshop's pods are not this runtime's", async () => {
    const objects = new FakeKubeObjects();
    const mine = runtime(objects).rt;
    const other = new PodEnvironmentRuntime({ objects, workshop: 'other', template: parsePodTemplate(TEMPLATE, 't') });
    await other.start({ name: 'other-e-1', uid: 'u' });
    expect((await mine.inspectAll()).size).toBe(0);
  });

  it('reads a pod: ready, waiting, unschedulable, hopeless, stopped, too slow', () => {
    const { rt } = runtime();
    expect(rt.infoOf(pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }))).toEqual({ state: 'ready', pod: 'ws-e-1', node: 'svclab-k8s-worker' });
    expect(rt.infoOf(pod({ phase: 'Pending', containerStatuses: [{ name: 'node', state: { waiting: { reason: 'ContainerCreating' } } }] })))
      .toMatchObject({ state: 'starting', message: 'waiting: ContainerCreating' });
    expect(rt.infoOf({ ...pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.' }] }), spec: {} }))
      .toEqual({ state: 'starting', pod: 'ws-e-1', message: 'not scheduled: 0/3 nodes are available: 3 Insufficient memory.' });
    expect(rt.infoOf(pod({ phase: 'Pending', containerStatuses: [{ name: 'node', state: { waiting: { reason: 'ErrImageNeverPull', message: 'Container image "svclab/node:x" is not present with pull policy of Never' } } }] })))
      .toMatchObject({ state: 'failed', message: 'pod ws-e-1 cannot start: ErrImageNeverPull: Container image "svclab/node:x" is not present with pull policy of Never' });
    expect(rt.infoOf(pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' })))
      .toMatchObject({ state: 'failed', message: 'pod ws-e-1 stopped (Failed: Evicted, The node was low on resource: memory.)' });
    expect(rt.infoOf(pod({ phase: 'Failed', containerStatuses: [{ name: 'node', state: { terminated: { reason: 'Error', exitCode: 137 } } }] })))
      .toMatchObject({ state: 'failed', message: 'pod ws-e-1 stopped (Failed: Error, exit code 137)' });
    expect(rt.infoOf(pod({ phase: 'Running' }, { creationTimestamp: new Date(T0 - 601_000).toISOString() })))
      .toMatchObject({ state: 'failed', message: 'pod ws-e-1 not Ready 600 s after it was made' });
    expect(rt.infoOf(pod({ phase: 'Running' }, { deletionTimestamp: new Date(T0).toISOString() }))).toMatchObject({ state: 'failed' });
  });

  it('deleting the Environment deletes its pod (owner reference)', async () => {
    const { objects, rt } = runtime();
    const env = await objects.create('environments', { apiVersion: 'svclab.dev/v1alpha1', kind: 'Environment', metadata: { name: 'ws-e-2' }, spec: { workshop: 'ws' } });
    await rt.start({ name: 'ws-e-2', uid: env.metadata.uid! });
    expect((await rt.inspectAll()).has('ws-e-2')).toBe(true);
    await objects.delete('environments', 'ws-e-2');
    expect((await rt.inspectAll()).has('ws-e-2')).toBe(false);
  });

  it('refuses a template that is not a Pod, saying where it came from', () => {
    expect(() => parsePodTemplate('kind: Deployment\napiVersion: apps/v1\n', '/etc/svclab/environment-pod.yaml')).toThrow(/environment-pod.yaml is not a Pod with at least one container/);
    expect(() => parsePodTemplate('a: [', 'x.yaml')).toThrow(EnvironmentTemplateError);
  });
});
