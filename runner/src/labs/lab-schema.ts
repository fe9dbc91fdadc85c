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

/** Kinds issue 6 adds; named here so a lab using one gets "not implemented yet", not "unknown". */
export const plannedCheckKinds = ['resource', 'selector', 'endpoints', 'http', 'dns', 'tls', 'proxy-rules'] as const;

export const checkSchema = z.discriminatedUnion('kind', [commandCheckSchema]);
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
  setup: strict({ manifests: z.array(manifestPath) }),
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
