import { describe, expect, it } from 'vitest';
import { FakeShell } from '../../src/exec/fake-shell.ts';
import { ADMIN_KUBECONFIG, Kubectl, applyArgs, deleteArgs, getArgs } from '../../src/kube/kubectl.ts';
import { isRunnerError } from '../../src/errors.ts';
import { ContainerShell } from '../../src/engine/container-shell.ts';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { FakeClusterDriver } from '../../src/cluster/fake-cluster-driver.ts';
import { nodeAdminKubectl } from '../../src/cluster/node-shell.ts';

describe('kubectl argv', () => {
  it('puts the global flags before the verb, in one order', () => {
    const k = new Kubectl({ shell: new FakeShell(), binary: '/opt/kubectl', kubeconfig: '/k/config', context: 'kind-x', requestTimeout: '30s' });
    expect(k.argv(['get', 'pods'])).toEqual(['/opt/kubectl', '--kubeconfig=/k/config', '--context=kind-x', '--request-timeout=30s', 'get', 'pods']);
    expect(k.argv(['get', 'pods'], '10s')).toContain('--request-timeout=10s');
  });

  it('builds apply, get and delete from options', () => {
    expect(applyArgs({ serverSide: true, forceConflicts: true, fieldManager: 'svclab' })).toEqual(['apply', '--server-side', '--force-conflicts', '--field-manager=svclab', '-f', '-']);
    expect(applyArgs({ serverSide: true, dryRun: 'server' })).toEqual(['apply', '--server-side', '--dry-run=server', '-f', '-']);
    expect(() => applyArgs({ forceConflicts: true })).toThrow(/server-side/);
    expect(getArgs({ manifests: 'x' }, { ignoreNotFound: true, output: 'json' })).toEqual(['get', '-f', '-', '--ignore-not-found', '-o', 'json']);
    expect(getArgs(['nodes'], { selector: 'a=b', output: 'jsonpath={.items[*].metadata.name}' })).toEqual(['get', 'nodes', '-l', 'a=b', '-o', 'jsonpath={.items[*].metadata.name}']);
    expect(deleteArgs(['namespace', 'a', 'b'], { wait: true, timeout: '90s' })).toEqual(['delete', 'namespace', 'a', 'b', '--wait=true', '--timeout=90s']);
    expect(deleteArgs(['svc', 'traefik'], { namespace: 'traefik', ignoreNotFound: true, wait: false })).toEqual(['delete', 'svc', 'traefik', '-n', 'traefik', '--ignore-not-found', '--wait=false']);
  });
});

describe('Kubectl over a Shell', () => {
  it('sends manifests on stdin and returns a failure as data', async () => {
    const shell = new FakeShell().on(['kubectl', 'apply'], (_a, o) => ({ exitCode: 1, stderr: `rejected ${o.input}\n` }));
    const r = await new Kubectl({ shell }).apply('kind: X', { serverSide: true });
    expect(r.exitCode).toBe(1);
    expect(shell.calls[0]!.opts.input).toBe('kind: X');
  });

  it('must() throws with the argv and the last line of output', async () => {
    const shell = new FakeShell().on(['kubectl'], { exitCode: 1, stderr: 'Error from server (Forbidden): nope\n' });
    const e = await new Kubectl({ shell, kubeconfig: '/secret/path' }).must(['get', 'nodes']).catch((x: unknown) => x);
    expect(isRunnerError(e) && e.code).toBe('COMMAND_FAILED');
    expect((e as Error).message).toBe('`kubectl get nodes` failed: Error from server (Forbidden): nope');
    expect((e as { details: { argv: string[] } }).details.argv).toEqual(['kubectl', '--kubeconfig=/secret/path', 'get', 'nodes']);
  });

  it('getJson parses, and a timeout is COMMAND_TIMEOUT', async () => {
    const shell = new FakeShell().on(['kubectl', 'get', 'pods'], { stdout: '{"items":[1]}' }).on(['kubectl', 'get', 'slow'], { exitCode: -1, timedOut: true });
    const k = new Kubectl({ shell });
    expect(await k.getJson(['pods'])).toEqual({ items: [1] });
    await expect(k.getJson(['slow'])).rejects.toMatchObject({ code: 'COMMAND_TIMEOUT' });
  });

  it('runs as the learner in a container, through the engine', async () => {
    const engine = new FakeContainerEngine();
    engine.addImage('ws');
    await engine.runContainer({ name: 'svclab-ws-1', image: 'ws', labels: {} });
    const seen: { user?: string; argv?: readonly string[] }[] = [];
    engine.execHandler = (_c, argv, o) => { seen.push({ ...(o.user ? { user: o.user } : {}), argv }); return { exitCode: 0, stdout: 'ok' }; };
    const k = new Kubectl({ shell: new ContainerShell(engine, 'svclab-ws-1', { user: 'learner' }), requestTimeout: '30s' });
    const r = await k.get(['pods']);
    expect(r.stdout).toBe('ok');
    expect(seen).toEqual([{ user: 'learner', argv: ['kubectl', '--request-timeout=30s', 'get', 'pods'] }]);
  });

  it('runs as admin on the control-plane node, through the driver', async () => {
    const driver = new FakeClusterDriver();
    await driver.create({ name: 'svclab-k', workers: 0, nodeImage: 'n' });
    const k = nodeAdminKubectl(driver, 'svclab-k');
    await k.delete({ manifests: 'kind: Y' }, { ignoreNotFound: true });
    expect(driver.execCalls.at(-1)).toEqual({ cluster: 'svclab-k', node: 'svclab-k-control-plane', argv: ['kubectl', `--kubeconfig=${ADMIN_KUBECONFIG}`, 'delete', '-f', '-', '--ignore-not-found'], input: 'kind: Y' });
  });

  it('a pod shell is kubectl exec; it has no user switch', async () => {
    const shell = new FakeShell().on(['kubectl', 'exec'], { stdout: 'hi' });
    const pod = new Kubectl({ shell }).podShell('ns', 'tools', 'c');
    expect((await pod.run(['curl', '-s', 'x'], { timeoutMs: 1000, env: { A: '1' } })).stdout).toBe('hi');
    expect(shell.calls[0]!.argv).toEqual(['kubectl', 'exec', '-n', 'ns', 'tools', '-c', 'c', '--', 'env', 'A=1', 'curl', '-s', 'x']);
    await expect(pod.run(['id'], { timeoutMs: 1000, user: 'root' })).rejects.toThrow(/pod's user/);
  });
});
