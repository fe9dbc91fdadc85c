// What the CLI and the rest of the runner call: `svclab images status|build`, and
// the reference of an image to start (refusing missing or stale ones).

import { RunnerError } from '../errors.ts';
import { ImageBuilder, type BuildOptions, type BuildResult, type ImagesDeps, type RecipeStatus } from './image-builder.ts';

export type { BuildOptions, BuildResult, BuildStepEvent, ImagesDeps, RecipeState, RecipeStatus } from './image-builder.ts';
export { ImageBuilder } from './image-builder.ts';
export { defaultCacheDir, defaultImagesDir } from './cache-dir.ts';

/** current / stale / missing for every artifact and image. Throws DOCKER_DOWN/DOCKER_MISSING when docker can't be asked. */
export function imagesStatus(deps: ImagesDeps): Promise<RecipeStatus[]> {
  return new ImageBuilder(deps).status();
}

/** Builds what is missing or stale (all, or `only` and what they need), in dependency order. */
export function imagesBuild(deps: ImagesDeps, opts: BuildOptions = {}): Promise<BuildResult> {
  return new ImageBuilder(deps).build(opts);
}

/**
 * The reference to start for image `name` (svclab/<name>:<hash16>, or the upstream
 * profile's ref). Throws IMAGE_MISSING / IMAGE_STALE when it is not built for the
 * current recipe, so nothing runs an image older than its recipe.
 */
export async function imageRef(deps: ImagesDeps, name: string): Promise<string> {
  const st = (await imagesStatus(deps)).find((s) => s.kind === 'image' && s.name === name);
  if (!st) throw new RunnerError('INVALID_ARGUMENT', { message: `There is no image recipe named "${name}".` });
  if (st.state === 'current') return st.location;
  const code = st.state === 'stale' ? 'IMAGE_STALE' : 'IMAGE_MISSING';
  throw new RunnerError(code, {
    message: st.state === 'stale'
      ? `Image ${name} is older than its recipe (have ${st.older.join(', ')}, need ${st.location}).`
      : `Image ${name} (${st.location}) has not been built.`,
    hint: "Run `svclab images build`.",
    details: { image: name, need: st.location, have: st.older },
  });
}
