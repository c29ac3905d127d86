/**
 * The shapes `Licensing` takes and reports: its options, the ledger and timer it is given, and the
 * payloads of its events.
 */
import type { Clock } from '../../core/time/clock.js';
import type { LicenseError } from '../../core/errors.js';
import type { PublicKeyInput } from '../../core/crypto/keys.js';
import type { VerifiedTopUp } from '../../core/exchange/topup.js';
import type { MatchStrategy } from '../../core/fingerprint/match.js';

/** Where this installation stands. */
export type LeaseStatus = 'unactivated' | 'verified' | 'grace' | 'expired';

/** The credit ledger as the runtime uses it (a `CreditLedger` fits). */
export interface LedgerHook {
  /** Read the balance; its consumption is reported in every request. */
  balance(): Promise<{
    /** Credits consumed so far. */
    readonly consumed: number;
    /** Credits this ledger spent itself (without vendor floors); reported with `ledgerId`. */
    readonly spent?: number | undefined;
    /** The ledger's identity (32 hex characters), once it holds a record. */
    readonly ledgerId?: string | undefined;
  }>;
  /** Apply a lease's consumption floor: local consumption may not go below `floor` credits. */
  raiseFloor(floor: number): Promise<unknown>;
  /** Apply a verified top-up token from a lease (called for every token in every lease: must count each `tokenId` once). */
  topUp?(token: VerifiedTopUp): Promise<unknown>;
  /**
   * The latest time a record of the ledger was written at (a `CreditLedger` has it). When present,
   * `Licensing` keeps its trusted time with the ledger too: the installation's clock guard counts it
   * as seen, so deleting or restoring `clock.sealed` does not take trusted time back behind it.
   */
  highestKnownTime?(): Date | undefined | Promise<Date | undefined>;
}

/** A scheduler for the renewal timer (tests inject one; default: an unref'd `setTimeout`). */
export type Schedule = (
  fn: () => void,
  delayMs: number,
) => {
  /** Stop the timer; `fn` is not called after this. */
  cancel(): void;
};

/** Options of `Licensing.open`. */
export interface LicensingOptions {
  /** The license key text. */
  readonly license: string;
  /** The vendor public key(s). */
  readonly publicKeys: PublicKeyInput | readonly PublicKeyInput[];
  /** This installation's state directory (installation key, lease, open requests). */
  readonly dir: string;
  /** Your application's secret local state is sealed under. Required (`ERR_SECRET_REQUIRED`): there is no shared default. */
  readonly secret: string | Uint8Array;
  /** Base URL of the vendor's license server (`https://licenses.example.com`). Absent: offline only. */
  readonly server?: string | URL | undefined;
  /**
   * The application's fingerprint salt (the one the vendor binds licenses with). Default:
   * `saltForVendor(first of publicKeys)`, a salt of this vendor's own; there is no salt shared by
   * every vendor. When rotating keys, keep the original key first or set `salt`, or every
   * fingerprint changes.
   */
  readonly salt?: string | undefined;
  /**
   * An explicit machine identity instead of the hardware's, chosen by the application (the vendor's
   * code), for containers and operators: a machine id (hashed with the salt like every component,
   * `fp1:mi=…`) ... The server refuses a supplied id for a license that does not allow one
   * (`ERR_MACHINE_ID_NOT_ALLOWED`). Default: this machine's hardware.
   */
  readonly machineId?: string | undefined;
  /** ... or a whole fingerprint string (`fp1:…`), also the application's choice. Default: this machine's hardware. */
  readonly fingerprint?: string | undefined;
  /**
   * Let the end user's environment supply the machine id: `LICIT_MACHINE_ID` is read (when
   * `machineId` and `fingerprint` are absent) only when this is `true`. Off by default, as
   * whoever sets the variable replaces the hardware fingerprint, and one activation could then
   * serve any number of machines. Turn it on only for deployments where the operator is trusted
   * (and the license allows supplied ids). Default `false`.
   */
  readonly machineIdFromEnv?: boolean | undefined;
  /** How tolerant the machine match is (default `"most"`). */
  readonly fingerprintStrategy?: MatchStrategy | undefined;
  /** The application's name, sent with every request (up to 128 characters). */
  readonly appName?: string | undefined;
  /** The application's version, sent with every request (up to 64 characters). */
  readonly appVersion?: string | undefined;
  /** License user to activate as (default: the server's default user). */
  readonly user?: string | undefined;
  /**
   * The user's sign-in, for licenses whose users must prove who they are (`license.userAuth`): the
   * password the license's administrator set, or an ID token from the vendor's identity provider.
   * Sent (over the server's TLS) with an activation only; renewals are proven by the installation key.
   * A function is called for each activation (e.g. to ask the user, or to fetch a fresh ID token).
   */
  readonly credentials?: UserSignIn | (() => UserSignIn | Promise<UserSignIn>) | undefined;
  /** Release date of the running application (maintenance check). */
  readonly releaseDate?: Date | undefined;
  /** Credit ledger: its consumption is reported, the lease's floor and top-ups applied to it. */
  readonly ledger?: LedgerHook | undefined;
  /**
   * Seats in use here, per user type (e.g. `() => seats.usage()` reduced to counts), read for every
   * request so the server's usage view and reports see them. Absent: no seat usage is reported.
   */
  readonly seatUsage?: (() => Record<string, number> | Promise<Record<string, number>>) | undefined;
  /** The clock (`() => ms`, default `Date.now`). */
  readonly now?: Clock | undefined;
  /** `fetch` to reach the server (default the global one). */
  readonly fetch?: typeof fetch | undefined;
  /** Renew automatically in the background (default: true when `server` is set). */
  readonly autoRenew?: boolean | undefined;
  /** First retry delay after a failed renewal (default 30 s); doubles per failure. */
  readonly retryMinMs?: number | undefined;
  /** Longest retry delay (default 1 h). */
  readonly retryMaxMs?: number | undefined;
  /** Give up one HTTP attempt after this long (default 10 s). */
  readonly requestTimeoutMs?: number | undefined;
  /** Timer used for renewals (tests). */
  readonly schedule?: Schedule | undefined;
}

/** A license user's sign-in: a password or an ID token. */
export interface UserSignIn {
  /** The password the license's administrator set for the user. */
  readonly password?: string | undefined;
  /** An ID token from the vendor's identity provider (names the user itself). */
  readonly idToken?: string | undefined;
}

/** What `Licensing.requestTopUp` got. A plain JSON object, so an alert hook can return it. */
export type TopUpResult = {
  /** The license the credits were asked for. */
  readonly licenseId: string;
  /** The key the ask was sent under (the caller's, or a generated `topup-<nonce>`). */
  readonly idempotencyKey: string;
  /** Credits asked for. */
  readonly requested: number;
  /** Credits the vendor's policy granted (0: the ask was recorded, nothing granted). */
  readonly granted: number;
  /** The top-up token id granted, or null. */
  readonly tokenId: string | null;
  /** False when the server had granted this key before (a retry): nothing was added twice. */
  readonly added: boolean;
};

/** Payload of the `status` event. */
export interface StatusEvent {
  /** The status now. */
  readonly status: LeaseStatus;
  /** The status before the change. */
  readonly previous: LeaseStatus;
  /** End of verification, or undefined before activation. */
  readonly verifiedUntil: Date | undefined;
  /** End of the grace period, or undefined before activation. */
  readonly graceUntil: Date | undefined;
}

/** Payload of the `renewal-failed` event. */
export interface RenewalFailure {
  /** Why the renewal failed. */
  readonly error: LicenseError;
  /** The server could not be reached (grace applies) rather than refusing (it does not). */
  readonly unreachable: boolean;
  /** When the next attempt is due (ms), or undefined when renewal stopped. */
  readonly retryInMs: number | undefined;
}
