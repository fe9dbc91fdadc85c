// Loads labs/NN-name/lab.yaml files. User mistakes come back as LabError lists
// (file:line:column, field path, what was expected); only bugs throw.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseAllDocuments, parseDocument, isMap, isScalar, visit, type Document } from 'yaml';
import { formatLabError, formatPath, yamlErrorsToLabErrors, YamlLocator, zodIssuesToLabErrors, type LabError, type YamlPath } from './lab-error.ts';
import { labIdPattern, labSchema, type Check, type LabSpec, type Localized, type StepSpec } from './lab-schema.ts';
import { servicesNamed } from '../checks/registry.ts';

export type { LabError } from './lab-error.ts';
export { formatLabError } from './lab-error.ts';

export type LabStep = StepSpec & {
  /** The text of `editor.file`, read when the lab loads. */
  editorText?: string;
};

export type Lab = Omit<LabSpec, 'steps'> & {
  steps: LabStep[];
  /** Absolute path of the lab folder; manifest paths are relative to it. */
  dir: string;
  /** lab.yaml relative to the root, for messages. */
  file: string;
};

export type LabLoad =
  | { status: 'ok'; lab: Lab }
  | { status: 'invalid'; errors: LabError[] }
  | { status: 'unknown' };

/**
 * Where labs live: `root/dir/NN-name/lab.yaml`. svclab's own are `projectRoot/labs`;
 * `--labs DIR` names any course folder (messages then start with DIR's own name).
 */
export interface LabsLocation {
  root: string;
  dir: string;
}

/** A course folder from the command line (`--labs DIR`), or svclab's own labs. */
export function labsLocation(projectRoot: string, labsArg?: string): LabsLocation {
  if (labsArg === undefined) return { root: projectRoot, dir: 'labs' };
  const abs = path.resolve(labsArg);
  return { root: path.dirname(abs), dir: path.basename(abs) };
}

function at(where: string | LabsLocation): LabsLocation {
  return typeof where === 'string' ? { root: where, dir: 'labs' } : where;
}

function labFile(loc: LabsLocation, id: string): string {
  return `${loc.dir}/${id}/lab.yaml`;
}

/** Every lab under root/labs; invalid ones are left out of `labs` and explained in `errors`. */
export async function loadLabs(where: string | LabsLocation): Promise<{ labs: Lab[]; errors: LabError[] }> {
  const loc = at(where);
  const { root } = loc;
  const LABS_DIR = loc.dir;
  const labs: Lab[] = [];
  const errors: LabError[] = [];
  let entries: string[];
  try {
    entries = (await readdir(path.join(root, LABS_DIR), { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !e.name.startsWith('_'))
      .map((e) => e.name)
      .sort();
  } catch {
    return { labs, errors: [{ file: `${LABS_DIR}/`, line: 0, column: 0, path: '', message: 'the labs folder is missing' }] };
  }
  for (const name of entries) {
    if (!labIdPattern.test(name)) {
      errors.push({ file: `${LABS_DIR}/${name}/`, line: 0, column: 0, path: '', message: 'a lab folder name must be NN-name, like 02-selectors-and-endpoints' });
      continue;
    }
    const result = await loadLabFile(loc, name);
    if (result.status === 'ok') labs.push(result.lab);
    else if (result.status === 'invalid') errors.push(...result.errors);
    else errors.push({ file: labFile(loc, name), line: 0, column: 0, path: '', message: 'the lab folder has no lab.yaml' });
  }
  return { labs, errors };
}

/** One lab by id; `unknown` when there is no such folder (ids are never used as raw paths). */
export async function loadLab(where: string | LabsLocation, id: string): Promise<LabLoad> {
  if (!labIdPattern.test(id)) return { status: 'unknown' };
  return loadLabFile(at(where), id);
}

async function loadLabFile(loc: LabsLocation, id: string): Promise<LabLoad> {
  const LABS_DIR = loc.dir;
  const file = labFile(loc, id);
  const dir = path.join(loc.root, LABS_DIR, id);
  let source: string;
  try {
    source = await readFile(path.join(dir, 'lab.yaml'), 'utf8');
  } catch {
    return { status: 'unknown' };
  }

  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locator = new YamlLocator(file, doc, lineCounter);
  if (doc.errors.length > 0) {
    return { status: 'invalid', errors: yamlErrorsToLabErrors(doc.errors, source, locator) };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // An alias to a missing anchor, or aliases that expand exponentially ("billion laughs").
    return { status: 'invalid', errors: [locator.error(firstAliasOffset(doc), [], `expected YAML without alias tricks, got: ${(e as Error).message}`)] };
  }
  const parsed = labSchema.safeParse(data);
  if (!parsed.success) {
    return { status: 'invalid', errors: sortErrors(zodIssuesToLabErrors(parsed.error.issues, data, locator)) };
  }
  const spec = parsed.data;
  const errors: LabError[] = [];
  if (spec.id !== id) {
    const at = locator.locate(['id']);
    errors.push(locator.error(at.offset, ['id'], `expected "${id}" (the folder name), got "${spec.id}"`));
  }

  // Referenced files must exist, each error placed on the path that names the file.
  for (const { path: yamlPath, rel } of referencedFiles(spec)) {
    if (!(await isFile(path.join(dir, rel)))) {
      const at = locator.locate(yamlPath);
      errors.push(locator.error(at.offset, yamlPath, `expected an existing file in ${LABS_DIR}/${id}/, got "${rel}" which does not exist`));
    }
  }
  if (errors.length > 0) return { status: 'invalid', errors: sortErrors(errors) };

  const steps: LabStep[] = [];
  for (const step of spec.steps) {
    const editorText = step.editor ? await readFile(path.join(dir, step.editor.file), 'utf8') : undefined;
    steps.push(editorText === undefined ? { ...step } : { ...step, editorText });
  }
  return { status: 'ok', lab: { ...spec, steps, dir, file } };
}

function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, { Alias(_key, node) { offset = node.range?.[0] ?? 0; return visit.BREAK; } });
  return offset;
}

/** Every file lab.yaml names, with the field path that names it. */
function referencedFiles(spec: LabSpec): { path: YamlPath; rel: string; manifest: boolean }[] {
  const refs: { path: YamlPath; rel: string; manifest: boolean }[] = [];
  spec.setup.manifests.forEach((rel, i) => refs.push({ path: ['setup', 'manifests', i], rel, manifest: true }));
  spec.steps.forEach((step, s) => {
    if (step.editor) refs.push({ path: ['steps', s, 'editor', 'file'], rel: step.editor.file, manifest: true });
    step.solution.manifests?.forEach((rel, i) => refs.push({ path: ['steps', s, 'solution', 'manifests', i], rel, manifest: true }));
  });
  return refs;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

function sortErrors(errors: LabError[]): LabError[] {
  return errors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/**
 * Static checks on every lab: the schema, referenced files exist, every manifest
 * parses as YAML with apiVersion and kind, each check has a hint.
 */
export async function lintLabs(where: string | LabsLocation): Promise<LabError[]> {
  return (await lintAll(at(where))).errors;
}

async function lintAll(loc: LabsLocation): Promise<{ labs: Lab[]; errors: LabError[] }> {
  const { labs, errors } = await loadLabs(loc);
  for (const lab of labs) errors.push(...(await lintLoadedLab(loc, lab)));
  return { labs, errors };
}

async function lintLoadedLab(loc: LabsLocation, lab: Lab): Promise<LabError[]> {
  const { root } = loc;
  const LABS_DIR = loc.dir;
  const errors: LabError[] = [];
  const seen = new Set<string>();
  for (const ref of referencedFiles(lab)) {
    if (!ref.manifest || seen.has(ref.rel)) continue;
    seen.add(ref.rel);
    errors.push(...(await lintManifest(path.join(lab.dir, ref.rel), `${LABS_DIR}/${lab.id}/${ref.rel}`)));
  }

  // A check on a Service nothing in the lab creates is almost always a typo.
  const created = await createdServices(lab);
  const solutionText = lab.steps.flatMap((st) => st.solution.commands ?? []).flat().join('\n');

  // Hints: a learner who fails a check must have somewhere to turn.
  const source = await readFile(path.join(root, lab.file), 'utf8');
  const lineCounter = new LineCounter();
  const locator = new YamlLocator(lab.file, parseDocument(source, { lineCounter }), lineCounter);
  lab.steps.forEach((step, s) => {
    step.checks.forEach((check: Check, c) => {
      for (const ref of servicesNamed(check)) {
        if (ref.namespace !== 'default' && !created.namespaces.has(ref.namespace)) continue; // the cluster's own (kube-system…)
        if (created.services.has(`${ref.namespace}/${ref.name}`) || new RegExp(`(^|[^a-z0-9-])${ref.name.replace(/\./g, '\\.')}([^a-z0-9-]|$)`).test(solutionText)) continue;
        const p = ['steps', s, 'checks', c, ...ref.path];
        errors.push(locator.error(locator.locate(p).offset, p, `expected a Service this lab creates (in a manifest or a solution command), got "${ref.name}" in namespace ${ref.namespace}, which nothing in the lab makes`));
      }
      if (!check.hint && step.hints.length === 0) {
        const p = ['steps', s, 'checks', c];
        errors.push(locator.error(locator.locate(p).offset, p, 'expected a hint: give the check a `hint`, or the step `hints`'));
      }
    });
  });
  return errors;
}

/** Services and Namespaces the lab's manifests (setup, editor files, solutions) define. */
async function createdServices(lab: Lab): Promise<{ services: Set<string>; namespaces: Set<string> }> {
  const services = new Set<string>();
  const namespaces = new Set<string>();
  for (const ref of referencedFiles(lab)) {
    if (!ref.manifest) continue;
    const text = await readFile(path.join(lab.dir, ref.rel), 'utf8').catch(() => '');
    for (const doc of parseAllDocuments(text)) {
      if (!('toJS' in doc) || doc.errors.length) continue;
      const items: unknown[] = [];
      let o: { kind?: unknown; items?: unknown[] } | null;
      try {
        o = doc.toJS({ maxAliasCount: 100 }) as typeof o;
      } catch {
        continue; // alias tricks: the manifest check reports this file
      }
      if (o && o.kind === 'List' && Array.isArray(o.items)) items.push(...o.items);
      else items.push(o);
      for (const it of items) {
        const obj = it as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
        const name = obj?.metadata?.name;
        if (typeof name !== 'string') continue;
        if (obj?.kind === 'Service') services.add(`${typeof obj.metadata?.namespace === 'string' ? obj.metadata.namespace : 'default'}/${name}`);
        if (obj?.kind === 'Namespace') namespaces.add(name);
      }
    }
  }
  return { services, namespaces };
}

async function lintManifest(abs: string, file: string): Promise<LabError[]> {
  const source = await readFile(abs, 'utf8');
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(docs)) return [{ file, line: 0, column: 0, path: '', message: 'expected at least one Kubernetes object, got an empty file' }];
  const errors: LabError[] = [];
  let objects = 0;
  docs.forEach((doc, d) => {
    const locator = new YamlLocator(file, doc, lineCounter);
    const prefix = docs.length > 1 ? `document ${d + 1}: ` : '';
    for (const err of yamlErrorsToLabErrors(doc.errors, source, locator)) errors.push({ ...err, message: prefix + err.message });
    if (doc.errors.length > 0 || doc.contents === null) return;
    const offset = doc.contents.range?.[0] ?? 0;
    if (!isMap(doc.contents)) {
      errors.push(locator.error(offset, [], `${prefix}expected a Kubernetes object (a map with apiVersion and kind)`));
      return;
    }
    objects++;
    for (const field of ['apiVersion', 'kind'] as const) {
      const value: unknown = doc.get(field, true);
      if (!isScalar(value) || typeof value.value !== 'string' || value.value === '') {
        const at = locator.locate([field]);
        errors.push(locator.error(at.offset, [field], `${prefix}expected ${field} as text, got ${value === undefined ? 'nothing (the field is missing)' : 'something else'}`));
      }
    }
  });
  if (objects === 0 && errors.length === 0) errors.push({ file, line: 0, column: 0, path: '', message: 'expected at least one Kubernetes object, got none' });
  return errors;
}

/**
 * For `svclab labs lint`: ok when there is nothing to report; `lines` are ready
 * to print; `labs` are the ids of the labs that loaded (lint problems or not).
 */
export async function runLabsLint(where: string | LabsLocation): Promise<{ ok: boolean; errors: LabError[]; lines: string[]; labs: string[] }> {
  const { labs, errors } = await lintAll(at(where));
  return { ok: errors.length === 0, errors, lines: errors.map(formatLabError), labs: labs.map((l) => l.id) };
}

/** A lab as listed by `GET /api/labs` and `svclab labs list`. */
export interface LabSummary {
  id: string;
  title: Localized;
  summary: Localized;
  steps: number;
}

export function labSummary(lab: Lab): LabSummary {
  return { id: lab.id, title: lab.title, summary: lab.summary, steps: lab.steps.length };
}

/** What the site may see of a lab (`GET /api/labs/:id`): never solutions, hint texts or check commands. */
export interface PublicLab {
  id: string;
  title: Localized;
  summary: Localized;
  proxyMode?: 'iptables' | 'nftables';
  steps: PublicStep[];
}

export interface PublicStep {
  id: string;
  title: Localized;
  editor?: { file: string; text: string };
  checks: { id: string; kind: Check['kind']; description: Localized }[];
  /** Hints are fetched one at a time (POST …/hint {index}); only their number is public. */
  hintCount: number;
}

export function publicLab(lab: Lab): PublicLab {
  const view: PublicLab = {
    id: lab.id,
    title: lab.title,
    summary: lab.summary,
    steps: lab.steps.map((step) => {
      const out: PublicStep = {
        id: step.id,
        title: step.title,
        checks: step.checks.map((c) => ({ id: c.id, kind: c.kind, description: c.description })),
        hintCount: step.hints.length,
      };
      if (step.editor && step.editorText !== undefined) out.editor = { file: step.editor.file, text: step.editorText };
      return out;
    }),
  };
  if (lab.proxyMode) view.proxyMode = lab.proxyMode;
  return view;
}

/** A step's hint by index (POST …/hint); undefined when the step has no such hint. */
export function stepHint(lab: Lab, stepId: string, index: number): Localized | undefined {
  return lab.steps.find((s) => s.id === stepId)?.hints[index];
}

/** Path of a lab field as printed in errors, exported for callers that add their own. */
export { formatPath };
