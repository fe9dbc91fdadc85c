import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseClusterSpec, type PortMapping } from '../../src/cluster/cluster-driver.ts';
import { kindClusterConfig, renderKindConfig } from '../../src/cluster/kind-config.ts';

const ports: PortMapping[] = [
  { containerPort: 30080, hostPort: 30080, listenAddress: '127.0.0.1' },
  { containerPort: 80, hostPort: 41234, listenAddress: '127.0.0.1' },
  { containerPort: 443, hostPort: 443, listenAddress: '127.0.0.1' },
];

describe('kind config', () => {
  const spec = parseClusterSpec({ name: 'svclab-t1', nodeImage: 'svclab/node:0123456789abcdef' });

  it('has 1 control plane and 2 workers from the default spec, each on the node image', () => {
    const cfg = kindClusterConfig(spec, ports);
    expect(cfg.kind).toBe('Cluster');
    expect(cfg.apiVersion).toBe('kind.x-k8s.io/v1alpha4');
    expect(cfg.name).toBe('svclab-t1');
    expect(cfg.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    expect(new Set(cfg.nodes.map((n) => n.image))).toEqual(new Set(['svclab/node:0123456789abcdef']));
  });

  it('puts the edge label on worker 1 only, and on the control plane when there are no workers', () => {
    const cfg = kindClusterConfig(spec, ports);
    expect(cfg.nodes.map((n) => n.labels?.['svclab.io/edge'])).toEqual([undefined, 'true', undefined]);
    const single = kindClusterConfig(parseClusterSpec({ ...spec, workers: 0 }), ports);
    expect(single.nodes).toHaveLength(1);
    expect(single.nodes[0]!.labels).toEqual({ 'svclab.io/edge': 'true' });
  });

  it('maps the chosen host ports bound to 127.0.0.1 only: 80/443 on the edge node (worker 1), the rest on the control plane', () => {
    const cfg = kindClusterConfig(spec, ports);
    expect(cfg.nodes[0]!.extraPortMappings).toEqual([
      { containerPort: 30080, hostPort: 30080, listenAddress: '127.0.0.1', protocol: 'TCP' },
    ]);
    expect(cfg.nodes[1]!.extraPortMappings).toEqual([
      { containerPort: 80, hostPort: 41234, listenAddress: '127.0.0.1', protocol: 'TCP' },
      { containerPort: 443, hostPort: 443, listenAddress: '127.0.0.1', protocol: 'TCP' },
    ]);
    expect(cfg.nodes[2]!.extraPortMappings).toBeUndefined();
  });

  it('maps every port on the control plane when it is the edge node (no workers)', () => {
    const single = kindClusterConfig(parseClusterSpec({ ...spec, workers: 0 }), ports);
    expect(single.nodes[0]!.extraPortMappings!.map((p) => p.containerPort)).toEqual([30080, 80, 443]);
  });

  it('sets the subnets, the API server address and the kube-proxy mode', () => {
    const cfg = kindClusterConfig(parseClusterSpec({ ...spec, proxyMode: 'nftables' }), ports);
    expect(cfg.networking).toEqual({
      ipFamily: 'ipv4', apiServerAddress: '127.0.0.1', apiServerPort: 0,
      podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', kubeProxyMode: 'nftables',
    });
  });

  it('serializes to YAML that parses back to the same object, with the kube-proxy patch as one YAML document', () => {
    const cfg = kindClusterConfig(spec, ports);
    const text = renderKindConfig(cfg);
    expect(parse(text)).toEqual(cfg);
    const patches = cfg.kubeadmConfigPatches!.map((p) => {
      const docs = parseAllDocuments(p);
      expect(docs).toHaveLength(1);
      return docs[0]!.toJS() as { apiVersion: string; kind: string };
    });
    expect(patches.map((p) => `${p.apiVersion} ${p.kind}`)).toEqual([
      'kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration',
      'kubeadm.k8s.io/v1beta3 ClusterConfiguration',
      'kubeadm.k8s.io/v1beta4 InitConfiguration',
    ]);
    expect(patches[0]).toMatchObject({ conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' } });
    expect(patches[1]).toMatchObject({ apiServer: { timeoutForControlPlane: '10m0s' } });
    expect(patches[2]).toMatchObject({ timeouts: { controlPlaneComponentHealthCheck: '10m0s' } });
  });

  it('keeps hostile-looking values as data, not YAML structure', () => {
    const cfg = kindClusterConfig(spec, ports);
    cfg.nodes[0]!.labels = { 'x': 'a: b\n- c' };
    expect(parse(renderKindConfig(cfg)).nodes[0].labels.x).toBe('a: b\n- c');
  });
});
