// The `tls` check: `openssl s_client -servername` from a vantage point, then the
// served certificate's subject, subjectAltName and issuer; self-signed or not.
import { z } from 'zod';
import { checkBaseShape, regexText, serviceTargetSchema, strict, targetText, vantageSchema } from '../check-schema.ts';
import type { CheckContext, CheckKindDef, CheckResult } from '../check.ts';
import { defaultCertController, diagnoseDefaultCert } from '../ingress-tls-diagnosis.ts';
import { KubeApiError } from '../kube-api.ts';
import { cannotRun, kubeOf, langOf, lastLine, pollCheck, say, tail, vantageOf, type Observation } from '../poll-check.ts';
import { hostLoopbackPort, hostMayReach, resolveServiceTarget } from '../service-facts.ts';

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

/** Exit 3: no certificate came back (the handshake failed); its output tail is on stderr. */
const SCRIPT = [
  'command -v openssl >/dev/null || { echo "openssl: not found" >&2; exit 127; }',
  // `timeout` inside the vantage point: a killed `docker exec` leaves its process running,
  // and a stuck s_client would hold a single-connection server for every later attempt.
  'if command -v timeout >/dev/null; then out=$(echo | timeout "$3" openssl s_client -connect "$1" -servername "$2" 2>&1)',
  'else out=$(echo | openssl s_client -connect "$1" -servername "$2" 2>&1); fi',
  'printf "%s\\n" "$out" | openssl x509 -noout -subject -issuer -ext subjectAltName 2>/dev/null && exit 0',
  'printf "%s\\n" "$out" | tail -n 6 >&2',
  'exit 3',
].join('\n');

export function opensslArgv(connect: string, servername: string, timeoutSeconds = 10): string[] {
  // Values go in as positional parameters, never into the script text.
  return ['sh', '-c', SCRIPT, 'sh', connect, servername, String(Math.max(1, Math.round(timeoutSeconds)))];
}

export interface CertFacts {
  subject: string;
  issuer: string;
  dnsNames: string[];
}

/** Output of `openssl x509 -noout -subject -issuer -ext subjectAltName` (OpenSSL 1.1 and 3). */
export function parseCertText(out: string): CertFacts | undefined {
  const subject = /^subject=\s*(.*)$/m.exec(out)?.[1]?.trim();
  const issuer = /^issuer=\s*(.*)$/m.exec(out)?.[1]?.trim();
  if (subject === undefined || issuer === undefined) return undefined;
  const san = /X509v3 Subject Alternative Name:[^\n]*\n\s*([^\n]*)/.exec(out)?.[1] ?? '';
  const dnsNames = [...san.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!.toLowerCase());
  return { subject, issuer, dnsNames };
}

/** "CN = a, O = b" and "CN=a, O=b" compare equal. */
function normDn(dn: string): string {
  return dn.replace(/\s*=\s*/g, '=').replace(/\s*,\s*/g, ',').trim();
}

const texts = {
  en: {
    handshake: (at: string, name: string, why: string) => `No certificate came back from ${at} for ${name}: ${why}`,
    handshakeHint: 'Is anything listening with TLS there? Check the Service or Ingress port and that its pods are ready.',
    fake: (name: string) => `The server sent the ingress controller's default certificate for ${name}: it has no certificate of its own for that name.`,
    fakeHint: 'List the host under spec.tls[].hosts of the Ingress, with secretName naming a kubernetes.io/tls Secret in the same namespace. If they look right, the controller may not have loaded them yet (press Check again in a few seconds), or its log says why it rejected them: `kubectl -n traefik logs deploy/traefik`.',
    subject: (name: string, got: string, re: string) => `The certificate served for ${name} has subject "${got}"; expected one matching /${re}/.`,
    issuer: (name: string, got: string, re: string) => `The certificate served for ${name} was issued by "${got}"; expected an issuer matching /${re}/.`,
    san: (name: string, missing: string[], got: string[]) => `The certificate served for ${name} does not cover ${missing.join(', ')} (its DNS names: ${got.join(', ') || 'none'}).`,
    sanHint: 'Clients check the name they asked for against the certificate\'s subjectAltName; make the certificate with those names (openssl req … -addext "subjectAltName=DNS:…").',
    selfSigned: (name: string, yes: boolean) => (yes ? `The certificate served for ${name} is self-signed; expected one issued by a CA.` : `The certificate served for ${name} is issued by another party; expected a self-signed one.`),
    ok: (name: string, c: CertFacts) => `For ${name} the server sends the certificate "${c.subject}"${c.dnsNames.length ? ` for ${c.dnsNames.join(', ')}` : ''}, issued by "${c.issuer}".`,
    unreadable: (at: string) => `openssl at ${at} printed a certificate the check could not read`,
    hostOnly: (a: string) => `checks from the host only reach svclab's own addresses (loopback, the cluster's docker network); ${a} is neither`,
  },
  zh: {
    handshake: (at: string, name: string, why: string) => `${at} 没有为 ${name} 返回证书：${why}`,
    handshakeHint: '那里有没有监听 TLS 的服务？检查 Service 或 Ingress 的端口，以及后端 Pod 是否 ready。',
    fake: (name: string) => `服务器为 ${name} 返回的是 ingress controller 的默认证书：它没有这个名字自己的证书。`,
    fakeHint: '在 Ingress 的 spec.tls[].hosts 里列出这个主机，并让 secretName 指向同一命名空间里的 kubernetes.io/tls 类型 Secret。如果这些都没问题，可能是 Controller 还没加载（过几秒再点 Check），或者它的日志里写了拒绝的原因：`kubectl -n traefik logs deploy/traefik`。',
    subject: (name: string, got: string, re: string) => `为 ${name} 返回的证书 subject 是 "${got}"，期望匹配 /${re}/。`,
    issuer: (name: string, got: string, re: string) => `为 ${name} 返回的证书由 "${got}" 签发，期望签发者匹配 /${re}/。`,
    san: (name: string, missing: string[], got: string[]) => `为 ${name} 返回的证书不包含 ${missing.join(', ')}（它的 DNS 名字：${got.join(', ') || '无'}）。`,
    sanHint: '客户端会拿请求的名字和证书的 subjectAltName 比对；生成证书时带上这些名字（openssl req … -addext "subjectAltName=DNS:…"）。',
    selfSigned: (name: string, yes: boolean) => (yes ? `为 ${name} 返回的证书是自签名的，期望由 CA 签发。` : `为 ${name} 返回的证书由其他机构签发，期望是自签名证书。`),
    ok: (name: string, c: CertFacts) => `服务器为 ${name} 返回的证书是 "${c.subject}"${c.dnsNames.length ? `（${c.dnsNames.join(', ')}）` : ''}，签发者 "${c.issuer}"。`,
    unreadable: (at: string) => `${at} 上的 openssl 输出了检查无法解析的证书信息`,
    hostOnly: (a: string) => `从主机发起的检查只能访问 svclab 自己的地址（回环地址、集群的 docker 网络）；${a} 都不是`,
  },
};

export async function runTlsCheck(check: TlsCheck, ctx: CheckContext): Promise<CheckResult> {
  const t = say(ctx, texts);
  const e = check.expect;
  const name = check.servername;
  const expected = [
    `certificate for SNI ${name} from ${check.connect ?? `Service ${check.target!.namespace}/${check.target!.service} via ${check.target!.via}`}`,
    e.subject ? `subject /${e.subject}/` : '',
    e.san ? `SAN ⊇ ${e.san.join(', ')}` : '',
    e.issuer ? `issuer /${e.issuer}/` : '',
    e.selfSigned !== undefined ? (e.selfSigned ? 'self-signed' : 'not self-signed') : '',
  ].filter(Boolean).join('; ');

  return pollCheck(check, ctx, async ({ timeoutMs }): Promise<Observation> => {
    const vantage = vantageOf(ctx);
    let connect = check.connect;
    if (!connect) {
      const r = await resolveServiceTarget(check.target!, kubeOf(ctx), () => vantage.nodes(), langOf(ctx));
      if (!r.ok) return { status: 'fail', message: r.message, ...(r.hint ? { hint: r.hint } : {}), expected, observed: r.observed };
      connect = `${r.host}:${r.port}`;
    }
    const address = connect.replace(/:\d+$/, '');
    if (check.from === 'host' && !hostMayReach(address, await vantage.nodes())) {
      return { status: 'error', message: t.hostOnly(address), expected, observed: `refused to run from the host: ${address}`, final: true };
    }
    if (check.from === 'host') {
      const mapped = await hostLoopbackPort(vantage, address, Number(connect.slice(address.length + 1)));
      if ('error' in mapped) return { status: 'error', message: mapped.error, expected, observed: mapped.error, final: true };
      connect = `${address}:${mapped.port}`;
    }
    const r = await vantage.exec(check.from, opensslArgv(connect, name, check.timeoutSeconds), { timeoutMs: Math.min(timeoutMs, check.timeoutSeconds * 1000 + 2000), ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const why = cannotRun(r.exitCode, r.stderr, check.from, 'openssl');
    if (why) return { status: 'error', message: why, expected, observed: why };
    if (r.exitCode === 3) {
      const said = lastLine(r.stderr.split('\n').filter((l) => !/^(CONNECTED|---|\d+:error:.*SSL routines)/.test(l.trim())).join('\n')) || lastLine(r.stderr);
      return { status: 'fail', message: t.handshake(connect, name, said), hint: t.handshakeHint, expected, observed: tail(r.stderr, 6) };
    }
    if (r.exitCode !== 0) return { status: 'error', message: `openssl at ${check.from} exited ${r.exitCode}: ${lastLine(r.stderr)}`, expected, observed: tail(r.stderr) };
    const cert = parseCertText(r.stdout);
    if (!cert) return { status: 'error', message: t.unreadable(check.from), expected, observed: tail(r.stdout) };
    const observed = `subject=${cert.subject}; issuer=${cert.issuer}; DNS=${cert.dnsNames.join(',') || '-'}`;
    const isSelfSigned = normDn(cert.subject) === normDn(cert.issuer);

    const controller = defaultCertController(cert.subject);
    if (controller && !(e.subject && new RegExp(e.subject).test(cert.subject))) {
      // Name the learner's Ingress and Secret when the API can tell which one is wrong.
      const why = ctx.kube
        ? await diagnoseDefaultCert(ctx.kube, name, controller, langOf(ctx)).catch((err: unknown) => {
            if (err instanceof KubeApiError) return undefined;
            throw err;
          })
        : undefined;
      if (why) return { status: 'fail', message: why.message, hint: why.hint, hintNamesObjects: true, expected, observed };
      return { status: 'fail', message: t.fake(name), hint: t.fakeHint, expected, observed };
    }
    if (e.subject && !new RegExp(e.subject).test(cert.subject)) return { status: 'fail', message: t.subject(name, cert.subject, e.subject), expected, observed };
    if (e.san) {
      const missing = e.san.filter((n) => !cert.dnsNames.includes(n.toLowerCase()));
      if (missing.length) return { status: 'fail', message: t.san(name, missing, cert.dnsNames), hint: t.sanHint, expected, observed };
    }
    if (e.issuer && !new RegExp(e.issuer).test(cert.issuer)) return { status: 'fail', message: t.issuer(name, cert.issuer, e.issuer), expected, observed };
    if (e.selfSigned !== undefined && e.selfSigned !== isSelfSigned) return { status: 'fail', message: t.selfSigned(name, isSelfSigned), expected, observed };
    return { status: 'pass', message: t.ok(name, cert), expected, observed };
  });
}

export function explainTlsCheck(check: TlsCheck): string {
  const e = check.expect;
  const wants = [e.subject && `subject matching /${e.subject}/`, e.san && `SAN ${e.san.join(', ')}`, e.issuer && `issuer matching /${e.issuer}/`, e.selfSigned !== undefined && (e.selfSigned ? 'self-signed' : 'not self-signed')].filter(Boolean);
  return `from ${check.from}, TLS to ${check.connect ?? (check.target ? targetText(check.target) : '?')} with SNI ${check.servername} presents a certificate with ${wants.join(', ')}`;
}

export const tlsKind = { schema: tlsCheckSchema, run: runTlsCheck, explain: explainTlsCheck, services: (c) => (c.target ? [{ name: c.target.service, namespace: c.target.namespace, path: ['target', 'service'] }] : []) } satisfies CheckKindDef<TlsCheck>;
