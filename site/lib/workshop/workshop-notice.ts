// <svclab-workshop-notice> (WorkshopNotice.astro), at the top of the lab panel in a workshop:
// asks GET /api/workshop/me every few seconds and shows (1) a banner in the last five minutes
// of the learner's place, and (2) after the runner moved this page's session to a new cluster
// (theirs stopped answering), a note saying so — and hands the panel the new session. Outside a
// workshop (`workshop: null`) it stops asking and stays hidden.
import type { ErrorBody } from '../../../runner/src/api/common.ts';
import type { MeReply } from '../../../runner/src/api/workshop.ts';
import type { LabHost } from '../lab/lab-context.ts';
import { sessionStore, tabStorage } from '../lab/session-store.ts';
import { bannerFromMe, expiryBanner, movedText, movedTo, type NoticeLang } from './expiry-banner.ts';

/** How often /me is asked while the page is shown (a move is followed within this), and while it is in a background tab. */
export const POLL_MS = 5_000;
export const POLL_HIDDEN_MS = 30_000;

type Follower = HTMLElement & { follow?: (id: string) => Promise<void> };

export class WorkshopNotice extends HTMLElement {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  /** Moves already followed (each is followed once). */
  readonly #followed = new Set<string>();
  /**
   * The session this panel had when last seen: the panel may already have let go of it (its
   * terminal found it gone) before the move is read, and the move is still followed.
   */
  #known: string | null = null;

  connectedCallback(): void {
    this.#stopped = false;
    void this.poll();
  }

  disconnectedCallback(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  get #lang(): NoticeLang {
    return this.dataset.lang === 'zh' ? 'zh' : 'en';
  }

  get #host(): LabHost | null {
    return this.closest<LabHost>('svclab-lab');
  }

  /** This tab's session for the panel's lab (the live one, or the one kept for a reload). */
  #sessionId(): string | null {
    const host = this.#host;
    const labId = host?.getAttribute('lab-id');
    if (!host || !labId) return null;
    return host.labContext?.session?.id ?? sessionStore(tabStorage(), labId).get();
  }

  async poll(): Promise<void> {
    clearTimeout(this.#timer);
    let again = true;
    try {
      const res = await fetch('/api/workshop/me', { credentials: 'same-origin', headers: { accept: 'application/json' } });
      const body = (await res.json().catch(() => ({}))) as MeReply | ErrorBody;
      if (res.ok) again = this.show(body as MeReply);
      else if ((body as ErrorBody).error?.code === 'WORKSHOP_ENDED') this.#banner(expiryBanner({ expiresAt: '', endsInMs: 0, ended: true }, this.#lang));
      else if (res.status === 404) again = false; // a runner without workshops
    } catch {
      // The network blinked: ask again later; the banner keeps what it said.
    }
    if (again && !this.#stopped) this.#timer = setTimeout(() => void this.poll(), document.visibilityState === 'hidden' ? POLL_HIDDEN_MS : POLL_MS);
  }

  /** Puts a /me reply on the page; false when there is no workshop (nothing more to ask). */
  show(me: MeReply): boolean {
    if (!me.workshop) {
      this.hidden = true;
      return false;
    }
    this.#banner(bannerFromMe(me, this.#lang));
    const current = this.#sessionId() ?? this.#known;
    this.#known = current;
    const move = movedTo(me.moves, current);
    if (move && move.to !== current && !this.#followed.has(move.to)) {
      this.#followed.add(move.to);
      this.#known = move.to;
      this.#follow(move.to);
    }
    return true;
  }

  #follow(to: string): void {
    const host = this.#host;
    const labId = host?.getAttribute('lab-id');
    if (!host || !labId) return;
    const moved = this.querySelector<HTMLElement>('[data-ref="moved"]');
    if (moved) {
      moved.textContent = movedText(this.#lang);
      moved.hidden = false;
    }
    this.#update();
    const panel = host.querySelector<Follower>('svclab-session');
    // A hydrated panel follows now; one not hydrated yet resumes the stored id when it does.
    if (host.labContext && panel?.follow) void panel.follow(to);
    else sessionStore(tabStorage(), labId).set(to);
  }

  #banner(text: string | null): void {
    const el = this.querySelector<HTMLElement>('[data-ref="expiry"]');
    if (!el) return;
    if (el.textContent !== (text ?? '')) el.textContent = text ?? '';
    el.hidden = !text;
    this.#update();
  }

  #update(): void {
    this.hidden = [...this.querySelectorAll<HTMLElement>('[data-ref]')].every((p) => p.hidden);
  }
}

if (!customElements.get('svclab-workshop-notice')) customElements.define('svclab-workshop-notice', WorkshopNotice);
