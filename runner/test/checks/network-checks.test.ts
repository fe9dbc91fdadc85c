// http, dns and tls checks: argv built for the vantage point, recorded tool
// output parsed, and each failure said as its cause.
import { describe, expect, it } from 'vitest';
import { dnsCheckSchema, runDnsCheck } from '../../src/checks/kinds/dns.ts';
import { httpCheckSchema, parseCurlOutput, runHttpCheck } from '../../src/checks/kinds/http.ts';
import type { EndpointSlice, Ingress, KubeObject, Secret, Service } from '../../src/checks/kube-api.ts';
import { runTlsCheck, tlsCheckSchema } from '../../src/checks/kinds/tls.ts';
import { context, fixtureText, lab02Fixed, parse, pods } from './check-fixtures.ts';

/** What `curl -sS -D - -w '\n@@svclab-http %{http_code}\n' URL…` prints for these answers. */
function curlOut(answers: { status: number; servedBy?: string; body?: string }[]): string {
  return answers
    .map((a) =>
      a.status === 0
        ? `\n@@svclab-http 000\n`
        : `HTTP/1.1 ${a.status} ${a.status === 200 ? 'OK' : 'Service Unavailable'}\r\nContent-Type: text/html\r\n${a.servedBy ? `X-Served-By: ${a.servedBy}\r\n` : ''}Date: Thu, 26 Nov 2026 01:20:00 GMT\r\nConnection: close\r\n\r\n${a.body ?? '<h1>Welcome to nginx!</h1>\n'}\n@@svclab-http ${a.status}\n`,
    )
    .join('');
}

/** Lab 02's objects plus Service web: NodePort 30080 → 8080, `readyWeb` ready endpoints. */
function withWeb(readyWeb: number): KubeObject[] {
  const web: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'NodePort', clusterIP: '10.96.44.80', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] },
  };
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abcde', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: Array.from({ length: readyWeb }, (_, i) => ({ addresses: [`10.244.2.${10 + i}`], conditions: { ready: true }, targetRef: { kind: 'Pod', name: `web-5f7-${i}` } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
  return [...lab02Fixed(), web, slice];
}

describe('http check', () => {
  const check = (over: Record<string, unknown> = {}) =>
    parse(httpCheckSchema, { kind: 'http', target: { service: 'nginx' }, expect: { status: 200, body: 'Welcome to nginx!' }, ...over });

  it('passes: curl from the workstation to the ClusterIP the API gives', async () => {
    const ctx = context();
    ctx.vantage.on('workstation', 'curl', { stdout: curlOut([{ status: 200 }]) });
    const r = await runHttpCheck(check(), ctx);
    expect(r).toMatchObject({ status: 'pass', message: 'http://10.97.97.97/ answered HTTP 200.' });
    const argv = ctx.vantage.calls[0]!.argv;
    expect(argv[0]).toBe('curl');
    expect(argv.at(-1)).toBe('http://10.97.97.97/');
    expect(argv).toContain('--max-time');
  });

  it('connection refused, timeout and an unknown name are fails saying what happened', async () => {
    const ctx = context();
    ctx.vantage.on('workstation', 'curl', { exitCode: 7, stdout: curlOut([{ status: 0 }]), stderr: "curl: (7) Failed to connect to 10.97.97.97 port 80 after 2 ms: Couldn't connect to server\n" });
    const r = await runHttpCheck(check(), ctx);
    expect(r).toMatchObject({ status: 'fail', message: 'The connection to http://10.97.97.97/ was refused.' });
    expect(r.hint).toContain('no ready endpoints');
    ctx.vantage.on('workstation', 'curl', { exitCode: 28, stdout: curlOut([{ status: 0 }]), stderr: 'curl: (28) Connection timed out after 3001 milliseconds\n' });
    expect((await runHttpCheck(check(), ctx)).message).toBe('Nothing answered at http://10.97.97.97/ in time.');
    ctx.vantage.on('workstation', 'curl', { exitCode: 6, stdout: curlOut([{ status: 0 }]), stderr: 'curl: (6) Could not resolve host: nginx.default.svc.cluster.local\n' });
    expect((await runHttpCheck(check({ target: { service: 'nginx', via: 'name' } }), ctx)).message).toBe('The name in http://nginx.default.svc.cluster.local/ does not resolve from there.');
  });

  it('a wrong status or body fails with what came back', async () => {
    const ctx = context();
    ctx.vantage.on('workstation', 'curl', { stdout: curlOut([{ status: 503, body: 'upstream down' }]) });
    expect((await runHttpCheck(check(), ctx)).message).toBe('http://10.97.97.97/ answered HTTP 503; expected 200.');
    ctx.vantage.on('workstation', 'curl', { stdout: curlOut([{ status: 200, body: 'It works!\n' }]) });
    expect((await runHttpCheck(check(), ctx)).message).toBe('http://10.97.97.97/ answered, but the page does not match /Welcome to nginx!/; it starts with "It works!".');
  });

  it('curl missing at the vantage point, or the vantage point gone, is an error', async () => {
    const ctx = context();
    const r = await runHttpCheck(check(), ctx); // no rule: the fake exits 127
    expect(r.status).toBe('error');
    expect(r.message).toMatch(/^The check could not run: curl is not installed at workstation/);
    ctx.vantage.unavailable.add('node:worker');
    expect((await runHttpCheck(check({ from: 'node:worker' }), ctx)).status).toBe('error');
  });

  it('a virtual host: Host header over http, SNI through --resolve over https', async () => {
    const ctx = context();
    ctx.vantage.on('workstation', 'curl', { stdout: curlOut([{ status: 200 }]) });
    await runHttpCheck(check({ target: undefined, url: 'http://172.18.0.3:30080/', host: 'shop.example.com' }), ctx);
    expect(ctx.vantage.calls[0]!.argv).toEqual(expect.arrayContaining(['-H', 'Host: shop.example.com', 'http://172.18.0.3:30080/']));
    await runHttpCheck(check({ target: undefined, url: 'https://172.18.0.3:30443/', host: 'shop.example.com' }), ctx);
    const argv = ctx.vantage.calls[1]!.argv;
    expect(argv).toEqual(expect.arrayContaining(['--resolve', 'shop.example.com:30443:172.18.0.3', '-k', 'https://shop.example.com:30443/']));
    expect(argv).not.toContain('Host: shop.example.com');
  });

  it('NodePort targets resolve to a node address; a ClusterIP Service has none', async () => {
    const ctx = context(withWeb(3));
    ctx.vantage.on('host', 'curl', { stdout: curlOut([{ status: 200 }]) });
    const r = await runHttpCheck(check({ from: 'host', target: { service: 'web', via: 'nodePort' } }), ctx);
    expect(r.status).toBe('pass');
    expect(ctx.vantage.calls[0]!.argv.at(-1)).toBe('http://172.18.0.2:30080/');
    const no = await runHttpCheck(check({ target: { service: 'nginx', via: 'nodePort' } }), ctx);
    expect(no).toMatchObject({ status: 'fail', message: 'Service nginx is of type ClusterIP, so it has no nodePort.' });
  });

  it('from the host, 127.0.0.1:30080 is the port the cluster publishes for 30080', async () => {
    const ctx = context();
    ctx.vantage.hostPorts.set(30080, 41234);
    ctx.vantage.on('host', 'curl', { stdout: curlOut([{ status: 200 }]) });
    const r = await runHttpCheck(check({ from: 'host', target: undefined, url: 'http://127.0.0.1:30080/' }), ctx);
    expect(r.status).toBe('pass');
    expect(ctx.vantage.calls[0]!.argv.at(-1)).toBe('http://127.0.0.1:41234/');
    ctx.vantage.hostPorts.delete(30080);
    const none = await runHttpCheck(check({ from: 'host', target: undefined, url: 'http://127.0.0.1:30080/' }), ctx);
    expect(none).toMatchObject({ status: 'error', message: expect.stringContaining('the cluster publishes no host port for 30080') });
  });

  it('from the host, only svclab addresses are reached', async () => {
    const ctx = context();
    const r = await runHttpCheck(check({ from: 'host', target: undefined, url: 'http://93.184.216.34/' }), ctx);
    expect(r.status).toBe('error');
    expect(r.message).toContain("checks from the host only reach svclab's own addresses");
    expect(ctx.vantage.calls).toHaveLength(0);
  });

  describe('distinctBackends', () => {
    const spread = (over: Record<string, unknown> = {}) =>
      check({ target: { service: 'web' }, expect: { status: 200 }, distinctBackends: { requests: 10, min: 2 }, ...over });

    it('counts X-Served-By over N requests on fresh connections', async () => {
      const ctx = context(withWeb(3));
      const names = ['web-5f7-0', 'web-5f7-1', 'web-5f7-2'];
      ctx.vantage.on('workstation', 'curl', { stdout: curlOut(Array.from({ length: 10 }, (_, i) => ({ status: 200, servedBy: names[i % 3]! }))) });
      const r = await runHttpCheck(spread(), ctx);
      expect(r).toMatchObject({ status: 'pass', message: '10 requests reached 3 backends (web-5f7-0, web-5f7-1, web-5f7-2).' });
      const argv = ctx.vantage.calls[0]!.argv;
      expect(argv.filter((a) => a === 'http://10.96.44.80/')).toHaveLength(10);
      expect(argv).toEqual(expect.arrayContaining(['-H', 'Connection: close']));
    });

    it('fails when every request lands on one backend (spreading expected) or on several (stickiness expected)', async () => {
      const ctx = context(withWeb(3));
      ctx.vantage.on('workstation', 'curl', { stdout: curlOut(Array.from({ length: 10 }, () => ({ status: 200, servedBy: 'web-5f7-1' }))) });
      expect((await runHttpCheck(spread(), ctx)).message).toBe('10 requests reached 1 backend (web-5f7-1); expected at least 2.');
      expect((await runHttpCheck(spread({ distinctBackends: { requests: 10, max: 1 } }), ctx)).status).toBe('pass');
      ctx.vantage.on('workstation', 'curl', { stdout: curlOut(Array.from({ length: 10 }, (_, i) => ({ status: 200, servedBy: `web-5f7-${i % 2}` }))) });
      const sticky = await runHttpCheck(spread({ distinctBackends: { requests: 10, max: 1 } }), ctx);
      expect(sticky.message).toBe('10 requests reached 2 backends (web-5f7-0, web-5f7-1); expected at most 1.');
      expect(sticky.hint).toContain('sessionAffinity: ClientIP');
    });

    it('refuses to pass vacuously with fewer than 2 ready endpoints, and sends nothing', async () => {
      for (const max of [undefined, 1]) {
        const ctx = context(withWeb(1));
        ctx.vantage.on('workstation', 'curl', { stdout: curlOut(Array.from({ length: 10 }, () => ({ status: 200, servedBy: 'web-5f7-0' }))) });
        const r = await runHttpCheck(spread({ distinctBackends: max ? { requests: 10, max } : { requests: 10, min: 2 } }), ctx);
        expect(r.status).toBe('fail');
        expect(r.message).toBe('Service web has 1 ready endpoint; with fewer than 2 backends, how requests spread says nothing.');
        expect(ctx.vantage.calls).toHaveLength(0);
      }
    });

    it('answers without X-Served-By cannot be told apart: fail', async () => {
      const ctx = context(withWeb(3));
      ctx.vantage.on('workstation', 'curl', { stdout: curlOut(Array.from({ length: 10 }, () => ({ status: 200 }))) });
      expect((await runHttpCheck(spread(), ctx)).message).toBe('http://10.96.44.80/ answers without an X-Served-By header, so the check cannot tell the backends apart.');
    });
  });

  it('parses several answers, 1xx blocks and a failed transfer', () => {
    const out = `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Served-By: a\r\n\r\nbody-a\n@@svclab-http 200\n\n@@svclab-http 000\nHTTP/1.1 404 Not Found\r\nX-Served-By: b\r\n\r\n\n@@svclab-http 404\n`;
    expect(parseCurlOutput(out)).toEqual([
      { status: 200, headers: { 'x-served-by': 'a' }, body: 'body-a' },
      { status: 0, headers: {}, body: '' },
      { status: 404, headers: { 'x-served-by': 'b' }, body: '' },
    ]);
  });
});

describe('dns check', () => {
  const headless = (): KubeObject[] => {
    const objs = lab02Fixed();
    objs.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'nginx-hl', namespace: 'default' }, spec: { clusterIP: 'None', selector: { app: 'nginx', role: 'logstor' }, ports: [{ name: 'http', port: 80 }] } });
    return objs;
  };
  const check = (over: Record<string, unknown> = {}) =>
    parse(dnsCheckSchema, { kind: 'dns', from: 'pod:default/client', name: 'nginx-hl.default.svc.cluster.local', expect: { podIPs: { service: 'nginx-hl' } }, ...over });

  it('headless: the A set equals the ready pod IPs, in any order', async () => {
    const ctx = context(headless());
    ctx.vantage.on('pod:default/client', 'dig', { stdout: '10.244.2.3\n10.244.1.3\n10.244.1.4\n' });
    const r = await runDnsCheck(check(), ctx);
    expect(r).toMatchObject({ status: 'pass', message: 'nginx-hl.default.svc.cluster.local resolves to 10.244.1.3, 10.244.1.4, 10.244.2.3.' });
    expect(ctx.vantage.calls[0]!.argv).toEqual(['dig', '+short', '+time=5', '+tries=1', '+nosearch', 'nginx-hl.default.svc.cluster.local', 'A']);
  });

  it('headless: a missing or extra address fails listing both sets', async () => {
    const ctx = context(headless());
    ctx.vantage.on('pod:default/client', 'dig', { stdout: '10.244.1.3\n10.244.1.4\n' });
    expect((await runDnsCheck(check(), ctx)).message).toBe('nginx-hl.default.svc.cluster.local resolves to 10.244.1.3, 10.244.1.4; expected 10.244.1.3, 10.244.1.4, 10.244.2.3.');
    // A pod that is not ready is not in the expected set.
    const objs = headless();
    pods(objs)[2]!.status!.conditions = [{ type: 'Ready', status: 'False' }];
    const ctx2 = context(objs);
    ctx2.vantage.on('pod:default/client', 'dig', { stdout: '10.244.1.3\n10.244.1.4\n' });
    expect((await runDnsCheck(check(), ctx2)).status).toBe('pass');
  });

  it('a Service with a ClusterIP answers with that one address: the message says so', async () => {
    const ctx = context();
    ctx.vantage.on('pod:default/client', 'dig', { stdout: '10.97.97.97\n' });
    const r = await runDnsCheck(check({ name: 'nginx.default.svc.cluster.local', expect: { podIPs: { service: 'nginx' } } }), ctx);
    expect(r.message).toBe(
      "nginx.default.svc.cluster.local resolves to 10.97.97.97; expected 10.244.1.3, 10.244.1.4, 10.244.2.3. That is the Service's ClusterIP: a Service with a ClusterIP gets one A record.",
    );
    expect(r.hint).toContain('clusterIP: None');
  });

  it('no ready pods: refuses to compare with an empty set', async () => {
    const objs = headless().filter((o) => o.kind !== 'Pod');
    const ctx = context(objs);
    ctx.vantage.on('pod:default/client', 'dig', { stdout: '' });
    const r = await runDnsCheck(check(), ctx);
    expect(r).toMatchObject({ status: 'fail', message: 'No ready pod matches Service nginx-hl, so there are no pod IPs to compare with.' });
  });

  it('serviceIP with search-domain expansion from a pod', async () => {
    const ctx = context();
    ctx.vantage.on('pod:default/client', 'dig', { stdout: '10.97.97.97\n' });
    const r = await runDnsCheck(check({ name: 'nginx', search: true, expect: { serviceIP: { service: 'nginx' } } }), ctx);
    expect(r.status).toBe('pass');
    expect(ctx.vantage.calls[0]!.argv).toContain('+search');
  });

  it('CNAME for an ExternalName Service; SRV for a named port', async () => {
    const ctx = context();
    ctx.vantage.on('workstation', 'dig', ({ argv }) => ({ stdout: argv.at(-1) === 'CNAME' ? 'api.example.com.\n' : '0 100 80 nginx.default.svc.cluster.local.\n' }));
    const cname = check({ from: 'workstation', server: '10.96.0.10', name: 'ext.default.svc.cluster.local', type: 'CNAME', expect: { cname: 'api.example.com' } });
    expect(await runDnsCheck(cname, ctx)).toMatchObject({ status: 'pass', message: 'ext.default.svc.cluster.local is an alias (CNAME) of api.example.com.' });
    expect(ctx.vantage.calls[0]!.argv).toContain('@10.96.0.10');
    const wrong = check({ from: 'workstation', name: 'ext.default.svc.cluster.local', type: 'CNAME', expect: { cname: 'web.example.org' } });
    expect((await runDnsCheck(wrong, ctx)).message).toBe('ext.default.svc.cluster.local is an alias of api.example.com; expected an alias of the external name.');
    const srv = check({ from: 'workstation', name: '_http._tcp.nginx.default.svc.cluster.local', type: 'SRV', expect: { srv: { port: 80, count: 1 } } });
    expect((await runDnsCheck(srv, ctx)).status).toBe('pass');
    const srv2 = check({ from: 'workstation', name: '_http._tcp.nginx.default.svc.cluster.local', type: 'SRV', expect: { srv: { port: 8080 } } });
    expect((await runDnsCheck(srv2, ctx)).message).toBe('_http._tcp.nginx.default.svc.cluster.local has no SRV record for port 8080 (it has 80 nginx.default.svc.cluster.local).');
  });

  it('no DNS server answering is a fail; dig missing is an error', async () => {
    const ctx = context(headless());
    ctx.vantage.on('pod:default/client', 'dig', { exitCode: 9, stdout: ';; connection timed out; no servers could be reached\n' });
    expect((await runDnsCheck(check(), ctx)).message).toBe('No DNS server answered pod:default/client.');
    const ctx2 = context(headless());
    expect((await runDnsCheck(check(), ctx2)).message).toMatch(/^The check could not run: dig is not installed at pod:default\/client/);
  });
});

describe('tls check', () => {
  const cert = (subject: string, issuer: string, dns: string[]) =>
    `subject=${subject}\nissuer=${issuer}\nX509v3 Subject Alternative Name: \n    ${dns.map((d) => `DNS:${d}`).join(', ')}\n`;
  const check = (over: Record<string, unknown> = {}) =>
    parse(tlsCheckSchema, { kind: 'tls', connect: '172.18.0.3:443', servername: 'shop.example.com', expect: { san: ['shop.example.com'], selfSigned: true }, ...over });

  it('passes on the expected certificate; openssl gets the values as arguments, not script text', async () => {
    const ctx = context();
    ctx.vantage.on('workstation', 'openssl', { stdout: cert('CN=shop.example.com', 'CN=shop.example.com', ['shop.example.com', 'www.shop.example.com']) });
    const r = await runTlsCheck(check(), ctx);
    expect(r).toMatchObject({ status: 'pass', message: 'For shop.example.com the server sends the certificate "CN=shop.example.com" for shop.example.com, www.shop.example.com, issued by "CN=shop.example.com".' });
    expect(ctx.vantage.calls[0]!.argv.slice(-3)).toEqual(['172.18.0.3:443', 'shop.example.com', expect.stringMatching(/^\d+$/)]);
    expect(ctx.vantage.calls[0]!.argv[2]).not.toContain('shop.example.com');
  });

  it("ingress-nginx's fake certificate: no Ingress has a tls entry for the host", async () => {
    const ctx = context();
    ctx.vantage.on('workstation', 'openssl', { stdout: cert('O = Acme Co, CN = Kubernetes Ingress Controller Fake Certificate', 'O = Acme Co, CN = Kubernetes Ingress Controller Fake Certificate', ['ingress.local']) });
    const r = await runTlsCheck(check(), ctx);
    expect(r.message).toBe('The server sent the ingress controller\'s default certificate ("Kubernetes Ingress Controller Fake Certificate") for shop.example.com: no Ingress lists shop.example.com under spec.tls, so the ingress controller has no certificate for shop.example.com and falls back to its self-signed default.');
  });

  it('wrong SAN, wrong issuer, self-signed when a CA was expected', async () => {
    const ctx = context();
    ctx.vantage.on('workstation', 'openssl', { stdout: cert('CN = blog.example.com', 'CN = blog.example.com', ['blog.example.com']) });
    expect((await runTlsCheck(check(), ctx)).message).toBe('The certificate served for shop.example.com does not cover shop.example.com (its DNS names: blog.example.com).');
    ctx.vantage.on('workstation', 'openssl', { stdout: cert('CN = shop.example.com', 'CN = svclab lab CA', ['shop.example.com']) });
    expect((await runTlsCheck(check(), ctx)).message).toBe('The certificate served for shop.example.com is issued by another party; expected a self-signed one.');
    expect((await runTlsCheck(check({ expect: { issuer: '^CN ?= ?svclab lab CA$', selfSigned: false } }), ctx)).status).toBe('pass');
  });

  it('no certificate (handshake failed) is a fail; openssl missing is an error', async () => {
    const ctx = context();
    ctx.vantage.on('workstation', 'openssl', { exitCode: 3, stderr: 'CONNECTED(00000003)\n40F7B2A1:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure\nconnect:errno=111\n' });
    const r = await runTlsCheck(check(), ctx);
    expect(r.status).toBe('fail');
    expect(r.message).toBe('No certificate came back from 172.18.0.3:443 for shop.example.com: connect:errno=111');
    expect((await runTlsCheck(check(), context())).status).toBe('error');
  });
});

describe("tls check: why Traefik sends its default certificate (recorded Ingress and Secrets)", () => {
  const traefikDefault = 'subject=CN = TRAEFIK DEFAULT CERT\nissuer=CN = TRAEFIK DEFAULT CERT\nX509v3 Subject Alternative Name: \n    DNS:5d9b3f0c1e2a4b6c8d0e1f2a3b4c5d6e.7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c.traefik.default\n';
  const check = (over: Record<string, unknown> = {}) =>
    parse(tlsCheckSchema, { kind: 'tls', connect: '127.0.0.1:30443', servername: 'shop.svclab.test', expect: { subject: 'CN ?= ?shop\\.svclab\\.test', san: ['shop.svclab.test'], selfSigned: true }, hint: { en: "The lab's general hint.", zh: '实验的通用提示。' }, ...over });
  const ingress = (tls: NonNullable<Ingress['spec']>['tls'], namespace = 'default'): Ingress => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'sites', namespace },
    spec: { ingressClassName: 'traefik', ...(tls ? { tls } : {}), rules: [{ host: 'blog.svclab.test' }, { host: 'shop.svclab.test' }] },
  });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const secret = (name: string, data: Record<string, string>, type = 'kubernetes.io/tls', namespace = 'default'): Secret => ({
    apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  });
  const shopCrt = fixtureText('tls/shop.svclab.test.crt');
  const shopKey = fixtureText('tls/shop.svclab.test.key');
  const wrongCrt = fixtureText('tls/wrong.example.com.crt');
  const wrongKey = fixtureText('tls/wrong.example.com.key');
  const shopTls = [{ hosts: ['shop.svclab.test'], secretName: 'shop-tls' }];
  const run = async (objects: KubeObject[], lang: 'en' | 'zh' = 'en') => {
    const ctx = context(objects, lang);
    ctx.vantage.on('workstation', 'openssl', { stdout: traefikDefault });
    return runTlsCheck(check(), ctx);
  };
  const lead = 'The server sent Traefik\'s default certificate ("TRAEFIK DEFAULT CERT") for shop.svclab.test:';
  const fallsBack = 'so Traefik has no certificate for shop.svclab.test and falls back to its self-signed default.';

  it('the Secret the Ingress names does not exist: which one, in which namespace, and how to make it', async () => {
    const r = await run([ingress(shopTls)]);
    expect(r.status).toBe('fail');
    expect(r.message).toBe(`${lead} Ingress default/sites names Secret shop-tls for it in spec.tls, but there is no Secret shop-tls in namespace default (a Secret is read from the Ingress's own namespace), ${fallsBack}`);
    // The diagnosed hint names the learner's objects, so it goes before the lab's general one.
    expect(r.hint).toBe('Make a key and a certificate for shop.svclab.test, then store them as Secret shop-tls in namespace default: openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout tls.key -out tls.crt -subj /CN=shop.svclab.test -addext subjectAltName=DNS:shop.svclab.test && kubectl -n default create secret tls shop-tls --cert=tls.crt --key=tls.key');
    expect(r.details?.observed).toMatch(/^subject=CN = TRAEFIK DEFAULT CERT; /);
  });

  it('the Secret exists in another namespace than the Ingress', async () => {
    const r = await run([ingress(shopTls), secret('shop-tls', { 'tls.crt': shopCrt, 'tls.key': shopKey }, 'kubernetes.io/tls', 'shop')]);
    expect(r.message).toContain('there is no Secret shop-tls in namespace default');
  });

  it('an Opaque Secret without tls.crt and tls.key; an empty tls.key', async () => {
    let r = await run([ingress(shopTls), secret('shop-tls', { 'shop.crt': shopCrt, 'shop.key': shopKey }, 'Opaque')]);
    expect(r.message).toBe(`${lead} Secret default/shop-tls (type Opaque) has no tls.crt and no tls.key (its keys: shop.crt, shop.key); the certificate and key are read from tls.crt and tls.key only, ${fallsBack}`);
    expect(r.hint).toBe('Make it again as a TLS Secret, which has exactly those two keys: kubectl -n default delete secret shop-tls && kubectl -n default create secret tls shop-tls --cert=tls.crt --key=tls.key (with your certificate and key files).');
    r = await run([ingress(shopTls), secret('shop-tls', { 'tls.crt': shopCrt, 'tls.key': '' })]);
    expect(r.message).toContain('Secret default/shop-tls (type kubernetes.io/tls) has an empty tls.key (its keys: tls.crt, tls.key)');
  });

  it('a tls.crt that is not a certificate', async () => {
    const r = await run([ingress(shopTls), secret('shop-tls', { 'tls.crt': 'hello', 'tls.key': shopKey })]);
    expect(r.message).toBe(`${lead} the tls.crt of Secret default/shop-tls is not a PEM certificate, so it cannot be loaded, ${fallsBack}`);
  });

  it('a certificate for another name', async () => {
    const r = await run([ingress(shopTls), secret('shop-tls', { 'tls.crt': wrongCrt, 'tls.key': wrongKey })]);
    expect(r.message).toBe(`${lead} Secret default/shop-tls holds a certificate for wrong.example.com, not for shop.svclab.test (a certificate is picked by the name the client asks for, SNI), ${fallsBack}`);
  });

  it('a key from another openssl run', async () => {
    const r = await run([ingress(shopTls), secret('shop-tls', { 'tls.crt': shopCrt, 'tls.key': wrongKey })]);
    expect(r.message).toBe(`${lead} the tls.key of Secret default/shop-tls is not the key of its tls.crt (two openssl runs make two different keys), so the pair is rejected, ${fallsBack}`);
  });

  it('no tls entry: says which Ingress routes the host over plain HTTP', async () => {
    const r = await run([ingress(undefined), secret('shop-tls', { 'tls.crt': shopCrt, 'tls.key': shopKey })]);
    expect(r.message).toBe(`${lead} no Ingress lists shop.svclab.test under spec.tls (Ingress default/sites routes it over plain HTTP only), ${fallsBack}`);
    expect(r.hint).toContain('Under spec of Ingress default/sites add `tls: [{hosts: [shop.svclab.test], secretName: NAME}]`');
  });

  it('everything looks right (the controller has not reloaded yet): the general message and the lab\'s hint', async () => {
    const r = await run([ingress(shopTls), secret('shop-tls', { 'tls.crt': shopCrt, 'tls.key': shopKey })]);
    expect(r).toMatchObject({ status: 'fail', message: 'The server sent the ingress controller\'s default certificate for shop.svclab.test: it has no certificate of its own for that name.', hint: "The lab's general hint." });
  });

  it('the API cannot be read: the general message, still a fail (the certificate was seen)', async () => {
    const ctx = context([ingress(shopTls)]);
    ctx.kube.unreachable = 'the Kubernetes API at https://127.0.0.1:1 could not be reached';
    ctx.vantage.on('workstation', 'openssl', { stdout: traefikDefault });
    expect(await runTlsCheck(check(), ctx)).toMatchObject({ status: 'fail', message: expect.stringMatching(/^The server sent the ingress controller's default certificate for shop\.svclab\.test/) });
  });

  it('in Chinese', async () => {
    const r = await run([ingress(shopTls)], 'zh');
    expect(r.message).toBe('服务器为 shop.svclab.test 返回的是 Traefik 的默认证书（"TRAEFIK DEFAULT CERT"）：Ingress default/sites 在 spec.tls 里为它指定了 Secret shop-tls，但命名空间 default 里没有 Secret shop-tls（Secret 只从 Ingress 自己的命名空间读取），所以 Traefik 没有 shop.svclab.test 的证书，只好退回它自签名的默认证书。');
  });
});
