// Writes schemas/lab.schema.json from the zod schema of lab.yaml
// (runner/src/authoring/lab-json-schema.ts does the mapping).
//
//   node scripts/gen-lab-schema.ts           # write the file
//   node scripts/gen-lab-schema.ts --check   # exit 1 if the committed file is not current
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { labJsonSchemaText } from '../runner/src/authoring/lab-json-schema.ts';

const file = join(dirname(new URL(import.meta.url).pathname), '..', 'schemas', 'lab.schema.json');
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const text = labJsonSchemaText();
if (values.check) {
  const committed = await readFile(file, 'utf8').catch(() => '');
  if (committed !== text) {
    console.error(`schemas/lab.schema.json is not current with runner/src/labs/lab-schema.ts.`);
    console.error('hint: run `node scripts/gen-lab-schema.ts` and commit schemas/lab.schema.json.');
    process.exit(1);
  }
  console.log('schemas/lab.schema.json is current');
} else {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
  console.log(`wrote schemas/lab.schema.json (${text.length} bytes)`);
}
