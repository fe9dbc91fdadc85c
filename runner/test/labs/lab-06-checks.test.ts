// Lab 06 step 2 against recorded states. The lesson used to print one command that
// wrote both answers (`dig … | tee ~/answers/short-names`); now the learner must first
// read the search line of a blue pod's own resolv.conf, and that alone fails without it.
import { describe, expect, it } from 'vitest';
import { labScripts, missingTools, unmappedExitCodes } from './lab-script-harness.ts';

const missing = missingTools(['sh', 'jq', 'sed']);
if (missing.length) console.log(`SKIP lab 06 check scripts: ${missing.join(', ')} not installed on this machine`);

const BLUE = '10.96.44.1';
const GREEN = '10.96.55.2';
const cluster = {
  'get --raw=/readyz': 'ok',
  '-n blue get service web -o jsonpath={.spec.clusterIP}': BLUE,
  '-n green get service web -o jsonpath={.spec.clusterIP}': GREEN,
};

describe.skipIf(missing.length > 0)('lab 06 check scripts', () => {
  const lab = labScripts('06-clusterip-and-dns');

  it('every exit code a script uses is mapped in lab.yaml', () => {
    expect(unmappedExitCodes(lab.lab)).toEqual([]);
  });

  it('the old way, the lesson\'s command writing both addresses, now fails: no observed search list', async () => {
    await lab.state(cluster);
    await lab.answer('short-names', `${BLUE}\n${GREEN}\n`);
    const r = await lab.check('short-names');
    expect(r).toMatchObject({ exitCode: 12, out: expect.stringContaining('answers/search is missing') });
    const check = lab.lab.steps.find((s) => s.id === 'short-names')!.checks[0]!;
    expect(check.kind === 'command' && check.failures.find((f) => f.exitCode === 12)?.message.en).toMatch(/blue pod's own \/etc\/resolv.conf/);
  });

  it('a search list read from the wrong resolver is named', async () => {
    await lab.state(cluster);
    await lab.answer('short-names', `${BLUE}\n${GREEN}\n`);
    await lab.answer('search', 'search green.svc.cluster.local svc.cluster.local cluster.local\n');
    expect((await lab.check('short-names')).exitCode).toBe(13);
    await lab.answer('search', 'search example.internal\n');
    expect((await lab.check('short-names')).exitCode).toBe(15);
    await lab.answer('search', 'search cluster.local svc.cluster.local blue.svc.cluster.local\n');
    expect((await lab.check('short-names')).exitCode).toBe(14);
  });

  it('passes with the pod\'s search line (node domains may follow) and the two addresses', async () => {
    await lab.state(cluster);
    await lab.answer('short-names', `${BLUE}\n${GREEN}\n`);
    await lab.answer('search', 'search blue.svc.cluster.local svc.cluster.local cluster.local example.internal\n');
    expect(await lab.check('short-names')).toMatchObject({ exitCode: 0, out: expect.stringContaining(`web is ${BLUE} and web.green is ${GREEN}`) });
    await lab.answer('search', 'blue.svc.cluster.local svc.cluster.local cluster.local\n');
    expect((await lab.check('short-names')).exitCode).toBe(0);
  });

  it('still names swapped and wrong addresses', async () => {
    await lab.state(cluster);
    await lab.answer('search', 'search blue.svc.cluster.local svc.cluster.local cluster.local\n');
    await lab.answer('short-names', `${GREEN}\n${BLUE}\n`);
    expect((await lab.check('short-names')).exitCode).toBe(5);
    await lab.answer('short-names', `${BLUE}\n${BLUE}\n`);
    expect((await lab.check('short-names')).exitCode).toBe(7);
  });

  it('the step solution makes it pass', async () => {
    await lab.state(cluster);
    const stub = `#!/bin/sh\ncase "$*" in *web.blue.svc*) echo ${BLUE};; *web.green.svc*) echo ${GREEN};; esac\n`;
    const { writeFile, chmod, mkdir } = await import('node:fs/promises');
    const bin = `${lab.home}/../extra-bin`;
    await mkdir(bin, { recursive: true });
    await writeFile(`${bin}/dig`, stub);
    await chmod(`${bin}/dig`, 0o755);
    const step = lab.lab.steps.find((s) => s.id === 'short-names')!;
    for (const argv of step.solution.commands ?? []) expect((await lab.run(argv, { PATH: `${bin}:${process.env.PATH}` })).exitCode).toBe(0);
    expect((await lab.check('short-names')).exitCode).toBe(0);
  });
});
