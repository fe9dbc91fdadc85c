// `svclab workshop start` refuses what cannot work before it builds anything (no docker needed).
import { describe, expect, it } from 'vitest';
import { resolveLabs, workshopCommand } from '../../src/cli/workshop.ts';
import type { Wiring } from '../../src/main/wiring.ts';

const noWiring = (() => { throw new Error('nothing may be built for a refused start'); }) as () => Wiring;
const start = (...args: string[]) => workshopCommand(['start', ...args], () => undefined, noWiring, '/nonexistent-cache');

describe('svclab workshop start refuses', () => {
  it('a reserve this machine cannot hold, with the numbers and the --reserve that fits', async () => {
    await expect(start('--labs', '02', '--capacity', '5000', '--reserve', '5000')).rejects.toMatchObject({
      code: 'POOL_TOO_BIG', message: expect.stringMatching(/^--reserve 5000: 5000 clusters need about [\d.]+ GiB .*enough for \d+/), hint: expect.stringMatching(/--reserve \d+ or fewer/),
    });
  });

  it('every address, a certificate without its key, missing labs or an unknown lab', async () => {
    await expect(start('--labs', '02', '--capacity', '3', '--host', '0.0.0.0')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', hint: expect.stringContaining('hostname -I') });
    await expect(start('--labs', '02', '--capacity', '3', '--host', '192.0.2.2', '--tls-cert', 'c.pem')).rejects.toMatchObject({ message: expect.stringContaining('go together') });
    await expect(start('--capacity', '3')).rejects.toMatchObject({ message: expect.stringContaining('needs --labs') });
    await expect(start('--labs', '99', '--capacity', '3')).rejects.toMatchObject({ code: 'LAB_UNKNOWN', message: expect.stringContaining('"99" is not a lab') });
    await expect(start('--labs', '02', '--capacity', '3', '--expires', 'soon')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('"soon"') });
    await expect(workshopCommand(['status'], () => undefined, noWiring, '/nonexistent-cache')).rejects.toMatchObject({ code: 'WORKSHOP_NOT_RUNNING' });
  });

  it('lab numbers resolve to lab ids', () => {
    const known = ['02-selectors-and-endpoints', '06-nodeport', '11-ingress'];
    expect(resolveLabs('02, 11,02', known)).toEqual(['02-selectors-and-endpoints', '11-ingress']);
    expect(() => resolveLabs('0', known)).toThrow(/is not a lab/);
  });
});
