// `--labs DIR`: a course folder outside the svclab checkout loads, lints and is
// reported by its own name; a broken lab there is named with file and field.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scaffoldLab } from '../../src/authoring/scaffold.ts';
import { labsLocation, loadLabs, runLabsLint } from '../../src/labs/load-labs.ts';
import { projectRoot } from '../../src/version.ts';

let tmp: string | undefined;
afterEach(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); tmp = undefined; });

async function course(): Promise<string> {
  tmp = mkdtempSync(join(tmpdir(), 'svclab-course-'));
  const dir = join(tmp, 'my-course');
  await mkdir(dir);
  for (const id of ['01-good', '02-broken']) {
    await scaffoldLab({ id, labsDir: dir, lessons: { kind: 'in-lab' }, schemaFile: join(projectRoot, 'schemas', 'lab.schema.json') });
  }
  // The broken lab names a solution manifest that isn't there.
  const broken = join(dir, '02-broken', 'lab.yaml');
  writeFileSync(broken, readFileSync(broken, 'utf8').replace(/solution\/[a-z-]+\.yaml/, 'solution/missing.yaml'));
  return dir;
}

describe('--labs DIR: a course folder outside the checkout', () => {
  it('svclab\'s own labs by default, the course folder when given', async () => {
    expect(labsLocation(projectRoot)).toEqual({ root: projectRoot, dir: 'labs' });
    const dir = await course();
    const { labs, errors } = await loadLabs(labsLocation(projectRoot, dir));
    expect(labs.map((l) => l.id)).toEqual(['01-good']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.file).toBe('my-course/02-broken/lab.yaml');
    expect(errors[0]!.message).toContain('missing.yaml');
  });

  it('lint passes the good lab and fails the broken one with its place', async () => {
    const dir = await course();
    const r = await runLabsLint(labsLocation(projectRoot, dir));
    expect(r.ok).toBe(false);
    expect(r.lines.join('\n')).toMatch(/my-course\/02-broken\/lab\.yaml:\d+:\d+/);
    rmSync(join(dir, '02-broken'), { recursive: true });
    const good = await runLabsLint(labsLocation(projectRoot, dir));
    expect(good.ok, good.lines.join('\n')).toBe(true);
    expect(good.labs).toEqual(['01-good']);
  });
});
