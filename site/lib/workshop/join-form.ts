// <svclab-join>: the workshop's join form. Posts the event code (or nothing, when the learner
// URL's code is already in its cookie) and a display name to POST /api/workshop/join, then
// goes to the lab index. Errors show the runner's message and hint (wrong code, the wait after
// too many, workshop full or ended).
import type { ErrorBody } from '../../../runner/src/api/common.ts';
import type { JoinReply } from '../../../runner/src/api/workshop.ts';

const NETWORK = {
  en: { message: 'Cannot reach the workshop.', hint: 'Check that you are on the room\'s network and try again.' },
  zh: { message: '无法连接到工作坊。', hint: '请确认你连接的是教室的网络，然后重试。' },
};

export class SvclabJoin extends HTMLElement {
  connectedCallback(): void {
    const form = this.querySelector('form');
    if (!form || form.dataset.wired) return;
    form.dataset.wired = '1';
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.join(form);
    });
  }

  private async join(form: HTMLFormElement): Promise<void> {
    const lang = this.dataset.lang === 'zh' ? 'zh' : 'en';
    const data = new FormData(form);
    const code = String(data.get('code') ?? '').trim();
    const name = String(data.get('name') ?? '').trim();
    const button = form.querySelector('button');
    const error = this.querySelector<HTMLElement>('[data-ref="error"]')!;
    button?.setAttribute('disabled', '');
    error.hidden = true;
    try {
      const res = await fetch('/api/workshop/join', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ name, lang, ...(code ? { code } : {}) }),
      });
      const json = (await res.json().catch(() => ({}))) as Partial<JoinReply & ErrorBody>;
      if (res.ok && json.next) {
        location.assign(json.next);
        return;
      }
      this.show(json.error ?? { message: `HTTP ${res.status}`, hint: '' });
    } catch {
      this.show(NETWORK[lang]);
    } finally {
      button?.removeAttribute('disabled');
    }
  }

  private show(e: { message: string; hint: string }): void {
    const box = this.querySelector<HTMLElement>('[data-ref="error"]')!;
    box.querySelector('[data-ref="message"]')!.textContent = e.message;
    box.querySelector('[data-ref="hint"]')!.textContent = e.hint;
    box.hidden = false;
    box.focus();
  }
}

if (!customElements.get('svclab-join')) customElements.define('svclab-join', SvclabJoin);
