// A command in one container of a pod, through the Kubernetes API's exec (the websocket
// `pods/exec` subresource): what the runner uses to reach inside a learner's environment
// pod — root on its `node` container (kubeadm, admin kubectl, learner access) and the
// learner on its `workstation` container (the learner's kubectl, checks). An interface so
// the shells built on it (runner/src/environments/pod-shell.ts) are tested with a fake.
//
// The exit code is data (the API's final Status: Success, or NonZeroExitCode with the
// code); a pod or container that cannot be reached is a KubeObjectsError. stdin is sent
// and then closed, which needs the v5.channel.k8s.io protocol (Kubernetes 1.30 and later):
// with an older server the close is the socket's, and output after it is lost.
import { Readable, Writable } from 'node:stream';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { KubeObjectsError } from './kube-objects.ts';

export interface PodExecRequest {
  pod: string;
  container: string;
  argv: readonly string[];
  /** Written to the command's stdin, then closed. */
  input?: string;
  /** The socket is closed this long after the start (the caller also bounds the command itself). */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface PodExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
}

export interface PodExecutor {
  readonly namespace: string;
  /** Throws KubeObjectsError when the API, the pod or the container cannot run it. */
  exec(req: PodExecRequest): Promise<PodExecResult>;
}

/** The exit code a Status from the exec stream stands for (kubectl's reading of it). */
export function exitCodeOf(status: V1Status | undefined): { exitCode: number; message?: string } {
  if (!status) return { exitCode: -1, message: 'the exec stream ended without a status' };
  if (status.status === 'Success') return { exitCode: 0 };
  const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
  if (status.reason === 'NonZeroExitCode' && code !== undefined && /^\d+$/.test(code)) return { exitCode: Number(code) };
  // The runtime could not start the program at all ("executable file not found").
  const message = status.message ?? 'the command could not be run';
  return { exitCode: /not found|no such file/i.test(message) ? 127 : 126, message };
}

export class ClientNodePodExecutor implements PodExecutor {
  readonly namespace: string;
  private readonly exec_: Exec;
  private readonly server: string;

  constructor(o: { namespace: string; kubeconfig?: string }) {
    const kc = new KubeConfig();
    if (o.kubeconfig === undefined) kc.loadFromCluster();
    else kc.loadFromString(o.kubeconfig);
    this.namespace = o.namespace;
    this.server = kc.getCurrentCluster()?.server ?? 'the API server';
    this.exec_ = new Exec(kc);
  }

  async exec(req: PodExecRequest): Promise<PodExecResult> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sink = (to: Buffer[]) => new Writable({ write(chunk: Buffer, _enc, done) { to.push(Buffer.from(chunk)); done(); } });
    const stdin = req.input === undefined ? null : Readable.from([Buffer.from(req.input)]);
    let status: V1Status | undefined;
    let timedOut = false;
    let aborted = false;
    const where = `exec in pod ${this.namespace}/${req.pod}, container ${req.container}`;
    let ws: Awaited<ReturnType<Exec['exec']>>;
    try {
      ws = await this.exec_.exec(this.namespace, req.pod, req.container, [...req.argv], sink(out), sink(err), stdin, false, (s) => { status = s; });
    } catch (e) {
      throw connectError(e, where, this.server);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { timedOut = true; ws.close(); }, req.timeoutMs);
      const onAbort = () => { aborted = true; ws.close(); };
      if (req.signal?.aborted) onAbort();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      if (ws.readyState === ws.CLOSED) done();
      else ws.addEventListener('close', done, { once: true });
    });
    const { exitCode, message } = timedOut || aborted ? { exitCode: -1, message: undefined } : exitCodeOf(status);
    const stderr = Buffer.concat(err).toString('utf8');
    return {
      exitCode,
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: message && !stderr.includes(message) ? `${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}${message}` : stderr,
      timedOut, aborted,
    };
  }
}

/**
 * Why the exec websocket's upgrade was refused, read from client-node's error: the HTTP
 * status (404 no such pod, 400 container not running, 403 RBAC) and words for it. One
 * reading for both exec clients (this one and terminals/client-node-pod-exec.ts).
 */
export function execRefusal(e: unknown): { httpStatus: number | undefined; said: string } {
  const text = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  const status = /Unexpected server response: (\d{3})/.exec(text)?.[1];
  const httpStatus = status ? Number(status) : undefined;
  const said = httpStatus === 404 ? 'no such pod' : httpStatus === 400 ? 'the container is not running (or not there)' : httpStatus === 403 ? 'the runner may not exec there (RBAC: pods/exec)' : text;
  return { httpStatus, said };
}

/** The websocket upgrade's refusal (pod gone, container not running, no right to exec) as the store's error. */
function connectError(e: unknown, where: string, server: string): KubeObjectsError {
  const { httpStatus: code, said } = execRefusal(e);
  const reason = code === 404 ? 'not-found' : code === 403 || code === 401 ? 'forbidden' : code === 400 ? 'invalid' : code !== undefined && code < 500 && code !== 429 ? 'other' : 'unavailable';
  return new KubeObjectsError(`${where} failed at ${server}: ${said}`, reason, code, { cause: e });
}
