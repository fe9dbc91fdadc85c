// The one kubectl module: the only place svclab builds a kubectl argv. A Kubectl runs
// through a Shell, so "kubectl as the learner in the workstation", "kubectl as admin
// on the control-plane node" and "kubectl on the host" are the same code with another
// Shell and kubeconfig:
//   new Kubectl({ shell: new ContainerShell(engine, ws, { user: 'learner' }), requestTimeout: '30s' })
//   new Kubectl({ shell: nodeShell(driver, cluster, cp), kubeconfig: ADMIN_KUBECONFIG })
//   new Kubectl({ shell: hostShell, binary: '/…/bin/kubectl', kubeconfig: '/…/kubeconfig-host' })
// A failing kubectl is data (CommandResult) from run() and the verb helpers; must()
// turns a failure into a RunnerError carrying the argv and the output tail.

import { RunnerError } from '../errors.ts';
import { lastLine, outputTail, type CommandResult, type RunOptions, type Shell } from '../exec/shell.ts';

/** The program's name: in PATH inside workstations and nodes, under bin/ of the built kubernetes artifact. */
export const KUBECTL = 'kubectl';
/** kubeadm's admin kubeconfig inside every kind control-plane node. */
export const ADMIN_KUBECONFIG = '/etc/kubernetes/admin.conf';
/** Field manager of everything svclab itself applies (add-ons, lab setup, solutions). */
export const SVCLAB_FIELD_MANAGER = 'svclab';
const DEFAULT_TIMEOUT_MS = 60_000;

export interface KubectlOptions {
  /** Where kubectl runs. */
  shell: Shell;
  /** The kubectl program as the shell sees it; "kubectl" (first in PATH) unless said otherwise. */
  binary?: string;
  /** --kubeconfig, a path as the shell sees it; kubectl's default ($KUBECONFIG, ~/.kube/config) without it. */
  kubeconfig?: string;
  /** --context */
  context?: string;
  /** --request-timeout of every call ("30s"); a call may name its own. */
  requestTimeout?: string;
  /** Run kubectl as this user (containers and nodes). */
  user?: string;
  /** Process timeout of a call that names none. */
  timeoutMs?: number;
}

/** Options of one call: the process side (how long, what on stdin) and kubectl's own request timeout. */
export interface KubectlCall {
  input?: string;
  timeoutMs?: number;
  requestTimeout?: string;
  signal?: AbortSignal;
  onOutput?: RunOptions['onOutput'];
}

export interface ApplyOptions {
  serverSide?: boolean;
  /** Take over fields another manager owns (server-side only). */
  forceConflicts?: boolean;
  fieldManager?: string;
  /** 'server': the API server validates and admits, nothing is stored. */
  dryRun?: 'server' | 'client';
  namespace?: string;
}

export interface SelectOptions {
  namespace?: string;
  allNamespaces?: boolean;
  /** -l */
  selector?: string;
  fieldSelector?: string;
}

export interface GetOptions extends SelectOptions {
  /** 'json' | 'yaml' | 'wide' | 'name' | 'jsonpath=…' */
  output?: string;
  ignoreNotFound?: boolean;
}

export interface DeleteOptions extends SelectOptions {
  ignoreNotFound?: boolean;
  /** --wait (kubectl's default is true) */
  wait?: boolean;
  /** --timeout of the wait, e.g. "90s" */
  timeout?: string;
  all?: boolean;
}

/** What a get or delete is about: resource words (`['pods']`, `['deployment', 'web']`, `['crd/x']`), or the objects in YAML given on stdin. */
export type Target = readonly string[] | { manifests: string };

export class Kubectl {
  readonly options: Readonly<KubectlOptions>;

  constructor(options: KubectlOptions) {
    this.options = { ...options };
  }

  /** The same kubectl with some options changed (another request timeout, kubeconfig, user). */
  with(overrides: Partial<KubectlOptions>): Kubectl {
    return new Kubectl({ ...this.options, ...overrides });
  }

  /** The full argv of `kubectl ARGS` as this Kubectl runs it. */
  argv(args: readonly string[], requestTimeout = this.options.requestTimeout): string[] {
    return kubectlArgv(args, { ...this.options, ...(requestTimeout ? { requestTimeout } : {}) });
  }

  /** `kubectl ARGS`; its exit code is data. */
  run(args: readonly string[], call: KubectlCall = {}): Promise<CommandResult> {
    return this.options.shell.run(this.argv(args, call.requestTimeout ?? this.options.requestTimeout), {
      timeoutMs: call.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(call.input !== undefined ? { input: call.input } : {}),
      ...(this.options.user !== undefined ? { user: this.options.user } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
      ...(call.onOutput ? { onOutput: call.onOutput } : {}),
    });
  }

  /** `kubectl ARGS`, throwing a RunnerError (argv, exit code, output tail) unless it exits 0. */
  async must(args: readonly string[], call: KubectlCall = {}): Promise<CommandResult> {
    return ok(await this.run(args, call));
  }

  /** `kubectl apply -f -` with `manifests` on stdin. */
  apply(manifests: string, o: ApplyOptions = {}, call: KubectlCall = {}): Promise<CommandResult> {
    return this.run(applyArgs(o), { ...call, input: manifests });
  }

  get(target: Target, o: GetOptions = {}, call: KubectlCall = {}): Promise<CommandResult> {
    return this.run(getArgs(target, o), withManifests(target, call));
  }

  /** `kubectl get … -o json`, parsed; throws when kubectl fails or prints something else. */
  async getJson<T = unknown>(target: Target, o: Omit<GetOptions, 'output'> = {}, call: KubectlCall = {}): Promise<T> {
    const r = ok(await this.get(target, { ...o, output: 'json' }, call));
    if (r.stdout.trim() === '' && o.ignoreNotFound) return { kind: 'List', items: [] } as T;
    try {
      return JSON.parse(r.stdout) as T;
    } catch (cause) {
      throw new RunnerError('COMMAND_FAILED', { message: `\`${show(r.argv)}\` did not print JSON.`, details: details(r), cause });
    }
  }

  delete(target: Target, o: DeleteOptions = {}, call: KubectlCall = {}): Promise<CommandResult> {
    return this.run(deleteArgs(target, o), withManifests(target, call));
  }

  /** `kubectl rollout status KIND/NAME --timeout=Ns`; the process gets 30 s more than the rollout. */
  rolloutStatus(namespace: string, kind: string, name: string, timeoutS: number, call: KubectlCall = {}): Promise<CommandResult> {
    return this.run(['-n', namespace, 'rollout', 'status', `${kind}/${name}`, `--timeout=${timeoutS}s`], { timeoutMs: (timeoutS + 30) * 1000, ...call });
  }

  /** `kubectl wait --for=CONDITION --timeout=Ns TARGETS…` */
  wait(targets: readonly string[], condition: string, timeoutS: number, o: SelectOptions = {}, call: KubectlCall = {}): Promise<CommandResult> {
    return this.run(['wait', ...selectArgs(o), `--for=${condition}`, `--timeout=${timeoutS}s`, ...targets], { timeoutMs: (timeoutS + 30) * 1000, ...call });
  }

  /** A Shell inside a pod: `kubectl exec`. Pods have no user switch; env goes through env(1). */
  podShell(namespace: string, pod: string, container?: string): Shell {
    return {
      run: async (argv, opts) => {
        if (opts.user !== undefined) throw new Error(`kubectl exec can't run as ${opts.user}: a pod's user is set by its spec`);
        const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
        const args = ['exec', ...(opts.input !== undefined ? ['-i'] : []), '-n', namespace, pod, ...(container ? ['-c', container] : []), '--', ...(env.length ? ['env', ...env] : []), ...argv];
        return await this.run(args, { timeoutMs: opts.timeoutMs, ...(opts.input !== undefined ? { input: opts.input } : {}), ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onOutput ? { onOutput: opts.onOutput } : {}) });
      },
    };
  }
}

/** `kubectl ARGS` with the global flags: program, kubeconfig, context, request timeout, then ARGS. */
export function kubectlArgv(args: readonly string[], o: Pick<KubectlOptions, 'binary' | 'kubeconfig' | 'context' | 'requestTimeout'> = {}): string[] {
  return [
    o.binary ?? KUBECTL,
    ...(o.kubeconfig ? [`--kubeconfig=${o.kubeconfig}`] : []),
    ...(o.context ? [`--context=${o.context}`] : []),
    ...(o.requestTimeout ? [`--request-timeout=${o.requestTimeout}`] : []),
    ...args,
  ];
}

export function applyArgs(o: ApplyOptions = {}): string[] {
  if (o.forceConflicts && !o.serverSide) throw new Error('kubectl apply --force-conflicts needs --server-side');
  return [
    'apply',
    ...(o.namespace ? ['-n', o.namespace] : []),
    ...(o.serverSide ? ['--server-side'] : []),
    ...(o.forceConflicts ? ['--force-conflicts'] : []),
    ...(o.fieldManager ? [`--field-manager=${o.fieldManager}`] : []),
    ...(o.dryRun ? [`--dry-run=${o.dryRun}`] : []),
    '-f', '-',
  ];
}

export function getArgs(target: Target, o: GetOptions = {}): string[] {
  return [
    'get',
    ...targetArgs(target),
    ...selectArgs(o),
    ...(o.ignoreNotFound ? ['--ignore-not-found'] : []),
    ...(o.output ? ['-o', o.output] : []),
  ];
}

export function deleteArgs(target: Target, o: DeleteOptions = {}): string[] {
  return [
    'delete',
    ...targetArgs(target),
    ...selectArgs(o),
    ...(o.all ? ['--all'] : []),
    ...(o.ignoreNotFound ? ['--ignore-not-found'] : []),
    ...(o.wait !== undefined ? [`--wait=${o.wait}`] : []),
    ...(o.timeout ? [`--timeout=${o.timeout}`] : []),
  ];
}

function selectArgs(o: SelectOptions): string[] {
  return [
    ...(o.namespace ? ['-n', o.namespace] : []),
    ...(o.allNamespaces ? ['-A'] : []),
    ...(o.selector ? ['-l', o.selector] : []),
    ...(o.fieldSelector ? ['--field-selector', o.fieldSelector] : []),
  ];
}

function targetArgs(target: Target): string[] {
  return isManifests(target) ? ['-f', '-'] : [...target];
}

function isManifests(target: Target): target is { manifests: string } {
  return !Array.isArray(target) && typeof (target as { manifests?: unknown }).manifests === 'string';
}

function withManifests(target: Target, call: KubectlCall): KubectlCall {
  return isManifests(target) ? { ...call, input: target.manifests } : call;
}

/** The result, or a RunnerError saying which kubectl failed and how (timeout: COMMAND_TIMEOUT). */
export function ok(r: CommandResult): CommandResult {
  if (r.exitCode === 0 && !r.timedOut) return r;
  throw kubectlError(r);
}

export function kubectlError(r: CommandResult, message?: string): RunnerError {
  if (r.timedOut) return new RunnerError('COMMAND_TIMEOUT', { message: message ?? `\`${show(r.argv)}\` did not finish in time.`, details: details(r) });
  return new RunnerError('COMMAND_FAILED', { message: message ?? `\`${show(r.argv)}\` failed: ${lastLine(r.stderr || r.stdout)}`, details: details(r) });
}

function details(r: CommandResult) {
  return { argv: [...r.argv], exitCode: r.exitCode, output: outputTail(r, 30) };
}

/** The argv for a message, without the global flags (kubeconfig paths say nothing to a reader). */
function show(argv: readonly string[]): string {
  const rest = argv.slice(1).filter((a) => !/^--(kubeconfig|context|request-timeout)=/.test(a));
  return ['kubectl', ...rest].join(' ');
}
