// Turns the Kubernetes OpenAPI (swagger 2.0) spec into one JSON schema for monaco-yaml:
// every top-level object kind is picked by its apiVersion + kind (draft-07 if/then), fields
// are strict (a misspelt field is an error, as `kubectl apply --validate=strict` would say),
// and int-or-string / quantity fields accept both forms.
//
//   node scripts/gen-k8s-schema.ts                 # downloads k8s.io/kubernetes through Go
//   node scripts/gen-k8s-schema.ts --spec swagger.json
//
// The output is committed (site/lib/k8s/kubernetes-1.34.schema.json), so building the site
// needs no network.
import { execFile } from 'node:child_process';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);

const MINOR = '1.34';
const PREFERRED = 'v1.34.4';
const OUT = resolve(import.meta.dirname, '../site/lib/k8s/kubernetes-1.34.schema.json');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };
type Gvk = { group: string; version: string; kind: string };

const { values } = parseArgs({ options: { spec: { type: 'string' }, out: { type: 'string' } } });

function goEnv(): NodeJS.ProcessEnv {
  const cache = process.env.SVCLAB_CACHE ?? join(homedir(), '.cache', 'svclab');
  return { ...process.env, GOMODCACHE: join(cache, 'go-mod'), GOFLAGS: '-mod=mod' };
}

/** The newest v1.34.x the module proxy serves, preferring v1.34.4. */
async function pickVersion(): Promise<string> {
  const tmp = join(process.env.SVCLAB_CACHE ?? join(homedir(), '.cache', 'svclab'), 'gen-k8s-schema');
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, 'go.mod'), 'module svclab/gen\n\ngo 1.24\n');
  try {
    const { stdout } = await run('go', ['list', '-m', '-versions', '-json', 'k8s.io/kubernetes'], { cwd: tmp, env: goEnv(), timeout: 120_000 });
    const versions: string[] = (JSON.parse(stdout) as { Versions?: string[] }).Versions ?? [];
    if (versions.includes(PREFERRED)) return PREFERRED;
    const patch = (v: string) => Number(v.split('.')[2]);
    const ours = versions.filter((v) => /^v1\.34\.\d+$/.test(v)).sort((a, b) => patch(a) - patch(b));
    if (ours.length === 0) throw new Error(`The Go module proxy serves no k8s.io/kubernetes v${MINOR}.x.`);
    return ours[ours.length - 1]!;
  } catch (err) {
    console.warn(`Could not list versions (${(err as Error).message.split('\n')[0]}); trying ${PREFERRED}.`);
    return PREFERRED;
  }
}

async function downloadSpec(): Promise<{ path: string; version: string }> {
  const version = await pickVersion();
  console.log(`go mod download k8s.io/kubernetes@${version} …`);
  const { stdout } = await run('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${version}`], {
    env: goEnv(),
    timeout: 20 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download failed: ${info.Error ?? stdout}`);
  return { path: join(info.Dir, 'api/openapi-spec/swagger.json'), version };
}

function apiVersion(g: Gvk): string {
  return g.group ? `${g.group}/${g.version}` : g.version;
}

/** Rewrites one swagger definition into what monaco-yaml validates well. */
function convert(node: Json, name?: string): Json {
  if (Array.isArray(node)) return node.map((n) => convert(n));
  if (!node || typeof node !== 'object') return node;
  const o = node as Obj;
  if (o.format === 'int-or-string' || name === 'io.k8s.apimachinery.pkg.util.intstr.IntOrString') {
    return { description: o.description ?? '', anyOf: [{ type: 'integer' }, { type: 'string' }] };
  }
  if (name === 'io.k8s.apimachinery.pkg.api.resource.Quantity') {
    return { description: o.description ?? '', anyOf: [{ type: 'string' }, { type: 'number' }] };
  }
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (k.startsWith('x-kubernetes-') || k === 'format') continue;
    if (k === 'properties' && v && typeof v === 'object' && !Array.isArray(v)) {
      const props: Obj = {};
      for (const [pk, pv] of Object.entries(v)) props[pk] = convert(pv);
      out[k] = props;
    } else {
      out[k] = convert(v);
    }
  }
  // `$ref` with siblings is ignored by draft-07; keep the description by wrapping.
  if (typeof out.$ref === 'string' && Object.keys(out).length > 1) {
    const { $ref, ...rest } = out;
    return { ...rest, allOf: [{ $ref }] };
  }
  if (out.properties && out.additionalProperties === undefined && !o['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

function refsIn(node: Json, into: Set<string>): void {
  if (Array.isArray(node)) node.forEach((n) => refsIn(n, into));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') into.add(v.replace('#/definitions/', ''));
      else refsIn(v, into);
    }
  }
}

async function main(): Promise<void> {
  const source = values.spec ? { path: values.spec, version: 'local file' } : await downloadSpec();
  const spec = JSON.parse(await readFile(source.path, 'utf8')) as { info?: { version?: string }; definitions: Record<string, Obj> };
  const defs = spec.definitions;

  const kinds: { name: string; gvk: Gvk }[] = [];
  for (const [name, def] of Object.entries(defs)) {
    const gvks = (def['x-kubernetes-group-version-kind'] as Gvk[] | undefined) ?? [];
    if (gvks.length !== 1 || name.startsWith('io.k8s.apimachinery.')) continue; // meta types (DeleteOptions, WatchEvent…)
    const gvk = gvks[0]!;
    if (gvk.kind.endsWith('List')) continue;
    kinds.push({ name, gvk });
  }
  kinds.sort((a, b) => apiVersion(a.gvk).localeCompare(apiVersion(b.gvk)) || a.gvk.kind.localeCompare(b.gvk.kind));

  // Only definitions reachable from the kinds.
  const keep = new Set<string>();
  const queue = kinds.map((k) => k.name);
  while (queue.length) {
    const n = queue.pop()!;
    if (keep.has(n) || !defs[n]) continue;
    keep.add(n);
    const found = new Set<string>();
    refsIn(defs[n] as Json, found);
    queue.push(...found);
  }
  const definitions: Obj = {};
  for (const n of [...keep].sort()) definitions[n] = convert(defs[n] as Json, n);
  for (const { name, gvk } of kinds) {
    const d = definitions[name] as Obj;
    const props = d.properties as Obj;
    props.apiVersion = { ...(props.apiVersion as Obj), const: apiVersion(gvk) };
    props.kind = { ...(props.kind as Obj), const: gvk.kind };
  }

  const schema: Obj = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $comment: `Generated by scripts/gen-k8s-schema.ts from k8s.io/kubernetes ${source.version} (api/openapi-spec/swagger.json, ${spec.info?.version ?? ''}).`,
    title: `Kubernetes ${MINOR} object`,
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { type: 'string', description: 'API group and version, e.g. v1 or apps/v1.', examples: [...new Set(kinds.map((k) => apiVersion(k.gvk)))] },
      kind: { type: 'string', description: 'Object kind, e.g. Service or Deployment.', examples: [...new Set(kinds.map((k) => k.gvk.kind))].sort() },
    },
    allOf: kinds.map(({ name, gvk }) => ({
      if: { properties: { apiVersion: { const: apiVersion(gvk) }, kind: { const: gvk.kind } }, required: ['apiVersion', 'kind'] },
      then: { $ref: `#/definitions/${name}` },
    })),
    definitions,
  };
  const out = values.out ?? OUT;
  await mkdir(dirname(out), { recursive: true });
  const text = JSON.stringify(schema);
  await writeFile(out, text + '\n');
  console.log(`${out}: ${kinds.length} kinds, ${keep.size} definitions, ${(text.length / 1024).toFixed(0)} KiB (from ${source.version})`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
