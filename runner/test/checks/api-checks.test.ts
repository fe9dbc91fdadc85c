// resource, selector and endpoints checks on recorded API objects (lab 02's
// Service and pods), in working, broken and unobservable states.
import { describe, expect, it } from 'vitest';
import { endpointsCheckSchema, runEndpointsCheck } from '../../src/checks/kinds/endpoints.ts';
import type { EndpointSlice, Service } from '../../src/checks/kube-api.ts';
import { resourceCheckSchema, runResourceCheck } from '../../src/checks/kinds/resource.ts';
import { runSelectorCheck, selectorCheckSchema } from '../../src/checks/kinds/selector.ts';
import { context, lab02Fixed, parse, pods, relabelled } from './check-fixtures.ts';

const service = (objs: ReturnType<typeof lab02Fixed>) => objs.find((o) => o.kind === 'Service') as Service;
const slice = (objs: ReturnType<typeof lab02Fixed>) => objs.find((o) => o.kind === 'EndpointSlice') as EndpointSlice;

describe('resource check', () => {
  const check = (over: Record<string, unknown> = {}) =>
    parse(resourceCheckSchema, {
      kind: 'resource',
      resource: { apiVersion: 'v1', kind: 'Service', name: 'nginx', namespace: 'default' },
      fields: [
        { path: 'spec.clusterIP', equals: '10.97.97.97' },
        { path: 'spec.ports[name=http].targetPort', oneOf: ['http', 8080] },
        { path: 'metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]', exists: true },
        { path: 'spec.type', matches: '^(ClusterIP|NodePort)$' },
      ],
      ...over,
    });

  it('passes when the object exists and every field matches', async () => {
    const r = await runResourceCheck(check(), context());
    expect(r).toMatchObject({ checkId: 'the-check', kind: 'resource', status: 'pass', message: 'Service nginx exists and its 4 fields match.' });
    expect(r.details?.observed).toContain('spec.clusterIP="10.97.97.97"');
  });

  it('fails naming the field, what it is and what was expected; polls until the deadline', async () => {
    const objs = lab02Fixed();
    service(objs).spec!.type = 'LoadBalancer';
    const ctx = context(objs);
    const r = await runResourceCheck(check(), ctx);
    expect(r.status).toBe('fail');
    expect(r.message).toBe('Service nginx: spec.type is "LoadBalancer"; expected to match /^(ClusterIP|NodePort)$/.');
    expect(ctx.kube.calls).toHaveLength(3); // at 0, 2 and 4 s of a 6 s deadline
  });

  it('a missing field is "not set"; the field message of lab.yaml wins when given', async () => {
    const c = check({ fields: [{ path: 'spec.ports[0].nodePort', equals: 30080 }] });
    expect((await runResourceCheck(c, context())).message).toBe('Service nginx: spec.ports[0].nodePort is not set; expected 30080.');
    const zh = await runResourceCheck(c, context(lab02Fixed(), 'zh'));
    expect(zh.message).toBe('Service nginx：spec.ports[0].nodePort 的值是 未设置，期望 30080。');
    const own = check({ fields: [{ path: 'spec.ports[0].nodePort', equals: 30080, message: { en: 'Make it a NodePort on 30080.', zh: '改成 30080 的 NodePort。' } }] });
    expect((await runResourceCheck(own, context())).message).toBe('Make it a NodePort on 30080.');
  });

  it('a missing object fails with where it was looked for; absent: true passes then', async () => {
    const r = await runResourceCheck(check({ resource: { apiVersion: 'v1', kind: 'Service', name: 'web', namespace: 'shop' } }), context());
    expect(r).toMatchObject({ status: 'fail', message: 'There is no Service web in namespace shop.' });
    const gone = await runResourceCheck(check({ absent: true, fields: [], resource: { apiVersion: 'v1', kind: 'Pod', name: 'old', namespace: 'default' } }), context());
    expect(gone.status).toBe('pass');
    const still = await runResourceCheck(check({ absent: true, fields: [] }), context());
    expect(still).toMatchObject({ status: 'fail', message: 'Service nginx in namespace default still exists.' });
  });

  it('an unreachable API is an error with the reason, never a fail', async () => {
    const ctx = context();
    ctx.kube.unreachable = 'the Kubernetes API at https://127.0.0.1:40001 could not be reached (read Service nginx): ECONNREFUSED';
    const r = await runResourceCheck(check(), ctx);
    expect(r.status).toBe('error');
    expect(r.message).toBe('The check could not run: the Kubernetes API at https://127.0.0.1:40001 could not be reached (read Service nginx): ECONNREFUSED');
    expect(ctx.kube.calls.length).toBeGreaterThan(1); // retried: the API may be restarting
  });

  it('no cluster for the session: error at once', async () => {
    const ctx = context();
    const { kube: _kube, ...noKube } = ctx;
    const r = await runResourceCheck(check(), noKube);
    expect(r).toMatchObject({ status: 'error', message: 'The check could not run: there is no Kubernetes cluster for this session, so the check cannot look at it' });
  });
});

describe('selector check', () => {
  const check = (over: Record<string, unknown> = {}) => parse(selectorCheckSchema, { kind: 'selector', service: 'nginx', minPods: 3, ...over });

  it('passes when enough live pods carry every label', async () => {
    const r = await runSelectorCheck(check(), context());
    expect(r).toMatchObject({ status: 'pass', message: 'Service nginx selects app=nginx,role=logstor: 3 pods (nginx-6c9f8d7b5-*).' });
  });

  it('names the near misses: a misspelt value', async () => {
    const r = await runSelectorCheck(check(), context(relabelled(() => ({ app: 'nginx', role: 'logstore' }))));
    expect(r.status).toBe('fail');
    expect(r.message).toBe('Service nginx selects app=nginx,role=logstor; pods nginx-6c9f8d7b5-* have role=logstore.');
    expect(r.details?.observed).toContain('near misses');
  });

  it('names the near misses: a missing label, a misspelt key, and partial labelling', async () => {
    const missing = await runSelectorCheck(check(), context(relabelled(() => ({ app: 'nginx' }))));
    expect(missing.message).toBe('Service nginx selects app=nginx,role=logstor; pods nginx-6c9f8d7b5-* have no role label.');
    const typo = await runSelectorCheck(check(), context(relabelled(() => ({ app: 'nginx', rol: 'logstor' }))));
    expect(typo.message).toBe('Service nginx selects app=nginx,role=logstor; pods nginx-6c9f8d7b5-* have rol=logstor: the key is rol, not role.');
    const one = await runSelectorCheck(check(), context(relabelled((i): Record<string, string> => (i === 0 ? { app: 'nginx', role: 'logstor' } : { app: 'nginx' }))));
    expect(one.message).toBe(
      'Service nginx selects app=nginx,role=logstor; pods nginx-6c9f8d7b5-* have no role label; only 1 pod (nginx-6c9f8d7b5-x7k2p) carries all of them, 3 needed.',
    );
    const single = await runSelectorCheck(check({ minPods: 1 }), context(relabelled((i) => (i === 1 ? { app: 'nginx' } : { app: 'web' }))));
    expect(single.message).toBe('Service nginx selects app=nginx,role=logstor; pod nginx-6c9f8d7b5-m9q4d has no role label.');
  });

  it('speaks Chinese when asked', async () => {
    const r = await runSelectorCheck(check(), context(relabelled(() => ({ app: 'nginx', role: 'logstore' })), 'zh'));
    expect(r.message).toBe('Service nginx 选择的是 app=nginx,role=logstor；Pod nginx-6c9f8d7b5-* 带的是 role=logstore。');
  });

  it('no pod close at all, and no pods at all', async () => {
    const far = await runSelectorCheck(check(), context(relabelled(() => ({ app: 'web' }))));
    expect(far.message).toBe('Service nginx selects app=nginx,role=logstor; none of the 3 pods in namespace default has these labels, and none misses by only one label.');
    const none = await runSelectorCheck(check(), context(lab02Fixed().filter((o) => o.kind !== 'Pod')));
    expect(none.message).toBe('Service nginx selects app=nginx,role=logstor; there are no pods in namespace default.');
  });

  it('terminating pods do not count', async () => {
    const objs = lab02Fixed();
    pods(objs)[2]!.metadata!.deletionTimestamp = '2026-11-26T01:00:00Z';
    expect((await runSelectorCheck(check(), context(objs))).status).toBe('fail');
  });

  it('a missing Service is a fail saying so', async () => {
    const r = await runSelectorCheck(check(), context(lab02Fixed().filter((o) => o.kind !== 'Service')));
    expect(r).toMatchObject({ status: 'fail', message: 'There is no Service nginx in namespace default.' });
  });

  it('with `selector`, changing the Service instead of the pods fails', async () => {
    const objs = relabelled(() => ({ app: 'nginx', role: 'logstore' }));
    service(objs).spec!.selector = { app: 'nginx', role: 'logstore' };
    const r = await runSelectorCheck(check({ selector: { app: 'nginx', role: 'logstor' } }), context(objs));
    expect(r.message).toBe("Service nginx selects app=nginx,role=logstore, but this lab expects app=nginx,role=logstor. Change the pods' labels, not the Service.");
  });
});

describe('endpoints check', () => {
  const check = (over: Record<string, unknown> = {}) => parse(endpointsCheckSchema, { kind: 'endpoints', service: 'nginx', ready: 3, ...over });

  it('passes with N ready addresses on the port the named targetPort resolves to', async () => {
    const r = await runEndpointsCheck(check(), context());
    expect(r).toMatchObject({ status: 'pass', message: 'Service nginx has 3 ready endpoints on port 8080 (10.244.1.3, 10.244.1.4, 10.244.2.3).' });
  });

  it('a named targetPort no container declares: says which name and which pods', async () => {
    const objs = lab02Fixed();
    for (const p of pods(objs)) p.spec!.containers![0]!.ports = [{ containerPort: 8080, name: 'web', protocol: 'TCP' }];
    slice(objs).endpoints = null;
    const r = await runEndpointsCheck(check(), context(objs));
    expect(r.status).toBe('fail');
    expect(r.message).toBe(
      'Service nginx port 80/TCP (http) targets the container port named "http", but no container in pods nginx-6c9f8d7b5-* declares a port with that name, so they are not endpoints for it.',
    );
  });

  it('endpoints on the wrong container port fail against an explicit targetPort', async () => {
    const r = await runEndpointsCheck(check({ targetPort: 80 }), context());
    expect(r.message).toBe("Service nginx's endpoints are on port 8080; expected 80.");
  });

  it('too few ready: names the pods that are not ready', async () => {
    const objs = lab02Fixed();
    slice(objs).endpoints![2]!.conditions = { ready: false, serving: false, terminating: false };
    const r = await runEndpointsCheck(check(), context(objs));
    expect(r.message).toBe('Service nginx has 2 ready endpoints; expected 3. Not yet: nginx-6c9f8d7b5-b3nzt (a readiness probe failing, or still starting).'.replace('Not yet', 'Not ready yet'));
  });

  it('none at all: the selector matches no pod, and the near miss says why', async () => {
    const r = await runEndpointsCheck(check(), context(relabelled(() => ({ app: 'nginx' }))));
    expect(r.message).toBe('Service nginx has 0 ready endpoints; expected 3. Its selector app=nginx,role=logstor matches no pod: pods nginx-6c9f8d7b5-* have no role label.');
  });

  it('ranges, and 0 expected passes on an empty Service', async () => {
    expect((await runEndpointsCheck(check({ ready: undefined, minReady: 2 }), context())).status).toBe('pass');
    expect((await runEndpointsCheck(check({ ready: undefined, maxReady: 2 }), context())).status).toBe('fail');
    expect((await runEndpointsCheck(check({ ready: 0 }), context(relabelled(() => ({ app: 'nginx' }))))).status).toBe('pass');
  });

  it('addresses listed in two slices count once', async () => {
    const objs = lab02Fixed();
    const copy = JSON.parse(JSON.stringify(slice(objs))) as EndpointSlice;
    copy.metadata!.name = 'nginx-second';
    objs.push(copy);
    const r = await runEndpointsCheck(check(), context(objs));
    expect(r.status).toBe('pass');
  });

  it('a hand-written slice whose port name differs from the Service port: says names must match', async () => {
    const objs = lab02Fixed();
    service(objs).spec!.selector = undefined;
    slice(objs).ports = [{ name: 'web', port: 8080, protocol: 'TCP' }];
    const r = await runEndpointsCheck(check(), context(objs));
    expect(r.message).toBe(
      'Service nginx has 0 ready endpoints; expected 3. EndpointSlice nginx-8vq5w lists port named "web", but the Service port is named "http": ports are matched by name, so its addresses don\'t count.',
    );
  });

  it('missing Service: fail; API down: error', async () => {
    expect((await runEndpointsCheck(check(), context([]))).message).toBe('There is no Service nginx in namespace default.');
    const ctx = context();
    ctx.kube.unreachable = 'the Kubernetes API did not answer within 10 s';
    expect((await runEndpointsCheck(check(), ctx)).status).toBe('error');
  });
});
