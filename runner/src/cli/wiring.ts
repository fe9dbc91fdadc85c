// The real objects behind the CLI, made in one place.
import { DockerEngine } from '../engine/docker-engine.ts';
import { ExecaRunner } from '../exec/execa-runner.ts';
import { defaultCacheDir, defaultImagesDir, imageRef, type ImagesDeps } from '../images/images.ts';

export function realDeps(cacheDir = defaultCacheDir()) {
  const runner = new ExecaRunner();
  const engine = new DockerEngine({ runner });
  const images: ImagesDeps = { runner, engine, imagesDir: defaultImagesDir(), cacheDir };
  return { runner, engine, images, cacheDir };
}

/** The current workstation image; throws IMAGE_MISSING / IMAGE_STALE with the fix. */
export function workstationImage(cacheDir = defaultCacheDir()): () => Promise<string> {
  const { images } = realDeps(cacheDir);
  return () => imageRef(images, 'workstation');
}
