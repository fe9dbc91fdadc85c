// proxy-rules on recorded kube-proxy output: iptables-save -t nat (KUBE-SERVICES →
// KUBE-SVC → KUBE-SEP with DNAT) and nft's `table ip kube-proxy` (service-ips map →
// service chain → endpoint chains).
import { describe, expect, it } from 'vitest';
import { parseIptablesNat, parseNftKubeProxy, proxyRulesCheckSchema, runProxyRulesCheck } from '../../src/checks/kinds/proxy-rules.ts';
import type { KubeObject } from '../../src/checks/kube-api.ts';
import { context, fixtureText, lab02Fixed, parse } from './check-fixtures.ts';

const IPT = fixtureText('iptables-save-nat.txt');
const NFT = fixtureText('nft-kube-proxy.txt');
/** iptables-save on a node whose kube-proxy runs in nftables mode: only docker's and kind's own chains. */
const IPT_EMPTY = IPT.split('\n').filter((l) => !/KUBE-/.test(l)).join('\n');

function withWeb(): KubeObject[] {
  return [...lab02Fixed(), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.44.80', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } }];
}

const check = (over: Record<string, unknown> = {}) => parse(proxyRulesCheckSchema, { kind: 'proxy-rules', service: 'nginx', endpoints: 3, ...over });

describe('kube-proxy rule parsers', () => {
  it('iptables: finds KUBE-SVC by ClusterIP and port, and each KUBE-SEP DNAT target', () => {
    expect(parseIptablesNat(IPT, '10.97.97.97', 80, 'TCP')).toEqual({
      mode: 'iptables',
      chain: 'KUBE-SVC-2CMXP7HKUVJN7L6M',
      endpoints: ['10.244.1.3:8080', '10.244.1.4:8080', '10.244.2.3:8080'],
      noEndpoints: false,
    });
    // Same IP, other protocol: kube-dns has a udp and a tcp chain.
    expect(parseIptablesNat(IPT, '10.96.0.10', 53, 'UDP').chain).toBe('KUBE-SVC-TCOU7JCQXEZGVUNU');
    expect(parseIptablesNat(IPT, '10.96.0.10', 53, 'TCP').chain).toBe('KUBE-SVC-ERIFXISQEP7F7OF4');
    expect(parseIptablesNat(IPT, '10.97.97.97', 8080, 'TCP').chain).toBeUndefined();
  });

  it('nftables: finds the service chain through the service-ips map, and its endpoint chains', () => {
    expect(parseNftKubeProxy(NFT, '10.97.97.97', 80, 'TCP')).toEqual({
      mode: 'nftables',
      chain: 'service-HVFWP5L3-default/nginx/tcp/http',
      endpoints: ['10.244.1.3:8080', '10.244.1.4:8080', '10.244.2.3:8080'],
      noEndpoints: false,
    });
    expect(parseNftKubeProxy(NFT, '10.96.44.80', 80, 'TCP')).toEqual({ mode: 'nftables', endpoints: [], noEndpoints: true });
  });
});

describe('proxy-rules check', () => {
  it('iptables mode: passes with the expected number of KUBE-SEP jumps', async () => {
    const ctx = context();
    ctx.vantage.on('node:control-plane', 'iptables-save', { stdout: IPT });
    const r = await runProxyRulesCheck(check(), ctx);
    expect(r).toMatchObject({
      status: 'pass',
      message: "On node control-plane, Service nginx's chain KUBE-SVC-2CMXP7HKUVJN7L6M sends to 3 endpoints (10.244.1.3:8080, 10.244.1.4:8080, 10.244.2.3:8080).",
    });
    expect(ctx.vantage.calls.map((c) => c.argv)).toEqual([['iptables-save', '-t', 'nat']]);
  });

  it('iptables mode: the wrong count fails naming the chain and what it holds', async () => {
    const ctx = context(withWeb());
    ctx.vantage.on('node:worker', 'iptables-save', { stdout: IPT });
    const r = await runProxyRulesCheck(check({ node: 'node:worker', service: 'web' }), ctx);
    expect(r.status).toBe('fail');
    expect(r.message).toBe("On node worker, Service web's chain KUBE-SVC-7EJNTS7AENER2WX5 has 1 endpoint rule (10.244.2.7:8080); expected 3.");
  });

  it('nftables mode (auto-detected): passes on the endpoint chains; a Service with none has no chain', async () => {
    const ctx = context(withWeb());
    ctx.vantage.on('node:control-plane', 'iptables-save', { stdout: IPT_EMPTY });
    ctx.vantage.on('node:control-plane', 'nft', { stdout: NFT });
    expect((await runProxyRulesCheck(check(), ctx)).status).toBe('pass');
    expect(ctx.vantage.calls.map((c) => c.argv[0])).toEqual(['iptables-save', 'nft']);
    const none = await runProxyRulesCheck(check({ service: 'web', endpoints: 2 }), ctx);
    expect(none.message).toBe('On node control-plane, kube-proxy (nftables) has no chain for Service web (10.96.44.80:80/tcp): it lists the Service as having no endpoints and rejects its traffic.');
    expect((await runProxyRulesCheck(check({ service: 'web', endpoints: 0 }), ctx)).status).toBe('pass');
  });

  it('mode nftables reads nft only', async () => {
    const ctx = context();
    ctx.vantage.on('node:control-plane', 'nft', { stdout: NFT });
    expect((await runProxyRulesCheck(check({ mode: 'nftables' }), ctx)).status).toBe('pass');
    expect(ctx.vantage.calls.map((c) => c.argv)).toEqual([['nft', 'list', 'table', 'ip', 'kube-proxy']]);
  });

  it('headless or missing Service: fail; a missing node or tool: error', async () => {
    const objs = lab02Fixed();
    (objs[0] as { spec: { clusterIP: string } }).spec.clusterIP = 'None';
    expect((await runProxyRulesCheck(check(), context(objs))).message).toMatch(/^Service nginx is headless/);
    expect((await runProxyRulesCheck(check(), context([]))).message).toBe('There is no Service nginx in namespace default.');
    const ctx = context();
    ctx.vantage.unavailable.add('node:worker3');
    expect((await runProxyRulesCheck(check({ node: 'node:worker3' }), ctx)).status).toBe('error');
    const r = await runProxyRulesCheck(check(), context()); // iptables-save missing (exit 127)
    expect(r.message).toMatch(/^The check could not run: iptables-save is not installed at node:control-plane/);
  });
});
