// The committed Kubernetes schema (scripts/gen-k8s-schema.ts) has the shape the editor relies on.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

type Obj = Record<string, any>;
const schema = JSON.parse(readFileSync(new URL('../../lib/k8s/kubernetes-1.34.schema.json', import.meta.url), 'utf8')) as Obj;

function thenRef(apiVersion: string, kind: string): string | undefined {
  const rule = (schema.allOf as Obj[]).find((r) => r.if.properties.apiVersion.const === apiVersion && r.if.properties.kind.const === kind);
  return rule?.then.$ref;
}

describe('kubernetes-1.34.schema.json', () => {
  it('picks the object schema by apiVersion and kind', () => {
    expect(thenRef('v1', 'Service')).toBe('#/definitions/io.k8s.api.core.v1.Service');
    expect(thenRef('apps/v1', 'Deployment')).toBe('#/definitions/io.k8s.api.apps.v1.Deployment');
    expect(thenRef('networking.k8s.io/v1', 'Ingress')).toBe('#/definitions/io.k8s.api.networking.v1.Ingress');
    expect(thenRef('discovery.k8s.io/v1', 'EndpointSlice')).toBeDefined();
    expect(thenRef('v1', 'ServiceList')).toBeUndefined();
    expect(schema.$comment).toMatch(/k8s\.io\/kubernetes v1\.34\./);
  });

  it('is strict about field names and accepts both forms of int-or-string', () => {
    const spec = schema.definitions['io.k8s.api.core.v1.ServiceSpec'];
    expect(spec.additionalProperties).toBe(false);
    expect(Object.keys(spec.properties)).toEqual(expect.arrayContaining(['selector', 'clusterIP', 'ports', 'type']));
    expect(schema.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].anyOf).toEqual([{ type: 'integer' }, { type: 'string' }]);
    // Free-form maps (labels, selector) stay open.
    expect(spec.properties.selector.additionalProperties).toEqual({ type: 'string' });
  });

  it('has no dangling references', () => {
    const refs = JSON.stringify(schema).match(/"#\/definitions\/[^"]+"/g) ?? [];
    for (const r of new Set(refs)) expect(schema.definitions[r.slice(15, -1)], r).toBeDefined();
  });
});
