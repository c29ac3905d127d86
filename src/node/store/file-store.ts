/**
 * {@link Store} in one directory: licit's embedded default, safe when several processes on one
 * machine use the same directory at once.
 *
 * Each license has a directory `<name>/` holding a durable log (`node/log/`): segments
 * `log-0000000001`, … of framed, checksummed records (one record = one committed transaction's
 * writes and audit events), a `snapshot` of the state at the start of the newest segment, `head`
 * (the newest record number seen committed, against logs cut short) and `lock` (+ `lock.want`),
 * the cross-process lock. docs/seats.md describes the format and what survives what. A commit appends its record (one write + one
 * fdatasync, shared by every transaction waiting in this process: group commit), so its cost does
 * not grow with the number of seats. Each process keeps the state in memory and, under the lock,
 * reads only what other processes appended since.
 *
 * A missing or damaged snapshot is rebuilt from the segments; a missing segment, damaged record or
 * emptied license directory is `ERR_STORE_CORRUPT`, never a new license. Only a license directory
 * that does not exist at all is a new license. A failed write or sync poisons the license in this
 * FileStore (`ERR_STORE_POISONED`) until a new FileStore reads the disk again.
 *
 * A store written by an older licit (`<name>.state.json` + `<name>.events.jsonl`) is migrated on
 * the license's first transaction; see `file-store-legacy.ts`.
 */
import { sha256Hex } from '../crypto/digest.js';
import { closeSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LicenseError, isLicenseError } from '../../core/errors.js';
import { BufferedTx, checkId, type AuditEvent, type EventQuery, type Store, type StoreReader, type StoreTx } from '../../core/store/store.js';
import { encodeRecord, eventsOf, recordOf, sourceOf, storeMachine, type StoreRecord, type StoreState } from './file-store-state.js';
import { MIGRATED_FROM, hasLegacy, legacyPaths, legacyStateSha256, readLegacy, tombstone, type LegacyLicense, type LegacyPaths } from './file-store-legacy.js';
import { AppendLog, LogMoved } from '../log/append-log.js';
import { DurableLog } from '../log/durable-log.js';
import { readFrame } from '../log/frame.js';
import { jsonOf, segmentName } from '../log/segment.js';
import { withLock } from '../fs/lock.js';
import { makeDirectory } from '../../os/make-dir.js';
import { writeFileAtomic } from '../crypto/sealed-file.js';

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /** How long a transaction waits for another process's transaction on the same license (default 10 000 ms). */
  readonly lockTimeoutMs?: number;
  /** File mode of the log, snapshot and lock files (default `0o600`: seat data names people); directories get the matching search bits. */
  readonly mode?: number;
  /**
   * Start a new log segment with a snapshot of the state once the newest segment passes this many
   * bytes (and twice the last snapshot's size). Default 4 MiB. Smaller means faster opening and
   * more segment files; the cost per commit stays the same either way.
   */
  readonly compactBytes?: number;
}

/** File name stem for a license: readable when the id is tame, a hash otherwise (ids may hold `/`, `..`, anything). */
function stem(licenseId: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/.test(licenseId)) return `l-${licenseId}`;
  return `h-${sha256Hex(licenseId).slice(0, 40)}`;
}

/** The license id a log directory's first segment names in its header; undefined when unreadable. */
function logIdOf(dir: string): string | undefined {
  let head: Uint8Array;
  try {
    const fd = openSync(join(dir, segmentName(1)), 'r');
    try {
      head = new Uint8Array(4096);
      head = head.subarray(0, readSync(fd, head, 0, head.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const f = readFrame(head, 0);
  const info = f === undefined ? undefined : (jsonOf(f.payload) as { id?: unknown } | undefined);
  return typeof info?.id === 'string' ? info.id : undefined;
}

/** The license id an old-layout state file names (a migrated one names it too). */
function legacyIdOf(path: string): string | undefined {
  try {
    const st = JSON.parse(readFileSync(path, 'utf8')) as { licenseId?: unknown };
    return typeof st.licenseId === 'string' ? st.licenseId : undefined;
  } catch {
    return undefined;
  }
}

/** OS errors that mean "cannot reach or write the store" rather than a bug. */
const UNAVAILABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EISDIR', 'EIO', 'EMFILE', 'ENFILE', 'ELOOP', 'ENAMETOOLONG', 'EBUSY', 'EEXIST', 'ENOENT']);

/** One license's paths and log in a FileStore. */
interface License {
  readonly stem: string;
  readonly dir: string;
  readonly log: DurableLog<StoreState, StoreRecord>;
  readonly legacy: LegacyPaths;
}

/** Records the migration writes per log record, so that no record grows without bound. */
const MIGRATION_CHUNK = 2000;

/**
 * A {@link Store} in a directory.
 *
 * @example
 * ```ts
 * import { FileStore } from 'licit/node';
 * const store = new FileStore('/var/lib/myapp/licit');
 * const seats = new SeatManager(store, license);
 * await seats.assign('ann@example.com', 'basic');
 * ```
 */
/** Errors of a write or sync that reached the device: the disk's state is unknown after them. */
const WRITE_FAILURES: ReadonlySet<string> = new Set(['EIO', 'ENOSPC', 'EDQUOT', 'EROFS']);

export class FileStore implements Store {
  /** The store directory (absolute). */
  readonly dir: string;
  readonly #lockTimeoutMs: number;
  readonly #mode: number;
  readonly #compactBytes: number;
  readonly #logs = new Map<string, DurableLog<StoreState, StoreRecord>>();
  /** Licenses whose directory could not be made or migrated because a write failed: refused until a new FileStore. */
  readonly #poisoned = new Map<string, LicenseError>();
  /** Licenses whose old-layout files were checked by a transaction of this FileStore. */
  readonly #checked = new Set<string>();
  #closed = false;

  constructor(dir: string, options: FileStoreOptions = {}) {
    if (typeof dir !== 'string' || dir === '') throw new LicenseError('ERR_USAGE', 'FileStore needs a directory path');
    this.dir = resolve(dir);
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.#mode = options.mode ?? 0o600;
    this.#compactBytes = options.compactBytes ?? 4 * 1024 * 1024;
    if (!Number.isFinite(this.#lockTimeoutMs) || this.#lockTimeoutMs < 0) throw new LicenseError('ERR_USAGE', `lockTimeoutMs must be a non-negative number of milliseconds, got ${String(options.lockTimeoutMs)}`);
    if (!Number.isSafeInteger(this.#compactBytes) || this.#compactBytes < 1) throw new LicenseError('ERR_USAGE', `compactBytes must be a positive whole number of bytes, got ${String(options.compactBytes)}`);
  }

  #license(licenseId: string): License {
    checkId(licenseId, 'license id');
    if (this.#closed) throw new LicenseError('ERR_STORE_UNAVAILABLE', 'this FileStore was closed; create a new one');
    const poisoned = this.#poisoned.get(licenseId);
    if (poisoned !== undefined) throw poisoned;
    const s = stem(licenseId);
    const dir = join(this.dir, s);
    let log = this.#logs.get(licenseId);
    if (log === undefined) {
      log = new DurableLog(dir, storeMachine(licenseId), { id: licenseId, mode: this.#mode, lockTimeoutMs: this.#lockTimeoutMs, compactBytes: this.#compactBytes, what: `the seat store ${this.dir}` });
      this.#logs.set(licenseId, log);
    }
    return { stem: s, dir, log, legacy: legacyPaths(this.dir, s) };
  }

  async transaction<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const lic = this.#license(licenseId);
    return this.#guard(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.#prepare(licenseId, lic);
          return await lic.log.write(async (state) => {
            const tx = new BufferedTx(licenseId, state.lastSeq, sourceOf(state));
            const value = await fn(tx);
            if (tx.empty) return { value };
            const decoded = recordOf(tx);
            return { value, record: { bytes: encodeRecord(decoded), decoded } };
          });
        } catch (e) {
          // The license directory vanished between our look and the lock: make it again.
          if (e instanceof LogMoved && attempt < 2) continue;
          this.#poisonOn(licenseId, e);
          throw e;
        }
      }
    });
  }

  async read<T>(licenseId: string, fn: (reader: StoreReader) => Promise<T>): Promise<T> {
    const lic = this.#license(licenseId);
    return this.#guard(() =>
      lic.log.read(async (state) => {
        const s = state ?? this.#legacyState(licenseId, lic);
        const src = sourceOf(s);
        return fn({ licenseId, get: src.get, list: (kind, prefix = '') => src.list(kind, prefix) });
      }),
    );
  }

  async events(licenseId: string, query: EventQuery = {}): Promise<AuditEvent[]> {
    const lic = this.#license(licenseId);
    return this.#guard(async () => {
      let all: AuditEvent[];
      if (AppendLog.exists(lic.dir)) all = (await lic.log.history()).flatMap((r) => eventsOf(licenseId, r));
      else all = this.#legacy(licenseId, lic)?.events ?? [];
      const after = query.afterSeq ?? 0;
      const out = all.filter((e) => e.seq > after);
      return query.limit === undefined ? out : out.slice(0, query.limit);
    });
  }

  /**
   * Every license id with a directory (or old-layout files) in the store, sorted. Ids are read
   * from the log's first segment header (or the old state file), since a directory name is a hash
   * for ids that are not plain file names.
   */
  async licenseIds(): Promise<string[]> {
    if (this.#closed) throw new LicenseError('ERR_STORE_UNAVAILABLE', 'this FileStore was closed; create a new one');
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new LicenseError('ERR_STORE_UNAVAILABLE', `cannot list the seat store ${this.dir}: ${(e as Error).message}`, { path: this.dir }, { cause: e });
    }
    const ids = new Set<string>();
    for (const name of names) {
      const id = /^[lh]-/.test(name) ? logIdOf(join(this.dir, name)) : name.endsWith('.state.json') ? legacyIdOf(join(this.dir, name)) : undefined;
      if (id !== undefined) ids.add(id);
    }
    return [...ids].sort();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const logs = [...this.#logs.values()];
    this.#logs.clear();
    await Promise.all(logs.map((l) => l.close().catch(() => undefined)));
  }

  /**
   * A write or sync that failed anywhere on the way to a commit (making or migrating the license's
   * directory, taking its lock, writing the log) poisons the license in this FileStore, as a failed
   * commit poisons its log: the page cache may hold what the disk does not, so only a new FileStore
   * may look again.
   */
  #poisonOn(licenseId: string, e: unknown): void {
    const err = e as { code?: unknown; cause?: { code?: unknown }; details?: { errno?: unknown } };
    const code = [err?.code, err?.cause?.code, err?.details?.errno].find((c): c is string => typeof c === 'string' && WRITE_FAILURES.has(c));
    if (code === undefined || this.#poisoned.has(licenseId)) return;
    this.#poisoned.set(licenseId, new LicenseError('ERR_STORE_POISONED', `the seat store ${this.dir}: an earlier write or sync of license ${licenseId} failed (${code}); this FileStore refuses it since. Open the store again (a new FileStore): that reads the disk and shows what committed`, { dir: this.dir, errno: code }, { cause: e }));
  }

  /** Make sure the license has a log directory: create it, or migrate the old layout into it. */
  async #prepare(licenseId: string, lic: License): Promise<void> {
    // Open in this process: taking the lock finds out if the directory went away.
    if (lic.log.loaded && this.#checked.has(licenseId)) return;
    if (AppendLog.exists(lic.dir)) {
      if (!this.#checked.has(licenseId)) {
        await this.#settleLegacy(licenseId, lic);
        this.#checked.add(licenseId);
      }
      return;
    }
    await makeDirectory(this.dir);
    if (!hasLegacy(lic.legacy)) {
      await AppendLog.create(lic.dir, licenseId, this.#mode);
      this.#checked.add(licenseId);
      return;
    }
    // Read once before taking the old lock, so that damage is reported without creating anything.
    this.#legacy(licenseId, lic);
    // Under the old lock, so that an older licit writing these files waits or is waited for.
    await withLock(
      lic.legacy.lock,
      async () => {
        if (AppendLog.exists(lic.dir)) return;
        const old = this.#legacy(licenseId, lic);
        if (old === undefined) {
          await AppendLog.create(lic.dir, licenseId, this.#mode);
          return;
        }
        const marker = Buffer.from(`${JSON.stringify({ from: 'licit-store/1', stateSha256: old.stateSha256, events: old.lastSeq, records: old.records.length })}\n`);
        await AppendLog.create(lic.dir, licenseId, this.#mode, migrationRecords(old), { [MIGRATED_FROM]: marker });
        await writeFileAtomic(lic.legacy.state, tombstone(lic.stem), this.#mode);
      },
      { timeoutMs: this.#lockTimeoutMs },
    );
    this.#checked.add(licenseId);
  }

  /**
   * Old-layout files beside an existing log directory: the tombstone (done), the state the log was
   * migrated from (a migration that stopped before writing its tombstone: write it now), or
   * anything else (an older licit wrote after the migration: refuse).
   */
  async #settleLegacy(licenseId: string, lic: License): Promise<void> {
    if (!hasLegacy(lic.legacy)) return;
    await withLock(
      lic.legacy.lock,
      async () => {
        const now = legacyStateSha256(lic.legacy);
        if (now === undefined) return;
        let text: string;
        try {
          text = readFileSync(lic.legacy.state, 'utf8');
        } catch {
          return;
        }
        if (text.includes('"licit-store/migrated"')) return;
        let from: { stateSha256?: unknown } | undefined;
        try {
          from = JSON.parse(readFileSync(join(lic.dir, MIGRATED_FROM), 'utf8')) as { stateSha256?: unknown };
        } catch {
          from = undefined;
        }
        if (from?.stateSha256 !== now) {
          throw new LicenseError(
            'ERR_STORE_CORRUPT',
            `license "${licenseId}" has both a log directory ${lic.dir} and an old-layout state file ${lic.legacy.state} that the log was not migrated from: an older licit may still be writing the old files. Stop every process using this store, keep the directory that holds the current seats, and move the other aside`,
            { licenseId, path: lic.legacy.state },
          );
        }
        await writeFileAtomic(lic.legacy.state, tombstone(lic.stem), this.#mode);
      },
      { timeoutMs: this.#lockTimeoutMs },
    );
  }

  /** The license as old-layout files hold it (undefined when there are none); a tombstone without its log directory is damage. */
  #legacy(licenseId: string, lic: License): LegacyLicense | undefined {
    const old = readLegacy(lic.legacy, licenseId);
    if (old === 'migrated') {
      throw new LicenseError('ERR_STORE_CORRUPT', `license "${licenseId}" was migrated to ${lic.dir}, which is missing; restore that directory from a backup`, { licenseId, path: lic.dir });
    }
    return old;
  }

  #legacyState(licenseId: string, lic: License): StoreState {
    const machine = storeMachine(licenseId);
    const state = machine.empty();
    const old = this.#legacy(licenseId, lic);
    if (old !== undefined) for (const r of migrationRecords(old)) machine.apply(state, machine.decode(r));
    return state;
  }

  /** Map OS failures to `ERR_STORE_UNAVAILABLE` and lock timeouts likewise; pass licit errors through. */
  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isLicenseError(e)) {
        if (e.code === 'ERR_LEDGER_LOCKED' || e.code === 'ERR_IO') {
          throw new LicenseError('ERR_STORE_UNAVAILABLE', `the seat store ${this.dir} is busy or cannot be locked: ${e.message}`, { dir: this.dir, ...e.details }, { cause: e });
        }
        throw e;
      }
      if (e instanceof LogMoved) {
        throw new LicenseError('ERR_STORE_UNAVAILABLE', `the seat store ${this.dir} changed while being opened (${e.message}); try again`, { dir: this.dir }, { cause: e });
      }
      const code = (e as NodeJS.ErrnoException)?.code;
      if (typeof code === 'string' && UNAVAILABLE.has(code)) {
        throw new LicenseError('ERR_STORE_UNAVAILABLE', `cannot use the seat store ${this.dir} (${code}): ${(e as Error).message}. Check that the directory exists, is a directory, is writable by this process and has free space`, { dir: this.dir, errno: code }, { cause: e });
      }
      throw e;
    }
  }
}

/** The first records of a migrated license: its old events in chunks, then its records. */
function migrationRecords(old: LegacyLicense): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < old.events.length; i += MIGRATION_CHUNK) {
    const e = old.events.slice(i, i + MIGRATION_CHUNK).map((x) => [x.seq, x.at, x.actor, x.kind, x.details] as const);
    out.push(encodeRecord({ w: [], e }));
  }
  for (let i = 0; i < old.records.length || (i === 0 && out.length === 0); i += MIGRATION_CHUNK) {
    out.push(encodeRecord({ w: old.records.slice(i, i + MIGRATION_CHUNK), e: [] }));
  }
  return out;
}
