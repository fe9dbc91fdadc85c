// The worker side of ManifestParser (yaml-parse-pool.ts): parses one editor text per
// message, off the runner's event loop, and answers the manifests or the catalogue error.
import { parentPort } from 'node:worker_threads';
import { isRunnerError } from '../errors.ts';
import { parseManifests } from './yaml-input.ts';

export interface ParseJob { id: number; text: string }
export type ParseAnswer =
  | { id: number; manifests: ReturnType<typeof parseManifests> }
  | { id: number; error: { code: string; message: string; hint: string; details?: unknown } }
  | { id: number; crash: string };

parentPort?.on('message', (job: ParseJob) => {
  let answer: ParseAnswer;
  try {
    answer = { id: job.id, manifests: parseManifests(job.text) };
  } catch (e) {
    answer = isRunnerError(e) ? { id: job.id, error: e.toJSON() } : { id: job.id, crash: e instanceof Error ? e.stack ?? e.message : String(e) };
  }
  parentPort!.postMessage(answer);
});
