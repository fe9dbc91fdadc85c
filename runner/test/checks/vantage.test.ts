// ClusterVantageExec over the fakes of its ports: the engine (workstation), the
// cluster driver (nodes, pods through the control plane's kubectl) and the host runner.
import { describe, expect, it } from 'vitest';
import { ClusterVantageExec, VantageUnavailable, parseVantage, resolveNode } from '../../src/checks/vantage.ts';
import { FakeClusterDriver } from '../../src/cluster/fake-cluster-driver.ts';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { RunnerError } from '../../src/errors.ts';
import { FakeCommandRunner } from '../../src/exec/fake-command-runner.ts';

async function setup() {
  const engine = new FakeContainerEngine();
  engine.addImage('svclab/workstation:test');
  await engine.runContainer({ name: 'svclab-ws-1', image: 'svclab/workstation:test', labels: {} });
  engine.execHandler = (_c, command, opts) => ({ exitCode: 0, stdout: `ws(${opts.user ?? 'root'}): ${command.join(' ')}` });
  const driver = new FakeClusterDriver();
  await driver.create({ name: 'svclab-main', workers: 2, nodeImage: 'svclab/node:test' });
  driver.responder = ({ node, argv }) => ({ exitCode: 0, stdout: `${node}: ${argv.join(' ')}`, stderr: '' });
  const host = new FakeCommandRunner().on(['curl'], { stdout: 'host curl' });
  const v = new ClusterVantageExec({ engine, workstation: 'svclab-ws-1', user: 'learner', cluster: { driver, name: 'svclab-main' }, host });
  return { engine, driver, host, v };
}

const opts = { timeoutMs: 5_000 };

describe('ClusterVantageExec', () => {
  it('workstation: engine exec as the learner', async () => {
    const { v } = await setup();
    expect((await v.exec('workstation', ['dig', '+short', 'x'], opts)).stdout).toBe('ws(learner): dig +short x');
  });

  it('node: by short or full name; an unknown node is unavailable, listing the nodes', async () => {
    const { v, driver } = await setup();
    expect((await v.exec('node:worker2', ['iptables-save'], opts)).stdout).toBe('svclab-main-worker2: iptables-save');
    expect((await v.exec('node:svclab-main-control-plane', ['nft'], opts)).stdout).toBe('svclab-main-control-plane: nft');
    await expect(v.exec('node:worker9', ['nft'], opts)).rejects.toThrow('cluster svclab-main has no node worker9 (its nodes: svclab-main-control-plane, svclab-main-worker, svclab-main-worker2)');
    driver.responder = () => {
      throw new RunnerError('DOCKER_DOWN');
    };
    await expect(v.exec('node:worker', ['nft'], opts)).rejects.toBeInstanceOf(VantageUnavailable);
  });

  it('pod: kubectl exec as admin on the control plane; a missing pod is unavailable, its command failing is data', async () => {
    const { v, driver } = await setup();
    const r = await v.exec('pod:shop/client', ['dig', '+short', 'web'], opts);
    expect(r.stdout).toBe('svclab-main-control-plane: kubectl --kubeconfig=/etc/kubernetes/admin.conf --request-timeout=10s exec -n shop client -- dig +short web');
    driver.responder = () => ({ exitCode: 1, stdout: '', stderr: 'Error from server (NotFound): pods "client" not found\n' });
    await expect(v.exec('pod:shop/client', ['dig'], opts)).rejects.toThrow('pod shop/client cannot run the check\'s command: Error from server (NotFound): pods "client" not found');
    driver.responder = () => ({ exitCode: 9, stdout: ';; connection timed out; no servers could be reached\n', stderr: 'command terminated with exit code 9\n' });
    expect((await v.exec('pod:shop/client', ['dig'], opts)).exitCode).toBe(9);
  });

  it('host: the host runner, only when given one; a timeout reads as exit 124', async () => {
    const { v, host, engine } = await setup();
    expect((await v.exec('host', ['curl', 'http://127.0.0.1:30080/'], opts)).stdout).toBe('host curl');
    host.on(['curl'], { timedOut: true, exitCode: -1 });
    expect((await v.exec('host', ['curl'], opts)).exitCode).toBe(124);
    const noHost = new ClusterVantageExec({ engine, workstation: 'svclab-ws-1' });
    await expect(noHost.exec('host', ['curl'], opts)).rejects.toThrow('checks from the host are not enabled in this runner');
    await expect(noHost.exec('node:worker', ['nft'], opts)).rejects.toThrow('there is no cluster for this session');
  });

  it('a workstation that is gone is unavailable, with docker\'s words', async () => {
    const { v, engine } = await setup();
    await engine.removeContainer('svclab-ws-1');
    await expect(v.exec('workstation', ['curl'], opts)).rejects.toThrow(/^the workstation svclab-ws-1 is not available: .*No such container/);
  });

  it('nodes and published host ports come from the driver', async () => {
    const { v } = await setup();
    expect((await v.nodes()).map((n) => n.name)).toEqual(['svclab-main-control-plane', 'svclab-main-worker', 'svclab-main-worker2']);
    expect(await v.hostPort(30080)).toBe(30080);
    expect(await v.hostPort(31000)).toBeUndefined();
  });

  it('parses vantage points and resolves node names', () => {
    expect(parseVantage('pod:default/web-0')).toEqual({ kind: 'pod', namespace: 'default', pod: 'web-0' });
    expect(parseVantage('node:worker')).toEqual({ kind: 'node', node: 'worker' });
    expect(() => parseVantage('laptop')).toThrow(VantageUnavailable);
    expect(resolveNode([{ name: 'svclab-x-worker' }], 'svclab-x', 'worker')).toBe('svclab-x-worker');
    expect(resolveNode([{ name: 'svclab-x-worker' }], 'svclab-x', 'worker2')).toBeUndefined();
  });
});

describe('ClusterCheckContexts', () => {
  it('keeps a cluster\'s API client for the TTL, then reads the kubeconfig again', async () => {
    const { ClusterCheckContexts } = await import('../../src/checks/cluster-check-context.ts');
    const { ClientNodeKubeApi } = await import('../../src/checks/kube-api.ts');
    const { engine, driver } = await setup();
    let kubeconfigs = 0;
    const real = driver.kubeconfig.bind(driver);
    driver.kubeconfig = async (name, variant) => {
      kubeconfigs++;
      return real(name, variant);
    };
    let t = 0;
    const contexts = new ClusterCheckContexts({ driver, engine, ttlMs: 60_000, now: () => t });
    const a = await contexts.forSession({ cluster: 'svclab-main', workstation: 'svclab-ws-1', user: 'learner' });
    t = 30_000;
    const b = await contexts.forSession({ cluster: 'svclab-main', workstation: 'svclab-ws-1', user: 'learner' });
    expect(a.kube).toBeInstanceOf(ClientNodeKubeApi);
    expect(b.kube).toBe(a.kube);
    expect(kubeconfigs).toBe(1);
    t = 61_000;
    await contexts.forSession({ cluster: 'svclab-main', workstation: 'svclab-ws-1' });
    expect(kubeconfigs).toBe(2);
    expect((await b.vantage!.exec('node:worker', ['true'], { timeoutMs: 1000 })).stdout).toBe('svclab-main-worker: true');
  });

  it('builds the whole context: the workstation and its user, the clock, and the API and vantage points only with a cluster', async () => {
    const { ClusterCheckContexts } = await import('../../src/checks/cluster-check-context.ts');
    const { engine, driver } = await setup();
    const clock = { now: () => 7, sleep: async () => undefined };
    const contexts = new ClusterCheckContexts({ driver, engine, clock });
    const bare = await contexts.context({ workstation: 'svclab-ws-1', user: 'learner' });
    expect(bare).toEqual({ engine, workstation: 'svclab-ws-1', user: 'learner', ...clock });
    const full = await contexts.context({ cluster: 'svclab-main', workstation: 'svclab-ws-1', user: 'learner' });
    expect(full.kube).toBeDefined();
    expect((await full.vantage!.exec('node:worker', ['true'], { timeoutMs: 1000 })).stdout).toBe('svclab-main-worker: true');
    expect(full.now()).toBe(7);
  });
});
