// gateway-status on Gateway API objects as Traefik's kubernetesgateway provider
// leaves them (conditions, reasons and messages as it writes them): lab 14's
// Gateway `web` and HTTPRoute `store`, working, then broken one link at a time.
import { describe, expect, it } from 'vitest';
import { gatewayStatusCheckSchema, runGatewayStatusCheck } from '../../src/checks/kinds/gateway-status.ts';
import { FakeKubeApi, KubeApiError, type KubeObject } from '../../src/checks/kube-api.ts';
import { context, fixtureText, parse } from './check-fixtures.ts';

/** Recorded from lab 14 after step 4's solution on svclab-validate-gw (kubectl get gatewayclass,gateway,httproute,svc,secret -o json; the key pair redacted). */
function recorded(): KubeObject[] {
  return (JSON.parse(fixtureText('api/lab14-solved.json')) as { items: KubeObject[] }).items;
}
const find = (objs: KubeObject[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata?.name === name) as any;

/** As Traefik writes a Gateway with a broken listener: that listener's error condition alone, the Gateway not Accepted. */
function breakListener(objs: KubeObject[], name: string, condition: Record<string, unknown>): void {
  const gw = find(objs, 'Gateway', 'web');
  gw.status.listeners.find((x: any) => x.name === name).conditions = [{ observedGeneration: 2, lastTransitionTime: '2026-12-02T06:31:00Z', ...condition }];
  gw.status.conditions = [{ type: 'Accepted', status: 'False', reason: 'ListenersNotValid', message: 'All Listeners must be valid', observedGeneration: 2 }];
}

const check = (over: Record<string, unknown> = {}) => parse(gatewayStatusCheckSchema, { kind: 'gateway-status', gateway: 'web', ...over });

describe('gateway-status check', () => {
  it('passes on the solved lab: Gateway, its https listener and HTTPRoute store', async () => {
    const r = await runGatewayStatusCheck(check({ listeners: ['http', 'https'], route: { name: 'store' } }), context(recorded()));
    expect(r).toMatchObject({ status: 'pass', kind: 'gateway-status' });
    expect(r.message).toBe('Gateway web is Accepted and Programmed; listeners http, https Programmed with their references resolved; HTTPRoute store is Accepted by it, with its backends resolved.');
    const zh = await runGatewayStatusCheck(check({ route: { name: 'store' } }), context(recorded(), 'zh'));
    expect(zh.message).toBe('Gateway web 已被接受（Accepted）并已生效（Programmed）；HTTPRoute store 已被它接受，后端都已解析。');
  });

  it('no Gateway yet (step 1 before Apply): fails, saying where it looked', async () => {
    const objs = recorded().filter((o) => o.kind !== 'Gateway');
    const r = await runGatewayStatusCheck(check(), context(objs));
    expect(r).toMatchObject({ status: 'fail', message: 'There is no Gateway web in namespace default.' });
  });

  it('a Gateway of a class that does not exist never gets a status: the check names the class', async () => {
    const objs = recorded();
    find(objs, 'Gateway', 'web').spec.gatewayClassName = 'traefk';
    delete find(objs, 'Gateway', 'web').status;
    const r = await runGatewayStatusCheck(check(), context(objs));
    expect(r.status).toBe('fail');
    expect(r.message).toBe('Gateway web names gatewayClassName traefk, and there is no GatewayClass traefk, so no controller will ever serve it.');
  });

  it('status written for an older generation is "not processed yet", not a verdict', async () => {
    const objs = recorded();
    find(objs, 'Gateway', 'web').metadata.generation = 3;
    const r = await runGatewayStatusCheck(check(), context(objs));
    expect(r.status).toBe('fail');
    expect(r.message).toBe("The controller's status on Gateway web is for an older version of it (generation 2; the object is at 3): your last change is not processed yet.");
  });

  it('https listener with a Secret that does not exist: names the Secret and the command that makes it', async () => {
    const objs = recorded().filter((o) => !(o.kind === 'Secret' && o.metadata?.name === 'store-tls'));
    breakListener(objs, 'https', { type: 'ResolvedRefs', status: 'False', reason: 'InvalidCertificateRef', message: 'Error while retrieving certificate: secret default/store-tls does not exist' });
    const r = await runGatewayStatusCheck(check({ listeners: ['https'] }), context(objs));
    expect(r.status).toBe('fail');
    expect(r.message).toBe('Listener https names Secret store-tls in tls.certificateRefs, and there is no Secret store-tls in namespace default.');
    expect(r.hint).toBe('Make it from your certificate and key: `kubectl -n default create secret tls store-tls --cert=FILE.crt --key=FILE.key`.');
  });

  it('a listener on a port Traefik has no entry point for: says which ports exist', async () => {
    const objs = recorded();
    const gw = find(objs, 'Gateway', 'web');
    gw.spec.listeners.find((x: any) => x.name === 'https').port = 8443;
    breakListener(objs, 'https', { type: 'Accepted', status: 'False', reason: 'PortUnavailable', message: 'Cannot find entryPoint for Gateway: no matching entryPoint for port 8443 and protocol "HTTPS"' });
    const r = await runGatewayStatusCheck(check({ listeners: ['https'] }), context(objs));
    expect(r.message).toBe("Listener https asks for HTTPS on port 8443, and the controller has no entry point there: svclab's Traefik listens on 80 for HTTP and on 443 for HTTPS.");
    // A check that names no listener still says which one keeps the Gateway from being accepted.
    const plain = await runGatewayStatusCheck(check({ route: { name: 'store' } }), context(objs));
    expect(plain.message).toBe(r.message);
  });

  it('no listener of that name (step 4 before the learner adds it)', async () => {
    const objs = recorded();
    const gw = find(objs, 'Gateway', 'web');
    gw.spec.listeners = gw.spec.listeners.filter((x: any) => x.name !== 'https');
    const r = await runGatewayStatusCheck(check({ listeners: ['https'] }), context(objs));
    expect(r).toMatchObject({ status: 'fail', message: 'Gateway web has no listener named https (it has http).' });
  });

  it('HTTPRoute with a backendRef typo: ResolvedRefs False / BackendNotFound names the missing Service', async () => {
    const objs = recorded();
    const route = find(objs, 'HTTPRoute', 'store');
    route.spec.rules[0].backendRefs[0].name = 'store-vl';
    route.status.parents[0].conditions = route.status.parents[0].conditions.map((c: any) => (c.type === 'ResolvedRefs' ? { ...c, status: 'False', reason: 'BackendNotFound', message: 'Cannot load HTTPBackendRef default/store-vl: service not found' } : c));
    const r = await runGatewayStatusCheck(check({ route: { name: 'store' } }), context(objs));
    expect(r.status).toBe('fail');
    expect(r.message).toBe('HTTPRoute store (parent web): its backendRefs name a Service that does not exist in namespace default: store-vl (BackendNotFound). Requests for that rule get an error from the controller.');
    const zh = await runGatewayStatusCheck(check({ route: { name: 'store' } }), context(objs, 'zh'));
    expect(zh.message).toBe('HTTPRoute store (parent web)：backendRefs 引用的 Service 在 default 命名空间里不存在：store-vl（BackendNotFound）。这条规则的请求会收到 Controller 返回的错误。');
  });

  it('HTTPRoute whose hostnames match no listener: NoMatchingListenerHostname, with both sides', async () => {
    const objs = recorded();
    const route = find(objs, 'HTTPRoute', 'store');
    route.spec.hostnames = ['shop.example.com'];
    const gw = find(objs, 'Gateway', 'web');
    gw.spec.listeners.find((x: any) => x.name === 'http').hostname = '*.svclab.test';
    route.status.parents[0].conditions = route.status.parents[0].conditions.map((c: any) => (c.type === 'Accepted' ? { ...c, status: 'False', reason: 'NoMatchingListenerHostname', message: 'No matching listener hostname' } : c));
    const r = await runGatewayStatusCheck(check({ route: { name: 'store' } }), context(objs));
    expect(r.message).toBe('HTTPRoute store (parent web) is not accepted: none of its hostnames (shop.example.com) matches a hostname of the Gateway\'s listeners (*.svclab.test, store.svclab.test) (NoMatchingListenerHostname).');
  });

  it('HTTPRoute attached to another Gateway: says which it names', async () => {
    const objs = recorded();
    find(objs, 'HTTPRoute', 'store').spec.parentRefs = [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'website' }];
    const r = await runGatewayStatusCheck(check({ route: { name: 'store' } }), context(objs));
    expect(r.message).toBe('HTTPRoute store does not name Gateway web in spec.parentRefs (it names Gateway website), so it is not attached to it.');
  });

  it('no Gateway API in the cluster: an error (the check could not look), with how to install it', async () => {
    const ctx = context(recorded());
    const kube = new (class extends FakeKubeApi {
      override async getObject(): Promise<KubeObject | undefined> {
        throw new KubeApiError('the cluster does not know the kind Gateway (gateway.networking.k8s.io/v1); is the add-on that defines it installed?', 404);
      }
    })();
    const r = await runGatewayStatusCheck(check(), { ...ctx, kube });
    expect(r.status).toBe('error');
    expect(r.message).toBe('The check could not run: this cluster has no Gateway API: its CRDs (gateway.networking.k8s.io) are not installed');
    expect(r.hint).toMatch(/svclab images build gateway-api/);
  });
});
