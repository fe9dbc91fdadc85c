// The one schema for labs/NN-name/lab.yaml. The loader (load-labs.ts) maps every
// issue back to a file, line and column, so messages here say what was expected.
import { z } from 'zod';

/** Every object is strict (unknown fields are errors); the message lists what is allowed. */
function strict<S extends z.ZodRawShape>(shape: S) {
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

const idSchema = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes, like "label-the-pods"');
export const labIdPattern = /^\d\d-[a-z0-9][a-z0-9-]*$/;

/** A file inside the lab folder, written relative to it with forward slashes. */
const labPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').includes('..'), {
    message: 'a path relative to the lab folder, with forward slashes and no ".." (like "manifests/service.yaml")',
  });
const manifestPath = labPath.refine((p) => /\.ya?ml$/.test(p), { message: 'a .yaml or .yml file' });

// Fields every check kind shares. Issue 6's kinds (resource, selector, endpoints,
// http, dns, tls, proxy-rules) extend this base and join `checkSchema` below.
export const checkBaseShape = {
  id: idSchema,
  description: localizedSchema,
  /** Kubernetes is eventually consistent: a check polls until this deadline. */
  deadlineSeconds: z.number().gt(0).max(300),
  intervalSeconds: z.number().gt(0).max(60),
  /** Shown when the check fails for a reason no `failures` entry names. */
  hint: localizedSchema.optional(),
};

/** Failure modes a command signals by exit code, each with its own message and hint. */
const failureSchema = strict({
  exitCode: z.number().int().refine((n) => n >= 1 && n <= 123, {
    message: 'an exit code from 1 to 123 (124–127 and above mean a timeout or a command that could not run)',
  }),
  message: localizedSchema,
  hint: localizedSchema.optional(),
  /** `error` when this exit means the command could not observe (the API is unreachable, say). */
  status: z.enum(['fail', 'error']).default('fail'),
  /** false: waiting cannot change this outcome (the learner hasn't acted yet), so answer at once. */
  retry: z.boolean().default(true),
});

export const commandCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('command'),
  /** Run in the workstation container; a fixed argv, never built from learner input. */
  argv: z.array(z.string()).min(1),
  expectExit: z.number().int().min(0).max(255).default(0),
  failures: z.array(failureSchema).default([]),
});
export type CommandCheck = z.infer<typeof commandCheckSchema>;

// ---- The kinds that read the API or look from a vantage point (issue 6) ----

/** A Kubernetes object name (DNS subdomain) or namespace. */
const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a Kubernetes name: lower-case letters, digits, "-" and ".", like "nginx"');
const namespaceSchema = k8sName.default('default');
const labelMap = z.record(z.string().min(1), z.string());

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
const serviceTargetSchema = strict({
  service: k8sName,
  namespace: namespaceSchema,
  /** clusterIP; name: SVC.NS.svc.cluster.local; nodePort: a node's InternalIP; loadBalancer: status.loadBalancer.ingress[0]. */
  via: z.enum(['clusterIP', 'name', 'nodePort', 'loadBalancer']).default('clusterIP'),
  /** The Service port, by number or name; the first port when omitted. */
  port: z.union([z.number().int().min(1).max(65535), k8sName]).optional(),
});
export type ServiceTarget = z.infer<typeof serviceTargetSchema>;

const regexText = z.string().min(1).refine((r) => {
  try {
    new RegExp(r);
    return true;
  } catch {
    return false;
  }
}, { message: 'a valid regular expression (JavaScript syntax)' });

/**
 * A field path in an object: `spec.ports[0].nodePort`, `spec.ports[name=http].port`,
 * `metadata.labels["app.kubernetes.io/name"]`.
 */
export type PathSegment = { key: string } | { index: number } | { where: [string, string] };
export function parseFieldPath(path: string): PathSegment[] | undefined {
  const out: PathSegment[] = [];
  const re = /(?:^|\.)([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["([^"]+)"\]|\[([A-Za-z_][\w.-]*)=([^\]]+)\]/y;
  let at = 0;
  while (at < path.length) {
    re.lastIndex = at;
    const m = re.exec(path);
    // A key needs a dot before it, except the first, which must not have one.
    if (!m || (m[1] !== undefined && (at > 0) !== (path[at] === '.'))) return undefined;
    if (m[1] !== undefined) out.push({ key: m[1] });
    else if (m[2] !== undefined) out.push({ index: Number(m[2]) });
    else if (m[3] !== undefined) out.push({ key: m[3] });
    else out.push({ where: [m[4]!, m[5]!] });
    at = re.lastIndex;
  }
  return out.length > 0 ? out : undefined;
}

const fieldPath = z.string().min(1).refine((p) => parseFieldPath(p) !== undefined, {
  message: 'a field path like spec.ports[0].port, spec.ports[name=http].nodePort or metadata.labels["app.kubernetes.io/name"]',
});

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const fieldExpectationSchema = strict({
  path: fieldPath,
  equals: scalar.optional(),
  exists: z.boolean().optional(),
  matches: regexText.optional(),
  oneOf: z.array(scalar).min(1).optional(),
  /** What to tell the learner when this field is wrong. */
  message: localizedSchema.optional(),
}).refine((f) => [f.equals, f.exists, f.matches, f.oneOf].filter((v) => v !== undefined).length === 1, {
  message: 'exactly one of equals, exists, matches or oneOf',
});
export type FieldExpectation = z.infer<typeof fieldExpectationSchema>;

export const resourceCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('resource'),
  resource: strict({
    apiVersion: z.string().regex(/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/, 'an apiVersion like v1 or apps/v1'),
    kind: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'a Kubernetes kind like Service'),
    name: k8sName,
    /** Omit for cluster-scoped kinds (Node, IngressClass). */
    namespace: k8sName.optional(),
  }),
  /** true: pass when the object does NOT exist (a deleted pod, say). */
  absent: z.boolean().default(false),
  fields: z.array(fieldExpectationSchema).default([]),
});
export type ResourceCheck = z.infer<typeof resourceCheckSchema>;

export const selectorCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('selector'),
  service: k8sName,
  namespace: namespaceSchema,
  /** At least this many live pods must carry every label of the selector. */
  minPods: z.number().int().min(1).default(1),
  /** The selector the Service must have (so changing the Service instead of the pods fails). */
  selector: labelMap.optional(),
});
export type SelectorCheck = z.infer<typeof selectorCheckSchema>;

export const endpointsCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('endpoints'),
  service: k8sName,
  namespace: namespaceSchema,
  /** Exactly this many ready addresses; or a range with minReady/maxReady. */
  ready: z.number().int().min(0).optional(),
  minReady: z.number().int().min(0).optional(),
  maxReady: z.number().int().min(0).optional(),
  /** The Service port (number or name) whose endpoints count; the first port when omitted. */
  servicePort: z.union([z.number().int().min(1).max(65535), k8sName]).optional(),
  /** The container port the endpoints must carry; by default the Service's targetPort, names resolved through the pods. */
  targetPort: z.number().int().min(1).max(65535).optional(),
}).refine((c) => c.ready !== undefined || c.minReady !== undefined || c.maxReady !== undefined, {
  message: 'one of ready, minReady or maxReady',
}).refine((c) => c.ready === undefined || (c.minReady === undefined && c.maxReady === undefined), {
  message: 'either ready or minReady/maxReady, not both',
});
export type EndpointsCheck = z.infer<typeof endpointsCheckSchema>;

export const httpCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('http'),
  from: vantageSchema.default('workstation'),
  /** A literal URL (http or https), or `target` resolved through the API. */
  url: z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'an http:// or https:// URL').optional(),
  target: serviceTargetSchema.optional(),
  scheme: z.enum(['http', 'https']).default('http'),
  path: z.string().regex(/^\/\S*$/, 'a path starting with /').default('/'),
  /** Virtual host: the Host header for http; for https also the SNI name (curl --resolve). */
  host: z.string().regex(/^[a-z0-9*]([-a-z0-9.]*[a-z0-9])?$/, 'a host name like web.example.com').optional(),
  /** https: accept a certificate curl cannot verify (the labs' self-signed ones). */
  insecure: z.boolean().default(true),
  expect: strict({
    status: z.number().int().min(100).max(599).default(200),
    body: regexText.optional(),
  }).default({ status: 200 }),
  /**
   * Send `requests` requests on fresh connections and count distinct X-Served-By headers
   * (svclab/web names the pod): min ≥ 2 asserts spreading, max 1 stickiness.
   */
  distinctBackends: strict({
    requests: z.number().int().min(2).max(50),
    min: z.number().int().min(1).optional(),
    max: z.number().int().min(1).optional(),
    /** The Service whose ready endpoints make the test meaningful; defaults to target.service. */
    service: k8sName.optional(),
    namespace: k8sName.optional(),
  }).optional(),
  timeoutSeconds: z.number().gt(0).max(30).default(5),
}).superRefine((c, ctx) => {
  if ((c.url === undefined) === (c.target === undefined)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'exactly one of url or target' });
  const d = c.distinctBackends;
  if (d) {
    if (d.min === undefined && d.max === undefined) ctx.addIssue({ code: 'custom', path: ['distinctBackends'], message: 'min or max (or both)' });
    if (d.min !== undefined && d.min > d.requests) ctx.addIssue({ code: 'custom', path: ['distinctBackends', 'min'], message: `a number ≤ requests (${d.requests})` });
    if (d.min !== undefined && d.max !== undefined && d.min > d.max) ctx.addIssue({ code: 'custom', path: ['distinctBackends', 'max'], message: `a number ≥ min (${d.min})` });
    if (!d.service && !c.target) ctx.addIssue({ code: 'custom', path: ['distinctBackends', 'service'], message: 'the Service behind the URL (needed to refuse a vacuous pass with one replica)' });
  }
});
export type HttpCheck = z.infer<typeof httpCheckSchema>;

const ipv4 = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, 'an IPv4 address like 10.96.0.10');

export const dnsCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('dns'),
  from: vantageSchema.default('workstation'),
  name: z.string().regex(/^[A-Za-z0-9_*]([-A-Za-z0-9_.]*[A-Za-z0-9.])?$/, 'a DNS name like nginx.default.svc.cluster.local'),
  type: z.enum(['A', 'CNAME', 'SRV']).default('A'),
  /** `dig @server`; the vantage point's resolv.conf when omitted. */
  server: ipv4.optional(),
  /** `dig +search`: expand a short name with the search domains of resolv.conf (meaningful in a pod). */
  search: z.boolean().default(false),
  expect: strict({
    /** A records equal to these addresses. */
    addresses: z.array(ipv4).min(1).optional(),
    /** A records equal to the ClusterIP of this Service. */
    serviceIP: strict({ service: k8sName, namespace: namespaceSchema }).optional(),
    /** A records equal to the IPs of the ready pods a Service selects (headless), or that match `selector`. */
    podIPs: strict({ service: k8sName.optional(), selector: labelMap.optional(), namespace: namespaceSchema })
      .refine((p) => (p.service === undefined) !== (p.selector === undefined), { message: 'exactly one of service or selector' })
      .optional(),
    cname: z.string().min(1).optional(),
    /** SRV records: a port, optionally target names matching a regex, and how many. */
    srv: strict({ port: z.number().int().min(1).max(65535), target: regexText.optional(), count: z.number().int().min(1).optional() }).optional(),
    /** The name must not resolve. */
    none: z.boolean().optional(),
  }),
  timeoutSeconds: z.number().gt(0).max(30).default(5),
}).superRefine((c, ctx) => {
  const e = c.expect;
  const set = [e.addresses, e.serviceIP, e.podIPs, e.cname, e.srv, e.none].filter((v) => v !== undefined).length;
  if (set !== 1) ctx.addIssue({ code: 'custom', path: ['expect'], message: 'exactly one of addresses, serviceIP, podIPs, cname, srv or none' });
  const wants = e.cname !== undefined ? 'CNAME' : e.srv ? 'SRV' : 'A';
  if (set === 1 && !e.none && c.type !== wants) ctx.addIssue({ code: 'custom', path: ['type'], message: `${wants} for expect.${Object.keys(e)[0]}` });
});
export type DnsCheck = z.infer<typeof dnsCheckSchema>;

export const tlsCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('tls'),
  from: vantageSchema.default('workstation'),
  /** host:port to connect to, or a Service resolved through the API. */
  connect: z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'host:port like 10.96.20.20:443').optional(),
  target: serviceTargetSchema.optional(),
  /** The SNI name sent (openssl s_client -servername). */
  servername: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a host name like web.example.com'),
  expect: strict({
    /** Regex on the subject, like "CN ?= ?web\\.example\\.com". */
    subject: regexText.optional(),
    /** DNS names the certificate's subjectAltName must include. */
    san: z.array(z.string().min(1)).min(1).optional(),
    issuer: regexText.optional(),
    selfSigned: z.boolean().optional(),
  }).refine((e) => Object.values(e).some((v) => v !== undefined), { message: 'at least one of subject, san, issuer or selfSigned' }),
  timeoutSeconds: z.number().gt(0).max(30).default(5),
}).refine((c) => (c.connect === undefined) !== (c.target === undefined), { message: 'exactly one of connect or target', path: ['connect'] });
export type TlsCheck = z.infer<typeof tlsCheckSchema>;

export const proxyRulesCheckSchema = strict({
  ...checkBaseShape,
  kind: z.literal('proxy-rules'),
  /** The node whose rules are read. */
  node: vantageSchema.refine((v) => v.startsWith('node:'), { message: 'a node vantage point like node:control-plane or node:worker' }).default('node:control-plane'),
  service: k8sName,
  namespace: namespaceSchema,
  /** The Service port (number or name); the first port when omitted. */
  port: z.union([z.number().int().min(1).max(65535), k8sName]).optional(),
  /** Which rules to read; auto: iptables-save when it has KUBE-SERVICES, else nft. */
  mode: z.enum(['auto', 'iptables', 'nftables']).default('auto'),
  /** Endpoint rules (KUBE-SEP jumps / endpoint chains) the Service's chain must have. */
  endpoints: z.number().int().min(0),
});
export type ProxyRulesCheck = z.infer<typeof proxyRulesCheckSchema>;

export const checkSchema = z.discriminatedUnion('kind', [
  commandCheckSchema,
  resourceCheckSchema,
  selectorCheckSchema,
  endpointsCheckSchema,
  httpCheckSchema,
  dnsCheckSchema,
  tlsCheckSchema,
  proxyRulesCheckSchema,
]);
export type Check = z.infer<typeof checkSchema>;
export type CheckKind = Check['kind'];
export const checkKinds: readonly CheckKind[] = checkSchema.options.map((o) => o.shape.kind.value);

const argvSchema = z.array(z.string()).min(1);

export const stepSchema = strict({
  id: idSchema,
  title: localizedSchema,
  /** The YAML the editor starts with in this step. */
  editor: strict({ file: manifestPath }).optional(),
  checks: z.array(checkSchema).min(1),
  /** Progressive hints, revealed one at a time. */
  hints: z.array(localizedSchema).default([]),
  solution: strict({
    manifests: z.array(manifestPath).optional(),
    /** Run in the workstation, in order. */
    commands: z.array(argvSchema).optional(),
  }).refine((s) => (s.manifests?.length ?? 0) + (s.commands?.length ?? 0) > 0, {
    message: 'at least one of manifests or commands',
  }),
});
export type StepSpec = z.infer<typeof stepSchema>;

export const labSchema = strict({
  id: z.string().regex(labIdPattern, 'NN-name, like "02-selectors-and-endpoints", equal to the folder name'),
  title: localizedSchema,
  summary: localizedSchema,
  proxyMode: z.enum(['iptables', 'nftables']).optional(),
  setup: strict({
    manifests: z.array(manifestPath),
    /** Objects made by commands (not manifests) that Reset lab deletes too, e.g. a Secret from `kubectl create secret tls`. */
    cleanup: z.array(strict({
      kind: z.string().regex(/^[a-z][a-z0-9.]*$/, 'a resource name kubectl knows, lowercase (secret, configmap, ingresses.networking.k8s.io)'),
      name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a Kubernetes object name'),
      namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a namespace name').default('default'),
    })).default([]),
  }),
  steps: z.array(stepSchema).min(1),
}).superRefine((lab, ctx) => {
  // Rules across fields: ids unique where they are looked up, polling inside the deadline.
  const stepIds = new Set<string>();
  lab.steps.forEach((step, s) => {
    if (stepIds.has(step.id)) ctx.addIssue({ code: 'custom', path: ['steps', s, 'id'], message: 'a step id not used before in this lab' });
    stepIds.add(step.id);
    const checkIds = new Set<string>();
    step.checks.forEach((check, c) => {
      if (checkIds.has(check.id)) ctx.addIssue({ code: 'custom', path: ['steps', s, 'checks', c, 'id'], message: 'a check id not used before in this step' });
      checkIds.add(check.id);
      // Range errors on the fields themselves are reported already; compare only valid values.
      if (check.deadlineSeconds > 0 && check.deadlineSeconds <= 300 && check.intervalSeconds > check.deadlineSeconds) {
        ctx.addIssue({ code: 'custom', path: ['steps', s, 'checks', c, 'intervalSeconds'], message: `a number ≤ deadlineSeconds (${check.deadlineSeconds})` });
      }
      if (check.kind === 'command') {
        check.failures.forEach((f, i) => {
          if (f.exitCode === check.expectExit) {
            ctx.addIssue({ code: 'custom', path: ['steps', s, 'checks', c, 'failures', i, 'exitCode'], message: `an exit code other than expectExit (${check.expectExit})` });
          }
        });
      }
    });
  });
});
export type LabSpec = z.infer<typeof labSchema>;
