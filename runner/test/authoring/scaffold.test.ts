import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scaffoldLab, suggestId } from '../../src/authoring/scaffold.ts';
import { RunnerError } from '../../src/errors.ts';
import { runLabsLint } from '../../src/labs/load-labs.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'svclab-scaffold-'));
  await mkdir(path.join(root, 'labs'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const schemaFile = () => path.join(root, 'schemas', 'lab.schema.json');

async function rejected(p: Promise<unknown>): Promise<RunnerError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(RunnerError);
  return e as RunnerError;
}

describe('svclab new lab', () => {
  it('makes a course-directory lab that lints, with the lessons inside the lab folder', async () => {
    const r = await scaffoldLab({ id: '13-hello-service', labsDir: path.join(root, 'labs'), lessons: { kind: 'in-lab' }, schemaFile: schemaFile() });
    expect((await readdir(r.dir)).sort()).toEqual(['README.md', 'README.zh-cn.md', 'lab.yaml', 'manifests', 'solution']);
    const lint = await runLabsLint(root);
    expect(lint.lines).toEqual([]);
    expect(lint.labs).toEqual(['13-hello-service']);

    const text = await readFile(path.join(r.dir, 'lab.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schemas/lab.schema.json');
    expect(await readFile(path.join(r.dir, 'README.zh-cn.md'), 'utf8')).toMatch(/^---\ntitle: "实验 13：/);
    expect(await readFile(path.join(r.dir, 'README.md'), 'utf8')).toMatch(/\nlab: 13-hello-service\n/);
  });

  it('has a check that fails on a fresh cluster: only the solution makes what it looks at', async () => {
    const r = await scaffoldLab({ id: '13-hello-service', labsDir: path.join(root, 'labs'), lessons: { kind: 'in-lab' }, schemaFile: schemaFile() });
    const lab = parse(await readFile(path.join(r.dir, 'lab.yaml'), 'utf8')) as {
      setup: { manifests: string[] };
      steps: { checks: { kind: string; service: string; minReady: number }[]; solution: { manifests: string[] } }[];
    };
    const services = async (files: string[]) => {
      const names: string[] = [];
      for (const f of files) {
        for (const d of parseAllDocuments(await readFile(path.join(r.dir, f), 'utf8'))) {
          const o = (d as { toJS(): { kind: string; metadata: { name: string } } }).toJS();
          if (o.kind === 'Service') names.push(o.metadata.name);
        }
      }
      return names;
    };
    const check = lab.steps[0]!.checks[0]!;
    expect(check).toMatchObject({ kind: 'endpoints', service: 'hello', minReady: 1 });
    expect(await services(lab.setup.manifests)).not.toContain('hello');
    expect(await services(lab.steps[0]!.solution.manifests)).toContain('hello');
  });

  it('inside the checkout puts the lessons where the site reads them, plus an author README', async () => {
    const enDir = path.join(root, 'site/content/docs/labs');
    const zhDir = path.join(root, 'site/content/docs/zh-cn/labs');
    const r = await scaffoldLab({ id: '14-two', labsDir: path.join(root, 'labs'), lessons: { kind: 'site', enDir, zhDir }, schemaFile: schemaFile() });
    expect(await readFile(path.join(enDir, '14-two.md'), 'utf8')).toMatch(/^---\ntitle: "Lab 14: Two"\n/);
    expect(await readFile(path.join(zhDir, '14-two.md'), 'utf8')).toMatch(/\nlab: 14-two\n/);
    expect((await readdir(r.dir)).sort()).toEqual(['README.md', 'lab.yaml', 'manifests', 'solution']);
    expect((await runLabsLint(root)).ok).toBe(true);
  });

  it('refuses a bad name with a suggestion, and writes nothing', async () => {
    const e = await rejected(scaffoldLab({ id: '7-Hello_World', labsDir: path.join(root, 'labs'), lessons: { kind: 'in-lab' }, schemaFile: schemaFile() }));
    expect(e.message).toContain('"7-Hello_World" is not a lab name');
    expect(e.hint).toBe('Try: svclab new lab 07-hello-world');
    expect(await readdir(path.join(root, 'labs'))).toEqual([]);
    expect((await rejected(scaffoldLab({ id: '../13-x', labsDir: path.join(root, 'labs'), lessons: { kind: 'in-lab' }, schemaFile: schemaFile() }))).code).toBe('INVALID_ARGUMENT');
  });

  it('refuses an existing lab or lesson and leaves it untouched', async () => {
    const opts = { id: '13-hello', labsDir: path.join(root, 'labs'), lessons: { kind: 'in-lab' as const }, schemaFile: schemaFile() };
    const r = await scaffoldLab(opts);
    const before = await readFile(path.join(r.dir, 'lab.yaml'), 'utf8');
    const e = await rejected(scaffoldLab(opts));
    expect(e.message).toContain('already exists');
    expect(e.hint).toContain('Lab number 13 is taken by: 13-hello');
    expect(await readFile(path.join(r.dir, 'lab.yaml'), 'utf8')).toBe(before);

    const enDir = path.join(root, 'en');
    await mkdir(enDir);
    await scaffoldLab({ ...opts, id: '15-a', lessons: { kind: 'site', enDir, zhDir: path.join(root, 'zh') } });
    await rm(path.join(root, 'labs', '15-a'), { recursive: true });
    const e2 = await rejected(scaffoldLab({ ...opts, id: '15-a', lessons: { kind: 'site', enDir, zhDir: path.join(root, 'zh') } }));
    expect(e2.message).toContain(path.join(enDir, '15-a.md'));
    expect(await readdir(path.join(root, 'labs'))).toEqual(['13-hello']);
  });

  it('refuses a labs folder that does not exist', async () => {
    const e = await rejected(scaffoldLab({ id: '13-x', labsDir: path.join(root, 'nope'), lessons: { kind: 'in-lab' }, schemaFile: schemaFile() }));
    expect(e.message).toContain('does not exist');
  });

  it('suggests ids only for near misses', () => {
    expect(suggestId('3 My Lab')).toBe('03-my-lab');
    expect(suggestId('hello')).toBeUndefined();
    expect(suggestId('13-ok')).toBeUndefined();
  });
});
