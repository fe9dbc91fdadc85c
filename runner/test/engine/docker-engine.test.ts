import { describe, expect, it } from 'vitest';
import { DockerEngine, runArgv } from '../../src/engine/docker-engine.ts';
import { RunnerError } from '../../src/errors.ts';
import { FakeShell } from '../../src/exec/fake-shell.ts';

async function caught(p: Promise<unknown>): Promise<RunnerError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(RunnerError);
  return e as RunnerError;
}

describe('DockerEngine error mapping', () => {
  it('a docker CLI that cannot be spawned is DOCKER_MISSING, with the argv', async () => {
    const runner = new FakeShell().on(['docker'], { exitCode: -1 });
    const e = await caught(new DockerEngine({ runner }).imageExists('x'));
    expect(e.code).toBe('DOCKER_MISSING');
    expect(e.details).toMatchObject({ argv: ['docker', 'image', 'inspect', '--format', '{{.Id}}', 'x'] });
  });

  it('exit 127 from a shell is DOCKER_MISSING', async () => {
    const e = await caught(new DockerEngine({ runner: new FakeShell() }).listImages());
    expect(e.code).toBe('DOCKER_MISSING');
  });

  it('docker 28: info exits 1 with "Cannot connect" → DOCKER_DOWN', async () => {
    const runner = new FakeShell().on(['docker', 'info'], {
      exitCode: 1,
      stdout: '{"ID":"","ServerVersion":""}',
      stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
    });
    expect((await caught(new DockerEngine({ runner }).info())).code).toBe('DOCKER_DOWN');
  });

  it('docker 20.10: info exits 0 with ServerErrors → DOCKER_DOWN', async () => {
    const runner = new FakeShell().on(['docker', 'info'], {
      stdout: '{"ServerErrors":["Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"],"ClientInfo":{}}',
    });
    const e = await caught(new DockerEngine({ runner }).info());
    expect(e.code).toBe('DOCKER_DOWN');
    expect(JSON.stringify(e.details)).toContain('Cannot connect');
  });

  it('parses info', async () => {
    const runner = new FakeShell().on(['docker', 'info'], {
      stdout: '{"ServerVersion":"20.10.24+dfsg1","DefaultRuntime":"svclab-runc","CgroupVersion":"1","Driver":"overlay2"}',
    });
    expect(await new DockerEngine({ runner }).info()).toEqual({ serverVersion: '20.10.24+dfsg1', defaultRuntime: 'svclab-runc', cgroupVersion: '1', storageDriver: 'overlay2' });
  });

  it('a timeout is COMMAND_TIMEOUT and every call carries a timeout', async () => {
    const runner = new FakeShell().on(['docker'], { exitCode: -1, timedOut: true });
    const engine = new DockerEngine({ runner, queryTimeoutMs: 1234 });
    expect((await caught(engine.listContainers({}))).code).toBe('COMMAND_TIMEOUT');
    expect(runner.calls[0]!.opts.timeoutMs).toBe(1234);
  });

  it('other failures are COMMAND_FAILED with the output tail', async () => {
    const stderr = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n');
    const runner = new FakeShell().on(['docker', 'run'], { exitCode: 125, stderr });
    const e = await caught(new DockerEngine({ runner }).runContainer({ name: 'a', image: 'b', labels: {} }));
    expect(e.code).toBe('COMMAND_FAILED');
    const d = e.details as { argv: string[]; exitCode: number; output: string };
    expect(d.exitCode).toBe(125);
    expect(d.output).toContain('line 39');
    expect(d.output).not.toContain('line 5\n');
    expect(d.argv.slice(0, 2)).toEqual(['docker', 'run']);
  });

  it('removing what is already gone is not an error', async () => {
    const runner = new FakeShell()
      .on(['docker', 'rm'], { exitCode: 1, stderr: 'Error response from daemon: No such container: x' })
      .on(['docker', 'network', 'rm'], { exitCode: 1, stderr: 'Error: No such network: x' });
    const engine = new DockerEngine({ runner });
    await engine.removeContainer('x');
    await engine.removeNetwork('x');
  });

  it("exec returns the command's exit code (even 127) but throws when the container is missing", async () => {
    const runner = new FakeShell()
      .on(['docker', 'exec', 'ws'], { exitCode: 127, stderr: 'OCI runtime exec failed: executable file not found in $PATH' })
      .on(['docker', 'exec', 'gone'], { exitCode: 1, stderr: 'Error response from daemon: No such container: gone' });
    const engine = new DockerEngine({ runner });
    expect((await engine.exec('ws', ['nope'], { timeoutMs: 1000 })).exitCode).toBe(127);
    expect((await caught(engine.exec('gone', ['true'], { timeoutMs: 1000 }))).code).toBe('COMMAND_FAILED');
  });

  it('a custom docker binary is used everywhere, execArgv included', async () => {
    const runner = new FakeShell().on(['/usr/bin/docker', 'image'], { stdout: '' });
    const engine = new DockerEngine({ runner, docker: '/usr/bin/docker' });
    expect(await engine.listImages('svclab.image')).toEqual([]);
    expect(runner.calls[0]!.argv).toEqual(['/usr/bin/docker', 'image', 'ls', '--no-trunc', '--format', '{{.ID}}', '--filter', 'label=svclab.image']);
    expect(engine.execArgv('c', ['bash'], { tty: true, user: 'learner' })).toEqual(['/usr/bin/docker', 'exec', '--interactive', '--tty', '--user', 'learner', 'c', 'bash']);
  });
});

describe('DockerEngine: networks, nodes and images', () => {
  it('reads subnets, gateway, range and container addresses from docker network inspect', async () => {
    const json = JSON.stringify([{
      Id: 'n1', Name: 'svclab-demo', Labels: { 'svclab.cluster': 'svclab-demo' },
      IPAM: { Driver: 'default', Config: [{ Subnet: '172.31.0.0/16', Gateway: '172.31.0.1' }, { Subnet: 'fc00:f853:ccd:e793::/64', IPRange: 'fc00::/80' }] },
      Containers: { abc: { Name: 'svclab-demo-control-plane', IPv4Address: '172.31.0.3/16', IPv6Address: '' }, def: { IPv4Address: '' } },
    }]);
    const runner = new FakeShell()
      .on(['docker', 'network', 'inspect', 'svclab-demo'], { stdout: json })
      .on(['docker', 'network', 'inspect', 'gone'], { exitCode: 1, stderr: 'Error: No such network: gone' })
      .on(['docker', 'network', 'inspect', 'bare'], { stdout: JSON.stringify([{ Name: 'bare', IPAM: { Config: null }, Containers: null }]) });
    const engine = new DockerEngine({ runner });
    expect(await engine.inspectNetwork('svclab-demo')).toEqual({
      id: 'n1', name: 'svclab-demo', labels: { 'svclab.cluster': 'svclab-demo' }, containers: ['abc', 'def'],
      subnets: [{ subnet: '172.31.0.0/16', gateway: '172.31.0.1' }, { subnet: 'fc00:f853:ccd:e793::/64', ipRange: 'fc00::/80' }],
      addresses: ['172.31.0.3'],
    });
    expect(await engine.inspectNetwork('gone')).toBeUndefined();
    expect(await engine.inspectNetwork('bare')).toMatchObject({ name: 'bare', subnets: [], addresses: [], containers: [] });
  });

  it('reads node containers from full inspect JSON; one that vanished between ps and inspect is left out', async () => {
    const runner = new FakeShell()
      .on(['docker', 'ps'], { stdout: 'c1\nc2\n' })
      .on(['docker', 'container', 'inspect'], {
        exitCode: 1, stderr: 'Error: No such object: c2',
        stdout: JSON.stringify([{ Id: 'c1', Name: '/svclab-a-control-plane', Config: { Labels: { 'io.x-k8s.kind.cluster': 'svclab-a', 'k=v': 'x,y' } }, State: { Running: true, Status: 'running' }, HostConfig: { NetworkMode: 'svclab-a' }, NetworkSettings: { Networks: { 'svclab-a': { IPAddress: '172.31.0.2' } }, Ports: { '6443/tcp': [{ HostIp: '127.0.0.1', HostPort: '41234' }], '80/tcp': null } } }]),
      });
    const [c, ...rest] = await new DockerEngine({ runner }).inspectContainers(['io.x-k8s.kind.cluster']);
    expect(rest).toEqual([]);
    expect(c).toEqual({
      id: 'c1', name: 'svclab-a-control-plane', image: '', state: 'running', labels: { 'io.x-k8s.kind.cluster': 'svclab-a', 'k=v': 'x,y' }, running: true,
      networks: { 'svclab-a': '172.31.0.2' }, ports: { '6443/tcp': [{ hostIp: '127.0.0.1', hostPort: 41234 }], '80/tcp': [] }, networkMode: 'svclab-a',
    });
    expect(runner.calls[0]!.argv).toEqual(['docker', 'ps', '-a', '-q', '--no-trunc', '--filter', 'label=io.x-k8s.kind.cluster']);
  });

  it('image id, tag, load, remove and pull: the failures that are data stay data', async () => {
    const runner = new FakeShell()
      .on(['docker', 'image', 'inspect'], (argv) => (argv.at(-1) === 'a:1' ? { stdout: 'sha256:aaa\n' } : { exitCode: 1, stderr: `Error: No such image: ${argv.at(-1)}` }))
      .on(['docker', 'tag'], {})
      .on(['docker', 'load'], { stdout: 'Loaded image: a:1' })
      .on(['docker', 'image', 'rm'], { exitCode: 1, stderr: 'conflict: unable to remove repository reference "a:1" (must force) - container x is using its referenced image' })
      .on(['docker', 'pull'], { exitCode: 1, stderr: 'pull access denied' });
    const engine = new DockerEngine({ runner });
    expect(await engine.imageId('a:1')).toBe('sha256:aaa');
    expect(await engine.imageId('b:1')).toBeUndefined();
    await engine.tagImage('a:1', 'svclab/web:latest');
    await engine.loadImage('/x/a.tar', { timeoutMs: 1000 });
    expect(await engine.removeImage('a:1')).toBe(false);
    expect((await engine.pullImage('up:1', { timeoutMs: 1000 })).exitCode).toBe(1);
    expect(runner.calls.map((c) => c.argv.slice(1).join(' ')).slice(2)).toEqual(['tag a:1 svclab/web:latest', 'load -i /x/a.tar', 'image rm a:1', 'pull up:1']);
  });
});

describe('runArgv', () => {
  it('never pulls and binds ports to 127.0.0.1 unless told otherwise', () => {
    const argv = runArgv({
      name: 'svclab-ws-1', image: 'svclab/workstation:abc', labels: { 'svclab.session': '1' },
      command: ['sleep', 'infinity'], user: 'learner', memory: '512m', pidsLimit: 256,
      network: 'container:node', ports: [{ hostPort: 30080, containerPort: 30080 }, { hostIp: '0.0.0.0', hostPort: 80, containerPort: 80, protocol: 'tcp' }],
      mounts: [{ source: '/a', target: '/b', readOnly: true }], capDrop: ['ALL'], readOnlyRootfs: true, tmpfs: ['/tmp'],
    });
    expect(argv.slice(0, 5)).toEqual(['run', '--detach', '--pull', 'never', '--name']);
    expect(argv).toContain('127.0.0.1:30080:30080/tcp');
    expect(argv).toContain('0.0.0.0:80:80/tcp');
    expect(argv).toContain('type=bind,source=/a,target=/b,readonly');
    expect(argv.slice(-3)).toEqual(['svclab/workstation:abc', 'sleep', 'infinity']);
  });

  it('refuses a mount path with a comma rather than let it split the --mount value', () => {
    expect(() => runArgv({ name: 'a', image: 'b', labels: {}, mounts: [{ source: '/a,b', target: '/c' }] })).toThrow(RunnerError);
  });
});

describe('DockerEngine: named volumes (learners\' homes)', () => {
  it('mounts a named volume, creates and lists volumes by label, and says when one is still in use', async () => {
    expect(runArgv({ name: 'w', image: 'i', labels: {}, volumes: [{ name: 'svclab-home-s1', target: '/home/learner' }] }))
      .toContain('type=volume,source=svclab-home-s1,target=/home/learner');
    expect(() => runArgv({ name: 'w', image: 'i', labels: {}, volumes: [{ name: 'a,readonly', target: '/x' }] })).toThrow(RunnerError);
    const runner = new FakeShell()
      .on(['docker', 'volume', 'create'], { stdout: 'svclab-home-s1\n' })
      .on(['docker', 'volume', 'ls'], { stdout: 'svclab-home-s1\n' })
      .on(['docker', 'volume', 'inspect'], { stdout: JSON.stringify([{ Name: 'svclab-home-s1', Labels: { 'svclab.session': 's1' } }]) })
      .on(['docker', 'volume', 'rm', 'busy'], { exitCode: 1, stderr: 'Error response from daemon: remove busy: volume is in use - [abc]' })
      .on(['docker', 'volume', 'rm', 'gone'], { exitCode: 1, stderr: 'Error response from daemon: get gone: no such volume' })
      .on(['docker', 'volume', 'rm', 'svclab-home-s1'], {});
    const engine = new DockerEngine({ runner });
    await engine.createVolume('svclab-home-s1', { 'svclab.session': 's1' });
    expect(runner.calls.map((c) => c.argv)).toContainEqual(['docker', 'volume', 'create', '--label', 'svclab.session=s1', 'svclab-home-s1']);
    expect(await engine.inspectVolumes(['svclab.session'])).toEqual([{ name: 'svclab-home-s1', labels: { 'svclab.session': 's1' } }]);
    expect(await engine.removeVolume('busy')).toBe(false);
    expect(await engine.removeVolume('gone')).toBe(true);
    expect(await engine.removeVolume('svclab-home-s1')).toBe(true);
  });
});
