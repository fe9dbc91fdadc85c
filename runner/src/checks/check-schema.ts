// Schema pieces every check kind (checks/kinds/<kind>.ts) builds on, and lab.yaml
// too, through the registry: strict objects, bilingual text, names, vantage points.
// The loader maps every issue back to a file, line and column, so messages here
// say what was expected.
import { z } from 'zod';

/** Every object is strict (unknown fields are errors); the message lists what is allowed. */
export function strict<S extends z.ZodRawShape>(shape: S) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `allowed fields: ${allowed}` : undefined),
  });
}

const text = z.string().trim().min(1);

/** Learner-facing text, always in both languages the site speaks. */
export const localizedSchema = strict({ en: text, zh: text });
export type Localized = z.infer<typeof localizedSchema>;
export type Lang = keyof Localized;

export const idSchema = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes, like "label-the-pods"');

/** Fields every check kind shares; each kind spreads them into its own strict object. */
export const checkBaseShape = {
  id: idSchema,
  description: localizedSchema,
  /** Kubernetes is eventually consistent: a check polls until this deadline. */
  deadlineSeconds: z.number().gt(0).max(300),
  intervalSeconds: z.number().gt(0).max(60),
  /** Shown when the check fails for a reason no more specific message names. */
  hint: localizedSchema.optional(),
};

/** What the poll loop and validate read of any check, whatever its kind. */
export type CheckBase = z.infer<z.ZodObject<typeof checkBaseShape>> & { kind: string };

/** A Kubernetes object name (DNS subdomain) or namespace. */
export const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a Kubernetes name: lower-case letters, digits, "-" and ".", like "nginx"');
export const namespaceSchema = k8sName.default('default');
export const labelMap = z.record(z.string().min(1), z.string());

/**
 * Where a check looks from. `node:` takes a node's full name or the part after
 * the cluster name (`node:control-plane`, `node:worker2`), since cluster names vary.
 */
export const vantagePattern = /^(workstation|host|node:[a-z0-9]([-a-z0-9.]*[a-z0-9])?|pod:[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;
export const vantageSchema = z
  .string()
  .regex(vantagePattern, 'a vantage point: workstation, host, node:NAME (like node:worker) or pod:NAMESPACE/NAME (like pod:default/client)');
export type Vantage = z.infer<typeof vantageSchema>;

/** A Service's address as seen from a vantage point: resolved through the API when the check runs. */
export const serviceTargetSchema = strict({
  service: k8sName,
  namespace: namespaceSchema,
  /** clusterIP; name: SVC.NS.svc.cluster.local; nodePort: a node's InternalIP; loadBalancer: status.loadBalancer.ingress[0]. */
  via: z.enum(['clusterIP', 'name', 'nodePort', 'loadBalancer']).default('clusterIP'),
  /** The Service port, by number or name; the first port when omitted. */
  port: z.union([z.number().int().min(1).max(65535), k8sName]).optional(),
});
export type ServiceTarget = z.infer<typeof serviceTargetSchema>;

export const regexText = z.string().min(1).refine((r) => {
  try {
    new RegExp(r);
    return true;
  } catch {
    return false;
  }
}, { message: 'a valid regular expression (JavaScript syntax)' });

/** `service/nginx in default` for explain(): where a Service target points. */
export function targetText(t: ServiceTarget): string {
  return `Service ${t.namespace}/${t.service}${t.port !== undefined ? ` port ${t.port}` : ''} via ${t.via}`;
}
