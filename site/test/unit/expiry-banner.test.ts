// The lab page's workshop notices, computed from GET /api/workshop/me: the expiry banner shows
// only in the last five minutes of the learner's place (English and Chinese), and a moved
// session is followed to where it went.
import { describe, expect, it } from 'vitest';
import { BANNER_BEFORE_MS, bannerFromMe, expiryBanner, movedTo } from '../../lib/workshop/expiry-banner.ts';

const END = '2026-12-02T14:05:00.000Z';
const MIN = 60_000;

describe('expiry banner', () => {
  it('appears when the end is less than five minutes away, with the time and the minutes left', () => {
    expect(expiryBanner({ expiresAt: END, endsInMs: 3 * MIN + 10_000, ended: false }, 'en', 'UTC')).toBe('This workshop ends at 14:05 — in 4 min.');
    expect(expiryBanner({ expiresAt: END, endsInMs: 3 * MIN + 10_000, ended: false }, 'zh', 'UTC')).toBe('本次工作坊将于 14:05 结束——还剩 4 分钟。');
    expect(expiryBanner({ expiresAt: END, endsInMs: BANNER_BEFORE_MS, ended: false }, 'en', 'UTC')).toBe('This workshop ends at 14:05 — in 5 min.');
    expect(expiryBanner({ expiresAt: END, endsInMs: 40_000, ended: false }, 'en', 'UTC')).toBe('This workshop ends at 14:05 — in less than a minute.');
    // HH:MM in the laptop's own zone.
    expect(expiryBanner({ expiresAt: END, endsInMs: 2 * MIN, ended: false }, 'en', 'Asia/Shanghai')).toBe('This workshop ends at 22:05 — in 2 min.');
  });

  it('does not appear while the end is further away', () => {
    expect(expiryBanner({ expiresAt: END, endsInMs: BANNER_BEFORE_MS + 1000, ended: false }, 'en', 'UTC')).toBeNull();
    expect(expiryBanner({ expiresAt: END, endsInMs: 2 * 3600_000, ended: false }, 'zh', 'UTC')).toBeNull();
  });

  it('says the workshop has ended once it has', () => {
    expect(expiryBanner({ expiresAt: END, endsInMs: 0, ended: true }, 'en')).toBe('This workshop has ended. Your progress is kept.');
  });

  it('reads /me: the runner\'s secondsLeft (not the laptop\'s clock), nothing outside a workshop', () => {
    const me = (secondsLeft: number) => ({ workshop: { expiresAt: END, secondsLeft, endingSoon: secondsLeft <= 300, ended: false, labs: ['02'] } });
    expect(bannerFromMe(me(240), 'en', 0, 'UTC')).toBe('This workshop ends at 14:05 — in 4 min.');
    expect(bannerFromMe(me(3600), 'en', 0, 'UTC')).toBeNull();
    // A reply read 61 minutes ago: the banner is due now.
    expect(bannerFromMe(me(3600), 'en', 61 * MIN, 'UTC')).not.toBeNull();
    expect(bannerFromMe({ workshop: null }, 'en')).toBeNull();
  });
});

describe('following a moved session', () => {
  const m = (from: string, to: string) => ({ from, to, labId: '02', at: END, cluster: 'c1' });
  it('follows a chain of moves from this page\'s session to the latest', () => {
    expect(movedTo([m('a', 'b'), m('x', 'y'), m('b', 'c')], 'a')).toMatchObject({ from: 'a', to: 'c' });
    expect(movedTo([m('a', 'b')], 'b')).toBeUndefined();
    expect(movedTo([m('a', 'b')], null)).toBeUndefined();
  });
});
