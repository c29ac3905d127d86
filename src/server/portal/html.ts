/**
 * HTML that cannot inject: the `html` tag escapes every interpolated value unless it is already
 * {@link Html} (made by this tag or by {@link raw}), so text from the store, a URL or a form (a
 * license id, a customer name, a device label) is always shown as text, never run as markup.
 */

/** A piece of markup that is safe to put in a page as it is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** What may go into a `${}` of {@link html}: text (escaped), markup, a list of either, or nothing. */
export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(part);
}

/**
 * The tag of every page: literal parts are markup, interpolated parts are escaped.
 *
 * @example
 * ```ts
 * html`<td>${license.customer}</td>` // a customer named "<script>" shows as text
 * ```
 */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0] as string;
  for (let i = 0; i < parts.length; i++) out += render(parts[i] as Part) + (strings[i + 1] as string);
  return new Html(out);
}

/** Markup written by the portal itself (never text from a request or the store). */
export function raw(text: string): Html {
  return new Html(text);
}

/** A path under /portal with each segment percent-encoded (ids may hold `/`, `?`, spaces). */
export function portalPath(...segments: string[]): string {
  return `/portal/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}
