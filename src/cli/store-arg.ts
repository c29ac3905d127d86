/** The store a `--store DIR|postgres://...` flag names, opened the same way by every verb. */
import { withAuditChain } from '../core/admin/chained-store.js';
import { LicenseError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import { statSync } from 'node:fs';
import { FileStore } from '../node/file-store.js';
import { assertDirectory } from './dir-arg.js';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** PostgreSQL schema (only with a postgres:// store). */
  readonly schema?: string | undefined;
  /** Connections to keep (PostgreSQL). */
  readonly poolSize?: number;
  /** Shown in pg_stat_activity. */
  readonly applicationName: string;
  /** How messages name the store (default `--store`). */
  readonly flag?: string;
  /**
   * Readers (`log`, `report`): the directory must already exist, or a mistyped path would read as
   * an empty log. Writers may create it; for them only a file in its place is refused.
   */
  readonly existing?: boolean;
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
  const flag = options.flag ?? '--store';
  if (options.existing === true) requireExistingDirectory(spec, flag);
  // A file where the directory should be fails now, not later as a lock error or a 503 per request.
  else assertDirectory(spec, flag);
  return withAuditChain(new FileStore(spec));
}

function requireExistingDirectory(dir: string, flag: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new LicenseError('ERR_STORE_UNAVAILABLE', `the store directory ${dir} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}; check ${flag} (a store directory is created by the first write, e.g. \`licit seats assign\`)`, { dir, errno: code });
  }
  if (!isDir) throw new LicenseError('ERR_STORE_UNAVAILABLE', `${flag} ${dir} is not a directory; give the store directory or a postgres:// URL`, { dir });
}
