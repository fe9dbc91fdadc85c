// The only lab code in the page's initial JavaScript: registers <svclab-lab> and loads the
// panel (lab-controller.ts, which defines the panel's parts) when the panel comes near the
// viewport or the learner reaches for it. xterm, Monaco and the schema load later still.
import type { LabHost } from './lab-context.ts';

class SvclabLab extends HTMLElement {
  #observer: IntersectionObserver | undefined;

  connectedCallback(): void {
    const host = this as LabHost;
    if (host.hydrated) return;
    const hydrate = () => {
      this.#observer?.disconnect();
      host.hydrated ??= import('./lab-controller.ts').then((m) => m.hydrateLab(host));
    };
    // A click on Start before the controller is here is remembered, not lost.
    this.addEventListener(
      'click',
      (ev) => {
        if ((ev.target as Element | null)?.closest('[data-ref="start"]')) host.pendingStart = true;
        hydrate();
      },
      { once: true },
    );
    this.addEventListener('focusin', hydrate, { once: true });
    this.#observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && hydrate(), { rootMargin: '200px' });
    this.#observer.observe(this);
    // Also once the page is idle: the controller is small, and it adds the prose's
    // "Run in terminal" buttons, which a phone reader meets before the panel.
    if ('requestIdleCallback' in window) requestIdleCallback(hydrate, { timeout: 3000 });
    else setTimeout(hydrate, 1500);
  }

  disconnectedCallback(): void {
    this.#observer?.disconnect();
  }
}

if (!customElements.get('svclab-lab')) customElements.define('svclab-lab', SvclabLab);
