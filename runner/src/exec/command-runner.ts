// Kept while callers move to exec/shell.ts: a CommandRunner is the host Shell.
export { outputTail, type CommandResult, type RunOptions } from './shell.ts';
import type { Shell } from './shell.ts';

/** @deprecated Use Shell (exec/shell.ts). */
export type CommandRunner = Shell;
