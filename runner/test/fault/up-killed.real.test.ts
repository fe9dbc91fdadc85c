// Fault injection (issue 16, item 7): kill -9 during `svclab up`. The `up` process and its
// kind child are killed (their process group, as a crashed terminal does) once kind has made
// the first node container. Then: `svclab up` of the same name refuses with the state and the
// exact fix instead of building on the half-made cluster; `svclab down --name` removes every
// container, network and volume of it; and `svclab up` then makes it. Own cluster name; one
// SKIP line without docker or the node image, or without SVCLAB_TEST_CREATE_CLUSTER=1.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeImageRef } from '../../src/cluster/cluster-tools.ts';
import { defaultCacheDir } from '../../src/images/images.ts';
import { buildWiring } from '../../src/main/wiring.ts';
import { projectRoot } from '../../src/version.ts';

const NAME = 'svclab-fault-up';
const SVCLAB = join(projectRoot, 'bin', 'svclab.mjs');
const w = buildWiring(defaultCacheDir());
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', timeout: 60_000 }).trim();
const lines = (s: string) => s.split('\n').filter(Boolean);

async function unavailable(): Promise<string | undefined> {
  if (!process.env.SVCLAB_TEST_CREATE_CLUSTER) return 'SVCLAB_TEST_CREATE_CLUSTER is not set (this test creates a cluster)';
  try {
    await w.engine.info();
    await nodeImageRef(w.images);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
const skip = await unavailable();
if (skip) console.log(`SKIP fault injection, kill -9 during svclab up: ${skip}`);

function svclab(...args: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync(process.execPath, [SVCLAB, ...args], { encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const x = e as { status?: number; stdout?: string; stderr?: string };
    return { code: x.status ?? -1, out: `${x.stdout ?? ''}${x.stderr ?? ''}` };
  }
}

function leftovers(): { containers: string[]; networks: string[]; volumes: string[] } {
  return {
    containers: lines(docker('ps', '-a', '--format', '{{.Names}}', '--filter', `label=io.x-k8s.kind.cluster=${NAME}`)),
    networks: lines(docker('network', 'ls', '--format', '{{.Name}}', '--filter', `label=svclab.cluster=${NAME}`)),
    volumes: lines(docker('volume', 'ls', '-q', '--filter', `label=io.x-k8s.kind.cluster=${NAME}`)),
  };
}

describe.skipIf(skip !== undefined)('kill -9 during svclab up', () => {
  afterAll(() => { svclab('down', '--name', NAME); }, 120_000);

  it('a re-run names the half-made cluster and the fix; down --name leaves nothing; up then works', async () => {
    if ((await w.driver.list()).some((c) => c.name === NAME)) svclab('down', '--name', NAME);
    const child = spawn(process.execPath, [SVCLAB, 'up', '--name', NAME, '--workers', '0'], { detached: true, stdio: 'ignore' });
    const t0 = performance.now();
    while (!lines(docker('ps', '-aq', '--filter', `label=io.x-k8s.kind.cluster=${NAME}`)).length) {
      if (performance.now() - t0 > 180_000) throw new Error('kind made no node container within 180 s');
      await new Promise((r) => setTimeout(r, 500));
    }
    process.kill(-child.pid!, 'SIGKILL'); // svclab up and kind, mid-creation
    await new Promise((r) => setTimeout(r, 2000));
    // The node's anonymous volumes (kind's /var) carry no label: note them by name.
    const nodeVolumes = lines(docker('ps', '-aq', '--filter', `label=io.x-k8s.kind.cluster=${NAME}`))
      .flatMap((id) => docker('inspect', '-f', '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}', id).split(' ').filter(Boolean));
    expect(nodeVolumes.length).toBeGreaterThan(0);
    const stillThere = () => nodeVolumes.filter((v) => lines(docker('volume', 'ls', '-q')).includes(v));

    const again = svclab('up', '--name', NAME, '--workers', '0');
    expect(again.code).not.toBe(0);
    expect(again.out).toMatch(new RegExp(`Objects of a cluster named ${NAME} are still there \\(state: broken\\)`));
    expect(again.out).toContain(`svclab down --name ${NAME}`);

    const down = svclab('down', '--name', NAME);
    expect(down.code, down.out).toBe(0);
    expect(leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
    expect(stillThere()).toEqual([]);

    const up = svclab('up', '--name', NAME, '--workers', '0');
    expect(up.code, up.out.slice(-2000)).toBe(0);
    expect((await w.driver.list()).find((c) => c.name === NAME)?.state).toBe('running');
    expect(svclab('down', '--name', NAME).code).toBe(0);
    expect(leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 900_000);
});
