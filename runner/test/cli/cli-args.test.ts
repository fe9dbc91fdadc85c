// Bad command-line input is refused before anything is made: what, and the fix.
import { describe, expect, it } from 'vitest';
import { commandHelp, main } from '../../src/cli.ts';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('svclab CLI bad input', () => {
  it('refuses an unknown ingress controller mode, naming the modes', async () => {
    const r = await run('up', '--name', 'svclab-never', '--ingress-mode', 'ds');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Unknown ingress controller mode "ds"/);
    expect(r.err).toMatch(/nodeport .*daemonset/);
  });

  it('refuses a pool larger than the memory budget, with the numbers', async () => {
    const r = await run('start', '--pool', '500');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/500 clusters need about [\d.]+ GiB .*budget is [\d.]+ GiB .*enough for \d+/);
    expect(r.err).toMatch(/--pool \d+ or fewer/);
  });

  it('refuses --pool with --cluster, and a non-number of idle minutes', async () => {
    expect((await run('start', '--pool', '2', '--cluster', 'svclab-main')).err).toMatch(/either --cluster .* or --pool/);
    expect((await run('start', '--session-idle-minutes', 'soon')).err).toMatch(/--session-idle-minutes soon/);
  });
});

describe('svclab validate --name', () => {
  it("refuses a learner's cluster or a name that is not a cluster name, before touching docker", async () => {
    expect((await run('validate', '02', '--name', 'svclab-main')).err).toMatch(/learner's cluster/);
    expect((await run('validate', '02', '--name', 'svclab-pool-1')).err).toMatch(/learner's cluster/);
    expect((await run('validate', '02', '--name', 'Bad_Name')).err).toMatch(/--name Bad_Name: .*svclab-/);
  });
});

describe('svclab <command> --help', () => {
  // Each of these did something before: down removed svclab-main, images export wrote a
  // bundle to a file named --help, start ran a runner, up made a cluster or refused the flag.
  it.each(['start', 'doctor', 'labs', 'images', 'up', 'down', 'status', 'workshop', 'new', 'import', 'version'])('%s --help prints its usage and builds nothing', async (name) => {
    const calls: string[] = [];
    const out: string[] = [];
    const err: string[] = [];
    const code = await main([name, ...(name === 'images' ? ['export'] : []), '--help'], { out: (l) => out.push(l), err: (l) => err.push(l), tty: false }, () => { calls.push('wiring'); throw new Error('--help must not build the wiring'); });
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(calls).toEqual([]);
    expect(out.join('\n')).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });

  it('-h works too; after -- it is an argument, not a request for help', async () => {
    expect(commandHelp('down')).toMatch(/down \[--name N \| --all\]/);
    const r = await run('labs', 'show', '-h');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^  labs list/m);
  });
});
