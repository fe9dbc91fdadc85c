import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clusterOnlyCorefile, corednsConfigMap } from '../../src/cluster/cluster-dns.ts';

describe('CoreDNS for svclab clusters', () => {
  const spec = { serviceSubnet: '10.96.0.0/12', podSubnet: '10.244.0.0/16' };

  it('serves cluster.local and the reverse zones of the Service and pod ranges, and nothing else', () => {
    const text = clusterOnlyCorefile(spec);
    const blocks = text.split('\n').filter((l) => /\{\s*$/.test(l) && !/^\s/.test(l));
    expect(blocks).toEqual(['cluster.local 10.96.0.0/12 10.244.0.0/16 {']);
    expect(text).toMatch(/^\s+kubernetes cluster\.local in-addr\.arpa ip6\.arpa \{$/m);
  });

  it('has no forward (nothing leaves the cluster), no loop check (nothing to loop through) and no fallthrough', () => {
    const text = clusterOnlyCorefile(spec);
    expect(text).not.toMatch(/^\s*(forward|loop|fallthrough)\b/m);
    expect(text).toMatch(/^\s+ready$/m);
    expect(text).toMatch(/^\s+reload$/m);
  });

  it('follows the cluster spec subnets', () => {
    expect(clusterOnlyCorefile({ serviceSubnet: '10.100.0.0/16', podSubnet: '10.50.0.0/16' })).toMatch(/^cluster\.local 10\.100\.0\.0\/16 10\.50\.0\.0\/16 \{$/m);
  });

  it('is the kube-system/coredns ConfigMap', () => {
    const cm = parse(corednsConfigMap(spec)) as { kind: string; metadata: object; data: { Corefile: string } };
    expect(cm.kind).toBe('ConfigMap');
    expect(cm.metadata).toEqual({ name: 'coredns', namespace: 'kube-system' });
    expect(cm.data.Corefile).toBe(clusterOnlyCorefile(spec));
  });
});
