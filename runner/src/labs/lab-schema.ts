// The one schema for labs/NN-name/lab.yaml. The loader (load-labs.ts) maps every
// issue back to a file, line and column, so messages here say what was expected.
// Check kinds own their schemas (checks/kinds/<kind>.ts); they come in through
// the check registry, the only module of checks/ that labs/ imports.
import { z } from 'zod';
import { checkSchema, idSchema, localizedSchema, strict, type Check, type CheckKind, type Lang, type Localized } from '../checks/registry.ts';

export { checkKinds, checkSchema } from '../checks/registry.ts';
export type { Check, CheckKind, Lang, Localized };

export const labIdPattern = /^\d\d-[a-z0-9][a-z0-9-]*$/;

/** A file inside the lab folder, written relative to it with forward slashes. */
const labPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').includes('..'), {
    message: 'a path relative to the lab folder, with forward slashes and no ".." (like "manifests/service.yaml")',
  });
const manifestPath = labPath.refine((p) => /\.ya?ml$/.test(p), { message: 'a .yaml or .yml file' });

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
    /**
     * Node label keys a step's commands set (lab 11: `kubectl label node … svclab.io/ingress=hostnetwork`):
     * Reset lab removes each from every node, as the learner (the access policy must allow it).
     */
    cleanupNodeLabels: z.array(
      z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'a node label key, like svclab.io/ingress'),
    ).optional(),
  }),
  steps: z.array(stepSchema).min(1),
}).superRefine((lab, ctx) => {
  // Rules across fields: ids unique where they are looked up, polling inside the deadline.
  const stepIds = new Set<string>();
  lab.steps.forEach((step, s) => {
    if (stepIds.has(step.id)) ctx.addIssue({ code: 'custom', path: ['steps', s, 'id'], message: 'a step id not used before in this lab' });
    stepIds.add(step.id);
    const checkIds = new Set<string>();
    step.checks.forEach((check: Check, c) => {
      if (checkIds.has(check.id)) ctx.addIssue({ code: 'custom', path: ['steps', s, 'checks', c, 'id'], message: 'a check id not used before in this step' });
      checkIds.add(check.id);
      // Range errors on the fields themselves are reported already; compare only valid values.
      if (check.deadlineSeconds > 0 && check.deadlineSeconds <= 300 && check.intervalSeconds > check.deadlineSeconds) {
        ctx.addIssue({ code: 'custom', path: ['steps', s, 'checks', c, 'intervalSeconds'], message: `a number ≤ deadlineSeconds (${check.deadlineSeconds})` });
      }
    });
  });
});
export type LabSpec = z.infer<typeof labSchema>;
