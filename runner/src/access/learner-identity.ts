// Who the learner is to the API server: a client certificate (CN svclab:learner,
// O svclab:learners) signed by the cluster's own CA on the control-plane node with
// kubeadm, which every svclab node image carries. RBAC and the admission policies
// name the group, never the user, so another learner name in the same group gets the
// same rights and limits. The kubeconfig is kept on the control-plane node (root only),
// so installing again reuses it instead of minting a new certificate each time.

import { X509Certificate } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { METALLB_NAMESPACE, TRAEFIK_NAMESPACE } from '../addons/manifests.ts';
import { RunnerError } from '../errors.ts';
import { lastLine, outputTail, type Shell } from '../exec/shell.ts';

export const LEARNER_USER = 'svclab:learner';
export const LEARNER_GROUP = 'svclab:learners';
/** On the control-plane node; the workstation shares its network namespace, never its files. */
export const LEARNER_KUBECONFIG_PATH = '/etc/kubernetes/svclab-learner.conf';
/** The API server as the workstation (in the control-plane node's network namespace) reaches it. */
export const WORKSTATION_SERVER = 'https://127.0.0.1:6443';
/** kind writes the cluster's kubeadm configuration here; kubeadm reads the version and CA path from it. */
const KUBEADM_CONFIG = '/kind/kubeadm.conf';

/** Add-ons every lab relies on: the learner reads them, never writes. */
export const ADDON_NAMESPACES: readonly string[] = [TRAEFIK_NAMESPACE, METALLB_NAMESPACE];
/** The cluster's own namespaces: read-only too, but for lab 05's kube-proxy ConfigMap and DaemonSet. */
export const SYSTEM_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease'];

/** Every object svclab makes for learner access carries these. */
export const MANAGED_LABELS: Readonly<Record<string, string>> = { 'app.kubernetes.io/managed-by': 'svclab', 'svclab.io/access': 'learner' };

export interface LearnerCertificate {
  subject: string;
  notAfter: Date;
}

interface KubeconfigDoc {
  clusters?: { name?: string; cluster?: { server?: string; 'certificate-authority-data'?: string } }[];
  users?: { name?: string; user?: { 'client-certificate-data'?: string; 'client-key-data'?: string } }[];
  contexts?: { name?: string; context?: { cluster?: string; user?: string } }[];
  'current-context'?: string;
}

/** The certificate a kubeconfig's user presents; throws when there is none. */
export function kubeconfigCertificate(kubeconfig: string): LearnerCertificate {
  const doc = parseYaml(kubeconfig) as KubeconfigDoc | null;
  const data = doc?.users?.[0]?.user?.['client-certificate-data'];
  if (!data) throw new RunnerError('CLUSTER_FAILED', { message: 'The learner kubeconfig holds no client certificate.' });
  const cert = new X509Certificate(Buffer.from(data, 'base64'));
  return { subject: cert.subject, notAfter: new Date(cert.validTo) };
}

/** The same credentials with the API server as the workstation reaches it, under svclab's names. */
export function workstationLearnerKubeconfig(kubeconfig: string, server = WORKSTATION_SERVER): string {
  const doc = parseYaml(kubeconfig) as KubeconfigDoc | null;
  const ca = doc?.clusters?.[0]?.cluster?.['certificate-authority-data'];
  const user = doc?.users?.[0]?.user;
  if (!ca || !user?.['client-certificate-data'] || !user['client-key-data']) {
    throw new RunnerError('CLUSTER_FAILED', { message: 'The learner kubeconfig lacks the CA, the certificate or the key.' });
  }
  return stringifyYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'svclab', cluster: { server, 'certificate-authority-data': ca } }],
    users: [{ name: LEARNER_USER, user: { 'client-certificate-data': user['client-certificate-data'], 'client-key-data': user['client-key-data'] } }],
    contexts: [{ name: 'svclab', context: { cluster: 'svclab', user: LEARNER_USER, namespace: 'default' } }],
    'current-context': 'svclab',
  }, { lineWidth: 0 });
}

export interface IssueOptions {
  /** How long a new certificate lasts. */
  validityHours?: number;
  /** A kept certificate with less left than this is replaced. */
  minRemainingHours?: number;
  now?: () => Date;
  signal?: AbortSignal;
}

/**
 * The learner's kubeconfig as kubeadm wrote it (server as kubeadm knows it): the kept
 * one when its certificate is for the learner and has time left, else a new one.
 */
export async function issueLearnerKubeconfig(controlPlane: Shell, o: IssueOptions = {}): Promise<{ kubeconfig: string; reused: boolean; certificate: LearnerCertificate }> {
  const validity = o.validityHours ?? 24 * 30;
  const minLeftMs = (o.minRemainingHours ?? 24) * 3600_000;
  const now = (o.now ?? (() => new Date()))();
  const call = { timeoutMs: 30_000, ...(o.signal ? { signal: o.signal } : {}) };

  const kept = await controlPlane.run(['cat', LEARNER_KUBECONFIG_PATH], call);
  if (kept.exitCode === 0) {
    try {
      const certificate = kubeconfigCertificate(kept.stdout);
      if (certificate.subject.includes(`CN=${LEARNER_USER}`) && certificate.notAfter.getTime() - now.getTime() >= minLeftMs) {
        return { kubeconfig: kept.stdout, reused: true, certificate };
      }
    } catch { /* unreadable: issue a new one */ }
  }
  const argv = ['kubeadm', 'kubeconfig', 'user', `--config=${KUBEADM_CONFIG}`, `--client-name=${LEARNER_USER}`, `--org=${LEARNER_GROUP}`, `--validity-period=${validity}h`];
  const made = await controlPlane.run(argv, { ...call, timeoutMs: 60_000 });
  if (made.exitCode !== 0 || !made.stdout.includes('client-certificate-data')) {
    throw new RunnerError('CLUSTER_FAILED', {
      message: `The learner's certificate could not be issued: \`${argv.join(' ')}\` failed: ${lastLine(made.stderr || made.stdout)}`,
      hint: 'The control-plane node needs kubeadm and /etc/kubernetes/pki (every svclab node image has both); run `svclab doctor`.',
      details: { argv, exitCode: made.exitCode, output: outputTail(made, 30) },
    });
  }
  const certificate = kubeconfigCertificate(made.stdout);
  const saved = await controlPlane.run(['sh', '-c', `umask 077 && cat > ${LEARNER_KUBECONFIG_PATH}`], { ...call, input: made.stdout });
  if (saved.exitCode !== 0) {
    throw new RunnerError('CLUSTER_FAILED', { message: `The learner kubeconfig could not be kept on the control-plane node: ${lastLine(saved.stderr)}`, details: { output: outputTail(saved) } });
  }
  return { kubeconfig: made.stdout, reused: false, certificate };
}

/**
 * The workstation's learner kubeconfig from the one kept on the control-plane node,
 * without installing anything; undefined when learner access was never installed there.
 */
export async function readLearnerKubeconfig(controlPlane: Shell, o: { signal?: AbortSignal } = {}): Promise<string | undefined> {
  const r = await controlPlane.run(['cat', LEARNER_KUBECONFIG_PATH], { timeoutMs: 30_000, ...(o.signal ? { signal: o.signal } : {}) });
  return r.exitCode === 0 && r.stdout.includes('client-certificate-data') ? workstationLearnerKubeconfig(r.stdout) : undefined;
}
