// /api/workshop: joining a workshop (the join page), what a learner sees of it, and the
// instructor's controls (svclab workshop status|extend|end, node shells for one learner).
import { z } from 'zod';
import { SESSION_STATES } from './sessions.ts';

/** `code` may be left out when the learner URL's code was kept in its cookie. */
export const joinBody = z.object({
  code: z.string().max(64).optional(),
  name: z.string().min(1, 'your display name').max(80),
  /** The join page's language: `next` is that language's lab index. */
  lang: z.enum(['en', 'zh']).optional(),
});
export const learnerView = z.object({ id: z.string(), name: z.string(), nodeShells: z.boolean() });
export type LearnerView = z.infer<typeof learnerView>;
/** `next`: where the join page goes (the lab index). */
export const joinReply = z.object({ learner: learnerView, next: z.string() });
export type JoinReply = z.infer<typeof joinReply>;

export const workshopTimes = z.object({
  expiresAt: z.string(),
  secondsLeft: z.number().int(),
  /** Within the last five minutes: the lab panel shows a warning. */
  endingSoon: z.boolean(),
  ended: z.boolean(),
});
export type WorkshopTimes = z.infer<typeof workshopTimes>;

export const mySession = z.object({ id: z.string(), labId: z.string(), state: z.enum(SESSION_STATES) });
/** A live session moved to a new cluster because its cluster stopped answering its probe. */
export const sessionMove = z.object({
  from: z.string(),
  to: z.string(),
  labId: z.string(),
  at: z.string(),
  /** The cluster that stopped answering. */
  cluster: z.string(),
});
export type SessionMoveView = z.infer<typeof sessionMove>;
/**
 * GET /api/workshop/me: who the page belongs to; `workshop` is null for single-learner `npm start`.
 * For a learner, `workshop`'s times are their own place's (the instructor may have extended them
 * alone); the lab page shows a banner while `endingSoon`. `moves`: this learner's sessions that
 * moved to a new cluster, oldest first (the lab page follows its session's move and says why).
 */
export const meReply = z.object({
  role: z.enum(['learner', 'instructor']),
  learner: learnerView.nullable(),
  workshop: workshopTimes.extend({ labs: z.array(z.string()) }).nullable(),
  sessions: z.array(mySession),
  moves: z.array(sessionMove),
});
export type MeReply = z.infer<typeof meReply>;

export const workshopStatusReply = workshopTimes.extend({
  id: z.string(),
  labs: z.array(z.string()),
  capacity: z.number().int(),
  reserve: z.number().int(),
  learners: z.array(learnerView.extend({ joinedAt: z.string(), sessions: z.array(mySession) })),
});
export type WorkshopStatusReply = z.infer<typeof workshopStatusReply>;

export const extendWorkshopBody = z.object({ minutes: z.number().int().min(1).max(24 * 60) });
export const learnerParams = z.object({ learnerId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'a learner id') });
export const nodeShellsBody = z.object({ enabled: z.boolean() });
export const nodeShellsReply = z.object({ learner: learnerView });

/** POST /api/sessions/:id/editor: the editor's text, kept by the runner so a learner's work survives. */
export const saveEditorBody = z.object({ file: z.string().min(1).max(200), text: z.string().max(1024 * 1024, 'the text is over 1 MiB') });
export const saveEditorReply = z.object({ saved: z.literal(true) });
