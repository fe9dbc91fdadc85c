// Lesson diagrams are SVG drawn ~680 units wide; beside the lab panel the prose column is
// 290–470 px, so their text gets small. Each figure gets an "Enlarge diagram" button (and a
// click on the drawing) that shows it in a modal <dialog> as wide as the window allows.
// Small on purpose: it ships in the lesson's first load.

type ZoomStrings = { enlarge: string; close: string };

let dialog: HTMLDialogElement | undefined;

function openZoom(svg: SVGSVGElement, title: string, s: ZoomStrings, opener: HTMLElement): void {
  if (!dialog) {
    dialog = document.createElement('dialog');
    dialog.className = 'svclab-zoom-dialog';
    // A click on the backdrop (the dialog element itself, outside its content) closes it.
    dialog.addEventListener('click', (ev) => ev.target === dialog && dialog.close());
    document.body.append(dialog);
  }
  const d = dialog;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'svclab-btn svclab-zoom-dialog__close';
  close.textContent = `✕ ${s.close}`;
  close.addEventListener('click', () => d.close());
  const copy = svg.cloneNode(true) as SVGSVGElement;
  // The copy must not repeat the page's ids (title/desc); it is named by aria-label instead.
  for (const el of [copy, ...copy.querySelectorAll('[id]')]) el.removeAttribute('id');
  copy.removeAttribute('aria-labelledby');
  copy.removeAttribute('aria-describedby');
  copy.setAttribute('aria-label', title);
  copy.style.maxWidth = 'none';
  copy.style.width = '100%';
  copy.style.height = 'auto';
  copy.style.cursor = '';
  d.setAttribute('aria-label', title);
  d.replaceChildren(close, copy);
  d.addEventListener('close', () => opener.focus(), { once: true });
  d.showModal();
  close.focus();
}

export function enhanceFigures(root: ParentNode, s: ZoomStrings): void {
  for (const svg of root.querySelectorAll<SVGSVGElement>('figure > svg, figure > p > svg')) {
    const figure = svg.closest('figure')!;
    if (figure.querySelector('.svclab-zoom')) continue;
    const title = svg.querySelector('title')?.textContent?.trim() || figure.querySelector('figcaption')?.textContent?.trim() || '';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'svclab-zoom';
    button.textContent = `⤢ ${s.enlarge}`;
    if (title) button.setAttribute('aria-label', `${s.enlarge}: ${title}`);
    button.addEventListener('click', () => openZoom(svg, title, s, button));
    // Pointer users can click the drawing itself; keyboard users have the button.
    svg.style.cursor = 'zoom-in';
    svg.addEventListener('click', () => openZoom(svg, title, s, button));
    figure.classList.add('svclab-figure');
    figure.append(button);
  }
}
