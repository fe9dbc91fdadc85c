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
      host.hydrated ??= import('./lab-controller.ts').then(
        (m) => {
          this.removeEventListener('click', onClick);
          return m.hydrateLab(host);
        },
        (err: unknown) => {
          // The controller's code did not arrive (a network blip, the runner restarting): say
          // so where the status is read, and let the next click try again.
          host.hydrated = undefined;
          host.pendingStart = false;
          console.error('svclab: the lab panel failed to load', err);
          showLoadFailure(host);
        },
      ).catch((err: unknown) => {
        // The code arrived but setting the panel up threw: a defect, shown rather than silent.
        console.error('svclab: the lab panel failed to start', err);
        showLoadFailure(host);
      });
    };
    // A click on Start before the controller is here is remembered, not lost.
    const onClick = (ev: Event) => {
      if ((ev.target as Element | null)?.closest('[data-ref="start"]')) host.pendingStart = true;
      hydrate();
    };
    this.addEventListener('click', onClick);
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

/** The status line says the panel's code did not load (before any controller exists to say it). */
function showLoadFailure(host: LabHost): void {
  let s: { panelLoadFailed?: string; panelLoadFailedHint?: string } = {};
  try {
    s = JSON.parse(host.dataset.strings ?? '{}') as typeof s;
  } catch {
    // the built-in words below
  }
  const text = host.querySelector<HTMLElement>('[data-ref="status-text"]');
  const hint = host.querySelector<HTMLElement>('[data-ref="status-hint"]');
  if (text) {
    text.textContent = s.panelLoadFailed ?? 'The lab panel could not load its code from the runner.';
    text.classList.add('svclab-error');
  }
  if (hint) {
    hint.textContent = s.panelLoadFailedHint ?? 'Press Start lab to try again, or reload the page.';
    hint.hidden = false;
  }
}

if (!customElements.get('svclab-lab')) customElements.define('svclab-lab', SvclabLab);
