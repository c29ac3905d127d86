/**
 * A license's newest events of some kind, and its oldest, without reading its whole audit trail:
 * the details page shows the latest 20 device and user events and the first activation, and a
 * license with 20,000 events must not cost 20,000 reads per page view. Chunks are read back from
 * the chain head's number (or forward from the start), stopping once enough were found.
 * Unverified reads, as the page always showed them; the Log page is where the chain is verified.
 */
import { HEAD_KEY, HEAD_KIND, isAuditHead } from '../../../core/admin/audit-chain.js';
import type { AuditEvent, Store } from '../../../core/store/store.js';

/** Events read per round trip. */
const CHUNK = 500;

/** The newest `count` events that `keep` accepts, newest first. */
export async function newestEvents(store: Store, licenseId: string, count: number, keep: (e: AuditEvent) => boolean): Promise<AuditEvent[]> {
  const head = await store.read(licenseId, (r) => r.get(HEAD_KIND, HEAD_KEY));
  // Without a head (a store not wrapped with withAuditChain) the newest number is unknown: all of them.
  if (!isAuditHead(head)) return (await store.events(licenseId)).filter(keep).slice(-count).reverse();
  // Events committed after the head was read come first, then chunks back from the head.
  const found = (await store.events(licenseId, { afterSeq: head.seq })).filter(keep).reverse();
  for (let to = head.seq; to >= 1 && found.length < count; to -= CHUNK) {
    const from = Math.max(1, to - CHUNK + 1);
    const chunk = await store.events(licenseId, { afterSeq: from - 1, limit: to - from + 1 });
    found.push(...chunk.filter(keep).reverse());
  }
  return found.slice(0, count);
}

/** The oldest event that `keep` accepts, or undefined. */
export async function oldestEvent(store: Store, licenseId: string, keep: (e: AuditEvent) => boolean): Promise<AuditEvent | undefined> {
  for (let after = 0; ; ) {
    const chunk = await store.events(licenseId, { afterSeq: after, limit: CHUNK });
    const hit = chunk.find(keep);
    if (hit !== undefined) return hit;
    if (chunk.length < CHUNK) return undefined;
    after = (chunk.at(-1) as AuditEvent).seq;
  }
}
