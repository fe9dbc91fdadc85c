// Why an ingress controller sent its own default certificate for a name: the
// Ingress spec.tls entries for that name and the Secrets they point at, read
// through the API. Traefik (svclab's controller) loads tls.crt and tls.key from each
// entry's Secret (whatever the Secret's type), keeps the pairs that parse and match,
// and picks one by the name the client asks for (SNI); none covering the name means
// its self-signed "TRAEFIK DEFAULT CERT". So the learner-facing cause is one of: no
// entry, a missing Secret, missing or empty keys, a certificate for other names, a
// key that isn't the certificate's. The private key is parsed in memory only to
// compare it with the certificate; nothing of it is reported.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Lang } from './check-schema.ts';
import type { Ingress, KubeApi, Secret } from './kube-api.ts';

export interface DefaultCertDiagnosis {
  message: string;
  hint: string;
}

/** Which controller's default certificate a subject is, if any. */
export function defaultCertController(subject: string): 'traefik' | 'ingress-nginx' | undefined {
  if (/TRAEFIK DEFAULT CERT/.test(subject)) return 'traefik';
  if (/Kubernetes Ingress Controller Fake Certificate/.test(subject)) return 'ingress-nginx';
  return undefined;
}

const controllerName = { traefik: 'Traefik', 'ingress-nginx': 'the ingress controller' } as const;
const defaultName = { traefik: '"TRAEFIK DEFAULT CERT"', 'ingress-nginx': '"Kubernetes Ingress Controller Fake Certificate"' } as const;

type Controller = keyof typeof controllerName;

const make = (name: string) =>
  `openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout tls.key -out tls.crt -subj /CN=${name} -addext subjectAltName=DNS:${name}`;
const create = (ns: string, secret: string) => `kubectl -n ${ns} create secret tls ${secret} --cert=tls.crt --key=tls.key`;

const texts = {
  en: {
    sentence: (lead: string, cause: string, fallsBack: string) => `${lead} ${cause}, ${fallsBack}.`,
    lead: (c: Controller, name: string) => `The server sent ${c === 'traefik' ? "Traefik's" : "the ingress controller's"} default certificate (${defaultName[c]}) for ${name}:`,
    fallsBack: (c: Controller, name: string) => `so ${controllerName[c]} has no certificate for ${name} and falls back to its self-signed default`,
    noEntry: (name: string, routedBy: string[]) =>
      `no Ingress lists ${name} under spec.tls${routedBy.length ? ` (Ingress ${routedBy.join(', ')} routes it over plain HTTP only)` : ''}`,
    noEntryHint: (name: string, ing: string | undefined) =>
      `Under spec of ${ing ? `Ingress ${ing}` : 'the Ingress'} add \`tls: [{hosts: [${name}], secretName: NAME}]\`, with NAME a Secret made from your certificate: ${make(name)}, then ${create(ing?.split('/')[0] ?? 'NAMESPACE', 'NAME')}.`,
    noSecretName: (ing: string) => `Ingress ${ing} has a spec.tls entry for it without a secretName`,
    missing: (ing: string, ns: string, secret: string) => `Ingress ${ing} names Secret ${secret} for it in spec.tls, but there is no Secret ${secret} in namespace ${ns} (a Secret is read from the Ingress's own namespace)`,
    missingHint: (ns: string, secret: string, name: string) => `Make a key and a certificate for ${name}, then store them as Secret ${secret} in namespace ${ns}: ${make(name)} && ${create(ns, secret)}`,
    noKeys: (ns: string, secret: string, type: string, absent: string[], empty: string[], keys: string[]) =>
      `Secret ${ns}/${secret} (type ${type}) ${[absent.length ? `has no ${absent.join(' and no ')}` : '', empty.length ? `has an empty ${empty.join(' and an empty ')}` : ''].filter(Boolean).join(' and ')} (its keys: ${keys.join(', ') || 'none'}); the certificate and key are read from tls.crt and tls.key only`,
    noKeysHint: (ns: string, secret: string) => `Make it again as a TLS Secret, which has exactly those two keys: kubectl -n ${ns} delete secret ${secret} && ${create(ns, secret)} (with your certificate and key files).`,
    notPem: (ns: string, secret: string) => `the tls.crt of Secret ${ns}/${secret} is not a PEM certificate, so it cannot be loaded`,
    notPemHint: (ns: string, secret: string) => `\`kubectl -n ${ns} get secret ${secret} -o jsonpath='{.data.tls\\.crt}' | base64 -d | openssl x509 -noout -subject\` must print a subject; make the Secret from the .crt file openssl wrote: ${create(ns, secret)}.`,
    otherNames: (ns: string, secret: string, names: string[], name: string) =>
      `Secret ${ns}/${secret} holds a certificate for ${names.join(', ') || 'no DNS name'}, not for ${name} (a certificate is picked by the name the client asks for, SNI)`,
    otherNamesHint: (ns: string, secret: string, name: string) => `Make a certificate for ${name} (${make(name)}) and replace the Secret: kubectl -n ${ns} create secret tls ${secret} --cert=tls.crt --key=tls.key --dry-run=client -o yaml | kubectl apply -f -`,
    keyMismatch: (ns: string, secret: string) => `the tls.key of Secret ${ns}/${secret} is not the key of its tls.crt (two openssl runs make two different keys), so the pair is rejected`,
    keyMismatchHint: (ns: string, secret: string) => `Store the certificate with the key made in the same openssl run: kubectl -n ${ns} create secret tls ${secret} --cert=tls.crt --key=tls.key --dry-run=client -o yaml | kubectl apply -f -`,
  },
  zh: {
    sentence: (lead: string, cause: string, fallsBack: string) => `${lead}${cause}，${fallsBack}。`,
    lead: (c: Controller, name: string) => `服务器为 ${name} 返回的是${c === 'traefik' ? ' Traefik ' : ' ingress controller '}的默认证书（${defaultName[c]}）：`,
    fallsBack: (c: Controller, name: string) => `所以${c === 'traefik' ? ' Traefik ' : ' ingress controller '}没有 ${name} 的证书，只好退回它自签名的默认证书`,
    noEntry: (name: string, routedBy: string[]) =>
      `没有哪个 Ingress 在 spec.tls 里列出 ${name}${routedBy.length ? `（Ingress ${routedBy.join(', ')} 只通过普通 HTTP 路由它）` : ''}`,
    noEntryHint: (name: string, ing: string | undefined) =>
      `在${ing ? ` Ingress ${ing} ` : ' Ingress '}的 spec 下加上 \`tls: [{hosts: [${name}], secretName: NAME}]\`，NAME 是用你的证书创建的 Secret：${make(name)}，然后 ${create(ing?.split('/')[0] ?? 'NAMESPACE', 'NAME')}。`,
    noSecretName: (ing: string) => `Ingress ${ing} 的 spec.tls 里有它的条目，但没有写 secretName`,
    missing: (ing: string, ns: string, secret: string) => `Ingress ${ing} 在 spec.tls 里为它指定了 Secret ${secret}，但命名空间 ${ns} 里没有 Secret ${secret}（Secret 只从 Ingress 自己的命名空间读取）`,
    missingHint: (ns: string, secret: string, name: string) => `为 ${name} 生成私钥和证书，再存成命名空间 ${ns} 里的 Secret ${secret}：${make(name)} && ${create(ns, secret)}`,
    noKeys: (ns: string, secret: string, type: string, absent: string[], empty: string[], keys: string[]) =>
      `Secret ${ns}/${secret}（类型 ${type}）${[absent.length ? `没有 ${absent.join('、')}` : '', empty.length ? `的 ${empty.join('、')} 是空的` : ''].filter(Boolean).join('，')}（它的键：${keys.join(', ') || '无'}）；证书和私钥只从 tls.crt 和 tls.key 读取`,
    noKeysHint: (ns: string, secret: string) => `把它重新创建成 TLS Secret，正好包含这两个键：kubectl -n ${ns} delete secret ${secret} && ${create(ns, secret)}（用你的证书和私钥文件）。`,
    notPem: (ns: string, secret: string) => `Secret ${ns}/${secret} 的 tls.crt 不是 PEM 证书，无法加载`,
    notPemHint: (ns: string, secret: string) => `\`kubectl -n ${ns} get secret ${secret} -o jsonpath='{.data.tls\\.crt}' | base64 -d | openssl x509 -noout -subject\` 应该能打印出 subject；用 openssl 生成的 .crt 文件创建 Secret：${create(ns, secret)}。`,
    otherNames: (ns: string, secret: string, names: string[], name: string) =>
      `Secret ${ns}/${secret} 里的证书是给 ${names.join(', ') || '（没有 DNS 名字）'} 的，不是 ${name}（证书按客户端请求的名字，即 SNI，来挑选）`,
    otherNamesHint: (ns: string, secret: string, name: string) => `为 ${name} 生成证书（${make(name)}），再替换这个 Secret：kubectl -n ${ns} create secret tls ${secret} --cert=tls.crt --key=tls.key --dry-run=client -o yaml | kubectl apply -f -`,
    keyMismatch: (ns: string, secret: string) => `Secret ${ns}/${secret} 的 tls.key 不是它的 tls.crt 对应的私钥（执行两次 openssl 会得到两把不同的私钥），这对证书和私钥会被拒绝`,
    keyMismatchHint: (ns: string, secret: string) => `用同一次 openssl 生成的证书和私钥创建 Secret：kubectl -n ${ns} create secret tls ${secret} --cert=tls.crt --key=tls.key --dry-run=client -o yaml | kubectl apply -f -`,
  },
} satisfies Record<Lang, unknown>;

/** `*.svclab.test` covers `shop.svclab.test` (one label), as in Ingress hosts and certificates. */
export function hostCovers(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  if (p === n) return true;
  if (!p.startsWith('*.') || !n.endsWith(p.slice(1))) return false;
  const label = n.slice(0, n.length - p.length + 1);
  return label.length > 0 && !label.includes('.');
}

/** DNS names of a PEM certificate (SAN, else CN); undefined when it is not a certificate. */
export function certNames(pem: string): string[] | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return undefined;
  }
  const san = [...(cert.subjectAltName ?? '').matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!.toLowerCase());
  if (san.length) return san;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

function keyMatches(certPem: string, keyPem: string): boolean | undefined {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return undefined;
  }
}

const decode = (b64: string | undefined) => (b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8'));
const ref = (i: Ingress) => `${i.metadata?.namespace ?? 'default'}/${i.metadata?.name ?? '?'}`;

/**
 * The cause, named with the learner's own objects, or undefined when an entry for
 * the name looks right (the controller may not have reloaded yet).
 */
export async function diagnoseDefaultCert(kube: KubeApi, name: string, controller: Controller, lang: Lang): Promise<DefaultCertDiagnosis | undefined> {
  const t = texts[lang];
  const say = (cause: string, hint: string) => ({ message: t.sentence(t.lead(controller, name), cause, t.fallsBack(controller, name)), hint });
  const ingresses = await kube.listIngresses();
  // Entries naming the host first; an entry without hosts applies to every host of its Ingress.
  const entries = ingresses.flatMap((ing) => (ing.spec?.tls ?? []).map((tls) => ({ ing, tls, named: (tls.hosts ?? []).some((h) => hostCovers(h, name)) })));
  const candidates = [...entries.filter((e) => e.named), ...entries.filter((e) => !e.named && !e.tls.hosts?.length)];
  if (candidates.length === 0) {
    const routedBy = ingresses.filter((i) => (i.spec?.rules ?? []).some((r) => r.host && hostCovers(r.host, name))).map(ref);
    return say(t.noEntry(name, routedBy), t.noEntryHint(name, routedBy[0]));
  }
  let first: DefaultCertDiagnosis | undefined;
  for (const { ing, tls } of candidates) {
    const problem = await entryProblem(kube, ing, tls.secretName, name, t);
    if (!problem) return undefined;
    first ??= say(problem.cause, problem.hint);
  }
  return first;
}

async function entryProblem(kube: KubeApi, ing: Ingress, secretName: string | undefined, name: string, t: (typeof texts)[Lang]): Promise<{ cause: string; hint: string } | undefined> {
  const ns = ing.metadata?.namespace ?? 'default';
  if (!secretName) return { cause: t.noSecretName(ref(ing)), hint: t.noEntryHint(name, ref(ing)) };
  const secret = (await kube.getObject({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: secretName })) as Secret | undefined;
  if (!secret) return { cause: t.missing(ref(ing), ns, secretName), hint: t.missingHint(ns, secretName, name) };
  const data = secret.data ?? {};
  const absent = ['tls.crt', 'tls.key'].filter((k) => !(k in data));
  const empty = ['tls.crt', 'tls.key'].filter((k) => k in data && !data[k]);
  if (absent.length || empty.length) return { cause: t.noKeys(ns, secretName, secret.type ?? 'Opaque', absent, empty, Object.keys(data)), hint: t.noKeysHint(ns, secretName) };
  const crt = decode(data['tls.crt'])!;
  const names = certNames(crt);
  if (!names) return { cause: t.notPem(ns, secretName), hint: t.notPemHint(ns, secretName) };
  if (!names.some((n) => hostCovers(n, name))) return { cause: t.otherNames(ns, secretName, names, name), hint: t.otherNamesHint(ns, secretName, name) };
  if (keyMatches(crt, decode(data['tls.key'])!) === false) return { cause: t.keyMismatch(ns, secretName), hint: t.keyMismatchHint(ns, secretName) };
  return undefined;
}
