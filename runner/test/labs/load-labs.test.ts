import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatLabError, lintLabs, loadLab, loadLabs, publicLab, runLabsLint, stepHint } from '../../src/labs/load-labs.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ID = '02-selectors-and-endpoints';
const FILE = `labs/${ID}/lab.yaml`;

// A valid lab; tests break one line of it. Line numbers below refer to this text.
const VALID = `id: ${ID}
title: { en: Selectors, zh: 选择器 }
summary: { en: A summary, zh: 摘要 }
setup:
  manifests: [manifests/service.yaml]
steps:
  - id: observe
    title: { en: Observe, zh: 观察 }
    checks:
      - id: no-endpoints
        kind: command
        description: { en: No endpoints, zh: 没有 endpoint }
        argv: [sh, -c, 'exit 0']
        deadlineSeconds: 10
        intervalSeconds: 2
        hint: { en: Look, zh: 看一看 }
    hints:
      - { en: First hint, zh: 第一条提示 }
    solution:
      commands: [[kubectl, get, svc]]
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata: { name: nginx }
spec: { ports: [{ port: 80 }] }
`;

let root: string;

async function writeLab(labYaml: string, files: Record<string, string> = { 'manifests/service.yaml': SERVICE }, id = ID): Promise<void> {
  const dir = path.join(root, 'labs', id);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'lab.yaml'), labYaml);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
}

/** The formatted errors of loading the lab in `root`. */
async function errorsOf(labYaml: string, files?: Record<string, string>): Promise<string[]> {
  await writeLab(labYaml, files);
  const r = await loadLab(root, ID);
  if (r.status !== 'invalid') throw new Error(`expected invalid, got ${r.status}`);
  return r.errors.map(formatLabError);
}

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'svclab-labs-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('lab.yaml schema errors name file:line:column, the field and what was expected', () => {
  it('accepts the valid fixture', async () => {
    await writeLab(VALID);
    const r = await loadLab(root, ID);
    expect(r.status).toBe('ok');
  });

  it('deadline 0', async () => {
    const errors = await errorsOf(VALID.replace('deadlineSeconds: 10', 'deadlineSeconds: 0'));
    expect(errors).toEqual([`${FILE}:14:26 steps[0].checks[0].deadlineSeconds: expected a number > 0, got 0`]);
  });

  it('deadline over 300 and an interval longer than the deadline', async () => {
    expect(await errorsOf(VALID.replace('deadlineSeconds: 10', 'deadlineSeconds: 301'))).toEqual([
      `${FILE}:14:26 steps[0].checks[0].deadlineSeconds: expected a number ≤ 300, got 301`,
    ]);
    expect(await errorsOf(VALID.replace('intervalSeconds: 2', 'intervalSeconds: 20'))).toEqual([
      `${FILE}:15:26 steps[0].checks[0].intervalSeconds: expected a number ≤ deadlineSeconds (10), got 20`,
    ]);
  });

  it('wrong type', async () => {
    expect(await errorsOf(VALID.replace('deadlineSeconds: 10', 'deadlineSeconds: ten'))).toEqual([
      `${FILE}:14:26 steps[0].checks[0].deadlineSeconds: expected a number, got "ten"`,
    ]);
    expect(await errorsOf(VALID.replace('title: { en: Selectors, zh: 选择器 }', 'title: Selectors'))).toEqual([
      `${FILE}:2:8 title: expected a map of fields, got "Selectors"`,
    ]);
    expect(await errorsOf(VALID.replace("argv: [sh, -c, 'exit 0']", 'argv: sh -c true'))).toEqual([
      `${FILE}:13:15 steps[0].checks[0].argv: expected a list, got "sh -c true"`,
    ]);
  });

  it('unknown field, pointing at the key and listing the allowed ones', async () => {
    const errors = await errorsOf(VALID.replace('        deadlineSeconds: 10', '        deadline: 10\n        deadlineSeconds: 10'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^${FILE}:14:9 steps\\[0\\]\\.checks\\[0\\]\\.deadline: unknown field "deadline"; allowed fields: id, description, deadlineSeconds, intervalSeconds, hint, kind, argv, expectExit, failures$`));
  });

  it('missing required field, placed on the map that lacks it', async () => {
    const errors = await errorsOf(VALID.replace('        intervalSeconds: 2\n', ''));
    expect(errors).toEqual([`${FILE}:10:9 steps[0].checks[0].intervalSeconds: missing required field; expected a number`]);
  });

  it('unknown check kind, listing the kinds there are', async () => {
    expect(await errorsOf(VALID.replace('kind: command', 'kind: bogus'))).toEqual([
      `${FILE}:11:15 steps[0].checks[0].kind: expected one of command, resource, selector, endpoints, http, dns, tls, proxy-rules, observed-command, gateway-status, got "bogus"`,
    ]);
  });

  it('bad enum value', async () => {
    expect(await errorsOf(VALID.replace('setup:', 'proxyMode: ipvs\nsetup:'))).toEqual([
      `${FILE}:4:12 proxyMode: expected one of "iptables", "nftables", got "ipvs"`,
    ]);
  });

  it('duplicate key (a YAML error, same precision)', async () => {
    const errors = await errorsOf(VALID.replace('        kind: command\n', '        kind: command\n        kind: command\n'));
    expect(errors).toEqual([`${FILE}:12:9 steps[0].checks[0].kind: the key "kind" appears twice in the same map; YAML keys must be unique, keep one`]);
  });

  it('tab indentation (a YAML error, same precision)', async () => {
    const errors = await errorsOf(VALID.replace('    hints:\n      - {', '    hints:\n\t- {'));
    expect(errors).toEqual([`${FILE}:18:1 steps[0].hints: a tab is used for indentation; YAML allows only spaces there`]);
  });

  it('a value with ": " in it gets an explanation, not the parser\'s jargon', async () => {
    const errors = await errorsOf(VALID.replace('{ en: Look, zh: 看一看 }', '\n          en: Look: here\n          zh: 看'));
    expect(errors).toEqual([`${FILE}:17:15 steps[0].checks[0].hint.en: this value contains ": " so YAML reads it as another key; put the text in quotes or use a ">-" block`]);
  });

  it('id must equal the folder name', async () => {
    expect(await errorsOf(VALID.replace(`id: ${ID}`, 'id: 03-other'))).toEqual([`${FILE}:1:5 id: expected "${ID}" (the folder name), got "03-other"`]);
  });

  it('duplicate step ids', async () => {
    const step = VALID.slice(VALID.indexOf('  - id: observe'));
    expect(await errorsOf(VALID + step)).toEqual([`${FILE}:21:9 steps[1].id: expected a step id not used before in this lab, got "observe"`]);
  });

  it('solution must do something, and paths stay inside the lab folder', async () => {
    expect(await errorsOf(VALID.replace('      commands: [[kubectl, get, svc]]', '      commands: []'))).toEqual([
      `${FILE}:20:7 steps[0].solution: expected at least one of manifests or commands, got a map`,
    ]);
    expect(await errorsOf(VALID.replace('[manifests/service.yaml]', '[../../etc/passwd.yaml]'))).toEqual([
      `${FILE}:5:15 setup.manifests[0]: expected a path relative to the lab folder, with forward slashes and no ".." (like "manifests/service.yaml"), got "../../etc/passwd.yaml"`,
    ]);
  });

  it('a referenced file that does not exist', async () => {
    expect(await errorsOf(VALID, {})).toEqual([
      `${FILE}:5:15 setup.manifests[0]: expected an existing file in labs/${ID}/, got "manifests/service.yaml" which does not exist`,
    ]);
  });

  it('reports every problem at once, in line order', async () => {
    const errors = await errorsOf(VALID.replace('deadlineSeconds: 10', 'deadlineSeconds: 0').replace('title: { en: Selectors, zh: 选择器 }', 'title: { en: Selectors }'));
    expect(errors.map((e) => e.split(' ')[0])).toEqual([`${FILE}:2:8`, `${FILE}:14:26`]);
    expect(errors[0]).toContain('title.zh: missing required field; expected text');
  });
});

describe('loading', () => {
  it('an unknown or malformed id is "unknown", never a path outside labs/', async () => {
    await writeLab(VALID);
    expect((await loadLab(root, '99-nothing')).status).toBe('unknown');
    expect((await loadLab(root, '../etc')).status).toBe('unknown');
  });

  it('loadLabs keeps valid labs and explains the others', async () => {
    await writeLab(VALID);
    await writeLab(VALID.replace(`id: ${ID}`, 'id: 03-broken').replace('deadlineSeconds: 10', 'deadlineSeconds: 0'), undefined, '03-broken');
    await mkdir(path.join(root, 'labs', 'not-a-lab'));
    const { labs, errors } = await loadLabs(root);
    expect(labs.map((l) => l.id)).toEqual([ID]);
    expect(errors.map(formatLabError)).toEqual([
      'labs/03-broken/lab.yaml:14:26 steps[0].checks[0].deadlineSeconds: expected a number > 0, got 0',
      'labs/not-a-lab/ a lab folder name must be NN-name, like 02-selectors-and-endpoints',
    ]);
  });
});

describe('lint', () => {
  it('manifests must parse and have apiVersion and kind', async () => {
    await writeLab(VALID, { 'manifests/service.yaml': 'apiVersion: v1\nmetadata: {}\n---\nkind: [\n' });
    const errors = (await lintLabs(root)).map(formatLabError);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBe(`labs/${ID}/manifests/service.yaml:1:1 kind: document 1: expected kind as text, got nothing (the field is missing)`);
    expect(errors[1]).toMatch(new RegExp(`^labs/${ID}/manifests/service\\.yaml:\\d+:\\d+ .*document 2: `));
  });

  it('each check needs a hint: on the check or in the step', async () => {
    const noHints = VALID.replace('        hint: { en: Look, zh: 看一看 }\n', '').replace('    hints:\n      - { en: First hint, zh: 第一条提示 }\n', '');
    await writeLab(noHints);
    expect((await lintLabs(root)).map(formatLabError)).toEqual([
      `${FILE}:10:9 steps[0].checks[0]: expected a hint: give the check a \`hint\`, or the step \`hints\``,
    ]);
  });

  it('runLabsLint sums up', async () => {
    await writeLab(VALID);
    expect(await runLabsLint(root)).toEqual({ ok: true, errors: [], lines: [], labs: [ID] });
  });
});

describe('the real labs', () => {
  it(`${ID} loads and lints clean`, async () => {
    const lint = await runLabsLint(repoRoot);
    expect(lint.lines).toEqual([]);
    expect(lint.ok).toBe(true);
    const r = await loadLab(repoRoot, ID);
    if (r.status !== 'ok') throw new Error(JSON.stringify(r));
    expect(r.lab.steps.map((s) => s.id)).toEqual(['observe', 'label-the-pods', 'reach-the-service']);
  });

  it('the public view has the editor YAML, check descriptions and hint counts, and no solutions or commands', async () => {
    const r = await loadLab(repoRoot, ID);
    if (r.status !== 'ok') throw new Error(r.status);
    const view = publicLab(r.lab);
    const json = JSON.stringify(view);
    expect(json).not.toContain('solution');
    expect(json).not.toContain('argv');
    expect(json).not.toContain('kubectl --request-timeout');
    const step2 = view.steps[1]!;
    expect(step2.editor?.file).toBe('manifests/deployment.yaml');
    expect(step2.editor?.text).toContain('image: svclab/web:latest');
    expect(step2.checks).toEqual([{ id: 'three-ready-endpoints', kind: 'command', description: expect.objectContaining({ en: expect.any(String), zh: expect.any(String) }) }]);
    expect(step2.hintCount).toBe(3);
    expect(stepHint(r.lab, 'label-the-pods', 0)?.en).toContain('role=logstor');
    expect(stepHint(r.lab, 'label-the-pods', 9)).toBeUndefined();
  });
});
