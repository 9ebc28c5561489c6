// A small helper for building the app's DOM without a framework.

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | EventListener | undefined>;

/** h('button', { class: 'primary', onclick: go }, 'Train') */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** A labelled form control. */
export function field(label: string, control: HTMLElement): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', {}, label), control);
}

/** A checkbox with its label beside it. */
export function checkField(label: string, box: HTMLInputElement): HTMLLabelElement {
  return h('label', { class: 'check' }, box, h('span', {}, label));
}

export function select(id: string, options: readonly string[], value: string): HTMLSelectElement {
  const element = h('select', { id });
  for (const option of options) element.append(h('option', { value: option, selected: option === value }, option));
  return element;
}

/** Offers `contents` as a file download. */
export function download(name: string, contents: string | Uint8Array<ArrayBuffer>, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([contents], { type }));
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

/** Numbers as the app shows them: 12 significant digits at most. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined) return '';
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude < 1e-4 || magnitude >= 1e6 ? value.toExponential(6) : value.toFixed(9);
}

/** A duration as the status shows it: 4.2 s, 1 min 05 s. */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(Math.floor(seconds - 60 * minutes)).padStart(2, '0')} s`;
}

/** A progress bar with its label. */
export function progressBar(id: string): { element: HTMLElement; set(label: string, fraction: number): void } {
  const bar = h('progress', { id, max: 1, value: 0 });
  const label = h('span', {});
  const element = h('div', { class: 'progress', role: 'status' }, label, bar);
  return {
    element,
    set(text, fraction) {
      label.textContent = `${text}: ${Math.round(fraction * 100)}%`;
      bar.value = fraction;
      element.dataset.fraction = String(fraction);
    },
  };
}
