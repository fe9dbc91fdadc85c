// Where the cluster's tools come from: the kind binary and the node image are
// both made by the image builder (`svclab images build`), so they are found
// through its status, never guessed from the cache folder's listing.

import { join } from 'node:path';
import { RunnerError } from '../errors.ts';
import { imagesStatus, imageRef, type ImagesDeps } from '../images/images.ts';
import type { ImageStatus } from './kind-driver.ts';

export const KIND_ARTIFACT = 'kind';
export const NODE_IMAGE = 'node';

/** Path of the kind binary for the current recipe; IMAGE_MISSING / IMAGE_STALE when not built. */
export async function kindBinary(deps: ImagesDeps): Promise<string> {
  const st = (await imagesStatus(deps)).find((s) => s.kind === 'artifact' && s.name === KIND_ARTIFACT);
  if (!st) throw new RunnerError('INTERNAL', { message: 'There is no recipe for the kind binary (images/artifacts/kind).' });
  if (st.state !== 'current') {
    throw new RunnerError(st.state === 'stale' ? 'IMAGE_STALE' : 'IMAGE_MISSING', {
      message: st.state === 'stale' ? 'The kind binary is older than its recipe.' : 'The kind binary has not been built.',
      details: { need: st.location, have: st.older },
    });
  }
  return join(st.location, 'bin', 'kind');
}

/** The node image reference (svclab/node:<hash16>) for the current recipe; throws when missing or stale. */
export function nodeImageRef(deps: ImagesDeps): Promise<string> {
  return imageRef(deps, NODE_IMAGE);
}

/**
 * For KindDriver's preflight: a node image is current when it is the builder's
 * current node image; an older svclab/node tag is stale. Any other reference
 * (`--node-image` for a hand-made image) only has to exist.
 */
export function nodeImageStatus(deps: ImagesDeps): (ref: string) => Promise<ImageStatus> {
  return async (ref) => {
    const st = (await imagesStatus(deps)).find((s) => s.kind === 'image' && s.name === NODE_IMAGE);
    if (st && ref === st.location) return { state: st.state, ...(st.state === 'stale' ? { detail: `only ${st.older.join(', ')} exist` } : {}) };
    if (st?.older.includes(ref)) return { state: 'stale', detail: `the current recipe builds ${st.location}` };
    return { state: (await deps.engine.imageExists(ref)) ? 'current' : 'missing' };
  };
}
