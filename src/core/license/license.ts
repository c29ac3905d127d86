/**
 * A verified license: typed claims plus O(1) checks. Immutable; obtain one from `verifyLicense`.
 */
import type { LicenseClaims, UserAuthMode } from './claims.js';
import { LicenseError } from '../errors.js';
import { formatInstant } from '../time/time-words.js';
import { evaluateStatus, maintenanceActive, type LicenseStatus, type StatusReport } from './policy.js';

/**
 * A license whose signature and claims were verified at {@link License.verifiedAt}.
 *
 * @example
 * ```ts
 * const license = await verifyLicense(key, { publicKeys: [vendorPub] })
 * if (license.has('export-pdf')) enableExport()
 * console.log(license.seats.advanced, license.status)
 * ```
 */
export class License {
  /** All claims, typed. */
  readonly claims: LicenseClaims;
  /** Key id of the vendor key that signed it. */
  readonly kid: string;
  /** The license key text, whitespace removed. */
  readonly text: string;
  /** Status at verification time (`valid` or `grace`; other statuses are refused by `verifyLicense`). */
  readonly report: StatusReport;
  readonly #usable: ReadonlySet<string>;
  readonly #features: ReadonlySet<string>;

  /**
   * Normally made by `verifyLicense`; constructing one yourself verifies nothing.
   * `sets` are the precomputed feature sets of `claims` (computed when omitted).
   */
  constructor(claims: LicenseClaims, kid: string, text: string, report: StatusReport, sets: FeatureSets = featureSets(claims)) {
    this.claims = claims;
    this.kid = kid;
    this.text = text;
    this.report = report;
    this.#features = sets.all;
    // Maintenance-gated features drop out once maintenance has ended; decided once, so has() is a set lookup.
    this.#usable = maintenanceActive(claims, report.at) ? sets.all : sets.withoutMaintenance;
  }

  /** License id. */
  get id(): string { return this.claims.licenseId; }
  /** Customer name. */
  get customer(): string | undefined { return this.claims.customer; }
  /** Edition name, e.g. `professional`. */
  get edition(): string | undefined { return this.claims.edition; }
  /** When the vendor issued the key. */
  get issuedAt(): Date { return this.claims.issuedAt; }
  /** Start of validity, when set. */
  get notBefore(): Date | undefined { return this.claims.notBefore; }
  /** License expiry; `undefined` for a perpetual license. */
  get expiresAt(): Date | undefined { return this.claims.expiresAt; }
  /** End of maintenance: releases dated later are refused. */
  get maintenanceExpiresAt(): Date | undefined { return this.claims.maintenanceExpiresAt; }
  /** Days of grace after expiry. */
  get graceDays(): number { return this.claims.graceDays; }
  /** Days a server lease stays verified (default 14). */
  get leaseDays(): number { return this.claims.leaseDays; }
  /** Every licensed feature (including maintenance-gated ones). */
  get features(): ReadonlySet<string> { return this.#features; }
  /** Seats per user type, e.g. `{ basic: 10, advanced: 2 }`. */
  get seats(): Readonly<Record<string, number>> { return this.claims.seats; }
  /** Most license users that may activate. */
  get maxUsers(): number | undefined { return this.claims.maxUsers; }
  /** Most device activations for the license. */
  get maxActivations(): number | undefined { return this.claims.maxActivations; }
  /** Most device activations per license user. */
  get maxUserActivations(): number | undefined { return this.claims.maxUserActivations; }
  /** Most transfers of an activation to another device. */
  get maxTransfers(): number | undefined { return this.claims.maxTransfers; }
  /** Click-charge credits sold. */
  get credits(): number | undefined { return this.claims.credits; }
  /** Credits the vendor already saw consumed (a floor for the ledger). */
  get carriedCredits(): number { return this.claims.carriedCredits; }
  /** Machine fingerprint the license is bound to, when node-locked. */
  get fingerprint(): string | undefined { return this.claims.fingerprint; }
  /** Activations may use an operator-supplied machine id instead of the hardware's. */
  get allowSuppliedMachineId(): boolean { return this.claims.allowSuppliedMachineId; }
  /** How license users prove who they are when activating (`"none"`: a user id is enough). */
  get userAuth(): UserAuthMode { return this.claims.userAuth; }
  /** Free vendor metadata. */
  get meta(): Readonly<Record<string, string>> { return this.claims.meta; }
  /** `valid` or `grace` at verification time. */
  get status(): LicenseStatus { return this.report.status; }
  /** The time the license was verified against. */
  get verifiedAt(): Date { return this.report.at; }

  /** True when `feature` is licensed and usable (maintenance-gated features need active maintenance). O(1). */
  has(feature: string): boolean {
    return this.#usable.has(feature);
  }

  /** Throw `ERR_FEATURE_NOT_LICENSED` unless {@link License.has} is true. */
  require(feature: string): void {
    if (this.#usable.has(feature)) return;
    const why = this.#features.has(feature)
      ? `it is included only while maintenance is active, and maintenance ended on ${this.claims.maintenanceExpiresAt === undefined ? '?' : formatInstant(this.claims.maintenanceExpiresAt)}`
      : `it is not part of this license${this.edition === undefined ? '' : ` (edition ${this.edition})`}`;
    throw new LicenseError('ERR_FEATURE_NOT_LICENSED', `feature "${feature}" is not available: ${why}. Contact the vendor to add it.`, { feature, licenseId: this.id });
  }

  /** Seats licensed for a user type (0 when the type is not licensed). */
  seatsFor(type: string): number {
    return Object.hasOwn(this.claims.seats, type) ? (this.claims.seats[type] as number) : 0;
  }

  /** Status at another instant (pure; no clock guard). */
  statusAt(at: Date): StatusReport {
    return evaluateStatus(this.claims, at);
  }

  /** Claims as JSON-ready data (ISO dates). */
  toJSON(): Record<string, unknown> {
    return claimsToJSON(this.claims);
  }
}

/** A license's features as sets, with and without the maintenance-gated ones. */
export interface FeatureSets {
  readonly all: ReadonlySet<string>;
  readonly withoutMaintenance: ReadonlySet<string>;
}

/** Build the feature sets of a claims object (once per key: `verifyLicense` caches them with the claims). */
export function featureSets(c: LicenseClaims): FeatureSets {
  const all = new Set(c.features);
  if (c.maintenanceFeatures.length === 0) return { all, withoutMaintenance: all };
  const gated = new Set(c.maintenanceFeatures);
  return { all, withoutMaintenance: new Set(c.features.filter((f) => !gated.has(f))) };
}

/** Claims as JSON-ready data: dates as ISO strings, absent claims left out. */
export function claimsToJSON(c: LicenseClaims): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined) continue;
    out[k] = v instanceof Date ? v.toISOString() : v;
  }
  return out;
}
