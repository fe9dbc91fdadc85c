// Shapes every route group shares: the error body and learner-facing text in both languages.
import { z } from 'zod';

/** `{ error: { code, message, hint, details? } }`, with the catalogue's HTTP status (runner/src/errors.ts). */
export const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), hint: z.string(), details: z.unknown().optional() }),
});
export type ErrorBody = z.infer<typeof errorBody>;

/** lab.yaml text: always English and Simplified Chinese. */
export const localized = z.object({ en: z.string(), zh: z.string() });
export type Localized = z.infer<typeof localized>;
export type Lang = keyof Localized;

/** Ids in URLs: lab and step ids are lower-case words with dashes (lab-schema.ts). */
export const labId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'a lab id like "02-selectors-and-endpoints"');
export const stepId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'a step id like "label-the-pods"');
