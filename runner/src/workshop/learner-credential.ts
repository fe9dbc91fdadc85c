// A learner's pass: `<payload>.<mac>`, the payload naming the workshop, the learner and
// when the pass stops working, the MAC an HMAC-SHA256 of the payload under the workshop's
// key. It lives in an HttpOnly cookie, so page scripts never see it; the runner keeps no
// table of passes, and a pass made for another workshop (or edited) fails the MAC.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface LearnerClaims {
  /** Workshop id. */
  w: string;
  /** Learner id. */
  l: string;
  /** Expires (ms since epoch). */
  e: number;
}

/** Compares two secrets without leaking where they differ (or, beyond the length, how long they are). */
export function safeEqual(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so even a length mismatch takes the same path.
  const ha = createHmac('sha256', 'svclab-compare').update(a).digest();
  const hb = createHmac('sha256', 'svclab-compare').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function mac(key: string, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

export function signLearnerCredential(key: string, claims: LearnerClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${mac(key, payload)}`;
}

export type CredentialCheck =
  | { ok: true; claims: LearnerClaims }
  | { ok: false; reason: 'malformed' | 'forged' | 'other-workshop' | 'expired' };

/** Checks the MAC (constant time), the workshop and the expiry. */
export function verifyLearnerCredential(key: string, workshopId: string, value: string, now: number): CredentialCheck {
  const dot = value.indexOf('.');
  if (dot <= 0 || value.length > 512) return { ok: false, reason: 'malformed' };
  const payload = value.slice(0, dot);
  if (!safeEqual(mac(key, payload), value.slice(dot + 1))) return { ok: false, reason: 'forged' };
  let claims: LearnerClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as LearnerClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof claims?.w !== 'string' || typeof claims.l !== 'string' || typeof claims.e !== 'number') return { ok: false, reason: 'malformed' };
  if (claims.w !== workshopId) return { ok: false, reason: 'other-workshop' };
  if (claims.e <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
