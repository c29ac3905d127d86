/**
 * {@link Store} in one directory: licit's embedded default, safe when several processes on one
 * machine use the same directory at once.
 *
 * Per license, three files:
 * - `<name>.state.json`: every record, the newest event number and how many bytes of the event
 *   log are committed. Replaced atomically (write temp, fsync, rename, fsync directory), so a
 *   crash leaves the old or the new state, never a mix.
 * - `<name>.events.jsonl`: the audit trail, one JSON event a line, append-only. Events are written
 *   and fsynced *before* the state that counts them is renamed into place; bytes past the
 *   committed length are a transaction that never committed, ignored by readers and cut off by
 *   the next writer.
 * - `<name>.lock`: the cross-process lock of `node/lock.ts` (kernel `flock`, released by the OS
 *   when a holder dies, so a SIGKILL never leaves it stuck).
 *
 * Every transaction reads the state under the lock, runs, and commits before releasing it:
 * count-and-insert is atomic across processes.
 */
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LicenseError, isLicenseError } from '../core/errors.js';
import { BufferedTx, checkId, sortEntries, type AuditEvent, type EventQuery, type JsonObject, type Store, type StoreEntry, type StoreReader, type StoreTx } from '../core/store.js';
import { withLock } from './lock.js';
import { writeFileAtomic } from './sealed-file.js';
import { makeDirectory } from './make-dir.js';

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /** How long a transaction waits for another process's transaction on the same license (default 10 000 ms). */
  readonly lockTimeoutMs?: number;
  /** File mode of the state and event files (default `0o600`: seat data names people). */
  readonly mode?: number;
}

/** The state file's contents. */
interface StateFile {
  format: 'licit-store/1';
  licenseId: string;
  lastSeq: number;
  eventBytes: number;
  records: Record<string, Record<string, JsonObject>>;
}

const FORMAT = 'licit-store/1';

const emptyState = (licenseId: string): StateFile => ({ format: FORMAT, licenseId, lastSeq: 0, eventBytes: 0, records: {} });

/** File name stem for a license: readable when the id is tame, a hash otherwise (ids may hold `/`, `..`, anything). */
function stem(licenseId: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/.test(licenseId)) return `l-${licenseId}`;
  return `h-${createHash('sha256').update(licenseId).digest('hex').slice(0, 40)}`;
}

/** OS errors that mean "cannot reach or write the store" rather than a bug. */
const UNAVAILABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EISDIR', 'EIO', 'EMFILE', 'ENFILE', 'ELOOP', 'ENAMETOOLONG', 'EBUSY', 'EEXIST']);

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
export class FileStore implements Store {
  /** The store directory (absolute). */
  readonly dir: string;
  private readonly lockTimeoutMs: number;
  private readonly mode: number;
  private closed = false;

  constructor(dir: string, options: FileStoreOptions = {}) {
    if (typeof dir !== 'string' || dir === '') throw new LicenseError('ERR_USAGE', 'FileStore needs a directory path');
    this.dir = resolve(dir);
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.mode = options.mode ?? 0o600;
  }

  private paths(licenseId: string) {
    checkId(licenseId, 'license id');
    if (this.closed) throw new LicenseError('ERR_STORE_UNAVAILABLE', 'this FileStore was closed; create a new one');
    const s = stem(licenseId);
    return { state: join(this.dir, `${s}.state.json`), events: join(this.dir, `${s}.events.jsonl`), lock: join(this.dir, `${s}.lock`) };
  }

  async transaction<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const p = this.paths(licenseId);
    await this.ensureDir();
    return this.guard(() =>
      withLock(
        p.lock,
        async () => {
          const st = await this.load(p.state, licenseId);
          const tx = new BufferedTx(licenseId, st.lastSeq, source(st));
          const value = await fn(tx);
          if (!tx.empty) await this.commit(p, st, tx);
          return value;
        },
        { timeoutMs: this.lockTimeoutMs },
      ),
    );
  }

  async read<T>(licenseId: string, fn: (reader: StoreReader) => Promise<T>): Promise<T> {
    const p = this.paths(licenseId);
    // No lock: the state file is only ever replaced by rename, so one read sees one commit.
    const st = await this.guard(() => this.load(p.state, licenseId));
    const src = source(st);
    return fn({ licenseId, get: src.get, list: (kind, prefix = '') => src.list(kind, prefix) });
  }

  async events(licenseId: string, query: EventQuery = {}): Promise<AuditEvent[]> {
    const p = this.paths(licenseId);
    return this.guard(async () => {
      const st = await this.load(p.state, licenseId);
      if (st.eventBytes === 0) return [];
      const buf = await readFile(p.events).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') throw corrupt(p.events, 'the event log is missing');
        throw e;
      });
      if (buf.length < st.eventBytes) throw corrupt(p.events, `the event log is ${buf.length} bytes but ${st.eventBytes} were committed`);
      const lines = buf.subarray(0, st.eventBytes).toString('utf8').split('\n').filter((l) => l !== '');
      const after = query.afterSeq ?? 0;
      const out: AuditEvent[] = [];
      for (const line of lines) {
        let e: AuditEvent;
        try {
          e = JSON.parse(line) as AuditEvent;
        } catch {
          throw corrupt(p.events, 'an event line is not JSON');
        }
        if (e === null || typeof e !== 'object' || typeof e.seq !== 'number') throw corrupt(p.events, 'an event has no sequence number');
        if (e.seq > after) out.push(e);
        if (query.limit !== undefined && out.length >= query.limit) break;
      }
      return out;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async ensureDir(): Promise<void> {
    await this.guard(() => makeDirectory(this.dir));
  }

  /** Read a license's state; a missing file is a license never written. */
  private async load(path: string, licenseId: string): Promise<StateFile> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState(licenseId);
      throw e;
    }
    let st: StateFile;
    try {
      st = JSON.parse(text) as StateFile;
    } catch {
      throw corrupt(path, 'it is not JSON');
    }
    if (st === null || typeof st !== 'object' || st.format !== FORMAT) throw corrupt(path, `it is not a ${FORMAT} state file`);
    if (st.licenseId !== licenseId) throw corrupt(path, `it belongs to license "${String(st.licenseId)}"`);
    if (!Number.isSafeInteger(st.lastSeq) || !Number.isSafeInteger(st.eventBytes) || typeof st.records !== 'object' || st.records === null) {
      throw corrupt(path, 'its header fields are malformed');
    }
    return st;
  }

  /** Append the events, then atomically replace the state that counts them. */
  private async commit(p: { state: string; events: string }, st: StateFile, tx: BufferedTx): Promise<void> {
    let eventBytes = st.eventBytes;
    if (tx.events.length > 0) {
      const bytes = Buffer.from(tx.events.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8');
      const fh = await open(p.events, st.eventBytes === 0 ? 'a+' : 'r+', this.mode);
      try {
        const size = (await fh.stat()).size;
        if (size < st.eventBytes) throw corrupt(p.events, `the event log is ${size} bytes but ${st.eventBytes} were committed`);
        // Bytes past the committed length belong to a writer that died before its rename.
        if (size > st.eventBytes) await fh.truncate(st.eventBytes);
        await fh.write(bytes, 0, bytes.length, st.eventBytes);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      eventBytes += bytes.length;
    }
    const records = st.records;
    for (const w of tx.writes) {
      if (!Object.hasOwn(records, w.kind)) define(records, w.kind, {});
      const byKind = records[w.kind] as Record<string, JsonObject>;
      // define/delete, never `obj[key] = v`: a user id may be "__proto__".
      if (w.value === undefined) delete byKind[w.key];
      else define(byKind, w.key, w.value);
      if (Object.keys(byKind).length === 0) delete records[w.kind];
    }
    const next: StateFile = { format: FORMAT, licenseId: st.licenseId, lastSeq: st.lastSeq + tx.events.length, eventBytes, records };
    await writeFileAtomic(p.state, Buffer.from(JSON.stringify(next), 'utf8'), this.mode);
  }

  /** Map OS failures to `ERR_STORE_UNAVAILABLE` and lock timeouts likewise; pass licit errors through. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isLicenseError(e)) {
        if (e.code === 'ERR_LEDGER_LOCKED' || e.code === 'ERR_IO') {
          throw new LicenseError('ERR_STORE_UNAVAILABLE', `the seat store ${this.dir} is busy or cannot be locked: ${e.message}`, { dir: this.dir, ...e.details }, { cause: e });
        }
        throw e;
      }
      const code = (e as NodeJS.ErrnoException)?.code;
      if (typeof code === 'string' && UNAVAILABLE.has(code)) {
        throw new LicenseError('ERR_STORE_UNAVAILABLE', `cannot use the seat store ${this.dir} (${code}): ${(e as Error).message}. Check that the directory exists, is a directory, is writable by this process and has free space`, { dir: this.dir, errno: code }, { cause: e });
      }
      throw e;
    }
  }
}

function define<V>(obj: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function source(st: StateFile) {
  const kindOf = (kind: string): Record<string, JsonObject> => (Object.hasOwn(st.records, kind) ? (st.records[kind] as Record<string, JsonObject>) : {});
  return {
    get: async (kind: string, key: string): Promise<JsonObject | undefined> => {
      const byKind = kindOf(kind);
      return Object.hasOwn(byKind, key) ? structuredClone(byKind[key] as JsonObject) : undefined;
    },
    list: async (kind: string, prefix: string): Promise<StoreEntry[]> => {
      const byKind = kindOf(kind);
      return sortEntries(Object.keys(byKind).filter((k) => k.startsWith(prefix)).map((key) => ({ key, value: structuredClone(byKind[key] as JsonObject) })));
    },
  };
}

function corrupt(path: string, why: string): LicenseError {
  return new LicenseError('ERR_STORE_CORRUPT', `the seat store file ${path} cannot be read: ${why}. Restore the directory from a backup`, { path });
}
