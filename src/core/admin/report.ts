/**
 * Usage reports over a day, week, month or custom range, computed from a license's audit events
 * (and, optionally, a credits ledger's history). Definitions, exactly:
 *
 * - **In use** (per seat type) at an instant: named seats assigned plus floating leases checked out,
 *   replayed from event 1 (`seat.assigned`/`lease.checked-out` +1, `seat.released`/
 *   `lease.checked-in`/`lease.expired` −1, `seat.reassigned` moves one between types).
 * - **Licensed** at an instant: the newest count an event states (`seats.changed` `to`, or the
 *   `licensed` figure seat events carry); before the first one, that event's prior figure
 *   (`from`, or the figure itself); for a type no event states, `options.licensed[type]`.
 * - **Available licenses**: `max(0, licensed − in use)` at the end of the range (or now, if the
 *   range has not ended).
 * - **Average utilisation**: time-weighted, `∫ in use dt / ∫ licensed dt` over the part of the
 *   range that has elapsed (`null` when nothing was licensed); **peak** is the highest in use.
 * - **Top-ups**: `seats.changed` events in the range that raised a count (seat top-ups) plus
 *   credit top-ups in the range; `automatic` counts those of either made automatically
 *   (`source: 'auto'`: the top-up hook, the server's alert settings, an installation's granted ask).
 * - **Licenses added**: the sum of `to − from` over those seat top-ups.
 * - **Credits consumed**: the sum of `consume` and `carry` amounts of the ledger history in the
 *   range when one is given, else of `credits.consumed` events; credits added likewise from
 *   `topup` records or `credits.topped-up` events.
 * - **End-of-month additions**: for every calendar month the range touches, the licenses added and
 *   credit top-ups over the *whole* month (what an invoice covers), even where the range cuts it.
 * - **Activations** and **license users** ({@link LimitReport}, beside the seat types): devices
 *   activated and users added, against `options.maxActivations` / `options.maxUsers`. In use is the
 *   `inUse` figure the event states when it has one (`device.activated`, `device.deactivated`,
 *   `device.reset`, `user.activations-reset` for activations; `user.added`, `user.removed` for
 *   users), else replayed (+1 / −1, `device.reset` −its users, `user.activations-reset` and
 *   `user.removed` −their devices). `device.transferred` moves an activation and changes nothing.
 *
 * Events are taken in sequence order; an event stamped earlier than the one before (clock skew
 * between servers) counts at the earlier event's time.
 */
import type { AuditEvent, Store } from '../store/store.js';
import { readVerifiedLog } from './audit-chain.js';
import { resolveRange, type RangeSpec } from './range.js';
import { resolveZonedRange } from './zoned-range.js';
import { toClock } from '../time/clock.js';
import { EventReplay, LIMIT_NAMES } from './report-replay.js';
import { Timeline } from './report-timeline.js';
import type { LimitName, LimitReport, ReportBucket, ReportOptions, SeatTypeReport, UsageReport } from './report-types.js';

// The report's steps live beside it: event replay (report-replay.ts), time integration over the
// range and its buckets (report-timeline.ts), and the shapes (report-types.ts). This file assembles.
export type { CreditHistoryEntry, LimitName, LimitReport, MonthAdditions, ReportBucket, ReportOptions, SeatTypeReport, UsageReport } from './report-types.js';

/**
 * Read a license's events from `store` and compute its report (see the module comment for the
 * exact definitions). The license server's `GET /v1/admin/reports` is this call.
 *
 * @example
 * ```ts
 * const r = await computeReport(store, 'lic-1', 'month', { licensed: license.seats })
 * console.log(r.seats.map((s) => `${s.type}: ${s.available} left, ${Math.round((s.averageUtilisation ?? 0) * 100)} % used`))
 * ```
 */
export async function computeReport(store: Store, licenseId: string, range: RangeSpec, options: ReportOptions = {}): Promise<UsageReport> {
  const events = options.verify === true ? (await readVerifiedLog(store, licenseId)).events : await store.events(licenseId);
  return buildReport(licenseId, events, range, options);
}

/** {@link computeReport} over events already read (pure; one pass). */
export function buildReport(licenseId: string, events: readonly AuditEvent[], range: RangeSpec, options: ReportOptions = {}): UsageReport {
  const now = toClock(options.now, 'the report option now')();
  const r = options.timeZone === undefined ? resolveRange(range, now) : resolveZonedRange(range, now, options.timeZone);
  const time = new Timeline(r, now);
  const replay = new EventReplay(r, time, options);
  replay.run(events);
  time.carryBucketEnds();
  const { types, limits } = replay;
  const nb = time.nb;
  const edges = time.edges;

  const seats: SeatTypeReport[] = [];
  let totUsed = 0;
  let totLic = 0;
  for (const [type, a] of [...types].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const { inUse, licensed } = a.end ?? { inUse: 0, licensed: a.licensed ?? 0 };
    totUsed += a.usedMs;
    totLic += a.licMs;
    seats.push({ type, licensed, inUse, available: Math.max(0, licensed - inUse), averageUtilisation: a.licMs > 0 ? a.usedMs / a.licMs : null, peakInUse: a.peak, topUps: a.topUps, licensesAdded: a.added });
  }
  const limitRows: LimitReport[] = [];
  for (const name of LIMIT_NAMES) {
    const a = limits.get(name);
    if (a === undefined) continue;
    const inUse = a.end?.inUse ?? 0;
    const licensed = a.licensed ?? null;
    limitRows.push({ type: name, licensed, inUse, available: licensed === null ? null : Math.max(0, licensed - inUse), averageUtilisation: a.licMs > 0 ? a.usedMs / a.licMs : null, peakInUse: a.peak });
  }
  const series: ReportBucket[] = [];
  for (let b = 0; b < nb; b++) {
    const utilisation: Record<string, number | null> = {};
    const inUse: Record<string, number> = {};
    for (const [type, a] of types) {
      utilisation[type] = (a.bLic[b] as number) > 0 ? (a.bUsed[b] as number) / (a.bLic[b] as number) : null;
      if (!Number.isNaN(a.bEnd[b] as number)) inUse[type] = a.bEnd[b] as number;
    }
    const limitUtilisation: Partial<Record<LimitName, number | null>> = {};
    const limitInUse: Partial<Record<LimitName, number>> = {};
    for (const [name, a] of limits) {
      limitUtilisation[name] = (a.bLic[b] as number) > 0 ? (a.bUsed[b] as number) / (a.bLic[b] as number) : null;
      if (!Number.isNaN(a.bEnd[b] as number)) limitInUse[name] = a.bEnd[b] as number;
    }
    series.push({ from: new Date(edges[b] as number).toISOString(), to: new Date(edges[b + 1] as number).toISOString(), utilisation, inUse, limitUtilisation, limitInUse, creditsConsumed: replay.bCredits[b] as number, licensesAdded: replay.bAdded[b] as number });
  }
  const totalLicensed = seats.reduce((s, x) => s + x.licensed, 0);
  const totalInUse = seats.reduce((s, x) => s + x.inUse, 0);
  return {
    licenseId,
    range: { kind: r.kind, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(), until: new Date(time.until).toISOString(), unit: r.unit },
    generatedAt: new Date(now).toISOString(),
    seats,
    limits: limitRows,
    totals: { licensed: totalLicensed, inUse: totalInUse, available: seats.reduce((s, x) => s + x.available, 0), averageUtilisation: totLic > 0 ? totUsed / totLic : null },
    topUps: { seats: replay.seatTopUps, automatic: replay.automatic, credits: replay.creditTopUps, total: replay.seatTopUps + replay.creditTopUps },
    licensesAdded: replay.licensesAdded,
    credits: { consumed: replay.consumed, added: replay.creditsAdded, source: replay.useLedger ? 'ledger' : 'audit' },
    alertsRaised: replay.alertsRaised,
    events: replay.inRangeEvents,
    monthly: [...replay.months].map(([month, m]) => ({ month, licensesAdded: m.added, byType: Object.fromEntries(m.byType), seatTopUps: m.seatTopUps, creditTopUps: m.creditTopUps, creditsAdded: m.creditsAdded })),
    series,
  };
}
