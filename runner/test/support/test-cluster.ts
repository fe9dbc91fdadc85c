// A cluster for a real-tier test file: an existing one (named by an environment
// variable, or a conventional name when that cluster runs), or — under `npm test`,
// which sets SVCLAB_TEST_CREATE_CLUSTER=1 — one of the file's own, made here (with
// svclab's add-ons when asked) and removed by `remove()`. Otherwise the reason, for the
// file's one SKIP line. Missing prerequisites (docker, kind, the node image) are a skip;
// a cluster that fails to come up when they are all there is a failure, not a skip.
import { randomBytes } from 'node:crypto';
import { componentsDeps, installComponents, type InstallResult } from '../../src/addons/install.ts';
import { kindBinary, nodeImageRef } from '../../src/cluster/cluster-tools.ts';
import { KindDriver } from '../../src/cluster/kind-driver.ts';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { isRunnerError } from '../../src/errors.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { defaultCacheDir, defaultImagesDir, type ImagesDeps } from '../../src/images/images.ts';

export interface TestClusterRequest {
  /** Prefix of an own cluster's name; a random suffix is added. */
  prefix: string;
  /** Environment variable naming an existing cluster to use instead (it must be running). */
  env?: string;
  /** A conventional name: used when env is unset and a cluster of that name runs. */
  existing?: string;
  /** Workers of an own cluster (default 1). */
  workers?: number;
  /** Install Traefik and MetalLB (and the Gateway API CRDs when built) into an own cluster. */
  addons?: boolean;
  /** After finding or making the cluster: a reason it can't serve this file, or undefined. */
  check?: (c: { driver: KindDriver; name: string }) => Promise<string | undefined>;
}

export type TestCluster =
  | { skip: string }
  | { driver: KindDriver; engine: DockerEngine; images: ImagesDeps; name: string; owned: boolean; addons?: InstallResult; remove(): Promise<void> };

const why = (e: unknown) => (isRunnerError(e) ? `${e.code}: ${e.message}` : String(e));

export async function testCluster(req: TestClusterRequest): Promise<TestCluster> {
  const runner = new ExecaRunner();
  const engine = new DockerEngine({ runner, queryTimeoutMs: 15_000 });
  const images: ImagesDeps = { runner, engine, imagesDir: defaultImagesDir(), cacheDir: defaultCacheDir() };
  try {
    await engine.info();
  } catch (e) {
    return { skip: why(e) };
  }
  let driver: KindDriver;
  try {
    const kind = process.env['SVCLAB_TEST_KIND'] ?? (await kindBinary(images));
    driver = new KindDriver({ runner, engine, kindPath: kind, stateDir: `${defaultCacheDir()}/clusters` });
  } catch (e) {
    return { skip: `no kind binary (${why(e)}; run \`svclab images build\`)` };
  }
  const running = (await driver.list()).filter((c) => c.state === 'running').map((c) => c.name);
  const named = req.env ? process.env[req.env] : undefined;
  const found = named ?? (req.existing && running.includes(req.existing) ? req.existing : undefined);
  const base = { driver, engine, images };
  if (found) {
    if (!running.includes(found)) return { skip: `${req.env}=${found} is not a running svclab cluster (running: ${running.join(', ') || 'none'})` };
    const no = await req.check?.({ driver, name: found });
    if (no) return { skip: no };
    return { ...base, name: found, owned: false, remove: async () => undefined };
  }
  if (process.env['SVCLAB_TEST_CREATE_CLUSTER'] !== '1') {
    const how = [req.env ? `set ${req.env}` : '', req.existing ? `run \`svclab up --name ${req.existing}\`` : '', 'or set SVCLAB_TEST_CREATE_CLUSTER=1 (npm test does)'].filter(Boolean).join(', ');
    return { skip: `no cluster for this file: ${how}` };
  }
  let nodeImage: string;
  try {
    nodeImage = process.env['SVCLAB_TEST_NODE_IMAGE'] ?? (await nodeImageRef(images));
    if (!(await engine.imageExists(nodeImage))) return { skip: `the node image ${nodeImage} is not in docker (run \`svclab images build\`)` };
  } catch (e) {
    return { skip: `${why(e)} (run \`svclab images build\`)` };
  }
  const name = `${req.prefix}-${randomBytes(3).toString('hex')}`;
  const remove = async () => { await driver.delete(name).catch(() => undefined); };
  try {
    await driver.create({ name, workers: req.workers ?? 1, nodeImage, ports: [] });
    const addons = req.addons ? await installComponents(name, componentsDeps(images, driver), { ingressMode: 'nodeport' }) : undefined;
    const no = await req.check?.({ driver, name });
    if (no) throw new Error(`the cluster ${name} made for this file: ${no}`);
    return { ...base, name, owned: true, ...(addons ? { addons } : {}), remove };
  } catch (e) {
    await remove();
    throw e;
  }
}
