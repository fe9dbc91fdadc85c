// Builds the real dependencies of `svclab up | down | status | kubectl` and of
// the runner's cluster reaping: one place that knows KindDriver's options, so
// the CLI only passes its cache dir and output.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DockerEngine } from '../engine/docker-engine.ts';
import { ExecaRunner } from '../exec/execa-runner.ts';
import { imagesStatus, type ImagesDeps } from '../images/images.ts';
import { defaultImagesDir } from '../images/cache-dir.ts';
import type { ClusterCommandDeps } from './cluster-commands.ts';
import { kindBinary, nodeImageRef, nodeImageStatus } from './cluster-tools.ts';
import { KindDriver } from './kind-driver.ts';

export interface ClusterWiringOptions {
  /** $SVCLAB_CACHE (~/.cache/svclab): artifacts, and clusters/<name>/ for per-cluster files. */
  cacheDir: string;
  out: (line: string) => void;
  imagesDir?: string;
  signal?: AbortSignal;
}

export async function makeClusterCommandDeps(opts: ClusterWiringOptions): Promise<ClusterCommandDeps> {
  const runner = new ExecaRunner();
  const engine = new DockerEngine({ runner });
  const imagesDeps: ImagesDeps = { runner, engine, imagesDir: opts.imagesDir ?? defaultImagesDir(), cacheDir: opts.cacheDir };
  const stateDir = join(opts.cacheDir, 'clusters');
  const driver = new KindDriver({
    runner,
    engine,
    kindPath: () => kindBinary(imagesDeps),
    stateDir,
    imageStatus: nodeImageStatus(imagesDeps),
  });
  const kubectlPath = await hostKubectl(imagesDeps);
  return {
    runner,
    engine,
    driver,
    out: opts.out,
    nodeImage: () => nodeImageRef(imagesDeps),
    stateDir,
    ...(kubectlPath ? { kubectlPath } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
}

/** The kubectl svclab built (same version as the cluster), when it is built; else undefined (kubectl then runs in the node). */
async function hostKubectl(deps: ImagesDeps): Promise<string | undefined> {
  try {
    const st = (await imagesStatus(deps)).find((s) => s.kind === 'artifact' && s.name === 'kubernetes');
    const path = st && st.state === 'current' ? join(st.location, 'bin', 'kubectl') : undefined;
    return path && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}
