#!/usr/bin/env node
// The svclab CLI. svclab runs on the Node 24 that the project installs (the `node`
// devDependency); started by an older node, it re-runs itself with that one.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(node24)) {
    process.stderr.write(`svclab needs Node 24; this is Node ${process.versions.node}.\nhint: run \`npm install\` in ${root} (it brings Node 24), then try again.\n`);
    process.exit(1);
  }
  const r = spawnSync(node24, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
// `svclab images status | head`: a closed pipe ends the output, not with a crash.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
const { main } = await import('../runner/src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
