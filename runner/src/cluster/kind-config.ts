// The kind Cluster config (kind.x-k8s.io/v1alpha4), built as a typed object and
// serialized with the yaml package. kubeadm patches are typed objects too,
// serialized one by one, because kind takes each patch as a YAML string.

import { stringify } from 'yaml';
import { EDGE_NODE_LABEL, type ClusterSpec, type PortMapping, type ProxyMode } from './cluster-driver.ts';

export interface KindPortMapping {
  containerPort: number;
  hostPort: number;
  listenAddress: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface KindNode {
  role: 'control-plane' | 'worker';
  image: string;
  labels?: Record<string, string>;
  extraPortMappings?: KindPortMapping[];
}

export interface KindNetworking {
  ipFamily: 'ipv4';
  apiServerAddress: string;
  /** 0: kind picks a free port. */
  apiServerPort: number;
  podSubnet: string;
  serviceSubnet: string;
  kubeProxyMode: ProxyMode;
}

export interface KindCluster {
  kind: 'Cluster';
  apiVersion: 'kind.x-k8s.io/v1alpha4';
  name: string;
  nodes: KindNode[];
  networking: KindNetworking;
  /** Strategic-merge patches to kind's kubeadm config, each one YAML document. */
  kubeadmConfigPatches?: string[];
}

/** The part of kube-proxy's KubeProxyConfiguration we patch. */
export interface KubeProxyConfigurationPatch {
  apiVersion: 'kubeproxy.config.k8s.io/v1alpha1';
  kind: 'KubeProxyConfiguration';
  conntrack: {
    maxPerCore: number;
    min: number;
    tcpEstablishedTimeout: string;
    tcpCloseWaitTimeout: string;
  };
}

/**
 * kube-proxy must not touch conntrack sysctls here: nf_conntrack_max is global
 * and writing it is denied in this sandbox, which makes kube-proxy exit. Zero
 * means "leave the kernel's value" for each of these settings; the timeouts are
 * zeroed too because some sandboxes deny those writes as well, and labs don't
 * depend on them.
 */
export function kubeProxyConntrackPatch(): KubeProxyConfigurationPatch {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  };
}

/** How long kubeadm waits for the control plane: its 4 min default is too short on a busy 2-core machine. */
export const CONTROL_PLANE_WAIT = '10m0s';

/** kind renders kubeadm v1beta3 for Kubernetes < 1.36: the wait is apiServer.timeoutForControlPlane there. */
export interface KubeadmClusterConfigurationV1Beta3Patch {
  apiVersion: 'kubeadm.k8s.io/v1beta3';
  kind: 'ClusterConfiguration';
  apiServer: { timeoutForControlPlane: string };
}

/** …and in v1beta4 (newer kind or Kubernetes) it moved to InitConfiguration.timeouts. A patch whose apiVersion matches no document is not applied. */
export interface KubeadmInitConfigurationV1Beta4Patch {
  apiVersion: 'kubeadm.k8s.io/v1beta4';
  kind: 'InitConfiguration';
  timeouts: { controlPlaneComponentHealthCheck: string };
}

export function controlPlaneWaitPatches(wait = CONTROL_PLANE_WAIT): [KubeadmClusterConfigurationV1Beta3Patch, KubeadmInitConfigurationV1Beta4Patch] {
  return [
    { apiVersion: 'kubeadm.k8s.io/v1beta3', kind: 'ClusterConfiguration', apiServer: { timeoutForControlPlane: wait } },
    { apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'InitConfiguration', timeouts: { controlPlaneComponentHealthCheck: wait } },
  ];
}

/** Container ports mapped on the edge node instead of the control plane: the DaemonSet-mode ingress controller binds them there. */
export const EDGE_NODE_PORTS: readonly number[] = [80, 443];

export function kindClusterConfig(spec: ClusterSpec, ports: readonly PortMapping[]): KindCluster {
  const mapping = (p: PortMapping): KindPortMapping => ({ containerPort: p.containerPort, hostPort: p.hostPort, listenAddress: p.listenAddress, protocol: 'TCP' });
  // Without workers the control plane is the edge node and carries every port.
  const onEdge = (p: PortMapping) => spec.workers > 0 && EDGE_NODE_PORTS.includes(p.containerPort);
  const edgePorts = ports.filter(onEdge).map(mapping);
  const controlPlane: KindNode = {
    role: 'control-plane',
    image: spec.nodeImage,
    ...(spec.workers === 0 ? { labels: { [EDGE_NODE_LABEL]: 'true' } } : {}),
    extraPortMappings: ports.filter((p) => !onEdge(p)).map(mapping),
  };
  const workers: KindNode[] = Array.from({ length: spec.workers }, (_, i) => ({
    role: 'worker',
    image: spec.nodeImage,
    ...(i === 0 ? { labels: { [EDGE_NODE_LABEL]: 'true' }, ...(edgePorts.length > 0 ? { extraPortMappings: edgePorts } : {}) } : {}),
  }));
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: spec.name,
    nodes: [controlPlane, ...workers],
    networking: {
      ipFamily: 'ipv4',
      apiServerAddress: '127.0.0.1',
      apiServerPort: 0,
      podSubnet: spec.podSubnet,
      serviceSubnet: spec.serviceSubnet,
      kubeProxyMode: spec.proxyMode,
    },
    kubeadmConfigPatches: [kubeProxyConntrackPatch(), ...controlPlaneWaitPatches()].map((p) => stringify(p)),
  };
}

export function renderKindConfig(config: KindCluster): string {
  return stringify(config, { lineWidth: 0 });
}
