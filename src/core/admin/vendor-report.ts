/**
 * Vendor-wide reports: usage, top-ups and additions across every license the store holds,
 * grouped per customer, per license type (edition) or per license, over a range in a time zone
 * the vendor names. Each license's figures are its own report (report.ts, the same replay
 * `licit report` shows); this module only adds them up. Customer and edition come from the
 * license registry (registry.ts); a license the registry does not hold is grouped as unknown.
 */
import { LicenseError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { NowOption } from '../time/clock.js';
import { toClock } from '../time/clock.js';
import type { RangeSpec } from './range.js';
import { computeReport } from './report.js';
import { REGISTRY_KIND } from './registry.js';
import { isLicenseId } from './license-index.js';

/** How a vendor report groups licenses. */
export type VendorReportGrouping = 'customer' | 'edition' | 'license';

/** Options of {@link computeVendorReport}. */
export interface VendorReportOptions {
  /** Group per customer (default), license type (edition) or license. */
  readonly by?: VendorReportGrouping | undefined;
  /** IANA time zone of the range's calendar (`Europe/Berlin`); default UTC. */
  readonly timeZone?: string | undefined;
  /** The clock (`() => ms`); default `Date.now`. */
  readonly now?: NowOption | undefined;
  /** Verify each license's audit hash chain before counting it (`ERR_AUDIT_TAMPERED` otherwise). */
  readonly verify?: boolean | undefined;
}

/** One group's figures, summed over its licenses. */
export interface VendorReportGroup {
  /** The customer, the edition, or the license id; `(unknown)` when the registry does not say. */
  readonly key: string;
  /** The licenses in the group. */
  readonly licenses: readonly string[];
  /** Seats licensed at the end of the range, all types. */
  readonly seatsLicensed: number;
  /** Seats in use at the end of the range, all types. */
  readonly seatsInUse: number;
  /** Average utilisation over the range, weighted by seats licensed (`null` without seats). */
  readonly averageUtilisation: number | null;
  /** Seats added by top-ups within the range. */
  readonly licensesAdded: number;
  /** Top-ups within the range. */
  readonly topUps: { readonly seats: number; readonly credits: number; readonly total: number };
  /** Credits consumed and added within the range. */
  readonly credits: { readonly consumed: number; readonly added: number };
  /** Threshold alerts raised within the range. */
  readonly alertsRaised: number;
  /** Audit events within the range. */
  readonly events: number;
}

/** A vendor-wide report. */
export interface VendorReport {
  readonly range: { readonly kind: string; readonly from: string; readonly to: string; readonly timeZone: string };
  readonly by: VendorReportGrouping;
  readonly generatedAt: string;
  /** Groups by key. */
  readonly groups: readonly VendorReportGroup[];
  /** Every license together. */
  readonly totals: Omit<VendorReportGroup, 'key'>;
}

type Acc = { licenses: string[]; seatsLicensed: number; seatsInUse: number; weighted: number; weight: number; licensesAdded: number; seatTopUps: number; creditTopUps: number; consumed: number; added: number; alerts: number; events: number };
const empty = (): Acc => ({ licenses: [], seatsLicensed: 0, seatsInUse: 0, weighted: 0, weight: 0, licensesAdded: 0, seatTopUps: 0, creditTopUps: 0, consumed: 0, added: 0, alerts: 0, events: 0 });

function finish(a: Acc): Omit<VendorReportGroup, 'key'> {
  return {
    licenses: a.licenses,
    seatsLicensed: a.seatsLicensed,
    seatsInUse: a.seatsInUse,
    averageUtilisation: a.weight === 0 ? null : a.weighted / a.weight,
    licensesAdded: a.licensesAdded,
    topUps: { seats: a.seatTopUps, credits: a.creditTopUps, total: a.seatTopUps + a.creditTopUps },
    credits: { consumed: a.consumed, added: a.added },
    alertsRaised: a.alerts,
    events: a.events,
  };
}

/**
 * The vendor-wide report over `range`: every license the store lists, each reported as
 * `computeReport` reports it (with its registered seat counts), summed per group.
 *
 * @example
 * ```ts
 * const r = await computeVendorReport(store, 'month', { by: 'customer', timeZone: 'Europe/Berlin' })
 * for (const g of r.groups) console.log(g.key, g.seatsInUse, g.credits.consumed)
 * ```
 */
export async function computeVendorReport(store: Store, range: RangeSpec, options: VendorReportOptions = {}): Promise<VendorReport> {
  const by = options.by ?? 'customer';
  if (!['customer', 'edition', 'license'].includes(by)) throw new LicenseError('ERR_USAGE', `a vendor report groups by customer, edition or license, got "${String(by)}"`);
  if (store.licenseIds === undefined) throw new LicenseError('ERR_STORE_UNAVAILABLE', 'this store cannot list its licenses (it has no licenseIds()); use a store licit ships');
  const now = toClock(options.now, 'the report option now')();
  const groups = new Map<string, Acc>();
  const total = empty();
  let rangeInfo: VendorReport['range'] | undefined;
  // Companies (portal:), trials' bookkeeping (trial:) and licit's own records (licit:) are no licenses.
  for (const id of (await store.licenseIds()).filter(isLicenseId)) {
    const info = await store.read(id, (r) => r.get(REGISTRY_KIND, 'info'));
    const summary = (info?.summary ?? {}) as { customer?: unknown; edition?: unknown; seats?: unknown; maxActivations?: unknown; maxUsers?: unknown };
    const seats = summary.seats !== null && typeof summary.seats === 'object' ? (summary.seats as Record<string, number>) : undefined;
    const r = await computeReport(store, id, range, {
      now: () => now,
      timeZone: options.timeZone,
      verify: options.verify === true,
      ...(seats === undefined ? {} : { licensed: seats }),
      ...(typeof summary.maxActivations === 'number' ? { maxActivations: summary.maxActivations } : {}),
      ...(typeof summary.maxUsers === 'number' ? { maxUsers: summary.maxUsers } : {}),
    });
    rangeInfo ??= { kind: r.range.kind, from: r.range.from, to: r.range.to, timeZone: options.timeZone ?? 'UTC' };
    const key = by === 'license' ? id : typeof summary[by] === 'string' ? (summary[by] as string) : '(unknown)';
    const acc = groups.get(key) ?? empty();
    groups.set(key, acc);
    for (const a of [acc, total]) {
      a.licenses.push(id);
      a.seatsLicensed += r.totals.licensed;
      a.seatsInUse += r.totals.inUse;
      if (r.totals.averageUtilisation !== null && r.totals.licensed > 0) {
        a.weighted += r.totals.averageUtilisation * r.totals.licensed;
        a.weight += r.totals.licensed;
      }
      a.licensesAdded += r.licensesAdded;
      a.seatTopUps += r.topUps.seats;
      a.creditTopUps += r.topUps.credits;
      a.consumed += r.credits.consumed;
      a.added += r.credits.added;
      a.alerts += r.alertsRaised;
      a.events += r.events;
    }
  }
  if (rangeInfo === undefined) {
    // No license: still say which range was asked for.
    const r = await computeReport(store, 'licit:empty-report', range, { now: () => now, timeZone: options.timeZone });
    rangeInfo = { kind: r.range.kind, from: r.range.from, to: r.range.to, timeZone: options.timeZone ?? 'UTC' };
  }
  return {
    range: rangeInfo,
    by,
    generatedAt: new Date(now).toISOString(),
    groups: [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, a]) => ({ key, ...finish(a) })),
    totals: finish(total),
  };
}
