// EnvironmentRuntime in memory: tests start environments, then make them ready, fail or
// vanish (a lost node) as they need.
import type { EnvironmentInfo, EnvironmentRef, EnvironmentRuntime } from './environment-runtime.ts';

export class FakeEnvironmentRuntime implements EnvironmentRuntime {
  readonly kind = 'fake';
  readonly started: string[] = [];
  readonly stopped: string[] = [];
  /** Starts that throw (a quota, a refused pod), by Environment name. */
  readonly refuse = new Set<string>();
  private readonly held = new Map<string, EnvironmentInfo>();

  async start(env: EnvironmentRef): Promise<void> {
    if (this.refuse.has(env.name)) throw new Error(`pods "${env.name}" is forbidden: exceeded quota`);
    this.started.push(env.name);
    this.held.set(env.name, { state: 'starting', pod: env.name });
  }

  async inspectAll(): Promise<Map<string, EnvironmentInfo>> {
    return new Map([...this.held].map(([k, v]) => [k, { ...v }]));
  }

  async stop(name: string): Promise<boolean> {
    this.stopped.push(name);
    return this.held.delete(name);
  }

  /** Every starting environment becomes ready (on `node`). */
  readyAll(node = 'worker-1'): void {
    for (const [k, v] of this.held) if (v.state === 'starting') this.held.set(k, { ...v, state: 'ready', node });
  }

  fail(name: string, message: string): void {
    const v = this.held.get(name);
    if (v) this.held.set(name, { ...v, state: 'failed', message });
  }

  /** Gone without a stop: its node was lost, or someone deleted the pod. */
  lose(name: string): void {
    this.held.delete(name);
  }

  names(): string[] {
    return [...this.held.keys()];
  }
}
