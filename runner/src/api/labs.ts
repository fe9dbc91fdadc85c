// GET /api/labs and /api/labs/:labId: what the site may see of a lab (never solutions,
// hint texts or check commands).
import { z } from 'zod';
import { labId, localized } from './common.ts';

export const labSummary = z.object({ id: z.string(), title: localized, summary: localized, steps: z.number().int() });
export type LabSummary = z.infer<typeof labSummary>;
export const labList = z.object({ labs: z.array(labSummary) });
export type LabList = z.infer<typeof labList>;

export const publicStep = z.object({
  id: z.string(),
  title: localized,
  editor: z.object({ file: z.string(), text: z.string() }).optional(),
  checks: z.array(z.object({ id: z.string(), kind: z.string(), description: localized })),
  /** Hints are fetched one at a time (POST …/hint {index}); only their number is public. */
  hintCount: z.number().int().min(0),
});
export type PublicStep = z.infer<typeof publicStep>;

export const publicLab = z.object({
  id: z.string(),
  title: localized,
  summary: localized,
  proxyMode: z.enum(['iptables', 'nftables']).optional(),
  steps: z.array(publicStep),
});
export type PublicLab = z.infer<typeof publicLab>;

export const labParams = z.object({ labId });
