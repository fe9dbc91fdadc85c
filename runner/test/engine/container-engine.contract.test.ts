// One suite, two engines: FakeContainerEngine always, DockerEngine when a docker
// daemon answers (else one SKIP line). The real half builds its own tiny image from
// host binaries, so nothing is pulled.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerEngine } from '../../src/engine/container-engine.ts';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { isRunnerError } from '../../src/errors.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';

interface Harness {
  engine: ContainerEngine;
  /** A network outside the interface (it has no create), removed by cleanup. */
  seedNetwork(name: string, labels: Record<string, string>): Promise<void>;
  cleanup(): Promise<void>;
}

const run = randomBytes(4).toString('hex');
const label = { 'svclab.test': `contract-${run}` };
const tag = `svclab-test/contract:${run}`;

function contract(name: string, makeHarness: () => Promise<Harness>) {
  describe(name, () => {
    let h: Harness;
    let engine: ContainerEngine;
    let ctx: string;
    const ctr = `svclab-test-${run}-${name.replace(/\W+/g, '')}`;

    beforeAll(async () => {
      h = await makeHarness();
      engine = h.engine;
      ctx = makeTinyContext();
    }, 60_000);
    afterAll(async () => {
      await h?.cleanup();
      if (ctx) rmSync(ctx, { recursive: true, force: true });
    }, 60_000);

    it('reports the server version, and its CLI and version as data', async () => {
      const info = await engine.info();
      expect(info.serverVersion).not.toBe('');
      const v = await engine.cliVersion();
      expect(v.result.exitCode).toBe(0);
      expect(v.result.stdout).toMatch(/version/i);
      expect(v.cli).not.toBe('');
    });

    it('builds an image from a context and finds it by tag and label', async () => {
      const lines: string[] = [];
      await engine.buildImage({ contextDir: ctx, tag, labels: { ...label, 'svclab.image': 'contract' }, onOutput: (l) => lines.push(l), timeoutMs: 60_000 });
      expect(lines.length).toBeGreaterThan(0);
      expect(await engine.imageExists(tag)).toBe(true);
      expect(await engine.imageExists(`svclab-test/contract:absent-${run}`)).toBe(false);
      const listed = await engine.listImages(`svclab.test=contract-${run}`);
      expect(listed.map((i) => i.ref)).toEqual([tag]);
      expect(listed[0]!.labels['svclab.image']).toBe('contract');
      expect(listed[0]!.id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await engine.listImages(`svclab.test=other-${run}`)).toEqual([]);
    }, 60_000);

    it('fails a build without a Dockerfile with COMMAND_FAILED and the argv', async () => {
      const empty = mkdtempSync(join(tmpdir(), 'svclab-empty-'));
      try {
        const e = await engine.buildImage({ contextDir: empty, tag: `${tag}-bad`, timeoutMs: 30_000 }).catch((x: unknown) => x);
        expect(isRunnerError(e) && e.code).toBe('COMMAND_FAILED');
        expect(JSON.stringify((e as { details: unknown }).details)).toContain('build');
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    }, 60_000);

    it('runs a labelled container, lists it, execs in it and removes it', async () => {
      const id = await engine.runContainer({ name: ctr, image: tag, labels: label, command: ['/bin/sleep', '300'], memory: '64m', pidsLimit: 32 });
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      const listed = await engine.listContainers(label);
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ id, name: ctr, image: tag, state: 'running', labels: label });
      expect(await engine.listContainers({ 'svclab.test': `other-${run}` })).toEqual([]);

      expect(await engine.exec(ctr, ['/bin/echo', 'hello', 'world'], { timeoutMs: 30_000 })).toMatchObject({ exitCode: 0, stdout: 'hello world\n' });
      expect((await engine.exec(ctr, ['/bin/cat'], { timeoutMs: 30_000, input: 'typed\n' })).stdout).toBe('typed\n');
      expect((await engine.exec(ctr, ['/bin/false'], { timeoutMs: 30_000 })).exitCode).toBe(1);
      expect((await engine.exec(ctr, ['/no/such/binary'], { timeoutMs: 30_000 })).exitCode).not.toBe(0);

      const argv = engine.execArgv(ctr, ['/bin/sh'], { tty: true, user: '1000', workdir: '/' });
      expect(argv.slice(-2)).toEqual([ctr, '/bin/sh']);
      expect(argv).toContain('--tty');

      await engine.removeContainer(ctr);
      expect(await engine.listContainers(label)).toEqual([]);
      await engine.removeContainer(ctr); // already gone: fine
    }, 90_000);

    it('refuses a second container with the same name and an image that is not there', async () => {
      await engine.runContainer({ name: `${ctr}-dup`, image: tag, labels: label, command: ['/bin/sleep', '300'] });
      try {
        const dup = await engine.runContainer({ name: `${ctr}-dup`, image: tag, labels: label, command: ['/bin/sleep', '300'] }).catch((x: unknown) => x);
        expect(isRunnerError(dup) && dup.code).toBe('COMMAND_FAILED');
      } finally {
        await engine.removeContainer(`${ctr}-dup`);
      }
      // never pulls: a missing image is an error, not a download
      const missing = await engine.runContainer({ name: `${ctr}-missing`, image: `svclab-test/absent:${run}`, labels: label }).catch((x: unknown) => x);
      expect(isRunnerError(missing) && missing.code).toBe('COMMAND_FAILED');
    }, 90_000);

    it('exec into a missing container throws instead of returning an exit code', async () => {
      const e = await engine.exec(`${ctr}-absent`, ['/bin/true'], { timeoutMs: 30_000 }).catch((x: unknown) => x);
      expect(isRunnerError(e) && e.code).toBe('COMMAND_FAILED');
    }, 30_000);

    it('lists labelled networks and removes them idempotently', async () => {
      const net = `svclab-test-${run}-${name.replace(/\W+/g, '')}`;
      await h.seedNetwork(net, label);
      const listed = await engine.listNetworks(label);
      expect(listed.map((n) => n.name)).toEqual([net]);
      expect(listed[0]!.labels).toEqual(label);
      await engine.removeNetwork(net);
      expect(await engine.listNetworks(label)).toEqual([]);
      await engine.removeNetwork(net);
    }, 60_000);

    it('creates a labelled network, sees a container on it with full inspect, and removes both', async () => {
      const net = `svclab-test-${run}-${name.replace(/\W+/g, '')}-n`;
      await engine.createNetwork(net, label);
      try {
        const created = await engine.inspectNetwork(net);
        expect(created).toMatchObject({ name: net, labels: label, containers: [] });
        expect(created!.subnets.length).toBeGreaterThan(0);
        expect(created!.subnets[0]!.subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
        const id = await engine.runContainer({ name: `${ctr}-on-net`, image: tag, labels: label, network: net, command: ['/bin/sleep', '300'] });
        const [c, ...more] = await engine.inspectContainers([`svclab.test=contract-${run}`]);
        expect(more).toEqual([]);
        expect(c).toMatchObject({ id, name: `${ctr}-on-net`, labels: label, running: true, networkMode: net });
        expect(Object.keys(c!.networks)).toEqual([net]);
        expect((await engine.inspectNetwork(net))!.containers).toEqual([id]);
        expect(await engine.inspectNetworks([`svclab.test=contract-${run}`])).toHaveLength(1);
        await engine.removeContainers([id, `${ctr}-never-was`]);
        expect(await engine.inspectContainers([`svclab.test=contract-${run}`])).toEqual([]);
      } finally {
        await engine.removeNetwork(net);
      }
      expect(await engine.inspectNetwork(net)).toBeUndefined();
    }, 90_000);

    it('a named volume outlives its container (a learner\'s home), is listed by label, and is not removed while in use', async () => {
      const vol = `svclab-test-${run}-${name.replace(/\W+/g, '')}-home`;
      await engine.createVolume(vol, { ...label, 'svclab.role': 'home' });
      try {
        expect(await engine.inspectVolumes([`svclab.test=contract-${run}`, 'svclab.role=home'])).toEqual([{ name: vol, labels: { ...label, 'svclab.role': 'home' } }]);
        await engine.runContainer({ name: `${ctr}-vol`, image: tag, labels: label, command: ['/bin/sleep', '300'], volumes: [{ name: vol, target: '/data' }] });
        const real = engine instanceof DockerEngine;
        if (real) expect((await engine.exec(`${ctr}-vol`, ['/bin/sh', '-c', 'echo kept > /data/x'], { timeoutMs: 30_000 })).exitCode).toBe(0);
        expect(await engine.removeVolume(vol)).toBe(false); // in use
        await engine.removeContainer(`${ctr}-vol`);
        expect((await engine.inspectVolumes([`svclab.test=contract-${run}`])).map((v) => v.name)).toEqual([vol]);
        if (real) {
          // A new container on the same volume sees what the old one wrote.
          await engine.runContainer({ name: `${ctr}-vol2`, image: tag, labels: label, command: ['/bin/sleep', '300'], volumes: [{ name: vol, target: '/data' }] });
          expect((await engine.exec(`${ctr}-vol2`, ['/bin/cat', '/data/x'], { timeoutMs: 30_000 })).stdout).toBe('kept\n');
          await engine.removeContainer(`${ctr}-vol2`);
        }
      } finally {
        await engine.removeContainer(`${ctr}-vol`);
        expect(await engine.removeVolume(vol)).toBe(true);
      }
      expect(await engine.inspectVolumes([`svclab.test=contract-${run}`])).toEqual([]);
      expect(await engine.removeVolume(vol)).toBe(true); // already gone: fine
    }, 90_000);

    it('tags and removes images; an image in use is not removed', async () => {
      const id = await engine.imageId(tag);
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await engine.imageId(`svclab-test/contract:absent-${run}`)).toBeUndefined();
      const other = `svclab-test/contract-tagged:${run}`;
      await engine.tagImage(tag, other);
      expect(await engine.imageId(other)).toBe(id);
      expect(await engine.removeImage(other)).toBe(true);
      expect(await engine.imageId(other)).toBeUndefined();
      expect(await engine.removeImage(other)).toBe(false);
      await engine.runContainer({ name: `${ctr}-user`, image: tag, labels: label, command: ['/bin/sleep', '300'] });
      try {
        expect(await engine.removeImage(tag)).toBe(false);
        expect(await engine.imageId(tag)).toBe(id);
      } finally {
        await engine.removeContainer(`${ctr}-user`);
      }
    }, 90_000);
  });
}

/** A FROM scratch context with a few host binaries and the libraries they link. */
function makeTinyContext(): string {
  const ctx = mkdtempSync(join(tmpdir(), 'svclab-contract-'));
  const bins = ['/bin/sh', '/bin/sleep', '/bin/echo', '/bin/cat', '/bin/true', '/bin/false'];
  const files = new Set<string>(bins);
  for (const b of bins) {
    const ldd = (() => { try { return execFileSync('ldd', [b], { encoding: 'utf8' }); } catch { return ''; } })();
    for (const m of ldd.matchAll(/(\/[^\s)]+)/g)) files.add(m[1]!);
  }
  for (const f of files) {
    mkdirSync(join(ctx, 'rootfs', dirname(f)), { recursive: true });
    copyFileSync(f, join(ctx, 'rootfs', f));
  }
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/sleep", "300"]\n');
  return ctx;
}

// --- the fake: always ---
contract('FakeContainerEngine', async () => {
  const engine = new FakeContainerEngine();
  return {
    engine,
    seedNetwork: async (n, l) => { engine.addNetwork(n, l); },
    cleanup: async () => {},
  };
});

// --- the real engine: when docker answers ---
const runner = new ExecaRunner();
const skipReason = await (async () => {
  try {
    await new DockerEngine({ runner, queryTimeoutMs: 15_000 }).info();
    return undefined;
  } catch (e) {
    return isRunnerError(e) ? `${e.code}: ${e.message}` : String(e);
  }
})();
if (skipReason) console.log(`SKIP engine-contract (real): ${skipReason}`);

describe.skipIf(skipReason !== undefined)('real docker', () => {
  contract('DockerEngine', async () => {
    const engine = new DockerEngine({ runner });
    const docker = async (...args: string[]) => runner.run(['docker', ...args], { timeoutMs: 60_000 });
    return {
      engine,
      seedNetwork: async (n, l) => {
        const labels = Object.entries(l).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
        const r = await docker('network', 'create', ...labels, n);
        if (r.exitCode !== 0) throw new Error(r.stderr);
      },
      cleanup: async () => {
        for (const c of await engine.listContainers(label)) await engine.removeContainer(c.id);
        for (const n of await engine.listNetworks(label)) await engine.removeNetwork(n.id);
        await docker('image', 'rm', '--force', tag);
      },
    };
  });
});
