// ManifestParser: large texts parse on worker threads with the same result and errors as
// inline; a parse that runs too long is stopped; a flood of large texts is refused, not queued forever.
import { afterEach, describe, expect, it } from 'vitest';
import { parseManifests } from '../../src/http/yaml-input.ts';
import { ManifestParser } from '../../src/http/yaml-parse-pool.ts';

const doc = (i: number, keys: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c${i}\n  namespace: ns\ndata:\n${Array.from({ length: keys }, (_, j) => `  k${j}: v${j}\n`).join('')}`;
const text = (docs: number, keys: number) => Array.from({ length: docs }, (_, i) => doc(i, keys)).join('---\n');

let parser: ManifestParser | undefined;
afterEach(async () => { await parser?.close(); parser = undefined; });

describe('ManifestParser', () => {
  it('answers what parseManifests answers, from a worker for a large text', async () => {
    parser = new ManifestParser({ inlineLimit: 1024 });
    const big = text(20, 50);
    expect(big.length).toBeGreaterThan(1024);
    expect(await parser.parse(big)).toEqual(parseManifests(big));
    const bad = `${big}---\nkind: [\n`;
    const inline = (() => { try { parseManifests(bad); } catch (e) { return e; } })() as { code: string; message: string; details: unknown };
    await expect(parser.parse(bad)).rejects.toMatchObject({ code: 'YAML_INVALID', message: inline.message, details: inline.details });
  });

  it('stops a parse that runs past its deadline, then keeps working', async () => {
    parser = new ManifestParser({ inlineLimit: 1024, timeoutMs: 1 });
    await expect(parser.parse(text(100, 500))).rejects.toMatchObject({ code: 'YAML_INVALID', message: expect.stringMatching(/took longer than/) });
    await parser.close();
    parser = new ManifestParser({ inlineLimit: 1024, timeoutMs: 20_000 });
    expect(await parser.parse(text(3, 100))).toHaveLength(3);
  }, 30_000);

  it('refuses large texts beyond its queue with SERVER_BUSY (429)', async () => {
    parser = new ManifestParser({ inlineLimit: 1024, workers: 1, maxQueued: 1 });
    const big = text(30, 200);
    const first = parser.parse(big);
    const second = parser.parse(big);
    await expect(parser.parse(big)).rejects.toMatchObject({ code: 'SERVER_BUSY', httpStatus: 429 });
    expect(parser.pending).toBe(2);
    expect(await first).toHaveLength(30);
    expect(await second).toHaveLength(30);
    expect(parser.pending).toBe(0);
  }, 30_000);
});
