// A FakeShell wired to an in-memory docker + kind: enough of the two CLIs for
// KindDriver (through a real DockerEngine over this shell) and the reaper to run
// unchanged, with failure injection.

import { parse } from 'yaml';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { FakeShell } from '../../src/exec/fake-shell.ts';
import type { CommandResult, RunOptions } from '../../src/exec/shell.ts';
import type { KindCluster } from '../../src/cluster/kind-config.ts';

export interface WorldContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  running: boolean;
  network: string;
  ip: string;
  ports: Record<string, { HostIp: string; HostPort: string }[]>;
  networkMode: string;
}

export interface WorldNetwork {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export const KIND = '/opt/kind/bin/kind';

export class FakeDockerWorld {
  readonly runner = new FakeShell();
  /** The real DockerEngine, talking to this world's docker. */
  readonly engine = new DockerEngine({ runner: this.runner });
  /** ref → image id */
  readonly images = new Map<string, string>();
  /** Every docker call fails like a stopped daemon. */
  daemonDown = false;
  readonly containers: WorldContainer[] = [];
  readonly networks: WorldNetwork[] = [];
  /** Named volumes (learners' homes); `inUse` stands for a container mounting it. */
  readonly volumes: { name: string; labels: Record<string, string>; inUse?: boolean }[] = [];
  /** Fail `kind create` after making the nodes (like a kubeadm init failure). */
  failKindCreate: string | undefined;
  /** Fail the next `kind create` calls with these messages, one per call. */
  readonly kindCreateFailures: string[] = [];
  /** How many `kubectl get nodes` polls report no node Ready before all are. */
  notReadyPolls = 0;
  /** argv of every `docker exec`, minus the docker/exec/-i prefix. */
  readonly execs: { node: string; argv: string[]; input?: string }[] = [];
  execHandler: ((node: string, argv: string[], input?: string) => Partial<CommandResult> | undefined) | undefined;
  private seq = 0;

  constructor() {
    this.runner.on(['docker'], (argv, opts) => this.docker(argv.slice(1), opts));
    this.runner.on([KIND], (argv, opts) => this.kind(argv.slice(1), opts));
  }

  /** Commands run, as strings, for order assertions. */
  get log(): string[] {
    return this.runner.calls.map((c) => c.argv.join(' '));
  }

  addContainer(c: Partial<WorldContainer> & { name: string }): WorldContainer {
    const full: WorldContainer = { id: this.id(), labels: {}, running: true, network: 'bridge', ip: `172.30.0.${++this.seq}`, ports: {}, networkMode: 'bridge', ...c };
    this.containers.push(full);
    return full;
  }

  addNetwork(name: string, labels: Record<string, string>): WorldNetwork {
    const n = { id: this.id(), name, labels };
    this.networks.push(n);
    return n;
  }

  private id(): string {
    return (++this.seq).toString(16).padStart(64, '0');
  }

  private find(ref: string): WorldContainer | undefined {
    return this.containers.find((c) => c.id === ref || c.name === ref);
  }

  private docker(a: readonly string[], opts: RunOptions): Partial<CommandResult> {
    if (this.daemonDown) return { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' };
    if (a[0] === 'info') return { stdout: JSON.stringify({ ServerVersion: '26.1.5-fake', DefaultRuntime: 'runc', CgroupVersion: '2', Driver: 'overlay2' }) };
    if (a[0] === 'image' && a[1] === 'inspect') {
      const id = this.images.get(a.at(-1)!);
      return id ? { stdout: `${id}\n` } : { exitCode: 1, stderr: `Error: No such image: ${a.at(-1)}` };
    }
    const filters = (args: readonly string[]) => args.flatMap((x, i) => (args[i - 1] === '--filter' ? [x.replace(/^label=/, '')] : []));
    const match = (labels: Record<string, string>, f: string) => {
      const eq = f.indexOf('=');
      return eq < 0 ? f in labels : labels[f.slice(0, eq)] === f.slice(eq + 1);
    };
    if (a[0] === 'ps') {
      const fs = filters(a);
      return { stdout: this.containers.filter((c) => fs.every((f) => match(c.labels, f))).map((c) => `${c.id}\n`).join('') };
    }
    if (a[0] === 'container' && a[1] === 'inspect') {
      const found = a.slice(2).map((r) => this.find(r)).filter((c) => c !== undefined);
      const json = found.map((c) => ({
        Id: c.id, Name: `/${c.name}`, Config: { Labels: c.labels }, State: { Running: c.running, Status: c.running ? 'running' : 'exited' },
        HostConfig: { NetworkMode: c.networkMode },
        NetworkSettings: { Networks: { [c.network]: { IPAddress: c.ip } }, Ports: c.ports },
      }));
      return found.length === a.length - 2 ? { stdout: JSON.stringify(json) } : { stdout: JSON.stringify(json), exitCode: 1, stderr: 'Error: No such object: x' };
    }
    if (a[0] === 'network' && a[1] === 'ls') {
      const fs = filters(a);
      return { stdout: this.networks.filter((n) => fs.every((f) => match(n.labels, f))).map((n) => `${n.id}\n`).join('') };
    }
    if (a[0] === 'network' && a[1] === 'inspect') {
      const found = a.slice(2).map((r) => this.networks.find((n) => n.id === r || n.name === r)).filter((n) => n !== undefined);
      return {
        stdout: JSON.stringify(found.map((n) => ({ Id: n.id, Name: n.name, Labels: n.labels, Containers: Object.fromEntries(this.containers.filter((c) => c.network === n.name).map((c) => [c.id, { Name: c.name }])) }))),
        ...(found.length === a.length - 2 ? {} : { exitCode: 1, stderr: 'Error: No such network: x' }),
      };
    }
    if (a[0] === 'volume' && a[1] === 'ls') {
      const fs = filters(a);
      return { stdout: this.volumes.filter((v) => fs.every((f) => match(v.labels, f))).map((v) => `${v.name}\n`).join('') };
    }
    if (a[0] === 'volume' && a[1] === 'inspect') {
      return { stdout: JSON.stringify(this.volumes.filter((v) => a.slice(2).includes(v.name)).map((v) => ({ Name: v.name, Labels: v.labels }))) };
    }
    if (a[0] === 'volume' && a[1] === 'rm') {
      const i = this.volumes.findIndex((v) => v.name === a[2]);
      if (i < 0) return { exitCode: 1, stderr: `Error response from daemon: get ${a[2]}: no such volume` };
      if (this.volumes[i]!.inUse) return { exitCode: 1, stderr: `Error response from daemon: remove ${a[2]}: volume is in use - [abc]` };
      this.volumes.splice(i, 1);
      return {};
    }
    if (a[0] === 'network' && a[1] === 'create') {
      const name = a.at(-1)!;
      if (this.networks.some((n) => n.name === name)) return { exitCode: 1, stderr: `Error response from daemon: network with name ${name} already exists` };
      const labels = Object.fromEntries(a.flatMap((x, i) => (a[i - 1] === '--label' ? [[x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)]] : [])));
      this.addNetwork(name, labels);
      return { stdout: `${this.id()}\n` };
    }
    if (a[0] === 'network' && a[1] === 'rm') {
      const i = this.networks.findIndex((n) => n.id === a[2] || n.name === a[2]);
      if (i < 0) return { exitCode: 1, stderr: `Error: No such network: ${a[2]}` };
      const name = this.networks[i]!.name;
      if (this.containers.some((c) => c.network === name)) return { exitCode: 1, stderr: `Error response from daemon: error while removing network: network ${name} has active endpoints` };
      this.networks.splice(i, 1);
      return {};
    }
    if (a[0] === 'rm') {
      let missing = false;
      for (const r of a.slice(3)) {
        const c = this.find(r);
        if (c) this.containers.splice(this.containers.indexOf(c), 1);
        else missing = true;
      }
      return missing ? { exitCode: 1, stderr: 'Error: No such container' } : {};
    }
    if (a[0] === 'exec') {
      let i = 1;
      while (a[i]?.startsWith('-')) i += ['--user', '--env', '--workdir', '-u', '-e', '-w'].includes(a[i]!) ? 2 : 1;
      const [node = '', ...argv] = a.slice(i);
      const c = this.find(node);
      if (!c) return { exitCode: 1, stderr: `Error: No such container: ${node}` };
      this.execs.push({ node, argv, ...(opts.input !== undefined ? { input: opts.input } : {}) });
      const custom = this.execHandler?.(node, argv, opts.input);
      if (custom) return custom;
      if (argv.includes('get') && argv.includes('nodes')) {
        const cluster = c.labels['io.x-k8s.kind.cluster']!;
        const ready = this.notReadyPolls-- > 0 ? [] : this.containers.filter((n) => n.labels['io.x-k8s.kind.cluster'] === cluster);
        return { stdout: JSON.stringify({ items: ready.map((n) => ({ metadata: { name: n.name }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })) }) };
      }
      if (argv.includes('label')) return { stdout: 'node/x labeled\n' };
      if (argv[0] === 'kubectl' && argv.includes('apply')) return { stdout: 'configmap/coredns serverside-applied\n' };
      if (argv[0] === 'kubectl' && argv.includes('get') && argv.includes('pods')) return { stdout: '' };
      if (argv[0] === 'kubectl' && argv.includes('rollout')) return { stdout: 'deployment.apps/coredns restarted\n' };
      return { exitCode: 127, stderr: `exec: "${argv[0]}": executable file not found in $PATH` };
    }
    return { exitCode: 1, stderr: `fake docker: unsupported ${a.join(' ')}` };
  }

  private kind(a: readonly string[], opts: RunOptions): Partial<CommandResult> {
    const name = a[a.indexOf('--name') + 1]!;
    if (a[0] === 'create') {
      const cfg = parse(opts.input ?? '') as KindCluster;
      const network = opts.env?.['KIND_EXPERIMENTAL_DOCKER_NETWORK'] ?? 'kind';
      let workers = 0;
      for (const n of cfg.nodes) {
        const nodeName = n.role === 'control-plane' ? `${name}-control-plane` : `${name}-worker${++workers === 1 ? '' : workers}`;
        const ports: WorldContainer['ports'] = {};
        if (n.role === 'control-plane') ports['6443/tcp'] = [{ HostIp: '127.0.0.1', HostPort: '39999' }];
        for (const p of n.extraPortMappings ?? []) ports[`${p.containerPort}/tcp`] = [{ HostIp: p.listenAddress, HostPort: String(p.hostPort) }];
        this.addContainer({ name: nodeName, labels: { 'io.x-k8s.kind.cluster': name, 'io.x-k8s.kind.role': n.role }, network, networkMode: network, ports });
      }
      const failure = this.kindCreateFailures.shift() ?? this.failKindCreate;
      if (failure) {
        // kind --retain=false deletes its nodes on failure; the network stays (it is ours).
        for (const c of this.containers.filter((c) => c.labels['io.x-k8s.kind.cluster'] === name)) this.containers.splice(this.containers.indexOf(c), 1);
        return { exitCode: 1, stderr: `ERROR: failed to create cluster: ${failure}` };
      }
      return { stderr: 'Creating cluster ...\n' };
    }
    if (a[0] === 'delete') {
      for (const c of this.containers.filter((c) => c.labels['io.x-k8s.kind.cluster'] === name)) this.containers.splice(this.containers.indexOf(c), 1);
      return { stderr: `Deleting cluster "${name}" ...\n` };
    }
    if (a[0] === 'get' && a[1] === 'kubeconfig') {
      if (!this.containers.some((c) => c.labels['io.x-k8s.kind.cluster'] === name)) return { exitCode: 1, stderr: `ERROR: could not locate any control plane nodes for cluster named '${name}'` };
      const server = a.includes('--internal') ? `https://${name}-control-plane:6443` : 'https://127.0.0.1:39999';
      return { stdout: `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: ${server}\n  name: kind-${name}\n` };
    }
    if (a[0] === 'load') return {};
    return { exitCode: 1, stderr: `fake kind: unsupported ${a.join(' ')}` };
  }
}
