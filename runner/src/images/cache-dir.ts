import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The persistent build cache, outside the clone so CI and later sessions reuse it. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['SVCLAB_CACHE'] || join(homedir(), '.cache', 'svclab');
}

/** The clone's images/ folder, holding every recipe. */
export function defaultImagesDir(): string {
  return fileURLToPath(new URL('../../../images', import.meta.url));
}
