// What the deploy tests need from the machine: the helm binary svclab builds
// (images/artifacts/helm, current recipe hash) and Kubernetes' own OpenAPI v3 spec
// (in the Go module cache once the kubernetes artifact was built). Each is a reason
// to SKIP when absent.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCacheDir, defaultImagesDir } from '../../src/images/cache-dir.ts';
import { hash16, hashRecipes } from '../../src/images/recipe-hash.ts';
import { loadRecipes } from '../../src/images/recipes.ts';

export function helmBinary(): { helm: string } | { skip: string } {
  const given = process.env['SVCLAB_TEST_HELM'];
  if (given) return existsSync(given) ? { helm: given } : { skip: `SVCLAB_TEST_HELM=${given} does not exist` };
  const hash = hashRecipes(loadRecipes(defaultImagesDir())).get('artifact:helm');
  if (!hash) return { skip: 'no helm recipe under images/artifacts' };
  const helm = join(defaultCacheDir(), 'artifacts', `helm-${hash16(hash)}`, 'bin', 'helm');
  return existsSync(helm) ? { helm } : { skip: `helm is not built (${helm} missing; run: node bin/svclab.mjs images build helm)` };
}

/** k8s.io/kubernetes' api/openapi-spec/v3, the version svclab's node runs. */
export function openApiDir(): { dir: string } | { skip: string } {
  const dir = join(process.env['GOMODCACHE'] || join(defaultCacheDir(), 'go-mod'), 'k8s.io', 'kubernetes@v1.34.4', 'api', 'openapi-spec', 'v3');
  return existsSync(join(dir, 'apis__apps__v1_openapi.json')) ? { dir } : { skip: `Kubernetes' OpenAPI spec is not in the Go module cache (${dir}; building the kubernetes artifact puts it there)` };
}
