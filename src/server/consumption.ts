/**
 * The license's consumption as the server counts it: what every ledger it ever had reported,
 * added up so that deleting, restoring or copying ledgers never returns a credit (docs/credits.md,
 * "Several installations, one license"), and what no honest installation can report.
 */
import { adminEvent } from '../core/admin/events.js';
import { LicenseError } from '../core/errors.js';
import type { ExchangeRequest } from '../core/exchange/request.js';
import type { License } from '../core/license/license.js';
import type { JsonValue, StoreReader, StoreTx } from '../core/store/store.js';
import { KINDS } from './kinds.js';

/** Installations one ledger may be reported from (a move adds one; more is a ledger copied around). */
const MAX_LEDGER_PARTS = 16;

/** Reported usage no honest installation can have: more spent than was ever sold, more seats than licensed. */
export function checkPlausible(license: License, req: ExchangeRequest, allowance: number): void {
  if (req.spent !== undefined && req.spent > allowance) {
    throw new LicenseError('ERR_EXCHANGE_IMPLAUSIBLE', `the installation reports ${req.spent} credits spent on license ${license.id}, which sold ${allowance} with its top-ups; its ledger is damaged or edited. Contact the vendor.`, { licenseId: license.id, reported: req.spent, allowance, reason: 'credits' });
  }
  if (req.spent === undefined && req.consumed !== undefined && req.consumed > Math.max(allowance, license.carriedCredits)) {
    throw new LicenseError('ERR_EXCHANGE_IMPLAUSIBLE', `the installation reports ${req.consumed} credits consumed on license ${license.id}, which sold ${allowance} with its top-ups. Contact the vendor.`, { licenseId: license.id, reported: req.consumed, allowance, reason: 'credits' });
  }
  for (const [type, n] of Object.entries(req.seats ?? {})) {
    const licensed = license.seatsFor(type);
    if (n > licensed) {
      throw new LicenseError('ERR_EXCHANGE_IMPLAUSIBLE', `the installation reports ${n} ${type} seats in use on license ${license.id}, which has ${licensed}. Contact the vendor.`, { licenseId: license.id, type, reported: n, licensed, reason: 'seats' });
    }
  }
}

/**
 * Add what this request's ledger spent since it last reported to the license's total. Ledgers are
 * told apart by their id (the hash of their first record), so a ledger deleted and re-created adds
 * up instead of replacing, and a ledger restored from a backup reports less and adds nothing. A
 * ledger copied to another installation (the license moved to new hardware, or a copy made to fork
 * it) continues from the most the vendor knew of it: a move counts once, and a fork's second branch
 * adds everything it spends after its first report. Raises `credits.consumed`, and
 * `credits.overspent` when installations between renewals spent more than the license allows.
 * Returns the license's total consumption.
 */
export async function addSpent(tx: StoreTx, req: ExchangeRequest, now: number, allowance: number): Promise<number> {
  let total = await licenseTotalIn(tx, now);
  // An older licit reports only its running total: counted as this installation's own ledger.
  const spent = req.spent ?? req.consumed;
  if (spent === undefined) return total;
  const ledgerKey = req.ledgerId ?? `installation-${req.installationId}`;
  const rec = (await tx.get(KINDS.spent, ledgerKey)) ?? {};
  const parts = readParts(rec.parts);
  let part = parts.get(req.installationId);
  if (part === undefined) {
    if (parts.size >= MAX_LEDGER_PARTS) throw new LicenseError('ERR_EXCHANGE_IMPLAUSIBLE', `one credit ledger of license ${req.licenseId} was reported by ${MAX_LEDGER_PARTS} installations; it is being copied around. Contact the vendor.`, { licenseId: req.licenseId, reason: 'ledger-copies' });
    const base = Math.max(0, ...[...parts.values()].map((p) => p.spent));
    // A copy taken before the ledger's newest report (or from an older backup) continues from
    // where it is: what it spends from there on is spent again, not a replay of counted credits.
    part = { base, spent: base, last: Math.min(spent, base) };
  } else if (spent === part.last) return total;
  // Counted: every rise since this installation's last report of this ledger. A report below the
  // last one is a ledger restored from a backup (or an installation cloned with its files): its
  // next lease raises it to the floor again, and what it spends from here on is counted, even up
  // to a height it had reached before (which only the lost timeline's spending had reached).
  const delta = Math.max(0, spent - part.last);
  parts.set(req.installationId, { base: part.base, spent: Math.max(spent, part.spent), last: spent });
  const at = new Date(now).toISOString();
  tx.put(KINDS.spent, ledgerKey, { parts: Object.fromEntries([...parts].map(([k, v]) => [k, { base: v.base, spent: v.spent, last: v.last }])), at });
  if (delta === 0) return total;
  const wasOver = total > allowance;
  total += delta;
  tx.put(KINDS.credits, 'total', { spent: total, at });
  tx.append(adminEvent(now, 'system', 'credits.consumed', { amount: delta, consumed: total, device: req.installationId }));
  if (total > allowance && !wasOver) tx.append(adminEvent(now, 'system', 'credits.overspent', { consumed: total, allowance, over: total - allowance, device: req.installationId }));
  return total;
}

/**
 * Installations that reported one ledger: what it had spent when each first reported it, the most
 * each reported, and what each reported last (records written before `last` existed: their most).
 */
function readParts(v: JsonValue | undefined): Map<string, { base: number; spent: number; last: number }> {
  const out = new Map<string, { base: number; spent: number; last: number }>();
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [k, p] of Object.entries(v)) {
    if (p !== null && typeof p === 'object' && !Array.isArray(p) && typeof p.base === 'number' && typeof p.spent === 'number') {
      out.set(k, { base: p.base, spent: p.spent, last: typeof p.last === 'number' ? p.last : p.spent });
    }
  }
  return out;
}

/** The license's whole known consumption, as {@link addSpent} keeps it. */
export async function licenseTotal(r: StoreReader): Promise<number> {
  const totalRec = await r.get(KINDS.credits, 'total');
  return typeof totalRec?.spent === 'number' ? totalRec.spent : legacyTotal(r);
}

/**
 * {@link licenseTotal} inside a transaction: a store written by an older licit gets its total
 * record written once, so no later exchange walks every installation record again (each holds its
 * nonces: that walk grew with the license's installations and requests).
 */
export async function licenseTotalIn(tx: StoreTx, now: number): Promise<number> {
  const totalRec = await tx.get(KINDS.credits, 'total');
  if (typeof totalRec?.spent === 'number') return totalRec.spent;
  const total = await legacyTotal(tx);
  tx.put(KINDS.credits, 'total', { spent: total, at: new Date(now).toISOString() });
  return total;
}

/** The total of a store written by an older licit (per-installation running totals), read once. */
async function legacyTotal(r: StoreReader): Promise<number> {
  let n = 0;
  for (const e of await r.list(KINDS.installation)) if (typeof e.value.consumed === 'number') n = Math.max(n, e.value.consumed);
  return n;
}

