// Image profiles. `local` (the default) builds every image from its recipe and never
// pulls. `upstream` is for machines that can reach a registry: the images it maps are
// pulled by reference instead of built (kind's published node image); images it does
// not map (workstation) are still built locally. Choose it with SVCLAB_IMAGE_PROFILE=upstream.
// Documented, not tested here: these machines have no registry.

export type ImageProfileName = 'local' | 'upstream';

export interface ImageProfile {
  name: ImageProfileName;
  /** Image name → reference to pull instead of building. */
  refs: Record<string, string>;
}

export const imageProfiles: Record<ImageProfileName, ImageProfile> = {
  local: { name: 'local', refs: {} },
  upstream: {
    name: 'upstream',
    refs: {
      // kind's node image for Kubernetes v1.34 (published with kind v0.30). Override with
      // SVCLAB_UPSTREAM_NODE_IMAGE, e.g. to pin a digest.
      node: 'kindest/node:v1.34.0',
    },
  },
};

export function resolveProfile(name: string | undefined, env: NodeJS.ProcessEnv = process.env): ImageProfile {
  const n = name ?? env['SVCLAB_IMAGE_PROFILE'] ?? 'local';
  if (n !== 'local' && n !== 'upstream') {
    throw new Error(`unknown image profile ${n}`);
  }
  const p = imageProfiles[n];
  if (n === 'upstream' && env['SVCLAB_UPSTREAM_NODE_IMAGE']) {
    return { ...p, refs: { ...p.refs, node: env['SVCLAB_UPSTREAM_NODE_IMAGE'] } };
  }
  return p;
}
