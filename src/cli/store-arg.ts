/** The store a `--store DIR|postgres://...` flag names, opened the same way by every verb. */
import { withAuditChain } from '../core/admin/chained-store.js';
import { LicenseError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import { FileStore } from '../node/file-store.js';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** PostgreSQL schema (only with a postgres:// store). */
  readonly schema?: string | undefined;
  /** Connections to keep (PostgreSQL). */
  readonly poolSize?: number;
  /** Shown in pg_stat_activity. */
  readonly applicationName: string;
}

/**
 * A FileStore directory or a PostgreSQL URL, wrapped so every audit event it writes is
 * hash-chained (the CLI, the server and the application must all chain, or the log breaks).
 */
export async function openStore(spec: string, options: OpenStoreOptions): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(spec)) {
    // Loaded only for PostgreSQL, so file-store users never need the `pg` package.
    const { PostgresStore } = await import('../postgres/index.js');
    return withAuditChain(
      new PostgresStore({
        connectionString: spec,
        ...(options.schema === undefined ? {} : { schema: options.schema }),
        ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
        applicationName: options.applicationName,
      }),
    );
  }
  if (options.schema !== undefined) throw new LicenseError('ERR_USAGE', '--schema only applies to a postgres:// store');
  return withAuditChain(new FileStore(spec));
}
