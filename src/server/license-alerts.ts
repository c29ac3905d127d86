/**
 * The license server acting on each license's alert settings (core/admin/license-settings.ts):
 * after a commit that may have moved a license's seats or credits, an `AlertMonitor` with rules
 * built from the settings checks the figures the administrators see, raises and clears alerts
 * once per crossing across every server process, and makes automatic top-ups through the vendor's
 * own code with the monitor's idempotency key: credits as a top-up token (`Vendor.topUp`), seats as
 * a re-issued key (`addSeats`); a retry lands on the same token or re-issue.
 *
 * Checks run after the change committed and outside the request that made it: the observer only
 * marks the license, and one check per license runs at a time (changes arriving meanwhile are
 * coalesced into one more check). A failed check is logged and never reaches the client. The
 * notifications themselves are the monitor's audit events, annotated with the recipients of their
 * kind, which webhooks deliver.
 */
import { AlertMonitor, seatsObservation, type AlertCheck, type AlertObservation, type MonitorEventKind } from '../core/admin/alerts.js';
import { NOTIFICATION_EVENTS, NOTIFICATION_KINDS, recipientsFor, settingsRules, type NotificationKind, type RulePurpose } from '../core/admin/license-settings.js';
import { licenseStateIn } from '../core/admin/registry.js';
import { settingsIn, type StoredSettings } from '../core/admin/settings-record.js';
import { isLicenseError, LicenseError } from '../core/errors.js';
import type { License } from '../core/license/license.js';
import { SeatManager } from '../core/seats/index.js';
import type { JsonObject } from '../core/store/store.js';
import { creditBalance, creditFigures } from './credit-figures.js';
import { addSeats } from './reissue.js';
import type { Vendor } from './vendor.js';

/** Options of the server's alerts (`createLicenseServer({ alerts })`). */
export interface ServerAlertsOptions {
  /** Told about a check that failed (default: one line on stderr). The exchange that triggered it is not affected. */
  readonly onError?: ((failure: { licenseId: string; error: string }) => void) | undefined;
  /** First retry delay of a failed automatic top-up (default 60 s, doubling); it is retried at the license's first check after that. */
  readonly retryMs?: number | undefined;
  /** Tries of one automatic top-up before giving up (default 8; the last `topup.failed` says `final: true`). */
  readonly maxAttempts?: number | undefined;
  /**
   * How long a license found without thresholds is not read again (default 30 000 ms; 0: read
   * after every change). Settings saved through this process take effect at once; saved through
   * another process on the same store, within this time.
   */
  readonly unsetCacheMs?: number | undefined;
}

/** Licenses remembered as having nothing to check, at most (the oldest are forgotten first). */
const MAX_UNSET = 100_000;

/** The actor of the events the server's alerts write. */
export const ALERTS_ACTOR = 'alerts';

/**
 * Event kinds after which seats in use, seats licensed or credits may have moved, or the
 * thresholds themselves changed. Anything else (the monitor's own `alert.*` and `topup.*`, a
 * device renamed) schedules nothing, which is also what keeps a check from scheduling itself.
 */
const MOVES: ReadonlySet<string> = new Set([
  'credits.consumed',
  'credits.topped-up',
  'seats.changed',
  'seat.assigned',
  'seat.reassigned',
  'seat.released',
  'lease.checked-out',
  'lease.checked-in',
  'lease.expired',
  'user.removed',
  'user.revoked',
  'license.registered',
  'license.reinstated',
  'settings.changed',
]);

/** Refusals that mean "nothing to check on this license now" rather than a failure. */
const QUIET = new Set(['ERR_LICENSE_NOT_REGISTERED', 'ERR_LICENSE_EXPIRED', 'ERR_LICENSE_NOT_YET_VALID', 'ERR_KEY_UNKNOWN_SIGNER']);

/**
 * Checks licenses' alerts after the commits that concern them.
 *
 * @example
 * ```ts
 * const server = createLicenseServer({ signingKey, store })
 * // … an exchange or an admin action commits …
 * await server.alerts?.idle() // the checks it scheduled have run
 * ```
 */
export class ServerAlerts {
  readonly #vendor: Vendor;
  readonly #options: ServerAlertsOptions;
  readonly #dirty = new Set<string>();
  readonly #running = new Map<string, Promise<void>>();
  /**
   * Licenses last found with no thresholds, and until when that is trusted: most licenses have
   * none, and a renewal that reports consumption would otherwise cost a store read each.
   */
  readonly #unset = new Map<string, number>();

  constructor(vendor: Vendor, options: ServerAlertsOptions = {}) {
    this.#vendor = vendor;
    this.#options = options;
  }

  /** A commit appended `kinds` to `licenseId`: check its alerts soon (never now, never awaited). */
  notify(licenseId: string, kinds: ReadonlySet<string>): void {
    let moved = false;
    for (const k of kinds) if (MOVES.has(k)) moved = true;
    if (!moved) return;
    if (kinds.has('settings.changed')) this.#unset.delete(licenseId);
    else if ((this.#unset.get(licenseId) ?? 0) > Date.now()) return;
    this.#dirty.add(licenseId);
    if (!this.#running.has(licenseId)) this.#kick(licenseId);
  }

  /** Resolve once no check is scheduled or running (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()]);
  }

  #kick(licenseId: string): void {
    const run = (async () => {
      // A timer turn first: the request that committed answers before the check starts.
      await new Promise((r) => setImmediate(r));
      while (this.#dirty.delete(licenseId)) {
        try {
          await this.check(licenseId);
        } catch (e) {
          this.#report(licenseId, e);
        }
      }
    })().finally(() => this.#running.delete(licenseId));
    this.#running.set(licenseId, run);
  }

  /** Remember that `licenseId` has no thresholds, for `unsetCacheMs`. */
  #nothingToCheck(licenseId: string): undefined {
    const ms = this.#options.unsetCacheMs ?? 30_000;
    if (ms <= 0) return undefined;
    this.#unset.delete(licenseId);
    this.#unset.set(licenseId, Date.now() + ms);
    if (this.#unset.size > MAX_UNSET) this.#unset.delete(this.#unset.keys().next().value as string);
    return undefined;
  }

  #report(licenseId: string, e: unknown): void {
    const error = e instanceof Error ? e.message : String(e);
    if (this.#options.onError !== undefined) this.#options.onError({ licenseId, error });
    else process.stderr.write(`${new Date().toISOString()} licit alerts: checking license ${licenseId} failed (${error}); it is checked again at its next change\n`);
  }

  /**
   * Check one license now: its settings' rules against its figures. Undefined when there is
   * nothing to check (no settings, no rules, a license this server cannot use now). Throws what
   * the store throws; top-up failures are recorded by the monitor, not thrown.
   */
  async check(licenseId: string): Promise<AlertCheck | undefined> {
    const v = this.#vendor;
    const found = await v.store.read(licenseId, async (r) => ({ settings: await settingsIn(r), state: (await licenseStateIn(r)).state }));
    if (found.settings === undefined) return this.#nothingToCheck(licenseId);
    if (found.state !== 'active') return undefined;
    const stored = found.settings;
    const { rules, purposes } = settingsRules(stored.settings, stored.stamps);
    if (rules.length === 0) return this.#nothingToCheck(licenseId);
    let license: License;
    try {
      license = (await v.license(licenseId)).license;
    } catch (e) {
      if (isLicenseError(e) && QUIET.has(e.code)) return undefined;
      throw e;
    }
    const monitor = new AlertMonitor(v.store, licenseId, {
      rules,
      now: v.now,
      actor: ALERTS_ACTOR,
      ...(this.#options.retryMs === undefined ? {} : { retryMs: this.#options.retryMs }),
      ...(this.#options.maxAttempts === undefined ? {} : { maxAttempts: this.#options.maxAttempts }),
      annotate: (kind, details) => annotate(stored, purposes, kind, details),
      topUp: async (req): Promise<JsonObject> => {
        const { credits, seats, type } = req.want;
        if (typeof credits === 'number') {
          // The vendor's own top-up: signed, stored for the next lease, audited as credits.topped-up.
          const r = await v.topUp(license, { credits, idempotencyKey: req.idempotencyKey, source: 'auto', actor: ALERTS_ACTOR });
          return { credits: r.credits, tokenId: r.tokenId, added: r.added };
        }
        if (typeof seats === 'number' && typeof type === 'string') {
          // A re-issue with the type's count raised (seats.changed, source auto), which installations
          // get with their next lease; the same key again returns the first re-issue, adding nothing.
          const r = await addSeats({ store: v.store, signingKey: v.signer, now: v.now }, licenseId, type, seats, { source: 'auto', actor: ALERTS_ACTOR, idempotencyKey: req.idempotencyKey });
          return { type: r.type, seats, from: r.from, to: r.to, issue: r.issue, added: r.reissued };
        }
        throw new LicenseError('ERR_INTERNAL', `an automatic top-up rule of license ${licenseId} asks for neither credits nor seats`);
      },
    });
    return monitor.check(await this.#observe(license, rules.some((r) => r.metric === 'seats'), rules.some((r) => r.metric === 'credits')));
  }

  /** The figures the rules need, as the portal's seats and credits pages show them. */
  async #observe(license: License, seats: boolean, credits: boolean): Promise<AlertObservation> {
    const v = this.#vendor;
    const o: { seats?: AlertObservation['seats']; credits?: AlertObservation['credits'] } = {};
    if (seats) o.seats = seatsObservation(await new SeatManager(v.store, license, { now: v.now, actor: ALERTS_ACTOR }).usage());
    if (credits) {
      const b = creditBalance(await creditFigures(v.store, license));
      if (b !== undefined) o.credits = b;
    }
    return o;
  }
}

/**
 * Who is told of a monitor event, in its details: `recipients` (the addresses configured for its
 * kind; empty when nobody is), with the rule's `purpose` and `figure`. A top-up rule's own alert
 * tells nobody (its top-up events do); a failed top-up tells them on its first try and its last,
 * not on every retry between.
 */
function annotate(stored: StoredSettings, purposes: ReadonlyMap<string, RulePurpose>, kind: MonitorEventKind, details: JsonObject): JsonObject | undefined {
  const p = purposes.get(String(details.rule));
  if (p === undefined) return undefined;
  let to: NotificationKind | undefined = NOTIFICATION_KINDS.find((k) => NOTIFICATION_EVENTS[k].includes(kind));
  if (to === 'alerts' && p.purpose !== 'notify') to = undefined;
  if (to === 'top-up-failures' && details.attempt !== 1 && details.final !== true) to = undefined;
  return { purpose: p.purpose, figure: p.figure, recipients: to === undefined ? [] : recipientsFor(stored.settings, to) };
}
