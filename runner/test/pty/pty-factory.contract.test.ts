// PtyFactory contract on node-pty and on the fake. The real half spawns /bin/cat
// in a pty (a pty round trip, not a shell for learners: those run in containers).
import { describe, expect, it } from 'vitest';
import { FakePtyFactory } from '../../src/pty/fake-pty-factory.ts';
import { NodePtyFactory } from '../../src/pty/node-pty-factory.ts';
import type { PtyFactory, PtyProcess } from '../../src/pty/pty-factory.ts';

function collect(p: PtyProcess) {
  let out = '';
  p.onData((d) => { out += d; });
  return { text: () => out };
}

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const [name, make] of [['NodePtyFactory', () => new NodePtyFactory()], ['FakePtyFactory', () => new FakePtyFactory((l) => `${l}\r\n`)]] as [string, () => PtyFactory][]) {
  describe(`PtyFactory contract: ${name}`, () => {
    it('echoes what is typed, as a terminal does', async () => {
      const p = make().spawn(['/bin/cat'], { cols: 80, rows: 24 });
      const out = collect(p);
      p.write('hello pty\r');
      await until(() => out.text().includes('hello pty'));
      p.kill();
    });

    it('holds output while paused and delivers it on resume', async () => {
      const p = make().spawn(['/bin/cat'], { cols: 80, rows: 24 });
      const out = collect(p);
      p.write('one\r');
      await until(() => out.text().includes('one'));
      p.pause();
      const before = out.text().length;
      p.write('two\r');
      await new Promise((r) => setTimeout(r, 200));
      expect(out.text().length).toBe(before);
      p.resume();
      await until(() => out.text().includes('two'));
      p.kill();
    });

    it('reports exit after kill', async () => {
      const p = make().spawn(['/bin/cat'], { cols: 80, rows: 24 });
      let exited = false;
      p.onExit(() => { exited = true; });
      p.kill();
      await until(() => exited);
    });
  });
}
