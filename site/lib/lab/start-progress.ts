// What the panel says while a session starts (POST /api/sessions may answer 202 and the page
// polls): the phases with where the session is in them, the place in line and a countdown
// while no cluster is free, and a failure as the runner's message and hint. Pure functions
// of the session view and the clock, so they are unit-tested without a browser.
import type { PanelStrings } from '../i18n/panel-strings.ts';
import type { Session } from '../api/runner-api.ts';
import type { PENDING_SESSION_STATES, PhaseState, SessionState, StartPhase } from '../../../runner/src/api/sessions.ts';

export const START_PHASES = ['claiming', 'starting', 'applying'] as const satisfies readonly StartPhase[];
export type PhaseId = 'waiting' | StartPhase;
export type { PhaseState };
export type Phase = { id: PhaseId; state: PhaseState; label: string };

/** The states in which a session is on its way to ready: exactly the runner's (api/sessions.ts). */
const PENDING: Record<(typeof PENDING_SESSION_STATES)[number], true> = { waiting: true, claiming: true, starting: true, applying: true };
export function isPending(state: SessionState): boolean {
  return Object.hasOwn(PENDING, state);
}

export function phaseLabel(s: PanelStrings, id: PhaseId): string {
  return { waiting: s.phaseWaiting, claiming: s.phaseClaiming, starting: s.phaseStarting, applying: s.phaseApplying }[id];
}

/**
 * The phases to show: the runner's `steps` when it sends them (else derived from `state`),
 * with "wait for a free cluster" in front once the session has had to wait.
 */
export function phasesOf(session: Session, s: PanelStrings, waited: boolean): Phase[] {
  const known = new Set<string>(START_PHASES);
  const fromRunner = (session.steps ?? []).filter((p) => known.has(p.id));
  const at = (START_PHASES as readonly string[]).indexOf(session.state);
  const steps: { id: PhaseId; state: PhaseState }[] = fromRunner.length
    ? fromRunner.map((p) => ({ id: p.id as PhaseId, state: p.state }))
    : START_PHASES.map((id, i) => ({ id, state: session.state === 'ready' || (at >= 0 && i < at) ? 'done' : i === at ? 'running' : 'pending' }));
  const waiting = session.state === 'waiting';
  const all = waited || waiting ? [{ id: 'waiting' as const, state: (waiting ? 'running' : 'done') as PhaseState }, ...steps] : steps;
  return all.map((p) => ({ ...p, label: phaseLabel(s, p.id) }));
}

/** The status line (a live region: it changes only when the phase or the place in line does). */
export function startStatus(session: Session, s: PanelStrings, phases: Phase[]): string {
  if (session.state === 'waiting') {
    return session.wait ? s.waitingInLine.replace('{position}', String(session.wait.position)) : s.waitingNoLine;
  }
  const counted = phases.filter((p) => p.id !== 'waiting');
  const i = counted.findIndex((p) => p.state === 'running');
  if (i < 0) return s.statusStarting;
  return s.startPhase.replace('{n}', String(i + 1)).replace('{total}', String(counted.length)).replace('{phase}', counted[i]!.label);
}

/**
 * The ticking line under it (not a live region): the countdown to `etaAt` while waiting,
 * else the time spent so far.
 */
export function startTicker(session: Session, s: PanelStrings, now: number, began: number, etaAt: number | undefined): string {
  const elapsed = s.elapsed.replace('{s}', String(Math.max(0, Math.round((now - began) / 1000))));
  if (session.state !== 'waiting') return `${s.startElapsed} ${elapsed}`;
  if (etaAt === undefined) return s.waitNoEta.replace('{s}', String(Math.max(0, Math.round((now - began) / 1000))));
  const left = Math.ceil((etaAt - now) / 1000);
  return left > 0 ? s.waitEta.replace('{s}', String(left)) : s.waitEtaOver;
}

/**
 * A start failure as the learner reads it: the runner's message and hint (the Chinese page
 * has its own words for the errors a start can end in), never a bare code.
 */
export function startError(error: { code?: string; message?: string; hint?: string } | undefined, s: PanelStrings): { message: string; hint: string } {
  const own = error?.code ? s.startErrors[error.code] : undefined;
  if (own) return own;
  const message = error?.message?.trim() || s.startFailed;
  const hint = error?.hint?.trim() || s.startFailedHint;
  return { message, hint };
}
