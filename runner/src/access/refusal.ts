// A refused request, said to the learner. The admission policies already speak their
// language (English / 中文 in one message); RBAC's "forbidden: User … cannot create
// resource …" does not, so it is translated here for the editor's Apply and the
// terminal's helpers.

import { LEARNER_USER } from './learner-identity.ts';
import { POLICY_NAMES, REFUSALS, type Refusal } from './learner-policy.ts';

const RBAC_DENIAL = /User "([^"]+)" cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)"| at the cluster scope)?/;

/** Why a group of resources is out of a learner's reach, in both languages. */
function because(resource: string, group: string): Refusal {
  if (group === 'admissionregistration.k8s.io') return { en: "it would switch off this workshop's safety rules", zh: '这会关掉本工作坊的安全规则' };
  if (group === 'rbac.authorization.k8s.io') return { en: 'it would change who may do what in the cluster', zh: '这会改变集群里谁能做什么' };
  if (group === 'certificates.k8s.io') return { en: 'it would mint new identities for the cluster', zh: '这会给集群签发新的身份' };
  if (resource === 'nodes' || resource.startsWith('nodes/')) return { en: "nodes belong to the workshop's machine", zh: '节点属于工作坊的机器' };
  if (resource === 'secrets') return { en: 'Secrets are readable only in the namespace default', zh: 'Secret 只能在 default 命名空间里读取' };
  if (resource.startsWith('pods/')) return { en: 'that reaches into pods only in the namespace default', zh: '只能进入 default 命名空间里的 Pod' };
  return { en: 'the labs do not need it', zh: '实验用不到它' };
}

/**
 * The learner's words for a server's refusal, or undefined when `message` is not a
 * refusal of the learner (another error, or another user's).
 */
export function explainRefusal(message: string): Refusal | undefined {
  for (const r of Object.values(REFUSALS)) if (message.includes(r.en)) return r;
  if (POLICY_NAMES.some((p) => message.includes(`'${p}'`))) return undefined;
  const m = RBAC_DENIAL.exec(message);
  if (!m || !m[1]!.startsWith(LEARNER_USER)) return undefined;
  const [, , verb, resource, group = '', namespace] = m as unknown as [string, string, string, string, string | undefined, string | undefined];
  const what = `${verb} ${group ? `${resource}.${group}` : resource}${namespace ? ` in ${namespace}` : ''}`;
  const why = because(resource, group);
  return {
    en: `this workshop doesn't let you ${what}: ${why.en}`,
    zh: `本工作坊不允许 ${what}：${why.zh}`,
  };
}
