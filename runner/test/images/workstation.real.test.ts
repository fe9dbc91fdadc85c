// Real tier: the current workstation image, as the learner's terminal starts it
// (`docker exec -it --user learner <ws> bash -l`: a login shell, interactive): kubectl
// with completion, `k` as an alias that completes like kubectl, and the tools lab
// steps name (dig, openssl, curl, jq, ip, ping, nc). Runs when docker answers and the
// workstation image is current; otherwise prints one SKIP line.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/engine/docker-engine.ts';
import { isRunnerError } from '../../src/errors.ts';
import { ExecaRunner } from '../../src/exec/execa-runner.ts';
import { defaultCacheDir, defaultImagesDir, imageRef } from '../../src/images/images.ts';

const runner = new ExecaRunner();
const engine = new DockerEngine({ runner, queryTimeoutMs: 15_000 });

const real = await (async (): Promise<{ skip: string } | { image: string }> => {
  try {
    await engine.info();
    return { image: await imageRef({ runner, engine, imagesDir: defaultImagesDir(), cacheDir: defaultCacheDir() }, 'workstation') };
  } catch (e) {
    return { skip: isRunnerError(e) ? `${e.code}: ${e.message}` : String(e) };
  }
})();
if ('skip' in real) console.log(`SKIP workstation (real): ${real.skip}`);

describe.skipIf('skip' in real)('the workstation image', () => {
  if ('skip' in real) return;
  const name = `svclab-img-ws-${process.pid}`;
  /** An interactive login shell as learner, like the terminal's (without a tty: -i makes bash read its rc files). */
  const shell = (script: string) => runner.run(['docker', 'exec', '--user', 'learner', '--workdir', '/home/learner', name, 'bash', '-lic', script], { timeoutMs: 30_000 });

  beforeAll(async () => {
    // No network: nothing here needs one, and the container reaches nothing.
    const r = await runner.run(['docker', 'run', '-d', '--rm', '--name', name, '--network', 'none', '--label', 'svclab.test=workstation', real.image], { timeoutMs: 60_000 });
    if (r.exitCode !== 0) throw new Error(r.stderr);
  }, 120_000);
  afterAll(async () => { await runner.run(['docker', 'rm', '-f', name], { timeoutMs: 60_000 }); }, 120_000);

  it('runs as learner (uid 1000) in its home', async () => {
    const r = await shell('echo "$(id -un) $(id -u) $PWD"');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('learner 1000 /home/learner');
  });

  it('has kubectl with bash completion, and k as an alias that completes the same way', async () => {
    const r = await shell('type -t kubectl; alias k; complete -p kubectl; complete -p k; kubectl version --client 2>/dev/null | head -1');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain('file');
    expect(out).toContain("alias k='kubectl'");
    expect(out).toMatch(/complete .*-F __start_kubectl kubectl$/m);
    expect(out).toMatch(/complete .*-F __start_kubectl k$/m);
    expect(out).toMatch(/Client Version: v\d+\.\d+\.\d+/);
    // Completion works, not only registered: `k ge<TAB>` offers get (subcommands need no cluster; resource names would).
    const c = await shell('COMP_WORDS=(k ge); COMP_CWORD=1; COMP_LINE="k ge"; COMP_POINT=${#COMP_LINE}; __start_kubectl k ge k 2>/dev/null; printf "%s\\n" "${COMPREPLY[@]}"');
    expect(c.stdout.split('\n')).toContain('get');
  });

  it('has the tools lab steps name: dig, openssl, curl, jq, ip, ping, nc', async () => {
    const r = await shell('for t in dig openssl curl jq ip ping nc; do command -v $t >/dev/null || echo "missing $t"; done; dig -v 2>&1; openssl version; curl --version | head -1');
    expect(r.stdout).not.toMatch(/missing/);
    expect(r.stdout + r.stderr).toMatch(/DiG 9\./);
    expect(r.stdout).toMatch(/OpenSSL 3\./);
    expect(r.stdout).toMatch(/curl \d+\./);
  });
});
