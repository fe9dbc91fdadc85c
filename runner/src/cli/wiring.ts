// Resolves what `start` needs from the image builder.
import { RunnerError } from '../errors.ts';

export function workstationImage(_cacheDir: string): () => Promise<string> {
  return async () => {
    throw new RunnerError('IMAGE_MISSING', { message: 'The workstation image is not built yet.' });
  };
}
