// /api/instructor/*: the instructor page's live view of the room (a server-sent event stream of
// snapshots) and its controls; /api/broadcast: the instructor's message as learners' pages read it.
// Every /api/instructor route needs the instructor credential.
import { z } from 'zod';
import { labId, localized } from './common.ts';
import { SESSION_STATES, sessionParams } from './sessions.ts';
import { poolStatus } from './status.ts';

/** A learner's step: not started, working on it, passed by Check, or solved with help. */
export const GRID_STATES = ['not-started', 'working', 'passed', 'solved-with-help'] as const;
export type GridState = (typeof GRID_STATES)[number];

export const gridCell = z.object({
  state: z.enum(GRID_STATES),
  /** When the learner began the step (the previous step's end, or the session's start). */
  since: z.string().optional(),
  /** When it was passed or solved. */
  doneAt: z.string().optional(),
  /** Time on the step in seconds: until done, or until the snapshot while working. */
  seconds: z.number().optional(),
  /** Checks pressed on this step. */
  attempts: z.number().int(),
  /** Checks failing in the latest Check of this step (0 when it passed or none ran). */
  failing: z.number().int(),
});
export type GridCell = z.infer<typeof gridCell>;

export const gridRow = z.object({
  session: z.string(),
  /** The learner's short id (six characters of the learner credential). */
  learner: z.string(),
  /** The name the learner joined with, or the short id. */
  name: z.string(),
  state: z.enum(SESSION_STATES),
  /** Last request or terminal use. */
  lastActivity: z.string(),
  /** When the learner's workshop place ends (workshops only). */
  expiresAt: z.string().optional(),
  cells: z.array(gridCell),
});
export type GridRow = z.infer<typeof gridRow>;

export const labGrid = z.object({
  labId: z.string(),
  title: localized,
  steps: z.array(z.object({ id: z.string(), title: localized })),
  /** Steps open to learners, from the first: 1 = only the first. null: no gate, every step open. */
  open: z.number().int().min(1).nullable(),
  rows: z.array(gridRow),
});
export type LabGrid = z.infer<typeof labGrid>;

/** One check that learners' latest Check of a step fails, with the messages they read. */
export const failingCheck = z.object({
  labId: z.string(),
  stepId: z.string(),
  checkId: z.string(),
  kind: z.string(),
  /** Learners whose latest Check of this step fails this check. */
  learners: z.number().int(),
  /** Learners who checked this step and have not finished it. */
  of: z.number().int(),
  messages: z.array(z.object({ message: z.string(), learners: z.number().int() })),
});
export type FailingCheck = z.infer<typeof failingCheck>;

export const broadcastMessage = z.object({ message: z.string(), at: z.string() });
export type BroadcastMessage = z.infer<typeof broadcastMessage>;

/** What the instructor page shows; sent whole on connect and after every change (at most every 250 ms). */
export const instructorSnapshot = z.object({
  /** Increases with each snapshot of this runner. */
  seq: z.number().int(),
  at: z.string(),
  /** Extend is only for workshops (their places have a deadline). */
  workshop: z.boolean(),
  pool: poolStatus.nullable(),
  labs: z.array(labGrid),
  failing: z.array(failingCheck),
  broadcast: broadcastMessage.nullable(),
});
export type InstructorSnapshot = z.infer<typeof instructorSnapshot>;

/** The events of GET /api/instructor/events (text/event-stream): `event: snapshot`, `data:` the JSON. */
export const INSTRUCTOR_EVENT = 'snapshot';
/** The event of GET /api/broadcast: `event: broadcast`, `data:` a broadcastMessage or null. */
export const BROADCAST_EVENT = 'broadcast';

export const gateBody = z.object({ labId, open: z.number().int().min(1).max(100).nullable() });
export const broadcastBody = z.object({ message: z.string().trim().max(280, 'a broadcast is 280 characters at most') });

const learnerKey = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a learner id as the instructor page lists it');
/** One learner (`learner`) or everyone (`all: true`), never by omission. */
export const targetBody = z.union([
  z.strictObject({ learner: learnerKey }),
  z.strictObject({ all: z.literal(true) }),
], { error: 'name one learner ({"learner": "…"}) or everyone ({"all": true})' });
export const extendLearnersBody = z.union([
  z.strictObject({ learner: learnerKey, minutes: z.number().int().min(1).max(480) }),
  z.strictObject({ all: z.literal(true), minutes: z.number().int().min(1).max(480) }),
], { error: 'name one learner or everyone ({"all": true}) and the minutes to add (1–480)' });
export const resetBody = z.object({ session: sessionParams.shape.id });
export const controlReply = z.object({ affected: z.number().int() });
export type ControlReply = z.infer<typeof controlReply>;

export const exportQuery = z.object({ format: z.enum(['json', 'csv']).default('json') });
export const exportedStep = z.object({ state: z.enum(GRID_STATES), doneAt: z.string().optional(), seconds: z.number().optional(), attempts: z.number().int() });
/** The results as JSON (format=csv answers the same rows as text/csv, one line per learner and step). */
export const exportReply = z.object({
  exportedAt: z.string(),
  labs: z.array(z.object({
    labId: z.string(),
    steps: z.array(z.string()),
    learners: z.array(z.object({ learner: z.string(), name: z.string(), session: z.string(), steps: z.record(z.string(), exportedStep) })),
  })),
});
export type ExportReply = z.infer<typeof exportReply>;
