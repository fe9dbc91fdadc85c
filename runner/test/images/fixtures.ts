// Temporary recipe folders for the image builder tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempRecipes {
  root: string;
  imagesDir: string;
  cacheDir: string;
  artifact(name: string, dependsOn: string[], buildSh: string, extra?: Record<string, string>): string;
  image(name: string, artifacts: string[], images: string[], buildSh: string, extra?: Record<string, string>): string;
  write(rel: string, content: string): void;
  cleanup(): void;
}

export function tempRecipes(): TempRecipes {
  const root = mkdtempSync(join(tmpdir(), 'svclab-images-test-'));
  const imagesDir = join(root, 'images');
  const cacheDir = join(root, 'cache');
  mkdirSync(join(imagesDir, 'artifacts'), { recursive: true });
  const write = (rel: string, content: string) => {
    const p = join(imagesDir, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, content);
  };
  return {
    root,
    imagesDir,
    cacheDir,
    write,
    artifact(name, dependsOn, buildSh, extra = {}) {
      write(`artifacts/${name}/artifact.json`, JSON.stringify({ name, description: `artifact ${name}`, dependsOn }, null, 2));
      write(`artifacts/${name}/build.sh`, buildSh);
      for (const [f, c] of Object.entries(extra)) write(`artifacts/${name}/${f}`, c);
      return join(imagesDir, 'artifacts', name);
    },
    image(name, artifacts, images, buildSh, extra = {}) {
      write(`${name}/image.json`, JSON.stringify({ name, description: `image ${name}`, artifacts, images }, null, 2));
      write(`${name}/build.sh`, buildSh);
      for (const [f, c] of Object.entries(extra)) write(`${name}/${f}`, c);
      return join(imagesDir, name);
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A build.sh that counts its runs in $SVCLAB_CACHE/runs-<name> and writes its env to $OUT. */
export function countingArtifactSh(name: string, body = ''): string {
  return `set -eu
echo "building ${name}"
echo x >> "$SVCLAB_CACHE/runs-${name}"
env | grep -E '^(OUT|SVCLAB_CACHE|GOCACHE|GOMODCACHE|GOFLAGS|RECIPE_DIR|ARTIFACT_|IMAGE_)' | sort > "$OUT/env.txt"
echo "${name}" > "$OUT/product"
${body}
`;
}

export function countingImageSh(name: string, body = ''): string {
  return `set -eu
echo "context for ${name}"
echo x >> "$SVCLAB_CACHE/runs-${name}"
env | grep -E '^(OUT|SVCLAB_CACHE|RECIPE_DIR|ARTIFACT_|IMAGE_)' | sort > "$OUT/env.txt"
printf 'FROM scratch\\nCOPY env.txt /\\n' > "$OUT/Dockerfile"
${body}
`;
}
