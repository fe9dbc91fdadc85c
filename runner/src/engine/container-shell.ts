// A Shell inside a container: `docker exec` through the engine, as a given user.
// The learner's workstation is ContainerShell(engine, 'svclab-ws-…', { user: 'learner' });
// a kind node is a container too (cluster/node-shell.ts).

import type { CommandResult, RunOptions, Shell } from '../exec/shell.ts';
import type { ContainerEngine } from './container-engine.ts';

export class ContainerShell implements Shell {
  readonly container: string;
  private readonly engine: Pick<ContainerEngine, 'exec'>;
  private readonly defaults: { user?: string; env?: Record<string, string> };

  /** `defaults.user` runs every command as that user unless a call names another. */
  constructor(engine: Pick<ContainerEngine, 'exec'>, container: string, defaults: { user?: string; env?: Record<string, string> } = {}) {
    this.engine = engine;
    this.container = container;
    this.defaults = defaults;
  }

  run(argv: readonly string[], opts: RunOptions): Promise<CommandResult> {
    const user = opts.user ?? this.defaults.user;
    const env = this.defaults.env || opts.env ? { ...this.defaults.env, ...opts.env } : undefined;
    return this.engine.exec(this.container, argv, { ...opts, ...(user !== undefined ? { user } : {}), ...(env ? { env } : {}) });
  }
}
