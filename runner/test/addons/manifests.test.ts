// The real files in images/addons/, rendered: every placeholder filled, the shared
// Traefik flags in front of each mode's own, the objects the labs rely on present.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { isRunnerError } from '../../src/errors.ts';
import { defaultImagesDir } from '../../src/images/images.ts';
import { HOSTNETWORK_INGRESS_LABEL, parseArgsFile, parseIngressMode, readAddonFiles, renderComponentManifests, type ComponentImages } from '../../src/addons/manifests.ts';

const images: ComponentImages = {
  traefik: 'svclab/traefik:v3.6.12',
  'metallb-controller': 'svclab/metallb-controller:v0.15.2',
  'metallb-speaker': 'svclab/metallb-speaker:v0.15.2',
};
const files = await readAddonFiles(`${defaultImagesDir()}/addons`);
type Obj = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: any };
const objects = (yaml: string): Obj[] => parseAllDocuments(yaml).map((d) => {
  expect(d.errors).toEqual([]);
  return d.toJS() as Obj;
}).filter(Boolean);
const find = (objs: Obj[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);

describe('renderComponentManifests', () => {
  const pool = { range: '172.31.255.240-172.31.255.254' };

  it('nodeport mode: Deployment + Service NodePort 30080→80 and 30443→443, default IngressClass traefik', () => {
    const m = renderComponentManifests(files, { ingressMode: 'nodeport', images, pool });
    expect(m.traefik).not.toMatch(/@[a-z:-]+@/);
    const objs = objects(m.traefik);
    const ic = find(objs, 'IngressClass', 'traefik')!;
    expect(ic.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class']).toBe('true');
    expect(ic.spec.controller).toBe('traefik.io/ingress-controller');
    const dep = find(objs, 'Deployment', 'traefik')!;
    expect(dep.metadata.namespace).toBe('traefik');
    const c = dep.spec.template.spec.containers[0];
    expect(c.image).toBe(images.traefik);
    expect(c.imagePullPolicy).toBe('Never');
    // the shared flags first, then the mode's own
    expect(c.args.slice(0, parseArgsFile(files.traefikArgs).length)).toEqual(parseArgsFile(files.traefikArgs));
    expect(c.args).toContain('--providers.kubernetesingress.ingressclass=traefik');
    expect(c.args).toContain('--entryPoints.websecure.http.tls=true');
    expect(c.args.at(-1)).toBe('--providers.kubernetesingress.ingressendpoint.publishedservice=traefik/traefik');
    expect(c.args.filter((a: string) => a.startsWith('--providers.')).every((a: string) => a.startsWith('--providers.kubernetesingress'))).toBe(true);
    const svc = find(objs, 'Service', 'traefik')!;
    // Not LoadBalancer: MetalLB's speaker would own a ServiceL2Status for it, which the pool's recycle
    // cannot explain (owned by a Pod) and deletes, so every recycled cluster would look tampered with.
    expect(svc.spec.type).toBe('NodePort');
    expect(svc.spec.ports.map((p: any) => [p.port, p.nodePort])).toEqual([[80, 30080], [443, 30443]]);
  });

  it('nodeport mode: the hostNetwork DaemonSet stands by, selecting a node label no node carries until someone sets it', () => {
    const objs = objects(renderComponentManifests(files, { ingressMode: 'nodeport', images, pool }).traefik);
    expect(objs.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Deployment/traefik', 'DaemonSet/traefik-edge']);
    const ds = find(objs, 'DaemonSet', 'traefik-edge')!;
    expect(ds.metadata.namespace).toBe('traefik');
    const spec = ds.spec.template.spec;
    expect(spec.nodeSelector).toEqual({ [HOSTNETWORK_INGRESS_LABEL.key]: HOSTNETWORK_INGRESS_LABEL.value });
    expect(HOSTNETWORK_INGRESS_LABEL).toEqual({ key: 'svclab.io/ingress', value: 'hostnetwork' });
    expect(spec.hostNetwork).toBe(true);
    expect(spec.containers[0].ports.map((p: any) => [p.containerPort, p.hostPort])).toEqual([[80, 80], [443, 443], [9000, 9000]]);
    expect(spec.containers[0].image).toBe(images.traefik);
    // The same static configuration as the Deployment, without the Deployment's Service-bound status flag;
    // /ping on the node's 9000: lab 03's hostNetwork stand-ins hold every node's 8080.
    expect(spec.containers[0].args).toEqual([...parseArgsFile(files.traefikArgs), '--entryPoints.traefik.address=:9000']);
    expect(spec.containers[0].readinessProbe.httpGet.port).toBe('traefik');
    const lab03 = readFileSync(join(defaultImagesDir(), '..', 'labs', '03-endpoints-without-selector', 'manifests', 'inventory-servers.yaml'), 'utf8');
    const taken = spec.containers[0].ports.map((p: any) => p.hostPort);
    expect(taken.some((port: number) => new RegExp(`containerPort: ${port}\\b`).test(lab03))).toBe(false);
    expect(lab03).toMatch(/containerPort: 8080\b/);
    // Its pods are not the Deployment's: lab 11 step 4 reads the controller pod by component=controller.
    expect(ds.spec.selector.matchLabels['app.kubernetes.io/component']).toBe('edge');
    expect(find(objs, 'Deployment', 'traefik')!.spec.selector.matchLabels['app.kubernetes.io/component']).toBe('controller');
    // One manifest for both modes: the same DaemonSet but for the label.
    const edge = find(objects(renderComponentManifests(files, { ingressMode: 'daemonset', images, pool }).traefik), 'DaemonSet', 'traefik-edge')!;
    expect({ ...edge.spec.template.spec, nodeSelector: null }).toEqual({ ...spec, nodeSelector: null });
    expect(files.traefikDaemonset).toContain('"@node-label-key@": "@node-label-value@"');
  });

  it('daemonset mode: hostNetwork on edge nodes, tolerating the edge taint, ports 80/443 on the node', () => {
    const objs = objects(renderComponentManifests(files, { ingressMode: 'daemonset', images, pool }).traefik);
    expect(find(objs, 'Deployment', 'traefik')).toBeUndefined();
    expect(find(objs, 'Service', 'traefik')).toBeUndefined();
    const ds = find(objs, 'DaemonSet', 'traefik-edge')!;
    const spec = ds.spec.template.spec;
    expect(spec.hostNetwork).toBe(true);
    expect(spec.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(spec.nodeSelector).toEqual({ 'svclab.io/edge': 'true' });
    expect(spec.tolerations).toContainEqual({ key: 'svclab.io/edge', operator: 'Equal', value: 'true', effect: 'NoSchedule' });
    const c = spec.containers[0];
    expect(c.ports.map((p: any) => p.hostPort)).toEqual([80, 443, 9000]);
    expect(c.args).toEqual([...parseArgsFile(files.traefikArgs), '--entryPoints.traefik.address=:9000']);
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
  });

  it('MetalLB: controller + speaker with our images, and an L2 pool of the given range', () => {
    const m = renderComponentManifests(files, { ingressMode: 'nodeport', images, pool });
    const objs = objects(m.metallb);
    expect(find(objs, 'Deployment', 'controller')!.spec.template.spec.containers[0].image).toBe(images['metallb-controller']);
    const speaker = find(objs, 'DaemonSet', 'speaker')!;
    expect(speaker.spec.template.spec.containers[0].image).toBe(images['metallb-speaker']);
    expect(speaker.spec.template.spec.hostNetwork).toBe(true);
    expect(objs.every((o) => o.kind === 'Namespace' || o.kind.startsWith('Cluster') || o.metadata.namespace === 'metallb-system')).toBe(true);
    const p = objects(m.pool);
    expect(find(p, 'IPAddressPool', 'kind-network')!.spec.addresses).toEqual([pool.range]);
    expect(find(p, 'L2Advertisement', 'kind-network')!.spec.ipAddressPools).toEqual(['kind-network']);
  });

  it('with the Gateway API: GatewayClass traefik for Traefik\'s controller name, its rights, and the provider flag after the shared ones, in both modes', () => {
    for (const ingressMode of ['nodeport', 'daemonset'] as const) {
      const objs = objects(renderComponentManifests(files, { ingressMode, images, pool, gatewayApi: true }).traefik);
      expect(find(objs, 'GatewayClass', 'traefik')!.spec.controllerName).toBe('traefik.io/gateway-controller');
      // The CRD caps it at 64 characters; a longer one made the whole add-on apply fail on a real cluster.
      expect((find(objs, 'GatewayClass', 'traefik')!.spec.description ?? '').length).toBeLessThanOrEqual(64);
      const role = find(objs, 'ClusterRole', 'svclab:traefik-gateway') as unknown as { rules: { resources: string[]; verbs: string[] }[] };
      const may = (res: string, verb: string) => role.rules.some((r) => r.resources.includes(res) && r.verbs.includes(verb));
      for (const res of ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'referencegrants', 'backendtlspolicies']) expect(may(res, 'watch')).toBe(true);
      for (const res of ['gatewayclasses/status', 'gateways/status', 'httproutes/status']) expect(may(res, 'update')).toBe(true);
      expect(may('namespaces', 'list')).toBe(true);
      expect(find(objs, 'ClusterRoleBinding', 'svclab:traefik-gateway')!).toMatchObject({ subjects: [{ kind: 'ServiceAccount', name: 'traefik', namespace: 'traefik' }] });
      const w = objs.find((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')!;
      const args: string[] = w.spec.template.spec.containers[0].args;
      const shared = parseArgsFile(files.traefikArgs);
      expect(args.slice(0, shared.length)).toEqual(shared);
      expect(args[shared.length]).toBe('--providers.kubernetesgateway=true');
      // A status address naming Service traefik would blank the Gateway config in daemonset mode (no such Service).
      expect(args.some((a) => /statusaddress/i.test(a))).toBe(false);
    }
    // The standby DaemonSet of nodeport mode serves Ingresses only: two Gateway API controllers would fight over status.
    const standby = find(objects(renderComponentManifests(files, { ingressMode: 'nodeport', images, pool, gatewayApi: true }).traefik), 'DaemonSet', 'traefik-edge')!;
    expect(standby.spec.template.spec.containers[0].args.some((a: string) => a.startsWith('--providers.kubernetesgateway'))).toBe(false);
    const edge = find(objects(renderComponentManifests(files, { ingressMode: 'daemonset', images, pool, gatewayApi: true }).traefik), 'DaemonSet', 'traefik-edge')!;
    expect(edge.spec.template.spec.containers[0].args).toContain('--providers.kubernetesgateway=true');
    const without = objects(renderComponentManifests(files, { ingressMode: 'nodeport', images, pool }).traefik);
    expect(find(without, 'GatewayClass', 'traefik')).toBeUndefined();
  });

  it('refuses an unknown controller mode, naming the ones that exist', () => {
    for (const bad of ['hostport', '', undefined, 3]) {
      try {
        renderComponentManifests(files, { ingressMode: bad as never, images, pool });
        throw new Error('expected a refusal');
      } catch (e) {
        expect(isRunnerError(e) && e.code).toBe('INVALID_ARGUMENT');
        expect((e as Error).message).toMatch(/Unknown ingress controller mode/);
        expect((e as { hint: string }).hint).toMatch(/nodeport.*daemonset/);
      }
    }
    expect(parseIngressMode('daemonset')).toBe('daemonset');
  });

  it('refuses a manifest that asks for an image no artifact builds, or a placeholder nobody fills', () => {
    expect(() => renderComponentManifests({ ...files, metallb: 'image: "@image:nginx@"' }, { ingressMode: 'nodeport', images, pool })).toThrow(/image "nginx"/);
    expect(() => renderComponentManifests({ ...files, metallbPool: 'x: "@subnet@"' }, { ingressMode: 'nodeport', images, pool })).toThrow(/@subnet@/);
  });
});
