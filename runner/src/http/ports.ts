// What the HTTP layer needs from the layers below, as interfaces typed by the API contract:
// main/start wires real implementations, tests pass fakes.
import type { Logger } from 'pino';
import type { Lang, Localized } from '../api/common.ts';
import type { LabSummary, PublicLab } from '../api/labs.ts';
import type { CheckReply } from '../api/sessions.ts';
import type { RunnerStatus } from '../api/status.ts';
import { RunnerError } from '../errors.ts';
import type { InstructorDeps } from '../instructor/room.ts';
import type { Session, SessionManager } from '../sessions/session-manager.ts';
import type { Workshop } from '../workshop/workshop.ts';
import type { ApplyPort, LabActionsPort } from '../play/ports.ts';
import type { ParsedManifest } from '../play/manifests.ts';

/** Apply from the editor, and Solve / Reset lab: typed by play/ (LabActions implements them). */
export type { ApplyPort, LabActionsPort };

export interface LabsPort {
  list(): LabSummary[];
  /** The public view of a lab (no solutions); throws RunnerError LAB_UNKNOWN. */
  get(labId: string): PublicLab;
  /** Throws LAB_UNKNOWN / STEP_UNKNOWN; `index` past the last hint is BAD_REQUEST. */
  hint(labId: string, stepId: string, index: number): Localized;
}

/** Parses the editor's YAML like parseManifests, large texts off the event loop (yaml-parse-pool.ts). */
export interface ManifestsPort {
  parse(text: string): Promise<ParsedManifest[]>;
}

export interface ChecksPort {
  run(session: Session, stepId: string, signal: AbortSignal, lang?: Lang): Promise<CheckReply>;
}

export const noClusterActions: LabActionsPort = {
  async solve() { throw new RunnerError('NO_CLUSTER'); },
  async reset() { throw new RunnerError('NO_CLUSTER'); },
};

/** Apply without a cluster: the YAML is checked, then a clear NO_CLUSTER error. */
export const noClusterApply: ApplyPort = {
  async apply() {
    throw new RunnerError('NO_CLUSTER');
  },
};

export interface AppDeps {
  logger: Logger;
  token: string;
  /** Origins allowed to open WebSockets (known once the server listens). */
  allowedOrigins: () => readonly string[];
  sessions: SessionManager;
  labs: LabsPort;
  checks: ChecksPort;
  apply: ApplyPort;
  actions?: LabActionsPort;
  /** The YAML parser for Apply and Live; buildApp makes one (with worker threads) when omitted. */
  manifests?: ManifestsPort;
  /** What the instructor page listens to and steers beyond sessions and labs: the pool's changes, the workshop. */
  instructor?: InstructorDeps;
  /** A workshop for a room (svclab workshop start): learners join and hold passes; the token is then the instructor secret. */
  workshop?: Workshop;
  /** Serve HTTPS with this certificate and key (PEM) instead of HTTP. */
  https?: { cert: string; key: string };
  /** The pool and sessions at a glance (GET /api/status), for instructors and `svclab status`. */
  status?: () => RunnerStatus;
  /** How long POST /api/sessions waits for a session to be ready before answering 202 (default 8 s). */
  startWaitMs?: number;
  /** Directory of the built site; omitted in API-only tests. */
  siteDir?: string;
  version: string;
  /** This runner's replica name (a Kubernetes install: its pod), said by /api/health. */
  replica?: string;
}
