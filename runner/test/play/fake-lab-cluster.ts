// A cluster for LabActions tests without docker: kubectl apply/delete/get through a
// Shell whose identity is the learner or the admin, over objects the checks read
// through a FakeKubeApi. The learner is refused what `learnerForbidden` names, the
// way RBAC refuses svclab:learner a cluster-scoped write; the admin is refused nothing.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { CheckContext } from '../../src/checks/check.ts';
import { FakeKubeApi, type KubeObject } from '../../src/checks/kube-api.ts';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { commandResult, type CommandResult, type RunOptions, type Shell } from '../../src/exec/shell.ts';
import { Kubectl } from '../../src/kube/kubectl.ts';
import { labSchema } from '../../src/labs/lab-schema.ts';
import type { Lab } from '../../src/labs/load-labs.ts';
import { LabActions } from '../../src/play/lab-actions.ts';

export type Identity = 'learner' | 'admin';

export class FakeLabCluster {
  readonly kube = new FakeKubeApi();
  private objects: KubeObject[] = [];
  /** Every command, as `identity: argv…` without kubectl's global flags. */
  readonly log: string[] = [];
  /** Kinds the learner may not create or change (RBAC). */
  readonly learnerForbidden = new Set<string>();
  /** Answers a command before the fake does (undefined: the fake's own answer; exit 0 for what it doesn't know but kubectl). */
  command: (argv: readonly string[]) => Partial<CommandResult> | undefined = () => undefined;
  /** Make an apply of this kind fail for everyone (a broken setup). */
  rejectKind: string | undefined;
  private t = 1_000_000;

  shell(identity: Identity): Shell {
    return { run: async (argv, opts) => this.run(identity, argv, opts) };
  }

  kubectl(identity: Identity): Kubectl {
    return new Kubectl({ shell: this.shell(identity), requestTimeout: '30s' });
  }

  /** A check context over this cluster with a clock that never waits. */
  context(): CheckContext {
    return { engine: new FakeContainerEngine(), workstation: 'svclab-ws-test', now: () => this.t, sleep: async (ms) => { this.t += ms; }, kube: this.kube };
  }

  now = (): number => this.t;

  has(kind: string, name: string): boolean {
    return this.objects.some((o) => o.kind === kind && o.metadata?.name === name);
  }

  /** LabActions as a learner has them: kubectl and commands as the learner; setup by `setupAs`. */
  actions(lab: Lab, o: { as?: Identity; setupAs?: Identity } = {}): { actions: LabActions; contexts: () => number } {
    let built = 0;
    const as = o.as ?? 'learner';
    const actions = new LabActions({
      lab,
      shell: this.shell(as),
      kubectl: this.kubectl(as),
      ...(o.setupAs ? { setupKubectl: this.kubectl(o.setupAs) } : {}),
      checkContext: async () => { built++; return this.context(); },
    });
    return { actions, contexts: () => built };
  }

  private async run(identity: Identity, argv: readonly string[], opts: RunOptions): Promise<CommandResult> {
    const args = argv.filter((a) => !/^--(kubeconfig|request-timeout|context)=/.test(a));
    this.log.push(`${identity}: ${args.join(' ')}`);
    const custom = this.command(args);
    if (custom) return commandResult(argv, custom);
    if (args[0] === 'kubectl') return commandResult(argv, this.kubectlCall(identity, args.slice(1), opts.input));
    if (args[0] === 'sh' && args[2] === 'rm -rf "$HOME/answers"') return commandResult(argv, {});
    return commandResult(argv, {});
  }

  private kubectlCall(identity: Identity, args: string[], input: string | undefined): Partial<CommandResult> {
    const verb = args[0];
    const flag = (f: string) => args.includes(f);
    const docs = input !== undefined ? parseAllDocuments(input).map((d) => d.toJS() as KubeObject).filter(Boolean).flatMap((o) => (o.kind === 'List' ? (o as { items: KubeObject[] }).items : [o])) : [];
    if (verb === 'apply') {
      for (const o of docs) {
        if (o.kind === this.rejectKind) return { exitCode: 1, stderr: `The ${o.kind} "${o.metadata?.name}" is invalid: spec: Required value` };
        if (identity === 'learner' && this.learnerForbidden.has(o.kind!)) {
          return { exitCode: 1, stderr: `Error from server (Forbidden): error when creating "STDIN": ${o.kind!.toLowerCase()}s.rbac.authorization.k8s.io "${o.metadata?.name}" is forbidden: User "svclab:learner" cannot patch resource "${o.kind!.toLowerCase()}s" in API group "rbac.authorization.k8s.io" at the cluster scope` };
        }
      }
      if (flag('--dry-run=server')) return { stdout: docs.map((o) => `${o.kind!.toLowerCase()}/${o.metadata?.name} serverside-applied (server dry run)`).join('\n') };
      for (const o of docs) this.put(o);
      return { stdout: docs.map((o) => `${o.kind!.toLowerCase()}/${o.metadata?.name} serverside-applied`).join('\n') };
    }
    if (verb === 'create' && args[1] === 'configmap') {
      const [k, v] = (args.find((a) => a.startsWith('--from-literal='))?.slice('--from-literal='.length) ?? '=').split('=');
      this.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: args[2]!, namespace: 'default' }, data: { [k!]: v } } as KubeObject);
      return { stdout: `configmap/${args[2]} created` };
    }
    if (verb === 'delete') {
      // RBAC refuses a verb on a resource whether or not the object exists (--ignore-not-found or not).
      const denied = identity === 'learner' && docs.find((o) => this.learnerForbidden.has(o.kind!));
      if (denied) return { exitCode: 1, stderr: `Error from server (Forbidden): ${denied.kind!.toLowerCase()}s.rbac.authorization.k8s.io "${denied.metadata?.name}" is forbidden: User "svclab:learner" cannot delete resource "${denied.kind!.toLowerCase()}s" in API group "rbac.authorization.k8s.io" at the cluster scope` };
      if (args[1] === '-f') {
        for (const o of docs) this.drop(o.kind!, o.metadata!.name!);
      } else {
        const kind = this.objects.find((o) => o.kind!.toLowerCase() === args[1])?.kind;
        if (kind) this.drop(kind, args[2]!);
      }
      return { stdout: '' };
    }
    if (verb === 'get' && args[1] === '-f') {
      const items = this.objects.filter((o) => docs.some((d) => d.kind === o.kind && d.metadata?.name === o.metadata?.name));
      return { stdout: JSON.stringify({ kind: 'List', items }) };
    }
    return { exitCode: 1, stderr: `fake kubectl: ${args.join(' ')} is not understood` };
  }

  private put(o: KubeObject): void {
    const meta = { namespace: 'default', ...o.metadata };
    this.drop(o.kind!, meta.name!);
    this.objects.push({ ...o, metadata: o.kind?.startsWith('Cluster') ? { ...o.metadata } : meta });
    this.kube.set(this.objects);
  }

  private drop(kind: string, name: string): void {
    this.objects = this.objects.filter((o) => !(o.kind === kind && o.metadata?.name === name));
    this.kube.set(this.objects);
  }
}

/** A lab on disk: `files` (path → text) under a temp lab folder, `spec` the lab.yaml content. */
export async function writeLab(spec: Record<string, unknown>, files: Record<string, string>): Promise<Lab> {
  const root = await mkdtemp(path.join(tmpdir(), 'svclab-play-'));
  const id = String(spec.id);
  const dir = path.join(root, 'labs', id);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  const parsed = labSchema.parse(spec);
  return { ...parsed, steps: parsed.steps, dir, file: `labs/${id}/lab.yaml` };
}

export const DEPLOYMENT = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec: { replicas: 1 }\n';
export const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name} }\ndata: { value: "${value}" }\n`;

/** A `resource` check: ConfigMap NAME in default has data.value VALUE. */
export function configMapCheck(id: string, name: string, value: string): Record<string, unknown> {
  return {
    id, kind: 'resource', description: { en: `ConfigMap ${name} says ${value}`, zh: `ConfigMap ${name} 为 ${value}` }, deadlineSeconds: 20, intervalSeconds: 4,
    resource: { apiVersion: 'v1', kind: 'ConfigMap', name, namespace: 'default' }, fields: [{ path: 'data.value', equals: value }],
  };
}

export function labSpec(id: string, steps: Record<string, unknown>[], setup: Record<string, unknown> = { manifests: ['manifests/deployment.yaml'] }): Record<string, unknown> {
  return { id, title: { en: 'T', zh: '标题' }, summary: { en: 'S', zh: '摘要' }, setup, steps };
}

export function stepSpec(id: string, checks: Record<string, unknown>[], solution: Record<string, unknown>): Record<string, unknown> {
  return { id, title: { en: id, zh: id }, checks, solution };
}
