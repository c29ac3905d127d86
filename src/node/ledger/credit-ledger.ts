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
 *
 * This file is the public object; its parts sit beside it: `state.ts` (what an open ledger holds),
 * `commit-queue.ts` (the writer loop), `records.ts` (a batch's records, written to both copies),
 * `reconciliation.ts` (reading, trusting and repairing the copies; the vendor floor),
 * `compaction.ts` (the roll of both copies), `copies.ts` (reading one copy) and `session.ts` (the
 * ledger locks).
 */
import '../crypto/backends.js'; // node:crypto for Ed25519 and AES-GCM
import { EventEmitter } from 'node:events';
import { join, resolve } from 'node:path';
import { LicenseError } from '../../core/errors.js';
import { toClock } from '../../core/time/clock.js';
import { toKeyring, type PublicKeyInput } from '../../core/crypto/keys.js';
import { isPrintableText } from '../../core/codec/text.js';
import { verifiedTopUpText, verifyTopUp, type VerifiedTopUp } from '../../core/exchange/topup.js';
import { balanceAfter, crossings, type Balance } from '../../core/ledger/plan.js';
import { tampered } from '../../core/ledger/reconcile.js';
import { genesisHash, MAX_IDEMPOTENCY_KEY_BYTES, MAX_REASON_BYTES, type LedgerRecord } from '../../core/ledger/record.js';
import { deriveLedgerKey, type LedgerKey } from '../../core/ledger/seal.js';
import { CommitQueue } from './commit-queue.js';
import { COPIES, readFromFirst, verifyCopy } from './copies.js';
import { defaultLedgerDirs, ledgerFileNames } from './paths.js';
import { Reconciler } from './reconciliation.js';
import { LockSession } from './session.js';
import { LedgerState } from './state.js';
import type { ConsumeOptions, ConsumeReceipt, CopyStates, CreditLedgerEvents, CreditLedgerOptions, LedgerEntry, LedgerLicense, LedgerStats, TopUpReceipt, VerifyReport } from './types.js';

export type * from './types.js';

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

  readonly #publicKeys: PublicKeyInput | readonly PublicKeyInput[] | undefined;
  readonly #events = new EventEmitter();
  #thresholds: number[];
  /** What this object holds of the two copies (shared with the parts below). */
  readonly #state: LedgerState;
  readonly #session: LockSession;
  readonly #reconciler: Reconciler;
  readonly #queue: CommitQueue;

  private constructor(license: LedgerLicense, key: LedgerKey, opts: CreditLedgerOptions, floor: number) {
    this.licenseId = license.id;
    const credits = license.credits ?? 0;
    const genesis = genesisHash(license.id);
    const now = toClock(opts.now, "the ledger's `now` option");
    this.#publicKeys = opts.publicKeys;
    this.#thresholds = [...(opts.thresholds ?? [])];
    const defaults = opts.dir === undefined || opts.mirrorDir === undefined ? defaultLedgerDirs(opts.appName ?? 'licit') : undefined;
    const dir = resolve(opts.dir ?? (defaults as { dir: string }).dir);
    const mirrorDir = resolve(opts.mirrorDir ?? (defaults as { mirrorDir: string }).mirrorDir);
    const names = ledgerFileNames(license.id, opts.secret);
    this.paths = { primary: join(dir, names.primary), mirror: join(mirrorDir, names.mirror), lock: join(dir, names.lock), mirrorLock: join(mirrorDir, names.mirrorLock) };
    if (this.paths.primary === this.paths.mirror) throw new LicenseError('ERR_USAGE', 'the mirror must be a different directory from the primary');
    const copies = { key, licenseId: license.id, logId: `credits:${license.id}`, genesis, paths: this.paths };
    this.#state = new LedgerState({ key, credits, now, copies, compactBytes: opts.compactBytes ?? COMPACT_BYTES });
    // A lock beside each copy: two installations with their own primaries may share a mirror.
    this.#session = new LockSession([this.paths.lock, this.paths.mirrorLock], opts.lockTimeoutMs ?? 10_000, () => this.#state.writeHeads());
    this.#reconciler = new Reconciler(this.#state, { floor, recover: opts.recover === true }, (states) => this.#emitRepaired(states));
    this.#queue = new CommitQueue(this.#state, this.#session, this.#reconciler, (before, after) => this.#emitThresholds(before, after));
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
    const ledger = new CreditLedger(license, await deriveLedgerKey(options.secret, license.id), options, floor);
    try {
      await ledger.#queue.submitOp({ kind: 'floor', floor });
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
    const { record, repeated, balance } = await this.#queue.submitOp({ kind: 'consume', amount: n, reason, idempotencyKey });
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
    const s = this.#state;
    return this.#queue.submitTask(async () => {
      const k = s.keys.get(idempotencyKey);
      return k === undefined ? undefined : { ...balanceAfter(k, s.credits, s.head), seq: k.seq, repeated: true };
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
    const { record, balance } = await this.#queue.submitOp({ kind: 'topup', tokenId: t.tokenId, credits: t.credits });
    return { ...balance, applied: record !== undefined, tokenId: t.tokenId, credits: t.credits };
  }

  /** Raise consumption to at least `floor` (e.g. the carried credits of a renewal lease). */
  async raiseFloor(floor: number): Promise<Balance> {
    if (!Number.isSafeInteger(floor) || floor < 0) throw new LicenseError('ERR_USAGE', `floor must be a non-negative whole number, got ${floor}`);
    return (await this.#queue.submitOp({ kind: 'floor', floor })).balance;
  }

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
    const latest = this.#state.latestTime;
    return latest === undefined ? undefined : new Date(latest);
  }

  /** The balance now, including what other processes consumed. */
  async balance(): Promise<Balance> {
    return this.#queue.submitTask(async () => this.#state.balance());
  }

  /**
   * What the two copies looked like when {@link CreditLedger.open} read them, before it repaired
   * anything: `missing` for both on a ledger created by that open. Later repairs fire `repaired`.
   */
  get foundAtOpen(): CopyStates {
    return this.#state.foundAtOpen;
  }

  /** The balance as of this process's last look at the ledger (no I/O). */
  get cachedBalance(): Balance {
    return this.#state.balance();
  }

  /** Every record, oldest first (read from the primary's every segment: compaction deletes none). */
  async history(): Promise<LedgerEntry[]> {
    return this.#queue.submitTask(async () => {
      const read = await readFromFirst(this.#state.copies, 'primary');
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
    const s = this.#state;
    return this.#queue.submitTask(async () => {
      const { primary, mirror } = await this.#reconciler.load(false);
      for (const name of COPIES) await verifyCopy(s.copies, name, s.head);
      return { ...s.balance(), records: s.head.seq + 1, primary, mirror };
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
    return { commits: this.#state.commits, records: this.#state.records };
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
    await this.#queue.close();
    await this.#session.release();
    this.#state.closeLogs();
  }

  #emitRepaired(states: CopyStates): void {
    try {
      this.#events.emit('repaired', states);
    } catch {
      // A throwing listener must not break the ledger; the repair is already durable.
    }
  }

  #emitThresholds(before: number, after: number): void {
    for (const e of crossings(before, after, this.#thresholds)) {
      try {
        this.#events.emit('threshold', e);
      } catch {
        // A throwing listener must not break the ledger; the records are already durable.
      }
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
