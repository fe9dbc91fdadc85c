// <svclab-broadcast>: shows the instructor's broadcast while there is one. EventSource reconnects
// by itself after a network loss and stops on an HTTP error (a static preview, a new token).
import type { BroadcastMessage } from '../../../runner/src/api/instructor.ts';

class LabBroadcast extends HTMLElement {
  private source: EventSource | undefined;

  connectedCallback(): void {
    if (this.source || typeof EventSource === 'undefined') return;
    this.source = new EventSource('/api/broadcast');
    this.source.addEventListener('broadcast', (e) => this.show((e as MessageEvent<string>).data));
  }

  disconnectedCallback(): void {
    this.source?.close();
    this.source = undefined;
  }

  private show(data: string): void {
    let m: BroadcastMessage | null = null;
    try {
      m = JSON.parse(data) as BroadcastMessage | null;
    } catch {
      return;
    }
    const text = this.querySelector('[data-ref="message"]');
    if (text) text.textContent = m?.message ?? '';
    this.hidden = !m?.message;
  }
}

if (!customElements.get('svclab-broadcast')) customElements.define('svclab-broadcast', LabBroadcast);
