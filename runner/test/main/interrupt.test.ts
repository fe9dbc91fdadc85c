// Cancelling a long command: Ctrl-C and SIGTERM (what `timeout` and CI runners send) both
// abort the command's signal, so a half-made cluster is cleaned up instead of left running.
import { afterEach, describe, expect, it } from 'vitest';
import { interruptSignal } from '../../src/main/wiring.ts';

describe('interruptSignal', () => {
  const before = { int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM') };
  afterEach(() => {
    for (const [sig, n] of [['SIGINT', before.int], ['SIGTERM', before.term]] as const) {
      for (const l of process.listeners(sig).slice(n)) process.off(sig, l);
    }
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s aborts, once, saying it cleans up', (sig) => {
    const lines: string[] = [];
    const signal = interruptSignal((l) => lines.push(l));
    expect(signal.aborted).toBe(false);
    process.emit(sig);
    expect(signal.aborted).toBe(true);
    expect(lines).toEqual([`${sig === 'SIGTERM' ? 'terminated' : 'interrupted'}: cleaning up…`]);
  });
});
