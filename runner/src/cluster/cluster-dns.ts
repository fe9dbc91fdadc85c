// CoreDNS in svclab clusters answers for the cluster only. kubeadm's Corefile forwards
// every other name to the node's resolver, which is docker's embedded DNS, which asks
// the host's: a lab pod could resolve (and reach for) names outside svclab. Ours has
// no `forward`: its one server block serves cluster.local and the reverse zones of the
// Service and pod ranges, so CoreDNS answers any other name with REFUSED (no zone of
// its own matches), and never asks anyone else.

import { stringify } from 'yaml';
import type { ClusterSpec } from './cluster-driver.ts';

export const CLUSTER_DOMAIN = 'cluster.local';

/** The Corefile: kubeadm's (Kubernetes v1.34) minus forward and loop, limited to the cluster's zones. */
export function clusterOnlyCorefile(spec: Pick<ClusterSpec, 'serviceSubnet' | 'podSubnet'>): string {
  // CoreDNS turns a CIDR zone into its in-addr.arpa zone(s), split on octet boundaries.
  const zones = [CLUSTER_DOMAIN, spec.serviceSubnet, spec.podSubnet].join(' ');
  return `# svclab: names of this cluster only; no forward, so anything else is REFUSED.
${zones} {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
       pods insecure
       ttl 30
    }
    prometheus :9153
    cache 30 {
       disable success ${CLUSTER_DOMAIN}
       disable denial ${CLUSTER_DOMAIN}
    }
    reload
    loadbalance
}
`;
}

/** kube-system/coredns with our Corefile, for `kubectl apply --server-side`. */
export function corednsConfigMap(spec: Pick<ClusterSpec, 'serviceSubnet' | 'podSubnet'>): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'coredns', namespace: 'kube-system' },
    data: { Corefile: clusterOnlyCorefile(spec) },
  });
}
