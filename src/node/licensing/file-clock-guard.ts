/** {@link fileClockGuard}: a {@link ClockGuard} whose sealed high-water mark lives in a file. */
import { ClockGuard, type SealedStateStore, type TimeWitness } from '../../core/time/clock-guard.js';
import { requireSecret } from '../../core/crypto/require-secret.js';
import { SealedFile } from '../crypto/sealed-file.js';

/**
 * A clock guard whose sealed high-water mark lives in a file (and in every store of `alsoKeepIn`).
 * Throws `ERR_SECRET_REQUIRED` without a `secret`: there is no shared default. Node only: import it
 * from `licit/node` (in Node, `licit` re-exports it too).
 *
 * @example
 * ```ts
 * import { fileClockGuard } from 'licit/node'
 * const clockGuard = fileClockGuard('/var/lib/myapp/clock', { secret: APP_SECRET, alsoKeepIn: [installation.clockStore] })
 * await verifyLicense(key, { publicKeys, clockGuard })
 * ```
 */
export function fileClockGuard(
  path: string,
  options: {
    /** Your application's secret (required). */
    readonly secret: string | Uint8Array;
    /** How far back the clock may step, in ms (default 10 minutes). */
    readonly toleranceMs?: number | undefined;
    /** More stores keeping the same state, e.g. `installation.clockStore` (default none). */
    readonly alsoKeepIn?: readonly SealedStateStore[] | undefined;
    /** Records whose latest time counts as seen, e.g. the credit ledger (default none). */
    readonly witnesses?: readonly TimeWitness[] | undefined;
  },
): ClockGuard {
  const secret = requireSecret(options?.secret, 'fileClockGuard');
  return new ClockGuard({ store: new SealedFile(path), secret, toleranceMs: options.toleranceMs, alsoKeepIn: options.alsoKeepIn, witnesses: options.witnesses });
}
