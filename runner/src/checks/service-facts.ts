// Facts about a Service that several kinds need: which of its ports a check means,
// its ready endpoints, and the address a vantage point reaches it at.
import type { Lang } from './check-schema.ts';
import type { EndpointSlice, KubeApi, Service, ServicePort } from './kube-api.ts';

/** The Service port a check names (number or name); the first when omitted. */
export function findServicePort(svc: Service, port: number | string | undefined): ServicePort | undefined {
  const ports = svc.spec?.ports ?? [];
  if (port === undefined) return ports[0];
  return ports.find((p) => (typeof port === 'number' ? p.port === port : p.name === port));
}

export function describePort(p: ServicePort): string {
  return `${p.port}/${p.protocol ?? 'TCP'}${p.name ? ` (${p.name})` : ''}`;
}

export interface EndpointAddress {
  ip: string;
  ready: boolean;
  /** The pod behind it, when the slice names one. */
  pod?: string;
  /** Port numbers the slice offers for the Service port looked at. */
  ports: number[];
}

/**
 * Every address in the Service's slices, deduplicated (an address may appear in
 * two slices while the controller moves it). `ready` absent means ready, as in the API.
 * With `portName`, only the slices carrying that Service port count.
 */
export function endpointAddresses(slices: readonly EndpointSlice[], portName?: string): EndpointAddress[] {
  const byIp = new Map<string, EndpointAddress>();
  for (const slice of slices) {
    if (slice.addressType && slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const ports = (slice.ports ?? []).filter((p) => portName === undefined || (p.name ?? '') === portName).map((p) => p.port).filter((p): p is number => typeof p === 'number');
    if (portName !== undefined && (slice.ports ?? []).length > 0 && ports.length === 0) continue;
    for (const ep of slice.endpoints ?? []) {
      const ready = ep.conditions?.ready !== false;
      for (const ip of ep.addresses ?? []) {
        const prev = byIp.get(ip);
        if (prev) {
          prev.ready ||= ready;
          for (const p of ports) if (!prev.ports.includes(p)) prev.ports.push(p);
          continue;
        }
        const a: EndpointAddress = { ip, ready, ports: [...ports] };
        if (ep.targetRef?.name) a.pod = ep.targetRef.name;
        byIp.set(ip, a);
      }
    }
  }
  return [...byIp.values()].sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }));
}

export async function readyEndpointCount(kube: KubeApi, namespace: string, service: string): Promise<number> {
  return endpointAddresses(await kube.listEndpointSlices(namespace, service)).filter((a) => a.ready).length;
}

export const noServiceText = {
  en: (name: string, ns: string) => `There is no Service ${name} in namespace ${ns}.`,
  zh: (name: string, ns: string) => `${ns} 命名空间里没有名为 ${name} 的 Service。`,
} satisfies Record<Lang, unknown>;

export const noServiceHint = {
  en: (name: string, ns: string) => `\`kubectl get services -n ${ns}\` lists the Services there; create ${name} or check its spelling.`,
  zh: (name: string, ns: string) => `用 \`kubectl get services -n ${ns}\` 看看有哪些 Service；创建 ${name}，或检查名字的拼写。`,
} satisfies Record<Lang, unknown>;

export type ResolvedTarget =
  | { ok: true; host: string; port: number; /** How the learner would say it: "Service web's ClusterIP 10.96.5.5:80". */ label: string }
  | { ok: false; message: string; hint?: string; observed: string };

const targetTexts = {
  en: {
    noPort: (svc: string, p: string | number) => `Service ${svc} has no port ${p}.`,
    headless: (svc: string) => `Service ${svc} is headless (clusterIP: None), so it has no ClusterIP to connect to.`,
    noNodePort: (svc: string, type: string) => `Service ${svc} is of type ${type}, so it has no nodePort.`,
    noNodePortHint: 'Set spec.type: NodePort (or LoadBalancer); Kubernetes then opens the port on every node.',
    noLb: (svc: string, type: string) =>
      type === 'LoadBalancer' ? `Service ${svc} has no external IP yet (EXTERNAL-IP <pending>).` : `Service ${svc} is of type ${type}, not LoadBalancer, so it has no external IP.`,
    noLbHint: 'An external IP comes from a load-balancer implementation (MetalLB here): check `kubectl get svc` and the MetalLB address pool.',
    noNodes: 'the cluster has no nodes to reach a NodePort on',
  },
  zh: {
    noPort: (svc: string, p: string | number) => `Service ${svc} 没有端口 ${p}。`,
    headless: (svc: string) => `Service ${svc} 是 headless 的（clusterIP: None），没有可以连接的 ClusterIP。`,
    noNodePort: (svc: string, type: string) => `Service ${svc} 的类型是 ${type}，没有 nodePort。`,
    noNodePortHint: '把 spec.type 设为 NodePort（或 LoadBalancer），Kubernetes 就会在每个节点上开放这个端口。',
    noLb: (svc: string, type: string) =>
      type === 'LoadBalancer' ? `Service ${svc} 还没有分配到外部 IP（EXTERNAL-IP 为 <pending>）。` : `Service ${svc} 的类型是 ${type}，不是 LoadBalancer，没有外部 IP。`,
    noLbHint: '外部 IP 由负载均衡实现（这里是 MetalLB）分配：看看 `kubectl get svc` 和 MetalLB 的地址池。',
    noNodes: '集群里没有可用来访问 NodePort 的节点',
  },
} satisfies Record<Lang, unknown>;

/** Where a vantage point reaches a Service: its ClusterIP, DNS name, a node's NodePort or its LoadBalancer IP. */
export async function resolveServiceTarget(
  target: { service: string; namespace: string; via: 'clusterIP' | 'name' | 'nodePort' | 'loadBalancer'; port?: number | string | undefined },
  kube: KubeApi,
  nodes: () => Promise<{ name: string; internalIP: string }[]>,
  lang: Lang,
): Promise<ResolvedTarget> {
  const t = targetTexts[lang];
  const { service: name, namespace: ns } = target;
  const svc = await kube.getService(ns, name);
  if (!svc) return { ok: false, message: noServiceText[lang](name, ns), hint: noServiceHint[lang](name, ns), observed: `no Service ${name} in ${ns}` };
  const port = findServicePort(svc, target.port);
  if (!port) return { ok: false, message: t.noPort(name, target.port ?? ''), observed: `ports: ${(svc.spec?.ports ?? []).map(describePort).join(', ') || 'none'}` };
  const type = svc.spec?.type ?? 'ClusterIP';
  switch (target.via) {
    case 'clusterIP': {
      const ip = svc.spec?.clusterIP;
      if (!ip || ip === 'None') return { ok: false, message: t.headless(name), observed: 'clusterIP: None' };
      return { ok: true, host: ip, port: port.port, label: `Service ${name} (${ip}:${port.port})` };
    }
    case 'name':
      return { ok: true, host: `${name}.${ns}.svc.cluster.local`, port: port.port, label: `${name}.${ns}.svc.cluster.local:${port.port}` };
    case 'nodePort': {
      if (!port.nodePort) return { ok: false, message: t.noNodePort(name, type), hint: t.noNodePortHint, observed: `type ${type}, no nodePort` };
      const node = (await nodes())[0];
      if (!node) return { ok: false, message: t.noNodes, observed: 'no nodes' };
      return { ok: true, host: node.internalIP, port: port.nodePort, label: `NodePort ${port.nodePort} of Service ${name} on node ${node.name} (${node.internalIP})` };
    }
    case 'loadBalancer': {
      const ip = svc.status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip;
      if (!ip) return { ok: false, message: t.noLb(name, type), hint: t.noLbHint, observed: `type ${type}, no status.loadBalancer.ingress` };
      return { ok: true, host: ip, port: port.port, label: `Service ${name}'s external IP ${ip}:${port.port}` };
    }
  }
}

/**
 * From the host, checks reach only svclab's own addresses: loopback (the ports kind
 * maps) and the cluster's docker network (node IPs, MetalLB IPs carved out of it).
 */
export function hostMayReach(address: string, nodes: readonly { internalIP: string }[]): boolean {
  if (address === 'localhost' || /^127\./.test(address)) return true;
  const m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(address);
  if (!m) return false;
  return nodes.some((n) => n.internalIP.split('.').slice(0, 2).join('.') === `${m[1]}.${m[2]}`);
}

/**
 * From the host, 127.0.0.1:<port> means the port the cluster publishes for that node
 * port: the same number unless it was busy when the cluster was made.
 */
export async function hostLoopbackPort(vantage: { hostPort(containerPort: number): Promise<number | undefined> }, address: string, port: number): Promise<{ port: number } | { error: string }> {
  if (!(address === 'localhost' || /^127\./.test(address))) return { port };
  const mapped = await vantage.hostPort(port);
  if (mapped === undefined) return { error: `the cluster publishes no host port for ${port}, so 127.0.0.1:${port} on the host is not this cluster (recreate it with that port mapped: svclab up)` };
  return { port: mapped };
}
