/**
 * The license index: which licenses the registry holds, and each one's customer, kept in one
 * well-known pseudo-license ({@link LICENSE_INDEX_ID}, as companies live under `portal:<CODE>` and
 * trials under `trial:<product>`), so a list of one customer's licenses, or a page of all of them,
 * reads the index and then only the registry entries it shows, not every license's.
 *
 * The store's transactions are per license, so a registration cannot write the license and the
 * index atomically. Instead, every registration ({@link indexedRegistration}):
 *   1. writes an intent (`p\n<id>`) into the index,
 *   2. runs the license's own transaction (the registry entry),
 *   3. reads what the license now says and upserts it into the index, keyed by the registry's issue
 *      number: an entry is only ever replaced by one of a newer issue, so two processes racing on
 *      the same license end with the customer of the newest issue, in whatever order they land;
 *      then removes its intent.
 * A process that dies between 2 and 3 leaves its intent behind; readers ({@link ensureLicenseIndex})
 * settle every intent from the license's committed entry, and drop intents older than ten minutes.
 * Readers still check each entry they show against the registry (an index entry is a hint). A store
 * written before the index existed is indexed once, by the first reader (`built` is absent).
 */
import { LicenseError } from '../errors.js';
import { RESERVED_ID_PREFIXES } from '../license/claims.js';
import type { JsonObject, Store, StoreTx } from '../store/store.js';

/** Record kind of the license registry (registry.ts, which re-exports it). */
export const REGISTRY_KIND = 'registry';

/** Store id of the index. The `licit:` prefix is licit's own (see {@link isLicenseId}). */
export const LICENSE_INDEX_ID = 'licit:license-index';
const KIND = 'license-index';
const BUILT = 'built';
/** An intent older than this is a registration that died: settled, then dropped. */
const STALE_INTENT_MS = 10 * 60_000;

const licKey = (id: string) => `l\n${id}`;
// JSON quoting keeps a customer name with a newline from matching another's prefix.
const custPrefix = (customer: string) => `c\n${JSON.stringify(customer)}\n`;
const intentKey = (id: string) => `p\n${id}`;

/**
 * Store ids that hold no license: companies (`portal:`), a product's trial bookkeeping (`trial:`) and
 * licit's own records (`licit:`: this index, the readiness probe). Reports and lists skip them, and
 * no license is issued under them.
 */
export const PSEUDO_LICENSE_PREFIXES: readonly string[] = RESERVED_ID_PREFIXES;

/** False for a store id that holds no license (see {@link PSEUDO_LICENSE_PREFIXES}). */
export function isLicenseId(id: string): boolean {
  return !PSEUDO_LICENSE_PREFIXES.some((p) => id.startsWith(p));
}

/** One license as the index knows it. */
export interface IndexedLicense {
  readonly licenseId: string;
  /** The customer claim of its newest key, when it has one. */
  readonly customer: string | undefined;
}

interface Indexed {
  readonly customer: string | null;
  readonly issue: number;
}

/** What the registry says of a license now (undefined: nothing registered). */
async function registered(store: Store, licenseId: string): Promise<Indexed | undefined> {
  const info = await store.read(licenseId, (r) => r.get(REGISTRY_KIND, 'info'));
  if (info === undefined) return undefined;
  const summary = (info.summary ?? {}) as JsonObject;
  return { customer: typeof summary.customer === 'string' ? summary.customer : null, issue: typeof info.issues === 'number' ? info.issues : 1 };
}

/** Put `now` into the index unless it holds the same or a newer issue already. */
async function upsert(tx: StoreTx, licenseId: string, now: Indexed): Promise<void> {
  const cur = await tx.get(KIND, licKey(licenseId));
  if (cur !== undefined && typeof cur.issue === 'number' && cur.issue >= now.issue) return;
  if (typeof cur?.customer === 'string') tx.delete(KIND, custPrefix(cur.customer) + licenseId);
  if (now.customer !== null) tx.put(KIND, custPrefix(now.customer) + licenseId, {});
  tx.put(KIND, licKey(licenseId), { customer: now.customer, issue: now.issue });
}

/** Bring the index entry of one license up to what its registry entry says now. */
export async function indexLicense(store: Store, licenseId: string): Promise<void> {
  const now = await registered(store, licenseId);
  if (now !== undefined) await store.transaction(LICENSE_INDEX_ID, (tx) => upsert(tx, licenseId, now));
}

/**
 * Run `register` (a transaction that records a key in the license's registry entry, see
 * registry.ts `recordIssueIn`) with the index kept: an intent before, the entry after. What
 * `register` returns or throws is passed through.
 */
export async function indexedRegistration<T>(store: Store, licenseId: string, register: () => Promise<T>, now: () => number = Date.now): Promise<T> {
  const token = globalThis.crypto.randomUUID();
  await store.transaction(LICENSE_INDEX_ID, async (tx) => tx.put(KIND, intentKey(licenseId), { token, at: now() }));
  let result: T;
  try {
    result = await register();
  } catch (e) {
    await dropIntent(store, licenseId, token).catch(() => undefined);
    throw e;
  }
  const after = await registered(store, licenseId);
  await store.transaction(LICENSE_INDEX_ID, async (tx) => {
    if (after !== undefined) await upsert(tx, licenseId, after);
    if ((await tx.get(KIND, intentKey(licenseId)))?.token === token) tx.delete(KIND, intentKey(licenseId));
  });
  return result;
}

async function dropIntent(store: Store, licenseId: string, token: string): Promise<void> {
  await store.transaction(LICENSE_INDEX_ID, async (tx) => {
    if ((await tx.get(KIND, intentKey(licenseId)))?.token === token) tx.delete(KIND, intentKey(licenseId));
  });
}

/**
 * Make the index whole before reading it: build it once for a store written before it existed
 * (reads every license's registry entry), and settle the intents of registrations that did not
 * finish (or are running now).
 */
export async function ensureLicenseIndex(store: Store, now: () => number = Date.now): Promise<void> {
  const { built, intents } = await store.read(LICENSE_INDEX_ID, async (r) => ({ built: (await r.get(KIND, BUILT)) !== undefined, intents: await r.list(KIND, 'p\n') }));
  if (!built) await rebuildLicenseIndex(store);
  for (const { key, value } of intents) {
    const licenseId = key.slice(2);
    await indexLicense(store, licenseId);
    if (typeof value.at === 'number' && now() - value.at > STALE_INTENT_MS && typeof value.token === 'string') await dropIntent(store, licenseId, value.token);
  }
}

/**
 * Index every license the store holds (once, for a store written before the index; safe to run
 * again at any time: an entry is only replaced by a newer issue's).
 */
export async function rebuildLicenseIndex(store: Store): Promise<number> {
  if (store.licenseIds === undefined) throw new LicenseError('ERR_STORE_UNAVAILABLE', 'this store cannot list its licenses (it has no licenseIds()); use a store licit ships');
  const found: Array<[string, Indexed]> = [];
  for (const id of await store.licenseIds()) {
    if (!isLicenseId(id)) continue;
    const r = await registered(store, id);
    if (r !== undefined) found.push([id, r]);
  }
  await store.transaction(LICENSE_INDEX_ID, async (tx) => {
    await tx.prefetch?.([], [KIND]);
    for (const [id, r] of found) await upsert(tx, id, r);
    tx.put(KIND, BUILT, { licenses: found.length });
  });
  return found.length;
}

/** Every license in the index, by license id (one read of the index; call {@link ensureLicenseIndex} first). */
export async function indexedLicenses(store: Store): Promise<IndexedLicense[]> {
  return store.read(LICENSE_INDEX_ID, async (r) => (await r.list(KIND, 'l\n')).map((e) => ({ licenseId: e.key.slice(2), customer: typeof e.value.customer === 'string' ? e.value.customer : undefined })));
}

/**
 * The licenses whose customer is one of `customers`, and those of `licenseIds` the index holds, by
 * license id: reads only their index entries (call {@link ensureLicenseIndex} first).
 */
export async function indexedLicensesOf(store: Store, owner: { readonly customers: readonly string[]; readonly licenseIds: readonly string[] }): Promise<IndexedLicense[]> {
  const out = new Map<string, IndexedLicense>();
  await store.read(LICENSE_INDEX_ID, async (r) => {
    for (const customer of owner.customers) {
      const p = custPrefix(customer);
      for (const e of await r.list(KIND, p)) out.set(e.key.slice(p.length), { licenseId: e.key.slice(p.length), customer });
    }
    for (const id of owner.licenseIds) {
      if (out.has(id)) continue;
      const v = await r.get(KIND, licKey(id));
      if (v !== undefined) out.set(id, { licenseId: id, customer: typeof v.customer === 'string' ? v.customer : undefined });
    }
  });
  return [...out.values()].sort((a, b) => (a.licenseId < b.licenseId ? -1 : a.licenseId > b.licenseId ? 1 : 0));
}
