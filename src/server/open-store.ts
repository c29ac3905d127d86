/**
 * The one way to open a store named by a string: a FileStore directory or a `postgres://` URL.
 * `licit` CLI verbs (`--store`) and `createLicenseServer` without a store (`$LICIT_STORE`) both
 * open through here. A PostgresStore comes from a dynamic import of `licit/postgres`'s module, so
 * `pg` (an optional peer dependency) is loaded only when a `postgres://` store is named, and its
 * absence is a clear `ERR_STORE_UNAVAILABLE`, not a module-resolution stack trace.
 */
import { statSync } from 'node:fs';
import { withAuditChain } from '../core/admin/chained-store.js';
import { LicenseError } from '../core/errors.js';
import type { AuditEvent, EventQuery, Store, StoreReader, StoreTx, TransactionOptions } from '../core/store/store.js';
import { assertDirectory } from '../node/fs/dir-arg.js';
import { FileStore } from '../node/store/file-store.js';

/** Options of {@link openStore} and {@link openStoreLazily}. */
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
  /** Check a directory before opening it (default true; see {@link OpenStoreOptions.existing}). */
  readonly checkDirectory?: boolean;
  /**
   * Wrap the store with `withAuditChain` (default true). The license server passes false: its
   * `Vendor` chains the store itself unless told `auditChain: false`.
   */
  readonly chain?: boolean;
}

/** True when `spec` names a PostgreSQL database rather than a FileStore directory. */
export const isPostgresUrl = (spec: string): boolean => /^postgres(ql)?:\/\//.test(spec);

/**
 * A FileStore directory or a PostgreSQL URL, wrapped so every audit event it writes is
 * hash-chained (the CLI, the server and the application must all chain, or the log breaks).
 *
 * @throws `ERR_USAGE` for `schema` with a directory or a file where the directory should be;
 *   `ERR_STORE_UNAVAILABLE` for a reader's missing directory, or a postgres:// URL without `pg` installed
 */
export async function openStore(spec: string, options: OpenStoreOptions): Promise<Store> {
  return chained(await open(spec, options), options);
}

/**
 * {@link openStore} for a caller that cannot wait (`createLicenseServer` is synchronous): a
 * directory is opened at once; a PostgreSQL store starts loading now and every call waits for it
 * (a failure to load, such as `pg` missing, rejects each call with the same error).
 */
export function openStoreLazily(spec: string, options: OpenStoreOptions): Store {
  const got = open(spec, options);
  return chained(got instanceof Promise ? deferred(got) : got, options);
}

const chained = (store: Store, options: OpenStoreOptions): Store => (options.chain === false ? store : withAuditChain(store));

function open(spec: string, options: OpenStoreOptions): Store | Promise<Store> {
  const flag = options.flag ?? '--store';
  if (isPostgresUrl(spec)) return openPostgres(spec, options, flag);
  if (options.schema !== undefined) throw new LicenseError('ERR_USAGE', `--schema only applies to a postgres:// store`);
  if (options.checkDirectory !== false) {
    if (options.existing === true) requireExistingDirectory(spec, flag);
    // A file where the directory should be fails now, not later as a lock error or a 503 per request.
    else assertDirectory(spec, flag);
  }
  return new FileStore(spec);
}

async function openPostgres(spec: string, options: OpenStoreOptions, flag: string): Promise<Store> {
  let mod: typeof import('../postgres/index.js');
  try {
    // Loaded only for PostgreSQL, so file-store users never need the `pg` package.
    mod = await import('../postgres/index.js');
  } catch (e) {
    if (isMissingPg(e)) {
      throw new LicenseError(
        'ERR_STORE_UNAVAILABLE',
        `${flag} names a PostgreSQL database, but the "pg" package is not installed (licit's PostgresStore needs it; it is an optional peer dependency): run \`npm install pg\``,
        { missing: 'pg' },
        { cause: e },
      );
    }
    throw e;
  }
  // `?licit_prepared=false` (stripped before pg sees the URL): statements sent unprepared, for a
  // pooler in transaction mode that cannot keep prepared statements (see PostgresStoreOptions).
  const url = new URL(spec);
  const prepared = url.searchParams.get('licit_prepared');
  if (prepared !== null && prepared !== 'true' && prepared !== 'false') throw new LicenseError('ERR_USAGE', `${flag}: licit_prepared must be true or false, got "${prepared}"`);
  url.searchParams.delete('licit_prepared');
  return new mod.PostgresStore({
    connectionString: prepared === null ? spec : url.toString(),
    ...(prepared === 'false' ? { preparedStatements: false } : {}),
    ...(options.schema === undefined ? {} : { schema: options.schema }),
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    applicationName: options.applicationName,
  });
}

/** The import failed because `pg` itself cannot be found (not some other module or error). */
function isMissingPg(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') && typeof err.message === 'string' && /['"]pg['"]/.test(err.message);
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

/** A Store that forwards every call once `pending` settles (chained, when asked, around this wrapper). */
function deferred(pending: Promise<Store>): Store {
  // Nobody may be calling yet: keep a failure for the first call instead of an unhandled rejection.
  pending.catch(() => undefined);
  let closed = false;
  return {
    async transaction<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T> {
      return (await pending).transaction(licenseId, fn, options);
    },
    async read<T>(licenseId: string, fn: (reader: StoreReader) => Promise<T>): Promise<T> {
      return (await pending).read(licenseId, fn);
    },
    async events(licenseId: string, query?: EventQuery): Promise<AuditEvent[]> {
      return (await pending).events(licenseId, query);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // A store that never opened has nothing to close.
      const store = await pending.catch(() => undefined);
      await store?.close();
    },
  };
}
