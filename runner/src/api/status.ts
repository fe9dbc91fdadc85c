// GET /api/status: the warm pool and every learner's session, for instructors and `svclab status`.
import { z } from 'zod';
import { SESSION_STATES, waitInfo } from './sessions.ts';

export const POOL_CLUSTER_STATES = ['provisioning', 'ready', 'claimed', 'recycling', 'deleting'] as const;
export type PoolClusterState = (typeof POOL_CLUSTER_STATES)[number];

export const poolStatus = z.object({
  size: z.number().int(),
  clusters: z.array(z.object({ name: z.string(), state: z.enum(POOL_CLUSTER_STATES), forSeconds: z.number(), owner: z.string().optional() })),
  waiting: z.number().int(),
  provisionMs: z.object({ last: z.number().optional(), average: z.number(), count: z.number().int() }),
});
export type PoolStatus = z.infer<typeof poolStatus>;

export const sessionStatus = z.object({
  id: z.string(),
  /** The learner's short id (six characters of the learner cookie). */
  learner: z.string(),
  labId: z.string(),
  state: z.enum(SESSION_STATES),
  cluster: z.string().nullable(),
  stepsDone: z.number().int(),
  solvedWithHelp: z.number().int(),
  idleSeconds: z.number(),
  wait: waitInfo.optional(),
});
export type SessionStatus = z.infer<typeof sessionStatus>;

export const runnerStatus = z.object({ pid: z.number().int(), at: z.string(), pool: poolStatus.nullable(), sessions: z.array(sessionStatus) });
export type RunnerStatus = z.infer<typeof runnerStatus>;

export const healthReply = z.object({
  ok: z.literal(true),
  version: z.string(),
  /** Which runner replica answered (a Kubernetes install: its pod name), for operators and tests. */
  replica: z.string().optional(),
});
