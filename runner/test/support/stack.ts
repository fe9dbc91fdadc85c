// The real stack for browser tests: the runner on a free loopback port serving
// the built site, with docker and the workstation image when they exist.
import { existsSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir } from '../../src/cli.ts';
import { startRunner } from '../../src/cli/start.ts';
import { workstationImage } from '../../src/cli/wiring.ts';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { projectRoot } from '../../src/version.ts';

export interface Stack {
  url: string;
  origin: string;
  token: string;
  /** Why sessions can't start here (no docker, no image), or undefined when they can. */
  sessionsUnavailable: string | undefined;
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  if (!existsSync(join(projectRoot, 'dist', 'index.html'))) throw new Error('dist/ is not built: run `astro build` first (npm test does).');
  const resolve = workstationImage(cacheDir());
  let sessionsUnavailable: string | undefined;
  try {
    await new DockerEngine({ runner: new ExecaRunner() }).info();
    await resolve();
  } catch (e) {
    sessionsUnavailable = e instanceof Error ? e.message : String(e);
  }
  const lines: string[] = [];
  const running = await startRunner({
    host: '127.0.0.1', port: 0, allowRemote: false, cacheDir: mkdtempSync(join(tmpdir(), 'svclab-stack-')),
    out: (l) => lines.push(l), workstationImage: resolve,
  });
  const u = new URL(running.url);
  return { url: running.url, origin: u.origin, token: u.searchParams.get('token') ?? '', sessionsUnavailable, close: running.close };
}
