// A runner as its own process, for tests that kill it with -9 and start it again:
//   node runner/test/support/runner-child.ts   (env below)
// SVCLAB_TEST_CACHE: the runner's cache dir (token, sessions, logs) — a test's own, so
//   its state never mixes with anyone else's; images and kind come from the real cache.
// SVCLAB_TEST_PORT: the port (the same one after a restart, so open tabs reconnect).
// SVCLAB_TEST_CLUSTER: sessions get this running cluster (optional).
// SVCLAB_SITE_DIR: the built site to serve (as the browser tests' support reads it); dist/ by default.
// SVCLAB_TEST_WORKSTATION_IMAGE: another workstation image (a stand-in while the real one
//   builds); default the image builder's current svclab/workstation.
// It calls startRunner directly rather than `svclab start`, which also reaps leftover
// clusters machine-wide: a test must never remove clusters other tests are creating.
import { defaultCacheDir } from '../../src/images/images.ts';
import { startRunner } from '../../src/cli/start.ts';
import { buildWiring, workstationImageOf } from '../../src/main/wiring.ts';

const cacheDir = process.env.SVCLAB_TEST_CACHE;
if (!cacheDir) throw new Error('SVCLAB_TEST_CACHE is not set');
const port = Number(process.env.SVCLAB_TEST_PORT ?? '0');
const clusterName = process.env.SVCLAB_TEST_CLUSTER;
const real = buildWiring(defaultCacheDir());
const running = await startRunner({
  host: '127.0.0.1', port, allowRemote: false, cacheDir, out: (l) => process.stdout.write(`${l}\n`),
  ...(process.env.SVCLAB_SITE_DIR ? { siteDir: process.env.SVCLAB_SITE_DIR } : {}),
  workstationImage: process.env.SVCLAB_TEST_WORKSTATION_IMAGE ? async () => process.env.SVCLAB_TEST_WORKSTATION_IMAGE! : workstationImageOf(real), wiring: real,
  ...(clusterName ? {
    cluster: {
      engine: real.engine, driver: real.driver,
      clusterFor: async () => ((await real.driver.list()).some((c) => c.name === clusterName && c.state === 'running') ? clusterName : undefined),
    },
  } : {}),
});
process.stdout.write(`READY ${running.url}\n`);
const stop = () => { void running.close().then(() => process.exit(0)); };
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
