/**
 * `CreditLedger`: click-charge credits kept in a sealed, hash-chained, append-only ledger with a
 * primary and a mirror copy. Nothing a crash, a deletion, an edit or a restored old copy can do
 * gives a consumed credit back, and nothing acknowledged is lost.
 *
 * One writer loop per open ledger (group commit): it takes every pending request, decides them in
 * order (core/ledger/plan.ts), seals the new records, writes them to both copies, fdatasyncs both
 * in parallel, and only then resolves the requests. Processes are serialised by the ledger lock.
 *
 * Fail safe: a failed write or sync poisons the object. Its requests are rejected only once every
 * copy's write has settled (nothing lands after they were reported), and every later call fails
 * with `ERR_STORE_POISONED` until the ledger is opened again, which reads the files afresh.
 */
import '../crypto/backends.js'; // node:crypto for Ed25519 and AES-GCM
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isLicenseError, LicenseError } from '../../core/errors.js';
import { toClock, type Clock } from '../../core/time/clock.js';
import { toKeyring, type PublicKeyInput } from '../../core/crypto/keys.js';
import { isPrintableText } from '../../core/codec/text.js';
import { verifiedTopUpText, verifyTopUp, type VerifiedTopUp } from '../../core/exchange/topup.js';
import { chainBodies, emptyHead, type ChainHead } from '../../core/ledger/chain.js';
import { IdempotencyIndex } from '../../core/ledger/keys.js';
import { balanceAfter, balanceOf, crossings, planBatch, type Balance, type BatchPlan, type KeyedConsume, type LedgerOp } from '../../core/ledger/plan.js';
import { reconcileLogs, recordCount, tampered, type CopyName, type LogCopyOk, type LogCopyRead, type LogReconcile } from '../../core/ledger/reconcile.js';
import { genesisHash, MAX_IDEMPOTENCY_KEY_BYTES, MAX_REASON_BYTES, type LedgerRecord } from '../../core/ledger/record.js';
import { deriveLedgerKey, sealRecord, type LedgerKey } from '../../core/ledger/seal.js';
import { encodeSnapshot, type LedgerSnapshot } from '../../core/ledger/snapshot.js';
import { makeDirectory } from '../../os/make-dir.js';
import { AppendLog, LogMoved, RollSkipped } from '../log/append-log.js';
import { emptyDir, ioError, MODE, OPEN_OPTIONS, openCopy, readFromFirst, verifyCopy, type CopyContext, type CopyOpened } from './copies.js';
import { outcomeUnknown, poisonedError, writeFailure } from './failure.js';
import { migrateLegacy, needsMigration } from './legacy.js';
import { defaultLedgerDirs, ledgerFileNames } from './paths.js';
import { LockSession } from './session.js';
import type { ConsumeOptions, ConsumeReceipt, CopyState, CopyStates, CreditLedgerEvents, CreditLedgerOptions, LedgerEntry, LedgerLicense, LedgerStats, TopUpReceipt, VerifyReport } from './types.js';

export type * from './types.js';

type Task<T> = () => Promise<T>;
type OpResult = { record?: LedgerRecord; repeated?: KeyedConsume; balance: Balance };
type Pending =
  | { readonly type: 'op'; readonly op: LedgerOp; resolve(v: OpResult): void; reject(e: unknown): void }
  | { readonly type: 'task'; readonly task: Task<unknown>; resolve(v: unknown): void; reject(e: unknown): void };

/** Most requests folded into one group commit (bounds one write to a few hundred KiB). */
const MAX_BATCH = 1024;

/**
 * How much of each copy's active segment a full read writes back (O_DSYNC) before reporting it.
 * After a failed write the kernel may hold bytes in its page cache that never reached the disk,
 * and every reader sees them (Node has no posix_fadvise to drop them); writing back what was read
 * makes the disk hold what the ledger reports, or fails the read. 64 KiB covers a failed group
 * commit of a few hundred records; rewriting identical bytes risks nothing a torn sector write
 * could change.
 */
const WRITE_BACK_BYTES = 64 * 1024;
/** The two copies, in the order they are always handled. */
const COPIES = ['primary', 'mirror'] as const satisfies readonly CopyName[];
/** Default compaction threshold: the active segment's size (and at least twice the snapshot's). */
export const COMPACT_BYTES = 1024 * 1024;

/**
 * A license's click-charge ledger.
 *
 * @example
 * ```ts
 * const ledger = await CreditLedger.open(license, { secret: APP_SECRET, thresholds: [100] })
 * ledger.on('threshold', (e) => e.direction === 'down' && askForTopUp(e.remaining))
 * const r = await ledger.consume(1, { reason: 'export page' }) // durable when it resolves
 * console.log(r.remaining)
 * await ledger.close()
 * ```
 */
export class CreditLedger {
  /** The license this ledger belongs to. */
  readonly licenseId: string;
  /**
   * Absolute paths of the two copies and their lock files. Each copy is a directory (an append-only
   * log: segment files `log-0000000001`, …, a `head` file and a sealed `snapshot`); ledgers of
   * licit 0.1 kept each copy as one regular file of the same name and are migrated on open.
   */
  readonly paths: {
    /** The primary copy's directory, in `dir` (`credits-<id>.ledger`). */
    readonly primary: string;
    /** The mirror copy's directory, in `mirrorDir` (`.<hash>.dat`). */
    readonly mirror: string;
    /** The cross-process lock file beside the primary. */
    readonly lock: string;
    /** The cross-process lock file beside the mirror (ledgers sharing a mirror take it in turn). */
    readonly mirrorLock: string;
  };

  readonly #key: LedgerKey;
  readonly #credits: number;
  readonly #genesis: Uint8Array;
  readonly #now: Clock;
  readonly #recover: boolean;
  readonly #publicKeys: PublicKeyInput | readonly PublicKeyInput[] | undefined;
  readonly #session: LockSession;
  readonly #events = new EventEmitter();
  readonly #keys = new IdempotencyIndex();
  /** The failed write or sync that stopped this object (see the module comment). */
  #poisoned: LicenseError | undefined;
  #foundAtOpen: CopyStates = { primary: 'ok', mirror: 'ok' };
  #thresholds: number[];
  #head: ChainHead;
  /** The latest record time seen (the writers' clocks): a witness for the clock guard. */
  #latestTime: number | undefined;
  /** The two copies' logs while open (under the lock, or kept open between lock holds). */
  #logs: Partial<Record<CopyName, AppendLog>> = {};
  /** What reading a copy needs (key, license and log ids, paths). */
  readonly #copies: CopyContext;
  readonly #compactBytes: number;
  /** A copy has no valid snapshot (rebuilt, or it did not open): roll at the next chance. */
  #compactDue = false;
  #loaded = false;
  #stale = false;
  #queue: Pending[] = [];
  #running: Promise<void> | undefined;
  #closed = false;
  #commits = 0;
  #records = 0;
  /** The floor at open: decides between a fresh ledger and ERR_LEDGER_MISSING. */
  #openFloor = 0;

  private constructor(license: LedgerLicense, key: LedgerKey, opts: CreditLedgerOptions) {
    this.licenseId = license.id;
    this.#key = key;
    this.#credits = license.credits ?? 0;
    this.#genesis = genesisHash(license.id);
    this.#head = emptyHead(this.#genesis);
    this.#now = toClock(opts.now, "the ledger's `now` option");
    this.#recover = opts.recover === true;
    this.#publicKeys = opts.publicKeys;
    this.#thresholds = [...(opts.thresholds ?? [])];
    const defaults = opts.dir === undefined || opts.mirrorDir === undefined ? defaultLedgerDirs(opts.appName ?? 'licit') : undefined;
    const dir = resolve(opts.dir ?? (defaults as { dir: string }).dir);
    const mirrorDir = resolve(opts.mirrorDir ?? (defaults as { mirrorDir: string }).mirrorDir);
    const names = ledgerFileNames(license.id, opts.secret);
    this.paths = { primary: join(dir, names.primary), mirror: join(mirrorDir, names.mirror), lock: join(dir, names.lock), mirrorLock: join(mirrorDir, names.mirrorLock) };
    if (this.paths.primary === this.paths.mirror) throw new LicenseError('ERR_USAGE', 'the mirror must be a different directory from the primary');
    // A lock beside each copy: two installations with their own primaries may share a mirror.
    this.#session = new LockSession([this.paths.lock, this.paths.mirrorLock], opts.lockTimeoutMs ?? 10_000, () => this.#writeHeads());
    this.#copies = { key, licenseId: license.id, logId: `credits:${license.id}`, genesis: this.#genesis, paths: this.paths };
    this.#compactBytes = opts.compactBytes ?? COMPACT_BYTES;
  }

  /**
   * Open (or create) the ledger of `license`: reconciles the two copies, repairs a missing or
   * lagging copy, drops a torn tail, and raises consumption to the vendor floor
   * (`max(license.carriedCredits, options.floor)`).
   *
   * Rejects with `ERR_SECRET_REQUIRED` (no `secret`, or an empty one), `ERR_LEDGER_TAMPERED` (a
   * copy does not verify, or the copies fork), `ERR_LEDGER_MISSING` (both copies gone while the
   * license says credits were spent; pass `recover: true` to restart from the vendor floor),
   * `ERR_LEDGER_LOCKED`, `ERR_IO`, `ERR_USAGE`, `ERR_PUBLIC_KEY_INVALID` (a bad `publicKeys` entry).
   *
   * Opening after an error is how to learn what committed: it reads both copies through new file
   * descriptors (never this process's earlier view) and writes their last 64 KiB back durably, so
   * what it reports is on the disk.
   */
  static async open(license: LedgerLicense, options: CreditLedgerOptions): Promise<CreditLedger> {
    if (typeof license?.id !== 'string' || license.id === '') throw new LicenseError('ERR_USAGE', 'open the ledger with a verified license (it has no id)');
    if (options === null || typeof options !== 'object') throw new LicenseError('ERR_USAGE', 'CreditLedger.open needs options: { secret, ... }');
    const secret: unknown = options.secret;
    if (secret === undefined || secret === null || secret === '' || (secret instanceof Uint8Array && secret.length === 0)) {
      throw new LicenseError(
        'ERR_SECRET_REQUIRED',
        "CreditLedger.open needs the application's own `secret` (a non-empty string or bytes) to seal the ledger with; there is no default, since a default would be the same in every application and anyone could forge a ledger sealed with it. Pass { secret } (the CLI: --secret-file FILE or $LICIT_SECRET)",
      );
    }
    if (!(typeof secret === 'string' || secret instanceof Uint8Array)) throw new LicenseError('ERR_USAGE', 'the ledger `secret` must be a string or bytes');
    if (options.publicKeys !== undefined) await toKeyring(options.publicKeys); // a bad key fails here, not at the first top-up
    const credits = license.credits ?? 0;
    const floor = Math.max(license.carriedCredits ?? 0, options.floor ?? 0);
    for (const [name, v] of [['license credits', credits], ['floor', floor]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new LicenseError('ERR_USAGE', `${name} must be a non-negative whole number, got ${v}`);
    }
    checkThresholds(options.thresholds ?? []);
    const ledger = new CreditLedger(license, await deriveLedgerKey(options.secret, license.id), options);
    ledger.#openFloor = floor;
    try {
      await ledger.#submitOp({ kind: 'floor', floor });
      await ledger.#session.release();
    } catch (e) {
      await ledger.close();
      throw e;
    }
    return ledger;
  }

  /**
   * Consume `n` credits. Resolves once the record is durable in both copies; rejects with
   * `ERR_CREDITS_EXHAUSTED` (nothing consumed) when fewer than `n` remain.
   *
   * On `ERR_IO` the write failed and whether the consume was recorded is unknown: this object is
   * then poisoned (`ERR_STORE_POISONED` for every later call). Reopen the ledger and retry with the
   * same `idempotencyKey`: a consume that was recorded resolves with `repeated: true`, one that was
   * not is charged now, never both.
   *
   * @example
   * ```ts
   * const key = `export-${jobId}`
   * try { await ledger.consume(1, { reason: 'export pdf', idempotencyKey: key }) }
   * catch (e) {
   *   if (!isLicenseError(e, 'ERR_IO')) throw e
   *   ledger = await CreditLedger.open(license, options)           // reads what reached the disk
   *   await ledger.consume(1, { reason: 'export pdf', idempotencyKey: key }) // charged at most once
   * }
   * ```
   */
  async consume(n: number, options: ConsumeOptions | null = {}): Promise<ConsumeReceipt> {
    options ??= {};
    if (!Number.isSafeInteger(n) || n < 1) throw new LicenseError('ERR_USAGE', `consume needs a whole number of credits >= 1, got ${typeof n === 'number' ? n : `${typeof n} ${JSON.stringify(n)?.slice(0, 40)}`}`);
    const reason = options.reason ?? '';
    if (typeof reason !== 'string' || Buffer.byteLength(reason) > MAX_REASON_BYTES) throw new LicenseError('ERR_USAGE', `a consume reason is text of at most ${MAX_REASON_BYTES} bytes`);
    const idempotencyKey = options.idempotencyKey;
    if (idempotencyKey !== undefined) checkKey(idempotencyKey);
    const { record, repeated, balance } = await this.#submitOp({ kind: 'consume', amount: n, reason, idempotencyKey });
    // Spelled out: an object spread costs microseconds on this hot path.
    return {
      allowance: balance.allowance, consumed: balance.consumed, remaining: balance.remaining, toppedUp: balance.toppedUp, spent: balance.spent, ledgerId: balance.ledgerId,
      seq: repeated === undefined ? (record as LedgerRecord).seq : repeated.seq, repeated: repeated !== undefined,
    };
  }

  /**
   * The receipt of the consume recorded under `idempotencyKey` (`repeated: true`), or `undefined`
   * when the ledger holds none (among its last 65,536 keyed consumes). Reads what other processes
   * wrote first. After an `ERR_IO`, a reopened ledger answers whether that consume committed
   * without charging anything.
   */
  async receipt(idempotencyKey: string): Promise<ConsumeReceipt | undefined> {
    checkKey(idempotencyKey);
    return this.#submitTask(async () => {
      const k = this.#keys.get(idempotencyKey);
      return k === undefined ? undefined : { ...balanceAfter(k, this.#credits, this.#head), seq: k.seq, repeated: true };
    });
  }

  /**
   * Apply a vendor top-up token: its text (`LICITT1-…`) or the object `verifyTopUp` returned. The
   * ledger verifies the token itself against the `publicKeys` it was opened with (required), so a
   * plain `{ tokenId, licenseId, credits }` object adds nothing: it is refused with `ERR_USAGE`
   * (and does not type-check). A token applied before adds nothing and resolves with
   * `applied: false`. Rejects `ERR_KEY_SIGNATURE` / `ERR_KEY_UNKNOWN_SIGNER` for a forged or
   * altered token, `ERR_EXCHANGE_WRONG_LICENSE` for another license's token.
   *
   * @example
   * ```ts
   * const ledger = await CreditLedger.open(license, { secret: APP_SECRET, publicKeys: [VENDOR_PUB] })
   * const r = await ledger.topUp(tokenText) // { applied: true, credits: 500, remaining: ... }
   * ```
   */
  async topUp(token: string | VerifiedTopUp): Promise<TopUpReceipt> {
    const text = typeof token === 'string' ? token : verifiedTopUpText(token);
    if (text === undefined) {
      throw new LicenseError('ERR_USAGE', 'topUp takes the top-up token text (LICITT1-...) or the object verifyTopUp returned; a plain object carries no signature, so nothing was added');
    }
    if (this.#publicKeys === undefined) {
      throw new LicenseError('ERR_USAGE', 'this credit ledger was opened without publicKeys, so it cannot verify top-up tokens: open it with { publicKeys: [vendor public key] } to apply top-ups');
    }
    const t = await verifyTopUp(text, { publicKeys: this.#publicKeys });
    if (!isPrintableText(t.tokenId, 128)) {
      throw new LicenseError('ERR_USAGE', 'this top-up token id has control characters; a re-read ledger could not recognise it as applied, so it is refused (ask the vendor for another token)');
    }
    if (t.licenseId !== this.licenseId) {
      throw new LicenseError('ERR_EXCHANGE_WRONG_LICENSE', `this top-up token is for license ${t.licenseId}, not ${this.licenseId}; ask the vendor for a token for this license`);
    }
    const { record, balance } = await this.#submitOp({ kind: 'topup', tokenId: t.tokenId, credits: t.credits });
    return { ...balance, applied: record !== undefined, tokenId: t.tokenId, credits: t.credits };
  }

  /** Raise consumption to at least `floor` (e.g. the carried credits of a renewal lease). */
  async raiseFloor(floor: number): Promise<Balance> {
    if (!Number.isSafeInteger(floor) || floor < 0) throw new LicenseError('ERR_USAGE', `floor must be a non-negative whole number, got ${floor}`);
    return (await this.#submitOp({ kind: 'floor', floor })).balance;
  }

  /** The balance now, including what other processes consumed. */
  /**
   * The latest time a record of this ledger was written at (by the writers' clocks), or undefined
   * while it is empty. A {@link TimeWitness} for the clock guard: deleting or restoring the guard's
   * file does not forget how late this machine's clock once was.
   *
   * @example
   * ```ts
   * const guard = fileClockGuard(path, { secret, alsoKeepIn: [installation.clockStore], witnesses: [ledger] })
   * ```
   */
  highestKnownTime(): Date | undefined {
    return this.#latestTime === undefined ? undefined : new Date(this.#latestTime);
  }

  #noteTimes(records: readonly LedgerRecord[]): void {
    for (const r of records) if (this.#latestTime === undefined || r.time > this.#latestTime) this.#latestTime = r.time;
  }

  async balance(): Promise<Balance> {
    return this.#submitTask(async () => balanceOf(this.#head, this.#credits));
  }

  /**
   * What the two copies looked like when {@link CreditLedger.open} read them, before it repaired
   * anything: `missing` for both on a ledger created by that open. Later repairs fire `repaired`.
   */
  get foundAtOpen(): CopyStates {
    return this.#foundAtOpen;
  }

  /** The balance as of this process's last look at the ledger (no I/O). */
  get cachedBalance(): Balance {
    return balanceOf(this.#head, this.#credits);
  }
  /** Every record, oldest first (read from the primary's every segment: compaction deletes none). */
  async history(): Promise<LedgerEntry[]> {
    return this.#submitTask(async () => {
      const read = await readFromFirst(this.#copies, 'primary');
      if (read.status !== 'ok') throw tampered('primary', read.reason);
      return read.entries.map(({ record: r }) => ({
        seq: r.seq, kind: r.kind, amount: r.amount, consumed: r.consumed, toppedUp: r.toppedUp, time: new Date(r.time), reason: r.reason,
        ...(r.tokenId === undefined ? {} : { tokenId: r.tokenId }),
        ...(r.idempotencyKey === undefined ? {} : { idempotencyKey: r.idempotencyKey }),
      }));
    });
  }

  /**
   * Re-read and check both copies from the first record (sealing, numbering, chain, totals, in
   * every segment), check that each copy's snapshot holds exactly the state its records give at
   * its place, report what was found and repair a missing or lagging copy. Rejects
   * `ERR_LEDGER_TAMPERED`.
   */
  async verify(): Promise<VerifyReport> {
    return this.#submitTask(async () => {
      const { primary, mirror } = await this.#load(false);
      for (const name of COPIES) await verifyCopy(this.#copies, name, this.#head);
      return { ...balanceOf(this.#head, this.#credits), records: this.#head.seq + 1, primary, mirror };
    });
  }

  /**
   * Durable commits and records written by this object so far. With group commit, many concurrent
   * consumes share one commit, so `commits` stays far below `records` under load.
   *
   * @example
   * ```ts
   * await Promise.all(Array.from({ length: 64 }, () => ledger.consume(1)))
   * ledger.stats() // e.g. { commits: 2, records: 64 }
   * ```
   */
  stats(): LedgerStats {
    return { commits: this.#commits, records: this.#records };
  }

  /** Set the remaining-credit thresholds that fire `threshold` events. */
  setThresholds(thresholds: readonly number[]): void {
    checkThresholds(thresholds);
    this.#thresholds = [...thresholds];
  }

  /** Listen to an event. */
  on<E extends keyof CreditLedgerEvents>(event: E, listener: (...args: CreditLedgerEvents[E]) => void): this {
    this.#events.on(event, listener as (...a: unknown[]) => void);
    return this;
  }

  /** Stop listening. */
  off<E extends keyof CreditLedgerEvents>(event: E, listener: (...args: CreditLedgerEvents[E]) => void): this {
    this.#events.off(event, listener as (...a: unknown[]) => void);
    return this;
  }

  /** Wait for pending requests, release the lock and close the files. Later calls reject. Works on a poisoned ledger too. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
    await this.#session.release();
    this.#closeLogs();
  }

  // ---- the writer loop ----

  #submitOp(op: LedgerOp): Promise<OpResult> {
    return new Promise((resolve, reject) => this.#enqueue({ type: 'op', op, resolve, reject }));
  }

  #submitTask<T>(task: Task<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.#enqueue({ type: 'task', task, resolve: resolve as (v: unknown) => void, reject }));
  }

  #enqueue(p: Pending): void {
    if (this.#closed && this.#loaded) {
      p.reject(new LicenseError('ERR_USAGE', 'this credit ledger was closed; open it again'));
      return;
    }
    if (this.#poisoned !== undefined) {
      p.reject(this.#poisonedError());
      return;
    }
    this.#queue.push(p);
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  async #loop(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      await this.#commit(batch);
      // Let callers resumed by this commit queue their next request before deciding on the lock:
      // a tick runs once the promise jobs they resumed in have run (cheaper than a loop turn).
      await new Promise<void>((r) => process.nextTick(r));
      await this.#session.leave(this.#queue.length > 0).catch(() => undefined);
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    if (this.#poisoned !== undefined) {
      for (const p of batch) p.reject(this.#poisonedError());
      return;
    }
    const ops = batch.filter((p): p is Extract<Pending, { type: 'op' }> => p.type === 'op');
    const tasks = batch.filter((p): p is Extract<Pending, { type: 'task' }> => p.type === 'task');
    let before: number;
    try {
      const fresh = await this.#session.enter();
      before = balanceOf(this.#head, this.#credits).remaining;
      if (fresh || this.#stale || !this.#loaded) await this.#refresh();
    } catch (e) {
      // Whatever was half done, the next look reads everything again.
      this.#stale = true;
      for (const p of batch) p.reject(e);
      if (this.#poisoned !== undefined) await this.#stop();
      else await this.#session.release().catch(() => undefined);
      return;
    }
    if (ops.length > 0) await this.#commitOps(ops);
    if (this.#poisoned !== undefined) {
      for (const t of tasks) t.reject(this.#poisonedError());
      await this.#stop();
      return;
    }
    for (const t of tasks) {
      try {
        t.resolve(await t.task());
      } catch (e) {
        t.reject(e);
      }
    }
    this.#emit(before, balanceOf(this.#head, this.#credits).remaining);
    // After the answers: a roll delays the next batch, never this one's.
    await this.#compact().catch(() => undefined);
    if (this.#poisoned !== undefined) await this.#stop();
  }

  async #commitOps(ops: Extract<Pending, { type: 'op' }>[]): Promise<void> {
    let plan: BatchPlan;
    try {
      plan = planBatch(this.#head, ops.map((p) => p.op), this.#credits, this.#now(), (k) => this.#keys.get(k));
      if (plan.plaintexts.length > 0) await this.#append(plan);
    } catch (e) {
      // Before any write (sealing) nothing reached the disk; a failed write has poisoned this
      // object. Either way the next look, if any, reads everything again.
      this.#stale = true;
      for (const p of ops) p.reject(e);
      return;
    }
    plan.outcomes.forEach((o, i) => {
      const p = ops[i] as (typeof ops)[number];
      if (!o.ok) p.reject(o.error);
      else if (o.repeated !== undefined) p.resolve({ repeated: o.repeated, balance: o.balance });
      else p.resolve(o.record === undefined ? { balance: o.balance } : { record: o.record, balance: o.balance });
    });
  }

  async #append(plan: BatchPlan): Promise<void> {
    const bodies = await Promise.all(plan.plaintexts.map((pt) => sealRecord(this.#key, pt)));
    // Both copies are written and made durable in parallel (one write each, O_DSYNC where the
    // platform has it); the requests are acknowledged only after both. allSettled, not all: when
    // one copy fails at once, the other's write is still in flight, and nothing may be reported
    // (or written next) before it lands.
    const [pw, mw] = await Promise.allSettled([(this.#logs.primary as AppendLog).append(bodies), (this.#logs.mirror as AppendLog).append(bodies)]);
    if (pw.status === 'rejected') throw this.#poison(ioError(this.paths.primary, 'write to', pw.reason));
    if (mw.status === 'rejected') throw this.#poison(ioError(this.paths.mirror, 'write to', mw.reason));
    this.#keys.add(plan.records, this.#head.carried);
    this.#noteTimes(plan.records);
    this.#head = plan.head;
    this.#commits++;
    this.#records += plan.plaintexts.length;
  }

  /**
   * Compaction, when the active segment has grown past the threshold (or a copy's snapshot was
   * missing or did not open): write the state as a sealed snapshot and start a new segment in BOTH
   * copies at the same record. The old segments stay (history and verify read them), so no record
   * is ever lost; opening then reads the snapshot and the records after it. A roll that could not
   * even write its snapshot changes nothing and is tried again later; any other failure poisons.
   */
  async #compact(): Promise<void> {
    const logs = COPIES.map((n) => this.#logs[n] as AppendLog);
    const active = Math.max(...logs.map((l) => l.activeBytes));
    const snap = Math.max(...logs.map((l) => l.snapshotBytes));
    if (!this.#compactDue && active < Math.max(this.#compactBytes, 2 * snap)) return;
    this.#compactDue = false;
    const state = await encodeSnapshot(this.#key, this.licenseId, { head: this.#head, keys: this.#keys.entries(), latest: this.#latestTime });
    const rolls = await Promise.allSettled(logs.map((l) => l.roll(state)));
    rolls.forEach((r, i) => {
      if (r.status === 'rejected' && !(r.reason instanceof RollSkipped)) throw this.#poison(ioError(this.paths[COPIES[i] as CopyName], 'compact', r.reason));
    });
  }

  /**
   * A write or sync failed: stop this object for good (until the ledger is opened again) and
   * return the error for the requests that were being written, whose outcome is unknown.
   */
  #poison(cause: unknown): LicenseError {
    const failure = writeFailure(cause);
    this.#poisoned ??= failure;
    return outcomeUnknown(failure);
  }

  #poisonedError(): LicenseError {
    return poisonedError(this.#poisoned as LicenseError, this.licenseId);
  }

  /** After poisoning: let other processes in and drop the descriptors (no write is in flight). */
  async #stop(): Promise<void> {
    await this.#session.release().catch(() => undefined);
    this.#closeLogs();
  }

  #closeLogs(): void {
    for (const l of Object.values(this.#logs)) l.close();
    this.#logs = {};
  }

  /**
   * Before the lock is given up: record in each copy's head file how many records it holds (page
   * cache only; after a crash it may lag, never lead). A copy found shorter than its head file says
   * was cut by someone (see {@link CreditLedger.#adopt}). Nothing is written by a poisoned object.
   */
  #writeHeads(): void {
    if (this.#poisoned !== undefined) return;
    for (const l of Object.values(this.#logs)) l.writeHead();
  }

  /** Run writes to the copies; a failure poisons this object (see {@link CreditLedger.#poison}). */
  async #writing(writes: Promise<unknown>[]): Promise<void> {
    const done = await Promise.allSettled(writes);
    const failed = done.find((d): d is PromiseRejectedResult => d.status === 'rejected');
    if (failed !== undefined) throw this.#poison(failed.reason);
  }

  #emitRepaired(states: CopyStates): void {
    try {
      this.#events.emit('repaired', states);
    } catch {
      // A throwing listener must not break the ledger; the repair is already durable.
    }
  }

  #emit(before: number, after: number): void {
    for (const e of crossings(before, after, this.#thresholds)) {
      try {
        this.#events.emit('threshold', e);
      } catch {
        // A throwing listener must not break the ledger; the records are already durable.
      }
    }
  }

  // ---- reading and reconciling ----

  /** Bring the in-memory head up to what is on disk (under the lock): the cheap case reads only new tails. */
  async #refresh(): Promise<void> {
    if (!this.#loaded || this.#stale) {
      await this.#load(!this.#loaded);
      return;
    }
    const logs = COPIES.map((n) => this.#logs[n] as AppendLog);
    // A copy deleted, replaced or restored since we looked: only a full read explains it.
    if (!logs.every((l) => l.isCurrent())) {
      await this.#load(false);
      return;
    }
    let tails: Uint8Array[][];
    try {
      tails = await Promise.all(logs.map((l) => l.refresh(true)));
    } catch (e) {
      if (e instanceof LogMoved || isLicenseError(e, 'ERR_STORE_CORRUPT')) {
        await this.#load(false);
        return;
      }
      throw ioError(this.paths.primary, 'read', e);
    }
    if (tails.every((t) => t.length === 0)) return;
    // Another process appended: check the new records of each copy, continuing our head.
    const start = this.#head;
    const [pr, mr] = await Promise.all(tails.map(async (t): Promise<LogCopyRead> => {
      const r = await chainBodies(this.#key, t, start);
      return r.status === 'ok' ? { ...r, start } : r;
    }));
    const plan = reconcileLogs(pr as LogCopyRead, mr as LogCopyRead);
    const winner = (plan.winner === 'mirror' ? mr : pr) as LogCopyOk;
    await this.#repair(plan, winner);
    this.#keys.add(winner.entries.map((e) => e.record), this.#head.carried);
    this.#noteTimes(winner.entries.map((e) => e.record));
    this.#head = winner.head;
  }

  /** Full read of both copies (snapshot + tail each), migrating old-format files first; repairs. Returns what each copy was. */
  async #load(initial: boolean): Promise<{ primary: CopyState; mirror: CopyState }> {
    // Reopen by path: a copy may have been deleted or replaced since it was opened.
    this.#closeLogs();
    if (needsMigration(this.paths)) {
      // A failure leaves the old file or a finished `.migrating` directory: the next open goes on from there.
      await migrateLegacy(this.paths, this.#key, this.#genesis, this.#copies.logId, MODE).catch((e: unknown) => {
        throw ioError(this.paths.primary, 'migrate the old-format ledger files beside', e);
      });
    }
    const [po, mo] = (await Promise.all(COPIES.map(async (n) => {
      const o = await openCopy(this.#copies, n);
      if (o.log !== undefined) this.#logs[n] = o.log;
      if (o.compactDue === true) this.#compactDue = true;
      return o;
    }))) as [CopyOpened, CopyOpened];
    const found: Record<CopyName, CopyOpened> = { primary: po, mirror: mo };
    let plan: LogReconcile;
    for (;;) {
      plan = reconcileLogs(found.primary.read, found.mirror.read);
      if (plan.readFull === undefined) break;
      const name = plan.readFull;
      found[name] = { ...found[name], read: await readFromFirst(this.#copies, name) };
      delete (found[name] as { snap?: LedgerSnapshot }).snap;
    }
    const known = this.#head;
    const states = await this.#adopt(plan, found);
    if (initial) this.#foundAtOpen = states;
    else if (states.primary !== 'ok' || states.mirror !== 'ok') this.#emitRepaired(states);
    if (!initial && this.#head.consumed < known.consumed) {
      throw new LicenseError('ERR_LEDGER_TAMPERED', 'the ledger files were replaced by an older state while in use; no credits are given back', { consumed: known.consumed, found: this.#head.consumed });
    }
    this.#loaded = true;
    this.#stale = false;
    await this.#compact();
    return states;
  }

  /** Adopt the winner of a full read: refuse what must be refused, repair the other copy, take its state. */
  async #adopt(plan: LogReconcile, found: Record<CopyName, CopyOpened>): Promise<{ primary: CopyState; mirror: CopyState }> {
    if (plan.winner === 'none') {
      if (this.#loaded) {
        throw new LicenseError('ERR_LEDGER_MISSING', 'both copies of the credit ledger were deleted while in use; restore them from a backup, or reopen with `recover` to restart from the vendor floor', { consumed: this.#head.consumed });
      }
      const emptied = found.primary.existed || found.mirror.existed;
      this.#refuseEmptyStart(emptied ? 'hold no records (emptied, or cut before their first record)' : 'are missing');
      for (const n of COPIES) this.#logs[n]?.close();
      this.#logs = {};
      await this.#writing(COPIES.map((n) => this.#createCopy(n, [])));
      this.#head = emptyHead(this.#genesis);
      this.#keys.clear();
      this.#latestTime = undefined;
      return { primary: 'missing', mirror: 'missing' };
    }
    const w = found[plan.winner];
    const chain = w.read as LogCopyOk;
    const count = recordCount(chain);
    // Copies that exist but hold no record (emptied, or only a torn first record) are as good as
    // missing: never a silent restart when the license says credits were spent.
    if (!this.#loaded && count === 0) this.#refuseEmptyStart('hold no records (emptied, or cut before their first record)');
    // A head file counts the records a writer saw committed; both copies shorter than that lost
    // acknowledged records (a byte flipped in the last record of both reads as a torn write and is cut).
    const promised = Math.max(found.primary.cutShort ?? 0, found.mirror.cutShort ?? 0);
    if (promised > count) {
      throw tampered(plan.winner, `it ends at record ${count - 1} but its head file says record ${promised - 1} was committed: records were cut from both copies`, { records: count, committed: promised });
    }
    await this.#repair(plan, chain);
    // Make what was read (and is about to be reported) what the disks hold.
    await this.#writing(COPIES.map(async (n) => (this.#logs[n] as AppendLog).rewriteTail(WRITE_BACK_BYTES)));
    this.#keys.load(w.snap?.keys ?? []);
    this.#keys.add(chain.entries.map((e) => e.record), chain.start.seq < 0 ? 0 : chain.start.carried);
    this.#latestTime = w.snap?.latest;
    this.#noteTimes(chain.entries.map((e) => e.record));
    this.#head = chain.head;
    const state = (o: CopyOpened): CopyState => {
      if (o.read.status === 'missing') return 'missing';
      if (recordCount(o.read as LogCopyOk) < count) return 'behind';
      return o.torn ? 'torn' : 'ok';
    };
    return { primary: state(found.primary), mirror: state(found.mirror) };
  }

  /** Bring the losing copy up to the winner: rebuild it from every record, or append what it lacks. */
  async #repair(plan: LogReconcile, winner: LogCopyOk): Promise<void> {
    const r = plan.repair;
    if (r === undefined) return;
    const first = winner.start.seq + 1;
    const bodies = winner.entries.slice(r.from - first).map((e) => e.body);
    if (r.create) {
      this.#logs[r.copy]?.close();
      delete this.#logs[r.copy];
      await this.#writing([this.#createCopy(r.copy, bodies)]);
      return;
    }
    const log = this.#logs[r.copy] as AppendLog;
    await this.#writing([(async () => {
      for (let i = 0; i < bodies.length; i += MAX_BATCH) await log.append(bodies.slice(i, i + MAX_BATCH));
    })()]);
  }

  /** Create a copy holding `bodies` (atomically: a temp directory renamed into place) and open it. */
  async #createCopy(name: CopyName, bodies: readonly Uint8Array[]): Promise<void> {
    const path = this.paths[name];
    try {
      if (emptyDir(path)) rmSync(path, { recursive: true, force: true });
      await makeDirectory(dirname(path));
      if (!(await AppendLog.create(path, this.#copies.logId, MODE, bodies))) throw new Error(`${path} appeared while the ledger lock was held`);
      this.#logs[name] = (await AppendLog.open(path, this.#copies.logId, MODE, true, OPEN_OPTIONS)).log;
    } catch (e) {
      throw ioError(path, 'create', e);
    }
    if (bodies.length > 0) this.#compactDue = true; // a rebuilt copy has no snapshot yet
  }

  /**
   * A ledger with no records: a first use, or a lost or wiped disk. Refuse to start from zero when
   * the license says credits were spent, unless the caller asked to recover from the vendor floor.
   */
  #refuseEmptyStart(what: string): void {
    if (this.#openFloor > 0 && !this.#recover) {
      throw new LicenseError(
        'ERR_LEDGER_MISSING',
        `the credit ledger files ${what} but the license says ${this.#openFloor} credits were already consumed; restore the ledger files (primary ${this.paths.primary}, mirror ${this.paths.mirror}), or open with \`recover: true\` (CLI: --recover) to restart from the vendor's count`,
        { carried: this.#openFloor },
      );
    }
  }
}

function checkKey(key: unknown): asserts key is string {
  if (!isPrintableText(key, MAX_IDEMPOTENCY_KEY_BYTES) || Buffer.byteLength(key) > MAX_IDEMPOTENCY_KEY_BYTES || Buffer.from(key, 'utf8').toString('utf8') !== key) {
    throw new LicenseError('ERR_USAGE', `an idempotency key is 1 to ${MAX_IDEMPOTENCY_KEY_BYTES} printable characters (${MAX_IDEMPOTENCY_KEY_BYTES} bytes of UTF-8), e.g. an order id or a UUID`);
  }
}

function checkThresholds(t: readonly number[]): void {
  if (!Array.isArray(t) || !t.every((x) => Number.isSafeInteger(x) && x >= 0)) {
    throw new LicenseError('ERR_USAGE', 'thresholds must be non-negative whole numbers of remaining credits');
  }
}
