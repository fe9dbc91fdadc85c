// `svclab import killercoda DIR`: a Killercoda scenario (index.json, step markdown,
// verify.sh, background.sh) as an svclab lab skeleton that lints:
//   - each step's verify.sh becomes a `command` check (exit 0 passes), run in the
//     workstation as the learner instead of on Killercoda's host as root;
//   - the background scripts' manifests (`kubectl apply -f - <<EOF … EOF`, or
//     `kubectl apply -f FILE` of a file in the scenario) become setup.manifests;
//     anything else in them is listed as not translated (svclab's setup is manifests);
//   - the intro, step texts and finish become an English lesson;
//   - Killercoda has no solutions: each step gets one that fails saying so, so
//     `svclab validate` reports "step N has no solution" instead of passing.
import { copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { RunnerError } from '../errors.ts';
import { labIdPattern } from '../labs/lab-schema.ts';

const fileRef = z.string().min(1);
const indexSchema = z.object({
  title: z.string().min(1),
  description: z.string().optional(),
  details: z.object({
    intro: z.object({ text: fileRef.optional(), background: fileRef.optional(), foreground: fileRef.optional() }).optional(),
    steps: z.array(z.object({ title: z.string().min(1), text: fileRef.optional(), verify: fileRef.optional(), background: fileRef.optional(), foreground: fileRef.optional() })).min(1),
    finish: z.object({ text: fileRef.optional() }).optional(),
  }),
});
export type KillercodaIndex = z.infer<typeof indexSchema>;

export interface ImportOptions {
  /** The scenario folder (holds index.json). */
  scenarioDir: string;
  /** The folder that gets the lab folder (svclab's labs/ or a course directory). */
  labsDir: string;
  /** NN-name; by default the next free number in labsDir and the scenario's title. */
  id?: string;
  lessons: { kind: 'site'; enDir: string } | { kind: 'in-lab' };
  schemaFile: string;
}

export interface ImportResult {
  id: string;
  dir: string;
  files: string[];
  /** What the author still has to do, one line each. */
  todo: string[];
}

function fail(message: string, hint: string): never {
  throw new RunnerError('INVALID_ARGUMENT', { message, hint });
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** A path the scenario names, inside the scenario folder. */
function inside(dir: string, rel: string, field: string): string {
  const abs = path.resolve(dir, rel);
  if (abs !== dir && !abs.startsWith(`${dir}${path.sep}`)) fail(`index.json ${field}: "${rel}" points outside the scenario folder.`, 'Killercoda paths are relative to the folder holding index.json.');
  return abs;
}

async function readRef(dir: string, rel: string | undefined, field: string): Promise<string | undefined> {
  if (rel === undefined) return undefined;
  const abs = inside(dir, rel, field);
  return readFile(abs, 'utf8').catch(() => fail(`index.json ${field} names ${rel}, which is not in ${dir}.`, 'Add the file, or remove the field from index.json.'));
}

export function slug(title: string): string {
  return title.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '') || 'imported';
}

/** Killercoda's markdown extras: `{{exec}}`/`{{copy}}` after code blocks and inline code. */
export function lessonMarkdown(text: string): string {
  return text.replace(/(```|`)\{\{(exec|execute|copy)(\s+[^}]*)?\}\}/g, '$1').trim();
}

export interface BackgroundTranslation {
  /** Manifest texts found, in order. */
  manifests: { text: string; from: string }[];
  /** Script lines svclab's setup can't run (it applies manifests only). */
  untranslated: string[];
}

const NOISE = /^\s*(#.*|set\s+-[a-z]+.*|sleep\s+\d+\s*|)$/;

/** The manifests a background script applies, and the lines left over. */
export async function translateBackground(script: string, name: string, scenarioDir: string): Promise<BackgroundTranslation> {
  const lines = script.split('\n');
  const out: BackgroundTranslation = { manifests: [], untranslated: [] };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // kubectl apply|create -f - <<EOF … EOF, or cat <<EOF | kubectl apply -f -
    const heredoc = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(line);
    if (heredoc && /\bkubectl\s+(apply|create)\b.*-f\s*-/.test(line)) {
      const end = lines.findIndex((l, j) => j > i && l.trim() === heredoc[2]);
      if (end > i) {
        out.manifests.push({ text: `${lines.slice(i + 1, end).join('\n')}\n`, from: `${name} lines ${i + 1}–${end + 1}` });
        i = end;
        continue;
      }
    }
    const file = /^\s*kubectl\s+(?:apply|create)\s+-f\s+(\S+\.ya?ml)\s*$/.exec(line);
    if (file) {
      const found = await findInScenario(scenarioDir, path.basename(file[1]!));
      if (found) {
        out.manifests.push({ text: await readFile(found, 'utf8'), from: `${name} line ${i + 1} (${path.relative(scenarioDir, found)})` });
        continue;
      }
    }
    if (i === 0 && line.startsWith('#!')) continue;
    if (NOISE.test(line)) continue;
    out.untranslated.push(`${name}:${i + 1}: ${line.trim()}`);
  }
  return out;
}

async function findInScenario(dir: string, base: string): Promise<string | undefined> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isFile() && e.name === base) return p;
    if (e.isDirectory()) {
      const f = await findInScenario(p, base);
      if (f) return f;
    }
  }
  return undefined;
}

/** The solution an imported step gets: it fails, saying the step has none (on Solve, and in validate). */
export function placeholderSolution(n: number, stepId: string): string[] {
  return ['sh', '-c', `echo "step ${n} (${stepId}) has no solution yet: the lab was imported from Killercoda; write steps[${n - 1}].solution in lab.yaml" >&2; exit 1`];
}

const PLACEHOLDER = /^echo "step \d+ \([a-z0-9-]+\) has no solution yet: the lab was imported from Killercoda; write steps\[\d+\]\.solution in lab\.yaml" >&2; exit 1$/;

/** Is this step's solution still the placeholder `svclab import killercoda` wrote? */
export function hasPlaceholderSolution(step: { solution: { manifests?: readonly string[] | undefined; commands?: readonly (readonly string[])[] | undefined } }): boolean {
  const { manifests = [], commands = [] } = step.solution;
  const [only] = commands;
  return manifests.length === 0 && commands.length === 1 && only?.length === 3 && only[0] === 'sh' && only[1] === '-c' && PLACEHOLDER.test(only[2]!);
}

/** Steps (of these labs) whose solution is still the import's placeholder, with where to write one. */
export function missingSolutions(labs: readonly { id: string; file: string; steps: readonly ({ id: string } & Parameters<typeof hasPlaceholderSolution>[0])[] }[]): { lab: string; step: string; where: string }[] {
  return labs.flatMap((l) => l.steps.flatMap((s, i) => (hasPlaceholderSolution(s) ? [{ lab: l.id, step: s.id, where: `${l.file}: steps[${i}].solution` }] : [])));
}

async function nextId(labsDir: string, title: string): Promise<string> {
  const used = (await readdir(labsDir).catch(() => [] as string[])).map((n) => /^(\d\d)-/.exec(n)?.[1]).filter(Boolean).map(Number);
  const n = used.length ? Math.max(...used) + 1 : 1;
  if (n > 99) fail(`${labsDir} has no free lab number left.`, 'Pass --id NN-name.');
  return `${String(n).padStart(2, '0')}-${slug(title)}`;
}

export async function importKillercoda(opts: ImportOptions): Promise<ImportResult> {
  const scenarioDir = path.resolve(opts.scenarioDir);
  const indexText = await readFile(path.join(scenarioDir, 'index.json'), 'utf8').catch(() =>
    fail(`${scenarioDir} has no index.json, so it is not a Killercoda scenario.`, 'Pass the folder that holds index.json (one scenario, not the repository root).'));
  let json: unknown;
  try {
    json = JSON.parse(indexText);
  } catch (e) {
    fail(`${path.join(scenarioDir, 'index.json')} is not JSON: ${(e as Error).message}`, 'Fix the file so that `jq . index.json` reads it.');
  }
  const parsed = indexSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    fail(`${path.join(scenarioDir, 'index.json')}: ${i.path.join('.') || '(top)'}: ${i.message}`, 'A scenario needs "title" and details.steps[] with a "title" each.');
  }
  const index = parsed.data;
  if (!(await exists(opts.labsDir))) fail(`The labs folder ${opts.labsDir} does not exist.`, `Create it first (mkdir -p ${opts.labsDir}), or pass --out DIR.`);
  const id = opts.id ?? (await nextId(opts.labsDir, index.title));
  if (!labIdPattern.test(id)) fail(`"${id}" is not a lab name: a lab is named NN-name (two digits, a dash, then lower-case letters, digits and dashes).`, 'Example: --id 20-services-from-killercoda');
  const dir = path.join(opts.labsDir, id);
  const lessonFile = opts.lessons.kind === 'site' ? path.join(opts.lessons.enDir, `${id}.md`) : path.join(dir, 'README.md');
  for (const taken of [dir, lessonFile]) if (await exists(taken)) fail(`${taken} already exists; import never overwrites a lab or a lesson.`, 'Pass another --id, or remove it first.');

  const todo: string[] = [];
  const files: Record<string, string> = {};
  const copies: [string, string][] = [];

  // Setup: the intro's background, then each step's (Killercoda runs those when the step starts).
  const backgrounds = [
    { rel: index.details.intro?.background, field: 'details.intro.background' },
    ...index.details.steps.map((s, i) => ({ rel: s.background, field: `details.steps[${i}].background` })),
  ];
  const manifests: string[] = [];
  for (const b of backgrounds) {
    const text = await readRef(scenarioDir, b.rel, b.field);
    if (text === undefined || b.rel === undefined) continue;
    copies.push([inside(scenarioDir, b.rel, b.field), path.join(dir, 'killercoda', b.rel)]);
    const t = await translateBackground(text, b.rel, scenarioDir);
    for (const m of t.manifests) {
      const rel = `manifests/setup-${manifests.length + 1}.yaml`;
      manifests.push(rel);
      files[path.join(dir, rel)] = `# From the Killercoda scenario: ${m.from}.\n${m.text}`;
      for (const image of new Set([...m.text.matchAll(/^\s*-?\s*image:\s*["']?([^\s"']+)/gm)].map((x) => x[1]!))) {
        if (!image.startsWith('svclab/')) todo.push(`${rel} runs image ${image}; svclab clusters pull nothing: use svclab/web:latest with imagePullPolicy: Never, or add an image recipe.`);
      }
    }
    if (b.field !== 'details.intro.background' && t.manifests.length) todo.push(`${b.rel}: Killercoda applies it when its step starts; svclab applies ${t.manifests.length} manifest(s) from it at setup. Check that this is early enough.`);
    for (const u of t.untranslated) todo.push(`not translated (svclab's setup applies manifests only): ${u}`);
  }
  for (const s of index.details.steps) if (s.foreground) todo.push(`${s.foreground}: foreground scripts run in the learner's terminal on Killercoda; svclab has none. Fold it into the lesson text.`);

  const steps = [];
  const lesson: string[] = [];
  const intro = await readRef(scenarioDir, index.details.intro?.text, 'details.intro.text');
  if (intro) lesson.push(lessonMarkdown(intro));
  for (const [i, s] of index.details.steps.entries()) {
    const n = i + 1;
    const field = `details.steps[${i}]`;
    const stepId = `step-${n}`;
    const verify = await readRef(scenarioDir, s.verify, `${field}.verify`);
    const text = await readRef(scenarioDir, s.text, `${field}.text`);
    lesson.push(`## Step ${n}: ${s.title}\n\n${text ? lessonMarkdown(text) : ''}`.trimEnd());
    const shell = verify && /^#!.*\bbash\b/.test(verify) ? 'bash' : 'sh';
    if (!verify) todo.push(`step ${n} (${stepId}) has no check: Killercoda's step has no verify script. Write one in lab.yaml.`);
    todo.push(`step ${n} (${stepId}) has no solution: write steps[${i}].solution (manifests or commands) so \`svclab validate\` can prove its check passes.`);
    steps.push({
      id: stepId,
      title: { en: s.title, zh: `${s.title}（待翻译）` },
      checks: [{
        id: 'verify',
        kind: 'command',
        description: verify
          ? { en: `Step ${n}'s verify.sh from the Killercoda scenario exits 0`, zh: `第 ${n} 步来自 Killercoda 的 verify.sh 以 0 退出` }
          : { en: `Step ${n} has no check yet`, zh: `第 ${n} 步还没有检查` },
        // Killercoda ran it on the host as root; here it runs in the workstation as the learner.
        argv: verify ? [shell, '-c', verify] : ['sh', '-c', `echo "step ${n} has no check yet: the Killercoda step had no verify script"; exit 1`],
        deadlineSeconds: 30,
        intervalSeconds: 3,
      }],
      hints: [{ en: `Follow step ${n} of the lesson; the check passes when it is done.`, zh: `按课文第 ${n} 步操作；完成后检查即可通过。` }],
      solution: {
        // Killercoda scenarios carry no solutions: this one fails and says so, in validate and on Solve.
        commands: [placeholderSolution(n, stepId)],
      },
    });
  }
  const finish = await readRef(scenarioDir, index.details.finish?.text, 'details.finish.text');
  if (finish) lesson.push(`## Finish\n\n${lessonMarkdown(finish)}`);

  const lab = {
    id,
    title: { en: index.title, zh: `${index.title}（待翻译）` },
    summary: { en: index.description?.trim() || index.title, zh: `${index.description?.trim() || index.title}（待翻译）` },
    setup: { manifests },
    steps,
  };
  const schemaRef = path.relative(dir, opts.schemaFile).split(path.sep).join('/');
  files[path.join(dir, 'lab.yaml')] = `# yaml-language-server: $schema=${schemaRef}
# Imported from the Killercoda scenario "${index.title}" by \`svclab import killercoda\`.
# Still to do: a solution per step (each fails saying so until written), the Chinese texts
# marked （待翻译）, and what \`svclab import\` listed as not translated.
${stringify(lab, { lineWidth: 0 })}`;
  files[lessonFile] = `---
title: ${JSON.stringify(index.title)}
description: ${JSON.stringify(index.description?.trim() || index.title)}
lab: ${id}
tableOfContents: false
---

${lesson.join('\n\n')}
`;
  todo.push('the Chinese title, summary and step titles are marked （待翻译）, and there is no Chinese lesson yet.');

  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text, { flag: 'wx' });
  }
  for (const [from, to] of copies) {
    await mkdir(path.dirname(to), { recursive: true });
    await copyFile(from, to);
  }
  return { id, dir, files: [...Object.keys(files), ...copies.map(([, to]) => to)], todo };
}
