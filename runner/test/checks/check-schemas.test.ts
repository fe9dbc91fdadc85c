// lab.yaml with the API and vantage-point kinds: valid forms parse; mistakes are
// lint errors with file, line, field and what was expected.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatLabError, lintLabs, loadLab } from '../../src/labs/load-labs.ts';
import { parseFieldPath } from '../../src/checks/kinds/resource.ts';

const ID = '05-kube-proxy-modes';
const FILE = `labs/${ID}/lab.yaml`;
let root: string;

function lab(checkYaml: string): string {
  return `id: ${ID}
title: { en: Modes, zh: 模式 }
summary: { en: Summary, zh: 摘要 }
setup:
  manifests: [manifests/service.yaml]
steps:
  - id: look
    title: { en: Look, zh: 看 }
    hints: [{ en: Hint, zh: 提示 }]
    solution:
      commands: [[kubectl, get, svc]]
    checks:
${checkYaml.replace(/^/gm, '      ')}
`;
}

async function load(checkYaml: string) {
  const dir = path.join(root, 'labs', ID);
  await mkdir(path.join(dir, 'manifests'), { recursive: true });
  await writeFile(path.join(dir, 'manifests/service.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: { name: nginx }\nspec: { ports: [{ port: 80 }] }\n');
  await writeFile(path.join(dir, 'lab.yaml'), lab(checkYaml));
  return loadLab(root, ID);
}

async function errors(checkYaml: string): Promise<string[]> {
  const r = await load(checkYaml);
  if (r.status !== 'invalid') throw new Error(`expected invalid, got ${r.status}`);
  return r.errors.map(formatLabError);
}

const D = 'description: { en: D, zh: 描述 }\ndeadlineSeconds: 10\nintervalSeconds: 2';

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'svclab-check-schemas-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('check kinds in lab.yaml', () => {
  it('every kind parses in its usual form, with defaults filled in', async () => {
    const r = await load(`- id: a
  kind: resource
  ${D.replace(/\n/g, '\n  ')}
  resource: { apiVersion: v1, kind: Service, name: nginx, namespace: default }
  fields: [{ path: spec.type, equals: NodePort }, { path: 'spec.ports[name=http].nodePort', equals: 30080 }]
- id: b
  kind: selector
  ${D.replace(/\n/g, '\n  ')}
  service: nginx
- id: c
  kind: endpoints
  ${D.replace(/\n/g, '\n  ')}
  service: nginx
  ready: 3
- id: d
  kind: http
  ${D.replace(/\n/g, '\n  ')}
  from: node:worker
  target: { service: web, via: nodePort }
  distinctBackends: { requests: 10, min: 2 }
- id: e
  kind: dns
  ${D.replace(/\n/g, '\n  ')}
  from: pod:default/client
  name: web-hl
  search: true
  expect: { podIPs: { service: web-hl } }
- id: f
  kind: tls
  ${D.replace(/\n/g, '\n  ')}
  connect: 172.18.0.3:443
  servername: shop.example.com
  expect: { selfSigned: true }
- id: g
  kind: proxy-rules
  ${D.replace(/\n/g, '\n  ')}
  service: nginx
  endpoints: 3
`);
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    const checks = r.lab.steps[0]!.checks;
    expect(checks.map((c) => c.kind)).toEqual(['resource', 'selector', 'endpoints', 'http', 'dns', 'tls', 'proxy-rules']);
    expect(checks[1]).toMatchObject({ namespace: 'default', minPods: 1 });
    expect(checks[3]).toMatchObject({ target: { service: 'web', namespace: 'default', via: 'nodePort' }, expect: { status: 200 }, path: '/' });
    expect(checks[6]).toMatchObject({ node: 'node:control-plane', mode: 'auto' });
  });

  it('a bad vantage point: file, line, field and the forms allowed', async () => {
    expect(await errors(`- id: d\n  kind: http\n  ${D.replace(/\n/g, '\n  ')}\n  from: laptop\n  url: http://10.97.97.97/`)).toEqual([
      `${FILE}:18:15 steps[0].checks[0].from: expected a vantage point: workstation, host, node:NAME (like node:worker) or pod:NAMESPACE/NAME (like pod:default/client), got "laptop"`,
    ]);
    expect(await errors(`- id: d\n  kind: dns\n  ${D.replace(/\n/g, '\n  ')}\n  from: pod:client\n  name: web\n  expect: { addresses: [10.0.0.1] }`)).toHaveLength(1);
  });

  it('a deadline of 0, and an unknown kind', async () => {
    expect(await errors(`- id: c\n  kind: endpoints\n  description: { en: D, zh: 描述 }\n  deadlineSeconds: 0\n  intervalSeconds: 2\n  service: nginx\n  ready: 3`)).toEqual([
      `${FILE}:16:26 steps[0].checks[0].deadlineSeconds: expected a number > 0, got 0`,
    ]);
    expect(await errors(`- id: c\n  kind: ping\n  ${D.replace(/\n/g, '\n  ')}`)).toEqual([
      `${FILE}:14:15 steps[0].checks[0].kind: expected one of command, resource, selector, endpoints, http, dns, tls, proxy-rules, observed-command, gateway-status, got "ping"`,
    ]);
  });

  it('rules across fields', async () => {
    const http = (extra: string) => `- id: d\n  kind: http\n  ${D.replace(/\n/g, '\n  ')}\n${extra}`;
    expect(await errors(http('  url: http://10.97.97.97/\n  distinctBackends: { requests: 5, min: 2 }'))).toEqual([
      expect.stringContaining('steps[0].checks[0].distinctBackends.service: expected the Service behind the URL'),
    ]);
    expect(await errors(http('  url: http://10.97.97.97/\n  target: { service: web }'))).toEqual([expect.stringContaining('exactly one of url or target')]);
    expect(await errors(http('  target: { service: web }\n  distinctBackends: { requests: 5, min: 6 }'))).toEqual([expect.stringContaining('distinctBackends.min: expected a number ≤ requests (5)')]);
    const ep = await errors(`- id: c\n  kind: endpoints\n  ${D.replace(/\n/g, '\n  ')}\n  service: nginx`);
    expect(ep).toEqual([expect.stringContaining('one of ready, minReady or maxReady')]);
    const dns = await errors(`- id: e\n  kind: dns\n  ${D.replace(/\n/g, '\n  ')}\n  name: ext\n  expect: { cname: api.example.com }`);
    expect(dns).toEqual([expect.stringContaining('steps[0].checks[0].type: expected CNAME for expect.cname')]);
    const res = await errors(`- id: a\n  kind: resource\n  ${D.replace(/\n/g, '\n  ')}\n  resource: { apiVersion: v1, kind: Service, name: nginx }\n  fields: [{ path: 'spec..type', equals: x }]`);
    expect(res).toEqual([expect.stringContaining('fields[0].path: expected a field path like')]);
    const pr = await errors(`- id: g\n  kind: proxy-rules\n  ${D.replace(/\n/g, '\n  ')}\n  node: workstation\n  service: nginx\n  endpoints: 1`);
    expect(pr).toEqual([expect.stringContaining('node: expected a node vantage point')]);
  });

  it('lint: a check on a Service nothing in the lab creates (a typo) is an error on its line', async () => {
    const ok = await load(`- id: b\n  kind: selector\n  ${D.replace(/\n/g, '\n  ')}\n  service: nginx`);
    expect(ok.status).toBe('ok');
    expect(await lintLabs(root)).toEqual([]);
    await load(`- id: b\n  kind: selector\n  ${D.replace(/\n/g, '\n  ')}\n  service: ngnix\n- id: c\n  kind: endpoints\n  ${D.replace(/\n/g, '\n  ')}\n  service: kube-dns\n  namespace: kube-system\n  ready: 2`);
    expect((await lintLabs(root)).map(formatLabError)).toEqual([
      `${FILE}:18:18 steps[0].checks[0].service: expected a Service this lab creates (in a manifest or a solution command), got "ngnix" in namespace default, which nothing in the lab makes`,
    ]);
  });

  it('field paths', () => {
    expect(parseFieldPath('spec.ports[0].nodePort')).toEqual([{ key: 'spec' }, { key: 'ports' }, { index: 0 }, { key: 'nodePort' }]);
    expect(parseFieldPath('spec.ports[name=http].port')).toEqual([{ key: 'spec' }, { key: 'ports' }, { where: ['name', 'http'] }, { key: 'port' }]);
    expect(parseFieldPath('metadata.labels["app.kubernetes.io/name"]')).toEqual([{ key: 'metadata' }, { key: 'labels' }, { key: 'app.kubernetes.io/name' }]);
    for (const bad of ['', 'spec..type', '.spec', 'spec[x', 'spec.type extra']) expect(parseFieldPath(bad)).toBeUndefined();
  });
});
