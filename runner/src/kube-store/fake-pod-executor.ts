// A PodExecutor in memory: answers by pod and container with a handler that sees the argv
// as the container would run it (PodShell's `timeout … ` wrapper included), and records
// every call. A pod the test did not make reachable throws as the API does.
import { KubeObjectsError } from './kube-objects.ts';
import type { PodExecRequest, PodExecResult, PodExecutor } from './pod-executor.ts';

export type FakePodExecHandler = (req: PodExecRequest) => Partial<PodExecResult> | Promise<Partial<PodExecResult>>;

export class FakePodExecutor implements PodExecutor {
  readonly namespace: string;
  readonly calls: PodExecRequest[] = [];
  /** "pod/container" → handler; a missing one is a pod or container that is not there. */
  readonly containers = new Map<string, FakePodExecHandler>();

  constructor(namespace = 'svclab') {
    this.namespace = namespace;
  }

  on(pod: string, container: string, handler: FakePodExecHandler): this {
    this.containers.set(`${pod}/${container}`, handler);
    return this;
  }

  async exec(req: PodExecRequest): Promise<PodExecResult> {
    this.calls.push(req);
    await new Promise<void>((r) => setImmediate(r));
    const h = this.containers.get(`${req.pod}/${req.container}`);
    if (!h) throw new KubeObjectsError(`exec in pod ${this.namespace}/${req.pod}, container ${req.container} failed: no such pod`, 'not-found', 404);
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, aborted: false, ...(await h(req)) };
  }
}

/** The argv inside PodShell's `timeout -k 2 N [env K=V…]` wrapper (and its `cd`), for handlers. */
export function unwrapped(argv: readonly string[]): string[] {
  let a = [...argv];
  if (a[0] === 'sh' && a[2] === 'cd "$1" && shift && exec "$@"') a = a.slice(5);
  if (a[0] === 'timeout') a = a.slice(4);
  if (a[0] === 'env') {
    a = a.slice(1);
    while (a[0] && /^[A-Za-z_][A-Za-z0-9_]*=/.test(a[0])) a = a.slice(1);
  }
  return a;
}
