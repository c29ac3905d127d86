/**
 * What a PostgreSQL failure means to {@link PostgresStore}: run the transaction again (another
 * commit won), the connection is gone (destroy it), or the store is unavailable to the caller.
 */
import pg from 'pg';
import { LicenseError, isLicenseError } from '../core/errors.js';

/** SQLSTATEs after which the same transaction may simply run again (serialization failure, deadlock). */
const RETRY = new Set(['40001', '40P01']);
/** Socket-level failures: the database is unreachable or went away. */
const NET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** A failure's SQLSTATE, or `""`. */
export function sqlState(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : '';
}

/** True when another commit won a race and the same transaction may run again. */
export const isRetryable = (e: unknown): boolean => !isLicenseError(e) && RETRY.has(sqlState(e));

/** True for socket errors, connection-exception SQLSTATEs (08xxx) and server shutdowns (57P0x). */
export function isConnectionFailure(e: Error & { code?: string }): boolean {
  const code = e.code ?? '';
  if (NET.has(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code)) return true;
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed|not queryable/i.test(e.message);
}

/**
 * Database and connection failures become `ERR_STORE_UNAVAILABLE`; licit's own errors and bugs
 * in the caller's transaction function pass through unchanged.
 */
export function storeFailure(e: unknown): unknown {
  if (isLicenseError(e)) return e;
  const err = e as Error & { code?: string };
  const connection = err instanceof Error && isConnectionFailure(err);
  if (!connection && !(e instanceof pg.DatabaseError)) return e;
  const state = sqlState(e);
  const what = connection ? 'cannot reach the PostgreSQL seat store' : 'the PostgreSQL seat store refused the operation';
  return new LicenseError(
    'ERR_STORE_UNAVAILABLE',
    `${what} (${state || err.code || 'error'}: ${err.message}); nothing was changed. Check that the database is running and reachable, then retry`,
    { sqlState: state || undefined, errno: err.code },
    { cause: e },
  );
}
