// Memory of running containers whose names start with a prefix, from one `docker stats` sample.
import type { CommandRunner } from '../../runner/src/exec/command-runner.ts';

export async function memoryMiB(runner: CommandRunner, prefix: string): Promise<number> {
  const r = await runner.run(['docker', 'stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}'], { timeoutMs: 120_000 });
  let total = 0;
  for (const line of r.stdout.split('\n').filter((l) => l.startsWith(prefix))) {
    const m = /\s([\d.]+)(KiB|MiB|GiB)\s/.exec(`${line} `);
    if (m) total += Number(m[1]) * ({ KiB: 1 / 1024, MiB: 1, GiB: 1024 } as Record<string, number>)[m[2]!]!;
  }
  return total;
}
