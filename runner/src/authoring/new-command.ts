// `svclab new lab NN-name [--labs DIR]`: argument handling and the lines printed;
// the files come from scaffold.ts.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RunnerError } from '../errors.ts';
import { scaffoldLab } from './scaffold.ts';

export async function newCommand(args: string[], out: (line: string) => void, root: string, cwd = process.cwd()): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { labs: { type: 'string' } } });
  const [what, id, ...extra] = positionals;
  if (what !== 'lab' || id === undefined || extra.length > 0) {
    throw new RunnerError('INVALID_ARGUMENT', {
      message: `Unknown: svclab new ${args.join(' ')}`.trimEnd(),
      hint: 'Use svclab new lab NN-name [--labs DIR], e.g. svclab new lab 13-my-first-lab',
    });
  }
  const ownLabs = path.join(root, 'labs');
  const labsDir = values.labs === undefined ? ownLabs : path.resolve(cwd, values.labs);
  const inCheckout = labsDir === ownLabs;
  const r = await scaffoldLab({
    id,
    labsDir,
    lessons: inCheckout
      ? { kind: 'site', enDir: path.join(root, 'site/content/docs/labs'), zhDir: path.join(root, 'site/content/docs/zh-cn/labs') }
      : { kind: 'in-lab' },
    schemaFile: path.join(root, 'schemas/lab.schema.json'),
  });
  out(`new lab ${id}:`);
  for (const f of r.files) out(`  ${path.relative(cwd, f) || f}`);
  const labsFlag = inCheckout ? '' : ` --labs ${values.labs}`;
  out(`next: edit ${path.relative(cwd, path.join(r.dir, 'lab.yaml'))}, then \`svclab labs lint${labsFlag}\` and \`svclab validate ${id}${labsFlag}\``);
  return 0;
}
