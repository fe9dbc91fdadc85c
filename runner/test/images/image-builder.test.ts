// The builder against real (tiny) build.sh fixtures run by ExecaRunner, and
// FakeContainerEngine in place of docker.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { RunnerError } from '../../src/errors.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { FakeShell } from '../../src/exec/fake-shell.ts';
import { ImageBuilder, imageRef, imagesBuild, imagesStatus, type BuildStepEvent, type ImagesDeps } from '../../src/images/images.ts';
import { countingArtifactSh, countingImageSh, tempRecipes, type TempRecipes } from './fixtures.ts';

let t: TempRecipes;
afterEach(() => t?.cleanup());

function setup(): { deps: ImagesDeps; engine: FakeContainerEngine } {
  t = tempRecipes();
  const engine = new FakeContainerEngine();
  return { engine, deps: { runner: new ExecaRunner(), engine, imagesDir: t.imagesDir, cacheDir: t.cacheDir, profile: 'local' } };
}

/** Deps for the current temp recipes (after setup()). */
function setupDeps(): ImagesDeps {
  return { runner: new ExecaRunner(), engine: new FakeContainerEngine(), imagesDir: t.imagesDir, cacheDir: t.cacheDir, profile: 'local' };
}

function runs(name: string): number {
  const f = join(t.cacheDir, `runs-${name}`);
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0;
}

function states(st: Awaited<ReturnType<typeof imagesStatus>>): Record<string, string> {
  return Object.fromEntries(st.map((s) => [`${s.kind}:${s.name}`, s.state]));
}

async function caught(p: Promise<unknown>): Promise<RunnerError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(RunnerError);
  return e as RunnerError;
}

describe('image builder', () => {
  it('reports missing, builds in dependency order, then reports current', async () => {
    const { deps, engine } = setup();
    t.artifact('base', [], countingArtifactSh('base'));
    t.artifact('tool', ['base'], countingArtifactSh('tool', 'cat "$ARTIFACT_BASE/product" > "$OUT/from-base"'));
    t.image('node', ['tool'], [], countingImageSh('node'));
    t.image('workstation', [], ['node'], countingImageSh('workstation'));

    expect(states(await imagesStatus(deps))).toEqual({ 'artifact:base': 'missing', 'artifact:tool': 'missing', 'image:node': 'missing', 'image:workstation': 'missing' });

    const events: BuildStepEvent[] = [];
    const res = await imagesBuild(deps, { onStep: (e) => events.push(e) });
    expect(events.filter((e) => e.status !== 'start').map((e) => `${e.kind}:${e.name}:${e.status}`)).toEqual([
      'artifact:base:built', 'artifact:tool:built', 'image:node:built', 'image:workstation:built',
    ]);
    for (const e of events.filter((x) => x.status === 'built')) expect(e.line).toMatch(/built in \d+\.\d s/);
    expect(res.steps.every((s) => s.status === 'built')).toBe(true);

    const st = await imagesStatus(deps);
    expect(states(st)).toEqual({ 'artifact:base': 'current', 'artifact:tool': 'current', 'image:node': 'current', 'image:workstation': 'current' });

    // artifacts land in <cache>/artifacts/<name>-<hash16>/ with what build.sh wrote
    const tool = st.find((s) => s.name === 'tool')!;
    expect(tool.location).toBe(join(t.cacheDir, 'artifacts', `tool-${tool.hash16}`));
    expect(readFileSync(join(tool.location, 'from-base'), 'utf8')).toBe('base\n');
    expect(readdirSync(join(t.cacheDir, 'artifacts')).filter((e) => e.startsWith('.tmp'))).toEqual([]);

    // images are tagged svclab/<name>:<hash16> and labelled
    const node = st.find((s) => s.name === 'node')!;
    expect(node.location).toBe(`svclab/node:${node.hash16}`);
    expect(engine.images.get(node.location)!.labels).toEqual({ 'svclab.image': 'node', 'svclab.recipe-hash': node.hash });
    expect(await imageRef(deps, 'node')).toBe(node.location);
  });

  it('gives build.sh the contract environment', async () => {
    const { deps, engine } = setup();
    t.artifact('go-thing', [], countingArtifactSh('go-thing'));
    t.artifact('uses', ['go-thing'], countingArtifactSh('uses'));
    t.image('node', ['uses'], [], countingImageSh('node'));
    t.image('ws', [], ['node'], countingImageSh('ws'));
    await imagesBuild(deps);
    const st = await imagesStatus(deps);
    const loc = (n: string) => st.find((s) => s.name === n)!.location;
    const env = (f: string) => Object.fromEntries(readFileSync(f, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

    const usesEnv = env(join(loc('uses'), 'env.txt'));
    expect(usesEnv).toMatchObject({
      SVCLAB_CACHE: t.cacheDir,
      GOCACHE: join(t.cacheDir, 'go-build'),
      GOMODCACHE: join(t.cacheDir, 'go-mod'),
      GOFLAGS: '-mod=mod',
      RECIPE_DIR: join(t.imagesDir, 'artifacts', 'uses'),
      ARTIFACT_GO_THING: loc('go-thing'),
    });
    expect(usesEnv['OUT']).toContain(join(t.cacheDir, 'artifacts', '.tmp-uses-'));

    // the image's context is gone after the build, so read what the fake engine was given
    const wsBuild = engine.builds.find((b) => b.tag === loc('ws'))!;
    expect(wsBuild).toBeDefined();
    expect(runs('ws')).toBe(1);
  });

  it('passes IMAGE_<NAME> and ARTIFACT_<NAME> to image recipes', async () => {
    const { deps } = setup();
    t.artifact('kube-bins', [], countingArtifactSh('kube-bins'));
    t.image('node', ['kube-bins'], [], countingImageSh('node'));
    t.image('ws', [], ['node'], countingImageSh('ws', 'cp "$OUT/env.txt" "$SVCLAB_CACHE/ws-env.txt"'));
    await imagesBuild(deps);
    const st = await imagesStatus(deps);
    const txt = readFileSync(join(t.cacheDir, 'ws-env.txt'), 'utf8');
    expect(txt).toContain(`IMAGE_NODE=${st.find((s) => s.name === 'node')!.location}\n`);
    expect(txt).toContain(`ARTIFACT_KUBE_BINS=${st.find((s) => s.name === 'kube-bins')!.location}\n`);
    expect(txt).toContain(`RECIPE_DIR=${join(t.imagesDir, 'ws')}\n`);
  });

  it('a no-op build runs no build.sh and returns well under 2 s', async () => {
    const { deps, engine } = setup();
    t.artifact('a', [], countingArtifactSh('a'));
    t.artifact('b', ['a'], countingArtifactSh('b'), Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`src/f${i}.go`, `package x // ${i}\n`.repeat(50)])));
    t.image('img', ['b'], [], countingImageSh('img'));
    await imagesBuild(deps);
    const builds = engine.builds.length;

    const events: BuildStepEvent[] = [];
    const t0 = performance.now();
    const res = await imagesBuild(deps, { onStep: (e) => events.push(e) });
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(2000);
    expect(events.map((e) => `${e.name}:${e.status}`)).toEqual(['a:up-to-date', 'b:up-to-date', 'img:up-to-date']);
    expect(res.steps.map((s) => s.status)).toEqual(['up-to-date', 'up-to-date', 'up-to-date']);
    expect([runs('a'), runs('b'), runs('img')]).toEqual([1, 1, 1]);
    expect(engine.builds.length).toBe(builds);
  });

  it('a changed recipe makes it and what depends on it stale, and only those rebuild', async () => {
    const { deps, engine } = setup();
    t.artifact('a', [], countingArtifactSh('a'));
    t.artifact('other', [], countingArtifactSh('other'));
    t.image('img', ['a'], [], countingImageSh('img'));
    await imagesBuild(deps);
    const oldTag = (await imagesStatus(deps)).find((s) => s.name === 'img')!.location;

    t.write('artifacts/a/notes.txt', 'a change\n');
    const st = await imagesStatus(deps);
    expect(states(st)).toEqual({ 'artifact:a': 'stale', 'artifact:other': 'current', 'image:img': 'stale' });
    expect(st.find((s) => s.name === 'img')!.older).toEqual([oldTag]);
    const e = await caught(imageRef(deps, 'img'));
    expect(e.code).toBe('IMAGE_STALE');

    const oldDir = st.find((s) => s.name === 'a')!.older[0]!;
    await imagesBuild(deps, { prune: false });
    expect([runs('a'), runs('other'), runs('img')]).toEqual([2, 1, 2]);
    expect(states(await imagesStatus(deps))).toEqual({ 'artifact:a': 'current', 'artifact:other': 'current', 'image:img': 'current' });
    expect(engine.images.has(oldTag)).toBe(true); // prune: false keeps older builds
    expect(existsSync(oldDir)).toBe(true);
  });

  it('prunes older builds after a successful build: artifact dirs, and image tags with docker image rm', async () => {
    const { deps, engine } = setup();
    t.artifact('a', [], countingArtifactSh('a'));
    t.image('img', ['a'], [], countingImageSh('img'));
    await imagesBuild(deps);
    const before = await imagesStatus(deps);
    t.write('artifacts/a/notes.txt', 'a change\n');
    await imagesBuild(deps);
    expect(existsSync(before.find((s) => s.name === 'a')!.location)).toBe(false);
    const oldImg = before.find((s) => s.name === 'img')!.location;
    expect(engine.imageOps).toEqual([`rm ${oldImg}`]);
    expect(engine.images.has(oldImg)).toBe(false);
  });

  it('only builds the named recipes and what they need', async () => {
    const { deps } = setup();
    t.artifact('a', [], countingArtifactSh('a'));
    t.artifact('b', [], countingArtifactSh('b'));
    t.image('img', ['a'], [], countingImageSh('img'));
    t.image('other', ['b'], [], countingImageSh('other'));
    await imagesBuild(deps, { only: ['img'] });
    expect(states(await imagesStatus(deps))).toEqual({ 'artifact:a': 'current', 'artifact:b': 'missing', 'image:img': 'current', 'image:other': 'missing' });
    const e = await caught(imagesBuild(deps, { only: ['nope'] }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.hint).toContain('img');
  });

  it('an onRequest image with repository inputs: skipped by a plain build, built by name, stale when an input changes', async () => {
    const { deps } = setup();
    t.artifact('a', [], countingArtifactSh('a'));
    t.image('node', ['a'], [], countingImageSh('node'));
    t.image('runner', [], [], countingImageSh('runner'));
    // image.json with the two fields only this kind of recipe has; the input lives outside images/.
    const src = join(t.root, 'runner', 'src');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'main.ts'), 'export const v = 1;\n');
    t.write('runner/image.json', JSON.stringify({ name: 'runner', description: 'runner', artifacts: [], images: [], inputs: ['runner/src'], onRequest: true }));

    await imagesBuild(deps);
    expect(runs('runner')).toBe(0);
    const before = await imagesStatus(deps);
    expect(states(before)).toEqual({ 'artifact:a': 'current', 'image:node': 'current', 'image:runner': 'missing' });
    expect(before.find((s) => s.name === 'runner')!.onRequest).toBe(true);
    expect(before.find((s) => s.name === 'node')!.onRequest).toBeUndefined();

    await imagesBuild(deps, { only: ['runner'] });
    expect(runs('runner')).toBe(1);
    expect(states(await imagesStatus(deps))['image:runner']).toBe('current');

    // An edit in the input (not in the recipe folder) makes it stale, and nothing else.
    writeFileSync(join(src, 'main.ts'), 'export const v = 2;\n');
    expect(states(await imagesStatus(deps))).toEqual({ 'artifact:a': 'current', 'image:node': 'current', 'image:runner': 'stale' });
  });

  it('refuses an input that is not in the repository, or that climbs out of it', async () => {
    setup();
    t.image('runner', [], [], 'true\n');
    t.write('runner/image.json', JSON.stringify({ name: 'runner', description: '', artifacts: [], images: [], inputs: ['no/such/dir'] }));
    const e = await caught(imagesStatus(setupDeps()));
    expect(e.message).toContain('lists input "no/such/dir", which does not exist');
    t.write('runner/image.json', JSON.stringify({ name: 'runner', description: '', artifacts: [], images: [], inputs: ['../etc'] }));
    expect((await caught(imagesStatus(setupDeps()))).message).toMatch(/images\/runner\/image\.json.*inputs\.0.*without "\.\."/);
  });

  it('a failing build.sh is IMAGE_BUILD_FAILED with the log tail, and leaves nothing half-built', async () => {
    const { deps } = setup();
    t.artifact('ok', [], countingArtifactSh('ok'));
    t.artifact('bad', ['ok'], 'for i in $(seq 1 100); do echo "line $i"; done\necho "compile error: x.go:3" >&2\nexit 3\n');
    t.image('img', ['bad'], [], countingImageSh('img'));
    const events: BuildStepEvent[] = [];
    const e = await caught(imagesBuild(deps, { onStep: (ev) => events.push(ev) }));
    expect(e.code).toBe('IMAGE_BUILD_FAILED');
    expect(e.message).toBe('Building artifact bad failed: build.sh exited 3.');
    const d = e.details as { output: string; log: string; exitCode: number; argv: string[] };
    expect(d.exitCode).toBe(3);
    expect(d.output).toContain('compile error: x.go:3');
    expect(d.output).toContain('line 100');
    expect(d.output).not.toContain('line 50\n');
    expect(readFileSync(d.log, 'utf8')).toContain('line 1\n');
    expect(e.hint).toContain(d.log);
    expect(events.at(-1)).toMatchObject({ name: 'bad', status: 'failed' });
    expect(states(await imagesStatus(deps))).toEqual({ 'artifact:ok': 'current', 'artifact:bad': 'missing', 'image:img': 'missing' });
    expect(readdirSync(join(t.cacheDir, 'artifacts')).filter((x) => x.startsWith('.tmp'))).toEqual([]);
    expect(runs('img')).toBe(0);
  });

  it('an image build.sh that leaves no Dockerfile, or a failing docker build, is IMAGE_BUILD_FAILED', async () => {
    const { deps, engine } = setup();
    t.image('nodockerfile', [], [], 'echo "forgot the Dockerfile"\n');
    const e1 = await caught(imagesBuild(deps));
    expect(e1.code).toBe('IMAGE_BUILD_FAILED');
    expect(e1.message).toContain('no Dockerfile');
    t.cleanup();

    const s2 = setup();
    t.image('img', [], [], countingImageSh('img'));
    s2.engine.onBuild = () => {
      throw new RunnerError('COMMAND_FAILED', { details: { argv: ['docker', 'build'], exitCode: 1, output: 'ADD failed: file not found' } });
    };
    const e2 = await caught(imagesBuild(s2.deps));
    expect(e2.code).toBe('IMAGE_BUILD_FAILED');
    expect(JSON.stringify(e2.details)).toContain('ADD failed');
    expect(engine).not.toBe(s2.engine);
  });

  it('docker being down is DOCKER_DOWN, not a build failure', async () => {
    const { deps, engine } = setup();
    t.image('img', [], [], countingImageSh('img'));
    engine.unavailable = 'DOCKER_DOWN';
    expect((await caught(imagesStatus(deps))).code).toBe('DOCKER_DOWN');
    expect((await caught(imagesBuild(deps))).code).toBe('DOCKER_DOWN');
  });

  it('building only artifacts needs no docker', async () => {
    const { deps, engine } = setup();
    t.artifact('a', [], countingArtifactSh('a'));
    t.image('img', ['a'], [], countingImageSh('img'));
    engine.unavailable = 'DOCKER_DOWN';
    await imagesBuild(deps, { only: ['a'] });
    expect(runs('a')).toBe(1);
  });

  it('imageRef refuses a missing image', async () => {
    const { deps } = setup();
    t.image('img', [], [], countingImageSh('img'));
    const e = await caught(imageRef(deps, 'img'));
    expect(e.code).toBe('IMAGE_MISSING');
    expect(e.hint).toContain('svclab images build');
  });

  it('runs build.sh as an argv with cwd, env and a timeout through the injected runner', async () => {
    t = tempRecipes();
    const engine = new FakeContainerEngine();
    const runner = new FakeShell().on(['bash'], { exitCode: 0, stdout: 'fine\n' });
    t.artifact('a', [], 'true\n');
    await imagesBuild({ runner, engine, imagesDir: t.imagesDir, cacheDir: t.cacheDir, artifactTimeoutMs: 1234 });
    expect(runner.calls).toHaveLength(1);
    const { argv, opts } = runner.calls[0]!;
    expect(argv).toEqual(['bash', join(t.imagesDir, 'artifacts', 'a', 'build.sh')]);
    expect(opts.cwd).toBe(join(t.imagesDir, 'artifacts', 'a'));
    expect(opts.timeoutMs).toBe(1234);
    expect(Object.keys(opts.env ?? {}).sort()).toEqual(['GOCACHE', 'GOFLAGS', 'GOMODCACHE', 'OUT', 'RECIPE_DIR', 'SVCLAB_CACHE']);
  });

  it('a timed-out build.sh says so', async () => {
    t = tempRecipes();
    const runner = new FakeShell().on(['bash'], { exitCode: -1, timedOut: true, stderr: 'still compiling' });
    t.artifact('slow', [], 'sleep 100\n');
    const e = await caught(imagesBuild({ runner, engine: new FakeContainerEngine(), imagesDir: t.imagesDir, cacheDir: t.cacheDir, artifactTimeoutMs: 30_000 }));
    expect(e.message).toBe('Building artifact slow failed: build.sh did not finish within 30.0 s.');
    expect((e.details as { output: string }).output).toContain('still compiling');
  });
});

describe('upstream profile', () => {
  it('pulls mapped images instead of building them, and skips the artifacts only they need', async () => {
    t = tempRecipes();
    const engine = new FakeContainerEngine();
    const runner = new FakeShell();
    t.artifact('kubernetes', [], 'true\n');
    t.image('node', ['kubernetes'], [], 'true\n');
    t.image('workstation', [], [], 'true\n');
    const deps: ImagesDeps = { runner, engine, imagesDir: t.imagesDir, cacheDir: t.cacheDir, profile: 'upstream' };
    const st = await imagesStatus(deps);
    expect(st.map((s) => `${s.kind}:${s.name}:${s.state}`)).toEqual(['image:node:missing', 'image:workstation:missing']);
    expect(st[0]!.location).toBe('kindest/node:v1.34.0');

    // nothing runs but the pull: no build.sh for node, none for its artifact
    await imagesBuild(deps, { only: ['node'] });
    expect(runner.calls).toEqual([]);
    expect(engine.imageOps).toEqual(['pull kindest/node:v1.34.0']);
    expect(await imageRef(deps, 'node')).toBe('kindest/node:v1.34.0');
  });
});

describe('one build of a recipe at a time', () => {
  it('waits for another live build of the same recipe, then uses its result', async () => {
    const { deps } = setup();
    t.artifact('slow', [], countingArtifactSh('slow'));
    const builder = new ImageBuilder(deps);
    builder.lockPollMs = 50;
    const [st] = await builder.status();
    const other = spawn('sleep', ['30']);
    try {
      const lockDir = join(t.cacheDir, 'locks', `artifact-slow-${st!.hash16}`);
      mkdirSync(lockDir, { recursive: true });
      writeFileSync(join(lockDir, 'pid'), String(other.pid));
      setTimeout(() => {
        // the other build finishes: its result appears, then its lock goes
        mkdirSync(st!.location, { recursive: true });
        rmSync(lockDir, { recursive: true });
      }, 300);
      const events: BuildStepEvent[] = [];
      await builder.build({ onStep: (e) => events.push(e) });
      expect(events.map((e) => e.line)).toContainEqual(expect.stringContaining(`another build of it is running (pid ${other.pid})`));
      expect(events.at(-1)).toMatchObject({ status: 'up-to-date' });
      expect(events.at(-1)!.line).toContain('built by another run');
      expect(runs('slow')).toBe(0);
    } finally {
      other.kill();
    }
  });

  it('takes over the lock of a build whose process is gone', async () => {
    const { deps } = setup();
    t.artifact('a', [], countingArtifactSh('a'));
    const builder = new ImageBuilder(deps);
    const [st] = await builder.status();
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    const lockDir = join(t.cacheDir, 'locks', `artifact-a-${st!.hash16}`);
    mkdirSync(lockDir, { recursive: true });
    writeFileSync(join(lockDir, 'pid'), String(dead.pid));
    await builder.build();
    expect(runs('a')).toBe(1);
    expect(existsSync(lockDir)).toBe(false);
  });
});
