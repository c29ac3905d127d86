/**
 * One page of a license's audit events, newest first, for the credits and log pages: read back from
 * the newest event only as far as the page needs (core/admin/audit-tail.ts), each chunk verified
 * against the hash chain's head, so a page costs what it shows (and, for a filter that matches few
 * events, what had to be passed over to fill it), not the whole trail. The page says how far back
 * the chain was verified.
 */
import type { AuditLogEntry } from '../../../core/admin/audit-chain.js';
import { VerifiedTail } from '../../../core/admin/audit-tail.js';
import type { Store } from '../../../core/store/store.js';
import { html, type Html } from '../html.js';
import { pager } from './common.js';

/** What {@link eventPage} found. */
export interface EventPage {
  /** The page's events, newest first. */
  readonly events: AuditLogEntry[];
  /** How many events match in all, when known (every event was read, or there is no filter). */
  readonly total: number | undefined;
  /** True when there are older matching events after this page. */
  readonly more: boolean;
  /** The head and how far back the chain was verified. */
  readonly tail: VerifiedTail;
}

/** The largest chunk read at once while looking back for a filter's events. */
const MAX_CHUNK = 4_096;

/**
 * Page `page` (1 = newest) of `size` events of the license matching `match` (all when omitted).
 * `ERR_AUDIT_TAMPERED` when what was read does not chain to the head.
 */
export async function eventPage(store: Store, licenseId: string, opts: { page: number; size: number; match?: ((e: AuditLogEntry) => boolean) | undefined }): Promise<EventPage> {
  const tail = await VerifiedTail.open(store, licenseId);
  const need = opts.page * opts.size + 1; // one more than the pages so far: is there a next page?
  const matched: AuditLogEntry[] = [];
  let chunk = opts.match === undefined ? need : Math.max(need, 256);
  while (!tail.done && matched.length < need) {
    const got = await tail.older(chunk);
    for (let i = got.length - 1; i >= 0; i--) {
      const e = got[i] as AuditLogEntry;
      if (opts.match === undefined || opts.match(e)) matched.push(e);
    }
    chunk = Math.min(chunk * 2, MAX_CHUNK);
  }
  const total = opts.match === undefined ? tail.head.seq : tail.done ? matched.length : undefined;
  return { events: matched.slice((opts.page - 1) * opts.size, opts.page * opts.size), total, more: matched.length > opts.page * opts.size, tail };
}

/** What was verified, in words for the page. */
export function verifiedNote(p: EventPage): Html {
  const { head, from } = p.tail;
  if (head.seq === 0) return html`<p class="notice ok">This license's audit log is empty.</p>`;
  const span = from <= 1 ? html`all ${head.seq} events` : html`events ${from} to ${head.seq} (the newest, as far back as this page reads)`;
  return html`<p class="notice ok">The hash chain of ${span} was verified against its head <code>${head.hash}</code>.${from <= 1 ? null : html` Older events were not read for this page; <code>licit log</code> checks the whole log.`}</p>`;
}

/** A pager that works without a total (a filter whose matches were not all counted). */
export function eventPager(url: URL, n: number, size: number, p: EventPage): Html {
  if (p.total !== undefined) return pager(url, n, p.total, size);
  const link = (to: number, label: string) => {
    const u = new URL(url);
    u.searchParams.set('page', String(to));
    return html`<a href="${u.pathname}${u.search}">${label}</a>`;
  };
  return html`<nav class="pager" aria-label="Pages">${n > 1 ? link(n - 1, 'Previous page') : null}<span>Page ${n}</span>${p.more ? link(n + 1, 'Next page') : null}</nav>`;
}
