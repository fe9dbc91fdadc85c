// Builds artifacts and images from their recipes, in dependency order, skipping what
// is current. Artifacts land in $SVCLAB_CACHE/artifacts/<name>-<hash16>/ (renamed
// there atomically on success); images are tagged svclab/<name>:<hash16>.

import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { ContainerEngine } from '../engine/container-engine.ts';
import { RunnerError, isRunnerError } from '../errors.ts';
import type { Shell } from '../exec/shell.ts';
import { resolveProfile, type ImageProfile, type ImageProfileName } from './profiles.ts';
import { hash16, hashRecipes } from './recipe-hash.ts';
import { loadRecipes, recipeKey, topoOrder, transitiveDeps, type Recipe, type RecipeKind, type RecipeSet } from './recipes.ts';
import { LineSplitter, pidAlive } from '../exec/process-util.ts';

export interface ImagesDeps {
  runner: Shell;
  engine: ContainerEngine;
  /** The clone's images/ folder (defaultImagesDir()). */
  imagesDir: string;
  /** ${SVCLAB_CACHE:-$HOME/.cache/svclab} (defaultCacheDir()). */
  cacheDir: string;
  /** Defaults to $SVCLAB_IMAGE_PROFILE, else 'local'. */
  profile?: ImageProfileName;
  /** Per build.sh + docker build; defaults 4 h for an artifact (Kubernetes on 2 cores), 2 h for an image. */
  artifactTimeoutMs?: number;
  imageTimeoutMs?: number;
}

export type RecipeState = 'current' | 'stale' | 'missing';

export interface RecipeStatus {
  kind: RecipeKind;
  name: string;
  description: string;
  hash: string;
  hash16: string;
  state: RecipeState;
  /** Where the current build is or will be: the artifact dir, or the image reference. */
  location: string;
  /** Older builds of the same name that exist (artifact dirs or image tags). */
  older: string[];
  /** Set when the upstream profile pulls this image instead of building it. */
  upstreamRef?: string;
  /** Built only when asked for by name (image.json `onRequest`): not counted as missing. */
  onRequest?: boolean;
}

export interface BuildStepEvent {
  kind: RecipeKind;
  name: string;
  hash16: string;
  /** 'start' when work begins; then exactly one of 'built', 'up-to-date', 'failed'. */
  status: 'start' | 'built' | 'up-to-date' | 'failed';
  elapsedMs: number;
  logPath?: string;
  /** Ready to print: print it for every event except 'start' (or show 'start' as a live line on a TTY). */
  line: string;
}

export interface BuildOptions {
  /** Names of images or artifacts to build (with what they need); all when absent or empty. */
  only?: readonly string[];
  onStep?: (e: BuildStepEvent) => void;
  /** Every line of build output as it comes (also in the log file). */
  onOutput?: (line: string, step: { kind: RecipeKind; name: string }) => void;
  signal?: AbortSignal;
  /**
   * After a successful build, remove older builds of the same recipe: artifact dirs,
   * and image tags (`docker image rm` without --force, so an image a container still
   * uses stays). Default true; disk fills fast with node images otherwise.
   */
  prune?: boolean;
}

export interface BuildResult {
  steps: { kind: RecipeKind; name: string; hash16: string; status: 'built' | 'up-to-date'; elapsedMs: number; location: string }[];
  elapsedMs: number;
}

const IMAGE_LABEL = 'svclab.image';
const HASH_LABEL = 'svclab.recipe-hash';

export class ImageBuilder {
  private readonly deps: ImagesDeps;
  private readonly profile: ImageProfile;

  constructor(deps: ImagesDeps) {
    this.deps = deps;
    try {
      this.profile = resolveProfile(deps.profile);
    } catch (e) {
      throw new RunnerError('INVALID_ARGUMENT', { message: (e as Error).message, hint: 'SVCLAB_IMAGE_PROFILE is local (default) or upstream.' });
    }
  }

  get artifactsDir(): string {
    return join(this.deps.cacheDir, 'artifacts');
  }

  get logsDir(): string {
    return join(this.deps.cacheDir, 'logs');
  }

  artifactDir(name: string, hash: string): string {
    return join(this.artifactsDir, `${name}-${hash16(hash)}`);
  }

  imageTag(name: string, hash: string): string {
    return this.profile.refs[name] ?? `svclab/${name}:${hash16(hash)}`;
  }

  /** current / stale / missing for every artifact and image, artifacts first. */
  async status(): Promise<RecipeStatus[]> {
    const { set, hashes } = this.load();
    const images = await this.deps.engine.listImages(IMAGE_LABEL);
    // In the upstream profile, artifacts only pulled images need are not listed.
    const needed = new Set(this.plan(set, []).map(recipeKey));
    const out: RecipeStatus[] = [];
    for (const r of [...set.artifacts.values()].sort(byName)) {
      if (needed.has(recipeKey(r))) out.push(this.artifactStatus(r, hashes.get(recipeKey(r))!));
    }
    for (const r of [...set.images.values()].sort(byName)) {
      const st = await this.imageStatus(r, hashes.get(recipeKey(r))!, images);
      out.push(r.onRequest ? { ...st, onRequest: true } : st);
    }
    return out;
  }

  async build(opts: BuildOptions = {}): Promise<BuildResult> {
    const started = performance.now();
    const { set, hashes } = this.load();
    const plan = this.plan(set, opts.only ?? []);
    this.reapTemporaries();
    // Artifacts alone need no docker.
    let images = plan.some((r) => r.kind === 'image') ? await this.deps.engine.listImages(IMAGE_LABEL) : [];
    const steps: BuildResult['steps'] = [];
    for (const r of plan) {
      const hash = hashes.get(recipeKey(r))!;
      const st = r.kind === 'artifact' ? this.artifactStatus(r, hash) : await this.imageStatus(r, hash, images);
      const base = { kind: r.kind, name: r.name, hash16: hash16(hash) };
      if (st.state === 'current') {
        opts.onStep?.({ ...base, status: 'up-to-date', elapsedMs: 0, line: progressLine(r, 'up to date', st.location) });
        steps.push({ ...base, status: 'up-to-date', elapsedMs: 0, location: st.location });
        continue;
      }
      const t0 = performance.now();
      const logPath = join(this.logsDir, `${r.kind}-${r.name}-${hash16(hash)}.log`);
      opts.onStep?.({ ...base, status: 'start', elapsedMs: 0, logPath, line: progressLine(r, 'building…', `log: ${logPath}`) });
      let release: (() => void) | undefined;
      try {
        // One build of a recipe at a time on this machine (npm start, CI and a
        // developer may all run `images build`): wait for the other, then look again.
        release = await this.lock(r, hash, opts, (pid) => {
          opts.onStep?.({ ...base, status: 'start', elapsedMs: performance.now() - t0, logPath, line: progressLine(r, 'waiting…', `another build of it is running (pid ${pid})`) });
        });
        const again = r.kind === 'artifact' ? this.artifactStatus(r, hash) : await this.imageStatus(r, hash, await this.deps.engine.listImages(IMAGE_LABEL));
        if (again.state === 'current') {
          const elapsedMs = performance.now() - t0;
          opts.onStep?.({ ...base, status: 'up-to-date', elapsedMs, line: progressLine(r, 'up to date', `${st.location} (built by another run)`) });
          steps.push({ ...base, status: 'up-to-date', elapsedMs, location: st.location });
          continue;
        }
        if (r.kind === 'artifact') await this.buildArtifact(set, hashes, r, hash, logPath, opts);
        else if (st.upstreamRef) await this.pullUpstream(r, st.upstreamRef, logPath, opts);
        else await this.buildImage(set, hashes, r, hash, logPath, opts);
      } catch (e) {
        const elapsedMs = performance.now() - t0;
        opts.onStep?.({ ...base, status: 'failed', elapsedMs, logPath, line: progressLine(r, `FAILED after ${seconds(elapsedMs)}`, `log: ${logPath}`) });
        throw e;
      } finally {
        release?.();
      }
      const elapsedMs = performance.now() - t0;
      opts.onStep?.({ ...base, status: 'built', elapsedMs, logPath, line: progressLine(r, `built in ${seconds(elapsedMs)}`, st.location) });
      steps.push({ ...base, status: 'built', elapsedMs, location: st.location });
      if (opts.prune ?? true) await this.pruneOlder(st);
      if (r.kind === 'image') images = await this.deps.engine.listImages(IMAGE_LABEL);
    }
    return { steps, elapsedMs: performance.now() - started };
  }

  private load(): { set: RecipeSet; hashes: Map<string, string> } {
    const set = loadRecipes(this.deps.imagesDir);
    return { set, hashes: hashRecipes(set) };
  }

  /** What to look at, dependencies first. Upstream-pulled images need none of their recipe's inputs. */
  private plan(set: RecipeSet, only: readonly string[]): Recipe[] {
    let targets: Recipe[];
    if (only.length === 0) {
      // Everything but what is built only on request (and what only that needs).
      targets = [...set.artifacts.values(), ...set.images.values()].filter((r) => !r.onRequest);
    } else {
      targets = only.map((n) => {
        const r = set.images.get(n) ?? set.artifacts.get(n);
        if (!r) {
          const known = [...set.images.keys(), ...set.artifacts.keys()].sort().join(', ');
          throw new RunnerError('INVALID_ARGUMENT', { message: `There is no image or artifact named "${n}".`, hint: `Known: ${known}.` });
        }
        return r;
      });
    }
    const pulled = (r: Recipe) => r.kind === 'image' && this.profile.refs[r.name] !== undefined;
    const needed = new Set<string>();
    const visit = (r: Recipe) => {
      if (needed.has(recipeKey(r))) return;
      needed.add(recipeKey(r));
      if (pulled(r)) return;
      for (const d of transitiveDeps(set, r)) visit(d);
    };
    // In the upstream profile, artifacts only a pulled image needs are not built.
    const roots = only.length === 0 && this.profile.name !== 'local'
      ? targets.filter((r) => r.kind === 'image')
      : targets;
    for (const r of roots) visit(r);
    return topoOrder(set, targets).filter((r) => needed.has(recipeKey(r)));
  }

  private artifactStatus(r: Recipe, hash: string): RecipeStatus {
    const dir = this.artifactDir(r.name, hash);
    const pattern = new RegExp(`^${escapeRe(r.name)}-[0-9a-f]{16}$`);
    const older = existsSync(this.artifactsDir)
      ? readdirSync(this.artifactsDir).filter((e) => pattern.test(e) && e !== `${r.name}-${hash16(hash)}`).sort().map((e) => join(this.artifactsDir, e))
      : [];
    const state: RecipeState = existsSync(dir) ? 'current' : older.length > 0 ? 'stale' : 'missing';
    return { kind: 'artifact', name: r.name, description: r.description, hash, hash16: hash16(hash), state, location: dir, older };
  }

  private async imageStatus(r: Recipe, hash: string, images: { ref: string; labels: Record<string, string> }[]): Promise<RecipeStatus> {
    const upstreamRef = this.profile.refs[r.name];
    const base = { kind: 'image' as const, name: r.name, description: r.description, hash, hash16: hash16(hash) };
    if (upstreamRef) {
      const present = await this.deps.engine.imageExists(upstreamRef);
      return { ...base, state: present ? 'current' : 'missing', location: upstreamRef, older: [], upstreamRef };
    }
    const tag = this.imageTag(r.name, hash);
    const mine = images.filter((i) => i.labels[IMAGE_LABEL] === r.name || i.ref.startsWith(`svclab/${r.name}:`));
    const current = mine.some((i) => i.ref === tag);
    const older = [...new Set(mine.map((i) => i.ref).filter((ref) => ref !== tag))].sort();
    return { ...base, state: current ? 'current' : older.length > 0 ? 'stale' : 'missing', location: tag, older };
  }

  private baseEnv(set: RecipeSet, hashes: Map<string, string>, r: Recipe, out: string): Record<string, string> {
    const cache = this.deps.cacheDir;
    const env: Record<string, string> = {
      OUT: out,
      SVCLAB_CACHE: cache,
      GOCACHE: join(cache, 'go-build'),
      GOMODCACHE: join(cache, 'go-mod'),
      GOFLAGS: '-mod=mod',
      RECIPE_DIR: r.dir,
    };
    for (const d of transitiveDeps(set, r)) {
      const h = hashes.get(recipeKey(d))!;
      if (d.kind === 'artifact') env[`ARTIFACT_${envName(d.name)}`] = this.artifactDir(d.name, h);
      else env[`IMAGE_${envName(d.name)}`] = this.imageTag(d.name, h);
    }
    return env;
  }

  private async buildArtifact(set: RecipeSet, hashes: Map<string, string>, r: Recipe, hash: string, logPath: string, opts: BuildOptions): Promise<void> {
    mkdirSync(this.artifactsDir, { recursive: true });
    const out = mkdtempSync(join(this.artifactsDir, `.tmp-${r.name}-${hash16(hash)}-${process.pid}-`));
    try {
      await this.runBuildScript(r, hash, this.baseEnv(set, hashes, r, out), logPath, this.deps.artifactTimeoutMs ?? 4 * 3600_000, opts);
      try {
        renameSync(out, this.artifactDir(r.name, hash));
      } catch (e) {
        // Another build of the same recipe finished first: its result is as good as ours.
        if (!existsSync(this.artifactDir(r.name, hash))) throw e;
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }

  private async buildImage(set: RecipeSet, hashes: Map<string, string>, r: Recipe, hash: string, logPath: string, opts: BuildOptions): Promise<void> {
    const ctxRoot = join(this.deps.cacheDir, 'image-contexts');
    mkdirSync(ctxRoot, { recursive: true });
    const ctx = mkdtempSync(join(ctxRoot, `.tmp-${r.name}-${hash16(hash)}-${process.pid}-`));
    const timeoutMs = this.deps.imageTimeoutMs ?? 2 * 3600_000;
    const tag = this.imageTag(r.name, hash);
    try {
      const log = await this.runBuildScript(r, hash, this.baseEnv(set, hashes, r, ctx), logPath, timeoutMs, opts, true);
      try {
        if (!existsSync(join(ctx, 'Dockerfile'))) {
          throw new RunnerError('IMAGE_BUILD_FAILED', {
            message: `images/${r.name}/build.sh left no Dockerfile in $OUT.`,
            hint: 'build.sh must fill $OUT with a docker build context: a Dockerfile (FROM scratch …) and what it adds.',
            details: { kind: r.kind, name: r.name, log: logPath },
          });
        }
        log.write(`\n=== docker build --tag ${tag}\n`);
        await this.deps.engine.buildImage({
          contextDir: ctx,
          tag,
          labels: { [IMAGE_LABEL]: r.name, [HASH_LABEL]: hash },
          timeoutMs,
          onOutput: (line) => { log.write(`${line}\n`); opts.onOutput?.(line, { kind: r.kind, name: r.name }); },
        });
      } catch (e) {
        if (isRunnerError(e) && (e.code === 'DOCKER_DOWN' || e.code === 'DOCKER_MISSING' || e.code === 'IMAGE_BUILD_FAILED')) throw e;
        const details = isRunnerError(e) && typeof e.details === 'object' && e.details ? e.details as Record<string, unknown> : {};
        if (typeof details['output'] === 'string') log.write(`\n=== docker build failed; its last lines:\n${details['output']}\n`);
        throw new RunnerError('IMAGE_BUILD_FAILED', {
          message: `docker build of image ${r.name} failed.`,
          hint: `The full log is ${logPath}; fix the cause and run \`svclab images build\` again.`,
          details: { kind: r.kind, name: r.name, log: logPath, ...details, output: log.tail() },
          cause: e,
        });
      } finally {
        await log.close();
      }
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
  }

  private async pullUpstream(r: Recipe, ref: string, logPath: string, opts: BuildOptions): Promise<void> {
    // The only place svclab pulls, and only in the upstream profile.
    const log = openLog(logPath, `docker pull ${ref}`);
    const res = await this.deps.engine.pullImage(ref, {
      timeoutMs: this.deps.imageTimeoutMs ?? 2 * 3600_000,
      onOutput: (c) => log.write(c),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    await log.close();
    if (res.exitCode !== 0) {
      throw new RunnerError('IMAGE_BUILD_FAILED', {
        message: `Pulling ${ref} for image ${r.name} failed (upstream profile).`,
        hint: 'The upstream profile needs a reachable registry; unset SVCLAB_IMAGE_PROFILE to build locally.',
        details: { kind: r.kind, name: r.name, argv: res.argv, exitCode: res.exitCode, log: logPath, output: log.tail() },
      });
    }
  }

  /** Runs build.sh with its output streamed to the log; throws IMAGE_BUILD_FAILED with the tail. */
  private async runBuildScript(r: Recipe, hash: string, env: Record<string, string>, logPath: string, timeoutMs: number, opts: BuildOptions, keepOpen: true): Promise<BuildLog>;
  private async runBuildScript(r: Recipe, hash: string, env: Record<string, string>, logPath: string, timeoutMs: number, opts: BuildOptions, keepOpen?: false): Promise<void>;
  private async runBuildScript(r: Recipe, hash: string, env: Record<string, string>, logPath: string, timeoutMs: number, opts: BuildOptions, keepOpen = false): Promise<BuildLog | void> {
    const argv = ['bash', join(r.dir, 'build.sh')];
    const log = openLog(logPath, `${r.kind} ${r.name} ${hash}\n=== ${argv.join(' ')}\n${Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n')}`);
    const onOutput = opts.onOutput;
    const split = new LineSplitter((line) => onOutput?.(line, { kind: r.kind, name: r.name }));
    const res = await this.deps.runner.run(argv, {
      timeoutMs,
      cwd: r.dir,
      env,
      onOutput: (chunk) => { log.write(chunk); split.push(chunk); },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    split.flush();
    if (res.exitCode !== 0) {
      // A runner that doesn't stream (a fake) still leaves its output in the result.
      if (log.bytes === 0) log.write(`${res.stdout}${res.stderr}`);
      await log.close();
      const why = res.timedOut ? `did not finish within ${seconds(timeoutMs)}` : res.aborted ? 'was aborted' : `exited ${res.exitCode}`;
      throw new RunnerError('IMAGE_BUILD_FAILED', {
        message: `Building ${r.kind} ${r.name} failed: build.sh ${why}.`,
        hint: `The full log is ${logPath}; fix the cause and run \`svclab images build\` again.`,
        details: { kind: r.kind, name: r.name, argv, exitCode: res.exitCode, timedOut: res.timedOut, log: logPath, output: log.tail() },
      });
    }
    if (log.bytes === 0) log.write(`${res.stdout}${res.stderr}`);
    if (keepOpen) return log;
    await log.close();
  }

  private async pruneOlder(st: RecipeStatus): Promise<void> {
    for (const old of st.older) {
      if (st.kind === 'artifact') {
        rmSync(old, { recursive: true, force: true });
      } else {
        // Failure (in use by a container, already gone) just leaves it.
        await this.deps.engine.removeImage(old);
      }
    }
  }

  /**
   * A lock directory per recipe build ($SVCLAB_CACHE/locks/<kind>-<name>-<hash16>),
   * holding the owner's pid; a lock whose owner is gone is taken over.
   */
  private async lock(r: Recipe, hash: string, opts: BuildOptions, onWait: (pid: number) => void): Promise<() => void> {
    const locks = join(this.deps.cacheDir, 'locks');
    mkdirSync(locks, { recursive: true });
    const dir = join(locks, `${r.kind}-${r.name}-${hash16(hash)}`);
    const pidFile = join(dir, 'pid');
    let told = false;
    for (;;) {
      try {
        mkdirSync(dir);
        writeFileSync(pidFile, String(process.pid));
        return () => rmSync(dir, { recursive: true, force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let pid = NaN;
      try { pid = Number(readFileSync(pidFile, 'utf8')); } catch { /* being written, or gone */ }
      let ageMs = 0;
      try { ageMs = Date.now() - statSync(dir).mtimeMs; } catch { continue; }
      if ((Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) || (!Number.isInteger(pid) && ageMs > 10_000)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (!told && Number.isInteger(pid)) {
        onWait(pid);
        told = true;
      }
      if (opts.signal?.aborted) throw new RunnerError('IMAGE_BUILD_FAILED', { message: `Building ${r.kind} ${r.name} was aborted while waiting for another build of it.` });
      await new Promise((res) => setTimeout(res, this.lockPollMs));
    }
  }

  /** How often a waiting build looks at another build's lock. */
  lockPollMs = 1000;

  /** Removes temporary build folders left by builds whose process is gone (killed mid-build). */
  private reapTemporaries(): void {
    for (const dir of [this.artifactsDir, join(this.deps.cacheDir, 'image-contexts')]) {
      if (!existsSync(dir)) continue;
      for (const e of readdirSync(dir)) {
        const m = /^\.tmp-.+-[0-9a-f]{16}-(\d+)-/.exec(e);
        if (m && !pidAlive(Number(m[1]))) rmSync(join(dir, e), { recursive: true, force: true });
      }
    }
  }
}

export interface BuildLog {
  readonly bytes: number;
  write(s: string): void;
  tail(lines?: number): string;
  close(): Promise<void>;
}

/** A log file plus the last 64 KiB in memory for error details. */
function openLog(path: string, header: string): BuildLog {
  mkdirSync(join(path, '..'), { recursive: true });
  const stream: WriteStream = createWriteStream(path, { flags: 'w' });
  stream.write(`=== ${new Date().toISOString()} ${header}\n`);
  let buf = '';
  let bytes = 0;
  let closed: Promise<void> | undefined;
  return {
    get bytes() { return bytes; },
    write(s: string) {
      if (!s) return;
      bytes += s.length;
      stream.write(s);
      buf = (buf + s).slice(-65536);
    },
    tail(lines = 30) {
      return buf.trimEnd().split('\n').slice(-lines).join('\n');
    },
    close() {
      closed ??= new Promise<void>((resolve) => stream.end(() => resolve()));
      return closed;
    },
  };
}

export function envName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

function progressLine(r: Recipe, what: string, where: string): string {
  return `${r.kind.padEnd(8)} ${r.name.padEnd(22)} ${what.padEnd(20)} ${where}`;
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function byName(a: Recipe, b: Recipe): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
