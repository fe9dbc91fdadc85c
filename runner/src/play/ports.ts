// What the HTTP layer asks of a session's lab, typed here (below http/ and
// sessions/) so neither has to import the other: sessions/lab-cluster.ts builds
// these ports on LabActions, http/ calls them.
import type { LiveObject, ParsedManifest } from './manifests.ts';

export type { LiveObject, ParsedManifest };

/** What a port needs to know of a session: its lab, its workstation and (once it has one) its cluster. */
export interface PlaySession {
  labId: string;
  /** Name of the session's workstation container. */
  workstation: string;
  cluster?: { name: string };
}

/** Apply from the editor: a server-side dry run first, then the real apply. */
export interface ApplyPort {
  apply(session: PlaySession, yaml: string, manifests: ParsedManifest[]): Promise<{ dryRun: string; applied: string }>;
  /** The live object behind each document, for the editor's diff (null: not created yet). */
  live?(session: PlaySession, yaml: string, manifests: ParsedManifest[]): Promise<LiveObject[]>;
}

/** The Solve and Reset lab buttons; both need the session's cluster. */
export interface LabActionsPort {
  solve(session: PlaySession, stepId: string): Promise<void>;
  reset(session: PlaySession): Promise<void>;
}
