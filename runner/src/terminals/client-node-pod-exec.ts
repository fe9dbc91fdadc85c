// PodExec through @kubernetes/client-node's Exec (the websocket `pods/exec` subresource).
// Flow control is the websocket's own: pause() stops reading the socket, so TCP backs
// the output up to the API server, the kubelet and finally the command in the pod.
import { PassThrough, Writable } from 'node:stream';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { execRefusal, exitCodeOf } from '../kube-store/pod-executor.ts';
import { runThrough, type ExecEnd, type ExecHandlers, type ExecStream, type PodExec, type PodTarget } from './pod-exec.ts';

export class PodExecError extends Error {
  /** The API server's HTTP status for the upgrade (404: no such pod, 400: container not running, 403: RBAC). */
  readonly httpStatus: number | undefined;
  constructor(message: string, httpStatus: number | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'PodExecError';
    this.httpStatus = httpStatus;
  }
}

export class ClientNodePodExec implements PodExec {
  private readonly exec: Exec;
  private readonly server: string;

  /** From kubeconfig text, or the pod's service account when omitted (in-cluster). */
  constructor(o: { kubeconfig?: string } = {}) {
    const kc = new KubeConfig();
    if (o.kubeconfig === undefined) kc.loadFromCluster();
    else kc.loadFromString(o.kubeconfig);
    this.server = kc.getCurrentCluster()?.server ?? 'the API server';
    this.exec = new Exec(kc);
  }

  async open(target: PodTarget, command: readonly string[], handlers: ExecHandlers): Promise<ExecStream> {
    const sink = (to: (b: Buffer) => void) => new Writable({ write(chunk: Buffer, _enc, done) { to(Buffer.from(chunk)); done(); } });
    const stdin = new PassThrough();
    let status: V1Status | undefined;
    let settle!: (end: ExecEnd) => void;
    const done = new Promise<ExecEnd>((resolve) => { settle = resolve; });
    let ws: Awaited<ReturnType<Exec['exec']>>;
    try {
      ws = await this.exec.exec(target.namespace, target.pod, target.container, [...command], sink(handlers.stdout), sink(handlers.stderr), stdin, false, (s) => { status = s; });
    } catch (e) {
      const { httpStatus, said } = execRefusal(e);
      throw new PodExecError(`exec in pod ${target.namespace}/${target.pod}, container ${target.container} failed at ${this.server}: ${said}`, httpStatus, e);
    }
    let closing = false;
    ws.on('close', () => {
      if (status) {
        const { exitCode, message } = exitCodeOf(status);
        settle({ exitCode, ...(message ? { message } : {}), dropped: false });
      } else {
        settle({ dropped: true, message: closing ? 'closed by the runner' : 'the connection to the API server ended without a status' });
      }
    });
    ws.on('error', () => { /* 'close' follows and settles */ });
    return {
      write: (data) => { if (!closing) stdin.write(data); },
      pause: () => ws.pause(),
      resume: () => ws.resume(),
      close: () => {
        if (closing) return;
        closing = true;
        // Ending stdin tells the command (v5.channel.k8s.io); closing the socket is what
        // older servers understand, and what a dead replica's socket does anyway.
        stdin.end();
        ws.close();
      },
      abort: () => {
        closing = true;
        ws.terminate();
      },
      done,
    };
  }

  run(target: PodTarget, command: readonly string[], timeoutMs: number) {
    return runThrough(this, target, command, timeoutMs);
  }
}
