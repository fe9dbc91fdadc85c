// The check-kind registry: every file under checks/kinds/ is registered, each kind
// explains itself, and the registry is the only door between labs/ and checks/.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkKinds, checkSchema, explainCheck } from '../../src/checks/registry.ts';

const SRC = path.resolve(import.meta.dirname, '../../src');
const base = { description: { en: 'D', zh: '描述' }, deadlineSeconds: 10, intervalSeconds: 2 };
/** One valid check per kind; a new kind needs its example here (the test below says so). */
const examples: Record<string, Record<string, unknown>> = {
  command: { argv: ['sh', '-c', 'test -s ~/answers/x'] },
  resource: { resource: { apiVersion: 'v1', kind: 'Service', name: 'web', namespace: 'default' }, fields: [{ path: 'spec.type', equals: 'NodePort' }] },
  selector: { service: 'web', selector: { app: 'web' } },
  endpoints: { service: 'web', ready: 3 },
  http: { target: { service: 'web' }, host: 'web.example.com' },
  dns: { name: 'web.default.svc.cluster.local', expect: { serviceIP: { service: 'web' } } },
  tls: { connect: '10.96.20.20:443', servername: 'web.example.com', expect: { san: ['web.example.com'] } },
  'proxy-rules': { service: 'web', endpoints: 2 },
  'observed-command': { observe: { from: 'node:control-plane', argv: ['conntrack', '-L'] }, argv: ['sh', '-c', 'grep -q "$(cat ~/answers/web)" <<<"$1"', 'sh'] },
  'gateway-status': { gateway: 'web', listeners: ['https'], route: { name: 'store' } },
};

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function imports(text: string): string[] {
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
}

describe('check registry', () => {
  it('registers every kind file under checks/kinds/', async () => {
    const files = (await readdir(path.join(SRC, 'checks/kinds'))).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
    expect([...checkKinds].sort()).toEqual(files.sort());
  });

  it('every kind parses its example and explains it in one line that names what it looks at', () => {
    for (const kind of checkKinds) {
      expect(examples[kind], `an example ${kind} check in this test`).toBeDefined();
      const check = checkSchema.parse({ id: `a-${kind}`, kind, ...base, ...examples[kind] });
      const text = explainCheck(check);
      expect(text, kind).not.toContain('\n');
      expect(text, kind).toMatch(/web|answers/);
    }
  });

  it('labs/ reaches checks/ only through the registry, and checks/ never imports labs/', async () => {
    const bad: string[] = [];
    for (const file of await sources(path.join(SRC, 'labs'))) {
      for (const spec of imports(await readFile(file, 'utf8'))) {
        if (spec.includes('/checks/') && !spec.endsWith('/checks/registry.ts')) bad.push(`${path.relative(SRC, file)} → ${spec}`);
      }
    }
    for (const file of await sources(path.join(SRC, 'checks'))) {
      for (const spec of imports(await readFile(file, 'utf8'))) {
        if (spec.includes('/labs/')) bad.push(`${path.relative(SRC, file)} → ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
