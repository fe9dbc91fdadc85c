// Shared by the check tests: recorded API objects, a context with a clock that
// never waits, and schema-parsed checks (so defaults are what lab.yaml gets).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import type { CheckContext } from '../../src/checks/check.ts';
import { FakeKubeApi, type KubeObject, type Pod } from '../../src/checks/kube-api.ts';
import { FakeVantageExec } from '../../src/checks/vantage.ts';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import type { Lang } from '../../src/checks/check-schema.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export function fixtureText(name: string): string {
  return readFileSync(path.join(here, 'fixtures', name), 'utf8');
}

/** Lab 02 after its solution: Service nginx (10.97.97.97, app=nginx,role=logstor, targetPort "http"), 3 ready pods, 1 slice. */
export function lab02Fixed(): KubeObject[] {
  return (JSON.parse(fixtureText('api/lab02-fixed.json')) as { items: KubeObject[] }).items;
}

export function pods(objects: KubeObject[]): Pod[] {
  return objects.filter((o) => o.kind === 'Pod') as Pod[];
}

/** The same state with each pod's labels replaced by `labels(i)` and no endpoints (as the controller would leave it). */
export function relabelled(labels: (i: number) => Record<string, string>): KubeObject[] {
  const objs = lab02Fixed();
  pods(objs).forEach((p, i) => (p.metadata!.labels = { 'pod-template-hash': '6c9f8d7b5', ...labels(i) }));
  return objs.map((o) => (o.kind === 'EndpointSlice' ? { ...o, endpoints: null } : o));
}

export interface TestContext extends CheckContext {
  kube: FakeKubeApi;
  vantage: FakeVantageExec;
  /** Milliseconds the check "waited". */
  elapsed(): number;
}

export function context(objects: KubeObject[] = lab02Fixed(), lang: Lang = 'en'): TestContext {
  let t = 5_000_000;
  const start = t;
  return {
    engine: new FakeContainerEngine(),
    workstation: 'svclab-ws-test',
    lang,
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
    kube: new FakeKubeApi(objects),
    vantage: new FakeVantageExec(),
    elapsed: () => t - start,
  };
}

export function parse<S extends z.ZodType>(schema: S, input: Record<string, unknown>): z.infer<S> {
  return schema.parse({
    id: 'the-check',
    description: { en: 'What passing means', zh: '通过的含义' },
    deadlineSeconds: 6,
    intervalSeconds: 2,
    ...input,
  });
}
