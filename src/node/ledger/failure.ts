/**
 * The errors of a ledger object whose write or sync failed. It stops (is "poisoned"): the requests
 * being written get {@link outcomeUnknown}, every later call {@link poisonedError}, until the
 * ledger is opened again, which reads the disk and says what committed (see docs/credits.md).
 */
import { LicenseError } from '../../core/errors.js';

/** The failure as a LicenseError (LedgerFile already gives ERR_IO naming the path and errno). */
export function writeFailure(cause: unknown): LicenseError {
  return cause instanceof LicenseError ? cause : new LicenseError('ERR_IO', `a credit ledger write failed: ${String(cause)}`, {}, { cause });
}

/** For the requests whose write failed: they may have reached one copy, both or none. */
export function outcomeUnknown(failure: LicenseError): LicenseError {
  return new LicenseError(
    'ERR_IO',
    `${failure.message}. Whether this request was recorded is unknown until the ledger is read again, so this ledger object stopped: every later call on it fails with ERR_STORE_POISONED. Reopen the ledger (CreditLedger.open reads both copies from the disk and says what committed) and retry a consume with the same idempotencyKey: it is charged at most once`,
    { ...failure.details, outcome: 'unknown' },
    { cause: failure.cause ?? failure },
  );
}

/** For every call after the failure. */
export function poisonedError(failure: LicenseError, licenseId: string): LicenseError {
  return new LicenseError(
    'ERR_STORE_POISONED',
    `this credit ledger object stopped after a failed write or sync (${failure.message}); nothing is read or written through it any more. Reopen the ledger (CreditLedger.open): reopening reads the disk and says what committed`,
    { licenseId, ...failure.details },
    { cause: failure },
  );
}
