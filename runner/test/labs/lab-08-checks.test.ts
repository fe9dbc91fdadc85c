// Lab 08's pinned-pod checks against recorded states. Step 3 used to pass after the
// learner wrote any pod's name and deleted it: with a non-pinned pod deleted, requests
// still stuck to the pinned one, which differed from the name noted. Now step 2 verifies
// the note against live requests, and step 3 names the wrong deletion.
import { chmod, mkdir, writeFile, utimes } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labScripts, missingTools, unmappedExitCodes } from './lab-script-harness.ts';

const missing = missingTools(['sh', 'jq', 'awk', 'stat']);
if (missing.length) console.log(`SKIP lab 08 check scripts: ${missing.join(', ')} not installed on this machine`);

/** A curl that answers every request with X-Served-By: $SVCLAB_SERVED_BY. */
const CURL = `#!/bin/sh
printf 'HTTP/1.1 200 OK\\r\\nX-Served-By: %s\\r\\n\\r\\n' "$SVCLAB_SERVED_BY"
`;

const PINNED = 'myapp-7c9f6d5b8-aaaaa';
const OTHER = 'myapp-7c9f6d5b8-bbbbb';
const service = { metadata: { name: 'myapp' }, spec: { sessionAffinity: 'ClientIP', clusterIP: '10.99.99.99' } };
const killing = (name: string, at: string) => ({ items: [{ reason: 'Killing', involvedObject: { kind: 'Pod', name }, lastTimestamp: at, metadata: { creationTimestamp: at } }] });

describe.skipIf(missing.length > 0)('lab 08 check scripts', () => {
  const lab = labScripts('08-session-affinity');
  const withCurl = async () => {
    const bin = path.join(lab.home, '..', 'curl-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, 'curl'), CURL);
    await chmod(path.join(bin, 'curl'), 0o755);
    return bin;
  };
  const check = async (step: string, servedBy: string) => {
    const bin = await withCurl();
    const r = await lab.check(step, undefined, { SVCLAB_SERVED_BY: servedBy, PATH: `${path.join(lab.home, '..', 'bin')}:${bin}:${process.env.PATH}` });
    return r;
  };
  const noteAt = async (name: string, when: Date) => {
    await lab.answer('stuck-pod', `${name}\n`);
    await utimes(path.join(lab.home, 'answers/stuck-pod'), when, when);
  };

  it('every exit code a script uses is mapped in lab.yaml', () => {
    expect(unmappedExitCodes(lab.lab)).toEqual([]);
  });

  describe('step 2 notes the pinned pod', () => {
    it('a name that is not where requests stick fails', async () => {
      await lab.state({});
      await lab.answer('stuck-pod', `${OTHER}\n`);
      expect(await check('client-ip-affinity', PINNED)).toMatchObject({ exitCode: 4, out: expect.stringContaining(`your requests stick to ${PINNED}`) });
      await lab.answer('stuck-pod', `${PINNED}\n`);
      expect((await check('client-ip-affinity', PINNED)).exitCode).toBe(0);
    });
  });

  describe('step 3 takes the pinned pod away', () => {
    const noted = new Date('2026-11-26T02:10:00Z');

    it('the old way of passing, deleting a pod the client is not pinned to, now fails and says so', async () => {
      await lab.state({
        'get service myapp -o json': service,
        [`get pod ${PINNED} -o json`]: { metadata: { name: PINNED } },
        'get events --field-selector reason=Killing -o json': killing(OTHER, '2026-11-26T02:11:00Z'),
      });
      await noteAt(PINNED, noted);
      const r = await check('lose-the-pod', PINNED);
      expect(r).toMatchObject({ exitCode: 11, out: `pod ${PINNED}, the one you stick to, still exists; you deleted ${OTHER}` });
      const c = lab.lab.steps.find((s) => s.id === 'lose-the-pod')!.checks[0]!;
      expect(c.kind === 'command' && c.failures.find((f) => f.exitCode === 11)?.message.en).toMatch(/deleted a pod your client was not pinned to/);
    });

    it('a Killing event from before the note (an earlier run) is not blamed on the learner', async () => {
      await lab.state({
        'get service myapp -o json': service,
        [`get pod ${PINNED} -o json`]: { metadata: { name: PINNED } },
        'get events --field-selector reason=Killing -o json': killing(OTHER, '2026-11-26T01:30:00Z'),
      });
      await noteAt(PINNED, noted);
      expect((await check('lose-the-pod', PINNED)).exitCode).toBe(5);
    });

    it('passes when the pinned pod is gone and requests stick to another', async () => {
      await lab.state({ 'get service myapp -o json': service, 'get events --field-selector reason=Killing -o json': killing(PINNED, '2026-11-26T02:11:00Z') });
      await noteAt(PINNED, noted);
      expect(await check('lose-the-pod', OTHER)).toMatchObject({ exitCode: 0, out: `pod ${PINNED} is gone; all requests now reach ${OTHER}` });
    });
  });
});
