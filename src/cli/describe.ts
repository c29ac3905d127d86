/** Readable rendering of license claims for the CLI. */
import type { LicenseClaims } from '../index.node.js';
import { describeEnd, formatInstant } from '../cli-internals.js';

/** The exact instant, ISO with Z: `2028-01-01T00:00:00Z`, never a bare day that hides which end of it is meant. */
const at = (d: Date | undefined, none: string) => (d === undefined ? none : formatInstant(d));
/** An end (expiry, maintenance): the instant, and the last whole UTC day it covers when it falls on midnight. */
const end = (d: Date | undefined, none: string) => (d === undefined ? none : describeEnd(d));

/** Claims as aligned "label: value" lines. */
export function describeClaims(c: LicenseClaims): string {
  const rows: [string, string | undefined][] = [
    ['license id', c.licenseId],
    ['customer', c.customer],
    ['issuer', c.issuer],
    ['edition', c.edition],
    ['issued', at(c.issuedAt, '')],
    ['not before', c.notBefore && at(c.notBefore, '')],
    ['expires', end(c.expiresAt, 'never (perpetual)')],
    ['grace period', c.graceDays > 0 ? `${c.graceDays} day(s)` : undefined],
    ['maintenance until', c.maintenanceExpiresAt && end(c.maintenanceExpiresAt, '')],
    ['lease interval', `${c.leaseDays} day(s)`],
    ['features', c.features.length > 0 ? c.features.map((f) => (c.maintenanceFeatures.includes(f) ? `${f} (maintenance)` : f)).join(', ') : '(none)'],
    ['seats', Object.keys(c.seats).length > 0 ? Object.entries(c.seats).map(([t, n]) => `${t}=${n}`).join(', ') : undefined],
    ['max users', c.maxUsers?.toString()],
    ['max activations', c.maxActivations?.toString()],
    ['max per user', c.maxUserActivations?.toString()],
    ['max transfers', c.maxTransfers?.toString()],
    ['credits', c.credits?.toString()],
    ['carried credits', c.carriedCredits > 0 ? c.carriedCredits.toString() : undefined],
    ['node-locked to', c.fingerprint],
    ['machine ids', c.allowSuppliedMachineId ? 'operator-supplied ids allowed' : undefined],
    ['user sign-in', c.userAuth !== 'none' ? c.userAuth : undefined],
    ['meta', Object.keys(c.meta).length > 0 ? Object.entries(c.meta).map(([k, v]) => `${k}=${v}`).join(', ') : undefined],
  ];
  return rows
    .filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '')
    .map(([k, v]) => `  ${k.padEnd(18)} ${v}`)
    .join('\n');
}
