/**
 * Every failure a licit user can hit is a {@link LicenseError} with a stable `code`.
 * Branch on `code` (or `instanceof`), never on the message text: messages may be reworded,
 * codes never change.
 */

/** Stable error codes. Grouped by the object they concern. */
export const ERROR_CODES = [
  // input and usage. ERR_USAGE is a caller's mistake only (wrong arguments or options); a refusal
  // a user can meet in normal use has a code of its own.
  'ERR_USAGE',
  'ERR_IO',
  'ERR_INTERNAL',
  'ERR_IDEMPOTENCY_CONFLICT',
  'ERR_BODY_TOO_LARGE',
  // signed envelopes (license keys, leases, top-up tokens, request codes)
  'ERR_KEY_MALFORMED',
  'ERR_KEY_TOO_LARGE',
  'ERR_KEY_WRONG_KIND',
  'ERR_KEY_UNSUPPORTED',
  'ERR_KEY_SIGNATURE',
  'ERR_KEY_UNKNOWN_SIGNER',
  'ERR_KEY_INVALID_CLAIM',
  'ERR_PUBLIC_KEY_INVALID',
  'ERR_PRIVATE_KEY_INVALID',
  // policy
  'ERR_LICENSE_EXPIRED',
  'ERR_LICENSE_NOT_YET_VALID',
  'ERR_MAINTENANCE_EXPIRED',
  'ERR_FEATURE_NOT_LICENSED',
  'ERR_CLOCK_TAMPERED',
  // the vendor's registry of what was sold
  'ERR_LICENSE_SUSPENDED',
  'ERR_LICENSE_REVOKED',
  'ERR_LICENSE_NOT_REGISTERED',
  'ERR_LICENSE_STATE',
  'ERR_LICENSE_SUPERSEDED',
  'ERR_TRIAL_USED',
  'ERR_DEVICE_SUSPENDED',
  'ERR_DEVICE_REVOKED',
  'ERR_USER_SUSPENDED',
  'ERR_USER_REVOKED',
  'ERR_TRIAL_UNAVAILABLE',
  'ERR_STATE_TAMPERED',
  // hardware identity
  'ERR_FINGERPRINT_MISMATCH',
  'ERR_FINGERPRINT_MALFORMED',
  'ERR_FINGERPRINT_WEAK',
  'ERR_MACHINE_ID_NOT_ALLOWED',
  'ERR_NATIVE_UNAVAILABLE',
  'ERR_SMBIOS_MALFORMED',
  // credits
  'ERR_CREDITS_EXHAUSTED',
  'ERR_LEDGER_TAMPERED',
  'ERR_LEDGER_MISSING',
  'ERR_LEDGER_LOCKED',
  'ERR_LEDGER_FULL',
  'ERR_SECRET_REQUIRED',
  // seats, users, activations
  'ERR_SEATS_EXHAUSTED',
  'ERR_SEATS_EXCEEDED',
  'ERR_SEAT_CONFLICT',
  'ERR_UNKNOWN_USER_TYPE',
  'ERR_USER_NOT_FOUND',
  'ERR_USER_EXISTS',
  'ERR_USERS_EXHAUSTED',
  'ERR_ACTIVATIONS_EXHAUSTED',
  'ERR_ACTIVATION_NOT_FOUND',
  'ERR_TRANSFERS_EXHAUSTED',
  'ERR_SELF_RESET_NOT_ALLOWED',
  'ERR_SELF_RESETS_EXHAUSTED',
  'ERR_STORE_UNAVAILABLE',
  'ERR_STORE_CORRUPT',
  'ERR_STORE_POISONED',
  // activation / renewal exchange
  'ERR_LEASE_EXPIRED',
  'ERR_EXCHANGE_WRONG_LICENSE',
  'ERR_EXCHANGE_WRONG_MACHINE',
  'ERR_EXCHANGE_WRONG_INSTALLATION',
  'ERR_EXCHANGE_REPLAYED',
  'ERR_EXCHANGE_STALE',
  'ERR_EXCHANGE_FUTURE',
  'ERR_EXCHANGE_UNPROVEN',
  'ERR_EXCHANGE_IMPLAUSIBLE',
  'ERR_USER_AUTH_REQUIRED',
  'ERR_USER_AUTH_FAILED',
  'ERR_RATE_LIMITED',
  'ERR_SERVER_UNREACHABLE',
  'ERR_UNAUTHORIZED',
  'ERR_AUDIT_TAMPERED',
  'ERR_WEBHOOK_SIGNATURE',
  // the licensing portal (src/server/portal)
  'ERR_SESSION_EXPIRED',
  'ERR_CSRF_REJECTED',
  'ERR_ACCOUNT_EXISTS',
  'ERR_FORBIDDEN',
  // a license's alert settings (thresholds, automatic top-ups, notification recipients)
  'ERR_SETTINGS_INVALID',
] as const;

/** A stable error code string, e.g. `"ERR_LICENSE_EXPIRED"`. */
export type LicenseErrorCode = (typeof ERROR_CODES)[number];

/**
 * The one error type licit throws or rejects with.
 *
 * @example
 * ```ts
 * try { await verifyLicense(text, { publicKeys }) }
 * catch (e) { if (e instanceof LicenseError && e.code === 'ERR_LICENSE_EXPIRED') renew() }
 * ```
 */
export class LicenseError extends Error {
  /** Stable machine-readable code. */
  readonly code: LicenseErrorCode;
  /** Structured context (claim names, limits, counts). Never contains secrets. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: LicenseErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LicenseError';
    this.code = code;
    this.details = details;
  }

  /** A plain object for JSON output: `{ code, message, details }` without a stack. */
  toJSON(): LicenseErrorJSON {
    const out: LicenseErrorJSON = { code: this.code, message: this.message };
    if (Object.keys(this.details).length > 0) out.details = { ...this.details };
    return out;
  }
}

/** The JSON form of a {@link LicenseError}, as the CLI and the license server print it. */
export interface LicenseErrorJSON {
  /** Stable code. */
  code: LicenseErrorCode;
  /** What went wrong and what to do. */
  message: string;
  /** Structured context, when there is any. */
  details?: Record<string, unknown>;
}

/** True when `e` is a {@link LicenseError}, optionally with the given code. */
export function isLicenseError(e: unknown, code?: LicenseErrorCode): e is LicenseError {
  return e instanceof LicenseError && (code === undefined || e.code === code);
}
