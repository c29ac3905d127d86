/**
 * What `Licensing` believes about time and its lease, kept as precomputed deadlines in ms so every
 * check compares numbers only (no I/O, no await). Trusted time never goes back: a clock set back
 * cannot stretch a lease; only a fresh lease's server time may move it (`anchor`).
 */
import { LicenseError } from '../../core/errors.js';
import type { Lease } from '../../core/exchange/lease.js';
import type { License } from '../../core/license/license.js';
import type { LeaseStatus } from './options.js';

const DAY = 86_400_000;

export class LeaseState {
  #license!: License;
  #lease: Lease | undefined;
  readonly #clock: () => number;
  #until = -Infinity;
  #graceUntil = -Infinity;
  #licenseEnd = Infinity;
  /** Highest time believed (ms): the clock never moves it back. */
  #highest = 0;
  /** Why the server refused the last renewal; no grace beyond `verifiedUntil` while set. */
  #refused: LicenseError | undefined;

  constructor(license: License, clock: () => number) {
    this.#clock = clock;
    this.setLicense(license);
  }

  get license(): License {
    return this.#license;
  }

  get lease(): Lease | undefined {
    return this.#lease;
  }

  /** End of verification in ms (-Infinity before activation). */
  get until(): number {
    return this.#until;
  }

  /** End of the grace period in ms (-Infinity before activation). */
  get graceUntil(): number {
    return this.#graceUntil;
  }

  /** Trusted time now: the clock, never below the highest time believed before. */
  time(): number {
    const c = this.#clock();
    if (c > this.#highest) this.#highest = c;
    return this.#highest;
  }

  /** Set the trusted time outright: the installation's high-water mark, or a fresh lease's signed time. */
  anchor(ms: number): void {
    this.#highest = ms;
  }

  statusAt(t: number): LeaseStatus {
    if (this.#lease === undefined) return 'unactivated';
    if (t <= this.#until) return 'verified';
    if (t <= this.#graceUntil) return 'grace';
    return 'expired';
  }

  /** True when the installation may run at `t` and `feature` is licensed. */
  has(feature: string, t: number): boolean {
    if (t > this.#licenseEnd || t > this.#graceUntil) return false;
    return this.#license.has(feature);
  }

  /** `ERR_LICENSE_EXPIRED` past the license's own end (and its grace days). */
  checkLicenseEnd(t: number): void {
    if (t > this.#licenseEnd) throw new LicenseError('ERR_LICENSE_EXPIRED', `license ${this.#license.id} has expired; renew the subscription with the vendor`, { licenseId: this.#license.id });
  }

  /** `ERR_ACTIVATION_NOT_FOUND` before activation, `ERR_LEASE_EXPIRED` after verification and grace ran out. */
  checkStatus(s: LeaseStatus): void {
    if (s === 'verified' || s === 'grace') return;
    if (s === 'unactivated') throw new LicenseError('ERR_ACTIVATION_NOT_FOUND', `this installation is not activated for license ${this.#license.id}; activate it online or with a request code`, { licenseId: this.#license.id });
    const why = this.#refused === undefined ? 'the license server could not be reached before the grace period ended' : `the license server refused renewal (${this.#refused.code})`;
    throw new LicenseError('ERR_LEASE_EXPIRED', `the license verification expired on ${new Date(this.#until).toISOString()} and ${why}. Connect to the internet, or renew offline with a request code.`, {
      licenseId: this.#license.id,
      verifiedUntil: new Date(this.#until).toISOString(),
    });
  }

  setLicense(license: License): void {
    this.#license = license;
    this.#licenseEnd = license.expiresAt === undefined ? Infinity : license.expiresAt.getTime() + license.graceDays * DAY;
  }

  setLease(lease: Lease): void {
    this.#lease = lease;
    this.#until = lease.verifiedUntil.getTime();
    this.#graceUntil = this.#refused === undefined ? this.#until + this.#license.graceDays * DAY : this.#until;
    if (lease.serverTime.getTime() > this.#highest) this.#highest = lease.serverTime.getTime();
  }

  /** The installation was deactivated: no lease, nothing verified. */
  forget(): void {
    this.#lease = undefined;
    this.#until = -Infinity;
    this.#graceUntil = -Infinity;
  }

  /** The server refused a renewal (device reset, machine changed, license revoked): no grace beyond `verifiedUntil`. */
  refuse(error: LicenseError): void {
    this.#refused = error;
    this.#graceUntil = this.#until;
  }

  /** A lease answered a request of ours: a refusal before it no longer counts. */
  answered(): void {
    this.#refused = undefined;
  }
}
