// What the lab page says about the workshop's clock and the learner's cluster, from GET
// /api/workshop/me, without touching the DOM (unit-tested): the banner in the last five minutes
// of the learner's place, and the note after their session moved to a new cluster.
import type { MeReply, SessionMoveView } from '../../../runner/src/api/workshop.ts';

export type NoticeLang = 'en' | 'zh';

/** The banner shows from this long before the end (the runner's `endingSoon` uses the same). */
export const BANNER_BEFORE_MS = 5 * 60_000;

const TEXT = {
  en: {
    ends: 'This workshop ends at {time} — in {left}.',
    minutes: (n: number) => (n === 1 ? '1 min' : `${n} min`),
    underMinute: 'less than a minute',
    ended: 'This workshop has ended. Your progress is kept.',
    moved: 'Your cluster stopped answering, so svclab moved your lab to a new one. Your progress and the objects you applied came along; the terminal is a new shell.',
  },
  zh: {
    ends: '本次工作坊将于 {time} 结束——还剩 {left}。',
    minutes: (n: number) => `${n} 分钟`,
    underMinute: '不到 1 分钟',
    ended: '本次工作坊已结束。你的进度已保存。',
    moved: '你的集群没有响应，svclab 已把你的实验移到一个新集群。你的进度和已应用的对象都已带过去；终端是一个新的 shell。',
  },
} as const;

const fill = (t: string, v: Record<string, string>) => t.replace(/\{(\w+)\}/g, (_, k: string) => v[k] ?? '');

/**
 * The expiry banner's text, or null when the end is more than five minutes away (or unknown).
 * `endsInMs`: from now to the end, as the runner counted it (secondsLeft), so a wrong clock on
 * the learner's laptop does not move it; `expiresAt` is shown as HH:MM in the laptop's zone.
 */
export function expiryBanner(t: { expiresAt: string; endsInMs: number; ended: boolean }, lang: NoticeLang, timeZone?: string): string | null {
  const s = TEXT[lang];
  if (t.ended || t.endsInMs <= 0) return s.ended;
  if (t.endsInMs > BANNER_BEFORE_MS) return null;
  const time = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit', hour12: false, ...(timeZone ? { timeZone } : {}) }).format(new Date(t.expiresAt));
  const left = t.endsInMs < 60_000 ? s.underMinute : s.minutes(Math.ceil(t.endsInMs / 60_000));
  return fill(s.ends, { time, left });
}

/** Where this page's session went, when it moved (the latest move from `sessionId`, followed to its end). */
export function movedTo(moves: readonly SessionMoveView[], sessionId: string | null | undefined): SessionMoveView | undefined {
  if (!sessionId) return undefined;
  let found: SessionMoveView | undefined;
  let id = sessionId;
  for (const m of moves) {
    if (m.from === id) {
      found = { ...m, from: sessionId };
      id = m.to;
    }
  }
  return found;
}

export function movedText(lang: NoticeLang): string {
  return TEXT[lang].moved;
}

/** The banner from a /me reply read `ageMs` ago (null outside a workshop). */
export function bannerFromMe(me: Pick<MeReply, 'workshop'>, lang: NoticeLang, ageMs = 0, timeZone?: string): string | null {
  if (!me.workshop) return null;
  return expiryBanner({ expiresAt: me.workshop.expiresAt, endsInMs: me.workshop.secondsLeft * 1000 - ageMs, ended: me.workshop.ended }, lang, timeZone);
}
