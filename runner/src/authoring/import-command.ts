// `svclab import killercoda DIR [--out DIR] [--id NN-name]`: argument handling and
// what is printed; the lab comes from killercoda.ts.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RunnerError } from '../errors.ts';
import { importKillercoda } from './killercoda.ts';

export async function importCommand(args: string[], out: (line: string) => void, root: string, cwd = process.cwd()): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' }, id: { type: 'string' } } });
  const [format, dir, ...extra] = positionals;
  if (format !== 'killercoda' || dir === undefined || extra.length > 0) {
    throw new RunnerError('INVALID_ARGUMENT', {
      message: `Unknown: svclab import ${args.join(' ')}`.trimEnd(),
      hint: 'Use svclab import killercoda SCENARIO_DIR [--out LABS_DIR] [--id NN-name] (SCENARIO_DIR holds index.json).',
    });
  }
  const ownLabs = path.join(root, 'labs');
  const labsDir = values.out === undefined ? ownLabs : path.resolve(cwd, values.out);
  const r = await importKillercoda({
    scenarioDir: path.resolve(cwd, dir),
    labsDir,
    ...(values.id ? { id: values.id } : {}),
    lessons: labsDir === ownLabs ? { kind: 'site', enDir: path.join(root, 'site/content/docs/labs') } : { kind: 'in-lab' },
    schemaFile: path.join(root, 'schemas/lab.schema.json'),
  });
  out(`imported lab ${r.id}:`);
  for (const f of r.files) out(`  ${path.relative(cwd, f) || f}`);
  out('still to do:');
  for (const t of r.todo) out(`  - ${t}`);
  return 0;
}
