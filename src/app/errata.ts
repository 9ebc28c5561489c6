// The errata of the worked examples (docs/errata.md, the one place they are written):
// one entry, to explain a value where it appears, and the whole document as a page of
// the app (`#errata?mazur-update-order` opens it at that entry).

import { marked } from 'marked';
import errata from '../../docs/errata.md?raw';
import { h } from './dom.ts';

/** The markdown of the entry under `### anchor`, up to the next heading. */
function entryMarkdown(anchor: string): string | undefined {
  const lines = errata.split('\n');
  const start = lines.findIndex((line) => line.trim() === `### ${anchor}`);
  if (start < 0) return undefined;
  const end = lines.findIndex((line, k) => k > start && /^#{1,3} /.test(line));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The anchor of a trace line's erratum (`docs/errata.md#mazur-update-order`). */
export function erratumAnchor(reference: string): string {
  return reference.slice(reference.indexOf('#') + 1);
}

/** The app's link to an entry. */
export function erratumLink(anchor: string): string {
  return `#errata?${anchor}`;
}

/** An entry of docs/errata.md as HTML (the document is the project's own, bundled with the app). */
export function erratumEntry(anchor: string): HTMLElement {
  const markdown = entryMarkdown(anchor);
  const body = h('div', { class: 'erratum-body' });
  body.innerHTML = markdown === undefined ? `<p>No entry ${anchor} in docs/errata.md.</p>` : (marked.parse(markdown, { async: false }) as string);
  return body;
}

/** The page of the whole document, scrolled to the entry the query names. */
export function mount(root: HTMLElement, _gpu: unknown, query: string): void {
  const body = h('article', { class: 'errata', id: 'errata' });
  body.innerHTML = marked.parse(errata, { async: false }) as string;
  for (const heading of body.querySelectorAll('h3')) heading.id = `erratum-${heading.textContent?.trim()}`;
  root.append(h('section', {}, h('p', { class: 'hint' }, 'docs/errata.md, as the app ships it. ', h('a', { href: '#explorer' }, 'Back to the worked examples')), body));
  if (query) document.getElementById(`erratum-${query}`)?.scrollIntoView();
}
