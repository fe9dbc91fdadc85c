// /api/sessions and everything under /api/sessions/:id (except the terminal WebSocket,
// terminal-protocol.ts): inputs and outputs.
import { z } from 'zod';
import { localized, stepId } from './common.ts';

/**
 * waiting: no cluster is free yet (see `wait`). claiming: taking a cluster. starting: the
 * workstation container. applying: kubeconfig and the lab's starting objects. Nothing else.
 */
export const SESSION_STATES = ['waiting', 'claiming', 'starting', 'applying', 'ready', 'failed'] as const;
export type SessionState = (typeof SESSION_STATES)[number];
/** The states on the way to ready (POST may answer 202 with one; the page polls). */
export const PENDING_SESSION_STATES = ['waiting', 'claiming', 'starting', 'applying'] as const satisfies readonly SessionState[];
export const START_PHASES = ['claiming', 'starting', 'applying'] as const satisfies readonly SessionState[];
export type StartPhase = (typeof START_PHASES)[number];
export type PhaseState = 'done' | 'running' | 'pending';

export const waitInfo = z.object({ position: z.number().int(), etaSeconds: z.number().optional() });
export const sessionView = z.object({
  id: z.string(),
  labId: z.string(),
  createdAt: z.string(),
  workstation: z.string(),
  state: z.enum(SESSION_STATES),
  error: z.object({ code: z.string(), message: z.string(), hint: z.string() }).optional(),
  wait: waitInfo.optional(),
  /** The start phases and where this session is in them. */
  steps: z.array(z.object({ id: z.enum(START_PHASES), state: z.enum(['done', 'running', 'pending']) })),
  cluster: z.string().nullable(),
});
export type SessionView = z.infer<typeof sessionView>;
export const sessionReply = z.object({ session: sessionView });
export type SessionReply = z.infer<typeof sessionReply>;

export const startSessionBody = z.object({ labId: z.string().min(1) });
export const sessionParams = z.object({ id: z.string().regex(/^[a-z0-9]{1,32}$/, 'a session id (lower-case letters and digits)') });
export const stepParams = sessionParams.extend({ stepId });

const manifestText = z.string().max(1024 * 1024, 'the YAML is over 1 MiB');
export const applyBody = z.object({ yaml: manifestText, stepId: z.string().optional() });
export const applyReply = z.object({ dryRun: z.string(), applied: z.string() });
export type ApplyReply = z.infer<typeof applyReply>;

export const liveBody = z.object({ yaml: manifestText });
/** One editor document's live counterpart: its YAML, or null when not created yet. */
export const liveObject = z.object({
  kind: z.string(), apiVersion: z.string(), name: z.string(), namespace: z.string().optional(),
  /** The editor line where this document starts. */
  line: z.number().int(),
  live: z.string().nullable(),
});
export type LiveObject = z.infer<typeof liveObject>;
export const liveReply = z.object({ objects: z.array(liveObject) });

export const checkBody = z.object({ lang: z.enum(['en', 'zh']).optional() }).optional();
export const checkResult = z.object({
  checkId: z.string(),
  kind: z.string(),
  status: z.enum(['pass', 'fail', 'error']),
  message: z.string(),
  hint: z.string().optional(),
  details: z.object({ expected: z.string(), observed: z.string() }).optional(),
});
export type CheckResult = z.infer<typeof checkResult>;
export const checkReply = z.object({ results: z.array(checkResult), passed: z.boolean() });
export type CheckReply = z.infer<typeof checkReply>;

export const hintBody = z.object({ index: z.number().int().min(0) });
export const hintReply = z.object({ hint: localized });
export const solveReply = z.object({ solved: z.literal(true) });

export const STEP_STATUSES = ['passed', 'solved-with-help'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
export const progressReply = z.object({ labId: z.string(), steps: z.record(z.string(), z.object({ status: z.enum(STEP_STATUSES), at: z.string() })) });
export type ProgressReply = z.infer<typeof progressReply>;

/** A shell the session offers: the workstation always; `node:<node>` only on loopback. */
export const terminalInfo = z.object({ name: z.string(), title: z.string() });
export type TerminalInfo = z.infer<typeof terminalInfo>;
export const terminalsReply = z.object({ terminals: z.array(terminalInfo), nodeShells: z.boolean() });
export type TerminalsReply = z.infer<typeof terminalsReply>;
export const terminalQuery = z.object({
  name: z.string().regex(/^(workstation|node:[a-z0-9][a-z0-9.-]{0,100})$/, 'workstation or node:<node>').default('workstation'),
  /** The page's language: the workstation's shell greets in it (SVCLAB_LANG). */
  lang: z.enum(['en', 'zh']).optional(),
});
