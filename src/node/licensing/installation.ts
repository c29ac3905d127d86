/**
 * One installation of an application: its own Ed25519 key pair (made on first use, kept sealed in
 * the state directory), the nonces of requests it has sent and not yet seen answered, the lease it
 * has installed, per license, and a copy of the clock guard's high-water mark. Every change happens
 * under a cross-process lock on the directory, so two processes of one installation never lose each
 * other's nonces.
 */
import '../crypto/backends.js'; // node:crypto for Ed25519 and AES-GCM
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { join, resolve } from 'node:path';
import { base64Decode, base64Encode } from '../../core/codec/base64.js';
import { utf8, fromUtf8 } from '../../core/codec/bytes.js';
import { sha256Hex } from '../crypto/digest.js';
import { ClockGuard, type TimeWitness } from '../../core/time/clock-guard.js';
import { LicenseError } from '../../core/errors.js';
import type { InstallationSigner } from '../../core/exchange/request.js';
import { keyId } from '../../core/crypto/keys.js';
import { requireSecret } from '../../core/crypto/require-secret.js';
import { deriveSealKey, seal, unseal, type SealKey } from '../../core/crypto/seal.js';
import { withLock } from '../fs/lock.js';
import { SealedFile } from '../crypto/sealed-file.js';

/** Options of {@link Installation.open}. */
export interface InstallationOptions {
  /** The installation's state directory (created when missing, mode 0700). */
  readonly dir: string;
  /**
   * Your application's secret the state is sealed under (tamper evidence; see docs/security.md).
   * Required: without it `open` rejects `ERR_SECRET_REQUIRED`, as there is no shared default.
   */
  readonly secret: string | Uint8Array;
  /** How long to wait for another process of this installation. Default 10 000 ms. */
  readonly lockTimeoutMs?: number | undefined;
  /**
   * Records whose latest time {@link Installation.clock} counts as seen, e.g. the credit ledger
   * (`Licensing` passes its `ledger`): deleting or restoring `clock.sealed` then does not take the
   * mark back behind them. A fresh signed time discards what they held (see `ClockGuard`).
   */
  readonly witnesses?: readonly TimeWitness[] | undefined;
}

/** A request sent and not yet answered. */
export interface PendingRequest {
  /** Nonce, hex. */
  readonly nonce: string;
  /** Client time when it was made (ms). */
  readonly at: number;
}

/** What the installation keeps per license. */
export interface ExchangeState {
  /** Requests sent and not yet answered (at most 16, none older than 30 days; oldest first). */
  readonly pending: readonly PendingRequest[];
  /** Nonces already answered by an installed lease (newest last). */
  readonly answered: readonly string[];
  /** The installed lease text, if any. */
  readonly lease: string | undefined;
  /**
   * The license server refused the last renewal of that lease (a suspended or revoked license, a
   * device reset): its code and when. Kept across runs, so no later run grants grace beyond the
   * lease; cleared when a lease is installed.
   */
  readonly refused?: { readonly code: string; readonly message: string; readonly at: number } | undefined;
}

/** Requests older than this are forgotten: their answers are stale. */
export const PENDING_TTL_MS = 30 * 86_400_000;
const MAX_PENDING = 16;
const MAX_ANSWERED = 64;
const KEY_AAD = utf8('licit-installation-v1');
const STATE_AAD = utf8('licit-exchange-v1');

const empty: ExchangeState = { pending: [], answered: [], lease: undefined };

/**
 * An installation and its exchange state.
 *
 * @example
 * ```ts
 * const inst = await Installation.open({ dir: '/var/lib/myapp/licit', secret: APP_SECRET })
 * console.log(inst.id) // key id of this installation's public key
 * ```
 */
export class Installation {
  /** Absolute state directory. */
  readonly dir: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Key id of {@link Installation.publicKey}: this installation's identity. */
  readonly id: string;
  /** Signs this installation's requests. */
  readonly signer: InstallationSigner;
  /**
   * Where this installation keeps its copy of the clock guard's state (`clock.sealed` in the state
   * directory). Give it to `fileClockGuard(path, { secret, alsoKeepIn: [installation.clockStore] })`
   * so deleting or restoring that guard's own file does not reset rollback detection.
   */
  readonly clockStore: SealedFile;
  /**
   * The clock guard over {@link Installation.clockStore}, sealed under this installation's secret.
   * `Licensing` gives it the server time of every lease it installs (`acceptSignedTime`).
   */
  readonly clock: ClockGuard;
  readonly #secret: string | Uint8Array;
  readonly #lockTimeoutMs: number;
  readonly #keys = new Map<string, Promise<SealKey>>();

  private constructor(dir: string, key: KeyObject, secret: string | Uint8Array, lockTimeoutMs: number, witnesses: readonly TimeWitness[] = []) {
    this.dir = dir;
    this.#secret = secret;
    this.#lockTimeoutMs = lockTimeoutMs;
    const x = createPublicKey(key).export({ format: 'jwk' }).x;
    this.publicKey = new Uint8Array(Buffer.from(x as string, 'base64url'));
    this.id = keyId(this.publicKey);
    const publicKey = this.publicKey;
    this.signer = { kid: this.id, publicKey, sign: (msg) => new Uint8Array(sign(null, msg, key)) };
    this.clockStore = new SealedFile(join(dir, 'clock.sealed'));
    this.clock = new ClockGuard({ store: this.clockStore, secret, witnesses });
  }

  /**
   * Open the installation in `dir`, making its key pair on first use. Rejects `ERR_SECRET_REQUIRED`
   * without `secret`, `ERR_STATE_TAMPERED` when the sealed key was altered or sealed under another
   * secret, `ERR_IO` when the directory cannot be used.
   */
  static async open(options: InstallationOptions): Promise<Installation> {
    if (options === null || typeof options !== 'object' || typeof options.dir !== 'string' || options.dir === '') {
      throw new LicenseError('ERR_USAGE', 'Installation.open needs { dir }: the directory where this installation keeps its state');
    }
    const dir = resolve(options.dir);
    const secret = requireSecret(options.secret, 'Installation.open');
    const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    const sealKey = await deriveSealKey(secret, 'installation');
    const file = new SealedFile(join(dir, 'installation.key'));
    const key = await lockedIn(dir, lockTimeoutMs, async () => {
      const sealed = await file.read();
      if (sealed !== undefined) {
        const plain = await unseal(sealKey, sealed, KEY_AAD);
        const der = plain === undefined ? undefined : parseKeyFile(plain);
        if (der === undefined) {
          throw new LicenseError('ERR_STATE_TAMPERED', `the installation key in ${dir} does not open under this secret: it was sealed with another secret (check the application's \`secret\`; from the CLI, --secret-file or LICIT_SECRET), belongs to another application, or was altered. Only if the secret is right, remove ${join(dir, 'installation.key')} to start a new installation (it will need activating again).`);
        }
        return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
      }
      const { privateKey } = generateKeyPairSync('ed25519');
      const der = privateKey.export({ format: 'der', type: 'pkcs8' });
      await file.write(await seal(sealKey, utf8(JSON.stringify({ v: 1, pkcs8: base64Encode(new Uint8Array(der)), createdAt: new Date().toISOString() })), KEY_AAD));
      return privateKey;
    });
    return new Installation(dir, key, secret, lockTimeoutMs, options.witnesses ?? []);
  }

  #stateFile(licenseId: string): SealedFile {
    const stem = sha256Hex(licenseId).slice(0, 32);
    return new SealedFile(join(this.dir, `exchange-${stem}.sealed`));
  }

  #sealKey(licenseId: string): Promise<SealKey> {
    let k = this.#keys.get(licenseId);
    if (k === undefined) {
      k = deriveSealKey(this.#secret, `exchange:${this.id}:${licenseId}`);
      this.#keys.set(licenseId, k);
    }
    return k;
  }

  async #read(licenseId: string): Promise<ExchangeState> {
    const sealed = await this.#stateFile(licenseId).read();
    if (sealed === undefined) return empty;
    const plain = await unseal(await this.#sealKey(licenseId), sealed, STATE_AAD);
    const st = plain === undefined ? undefined : parseState(plain);
    if (st === undefined) {
      throw new LicenseError('ERR_STATE_TAMPERED', `the activation state of license ${licenseId} in ${this.dir} was altered. Remove it and activate again.`, { licenseId });
    }
    return st;
  }

  async #write(licenseId: string, st: ExchangeState): Promise<void> {
    await this.#stateFile(licenseId).write(await seal(await this.#sealKey(licenseId), utf8(JSON.stringify(st)), STATE_AAD));
  }

  /** The exchange state of one license (no lock: files are replaced by rename). */
  async state(licenseId: string): Promise<ExchangeState> {
    return this.#read(licenseId);
  }

  /** Remember a request just made, so its answer will be accepted (at most 16 open, 30 days each). */
  async addPending(licenseId: string, nonce: string, at: number): Promise<void> {
    await this.#update(licenseId, (st) => ({ ...st, pending: [...st.pending.filter((p) => at - p.at < PENDING_TTL_MS), { nonce, at }].slice(-MAX_PENDING) }));
  }

  /**
   * Install a lease under the lock: `check` sees the current state (to verify the lease's nonce
   * against it) and returns the lease text and nonce to install; the nonce then counts as
   * answered and every request older than it is dropped.
   */
  async install<
    T extends {
      /** The lease text to install. */
      text: string;
      /** The nonce (hex) of the request the lease answers. */
      nonce: string;
    },
  >(licenseId: string, check: (st: ExchangeState) => Promise<T>): Promise<T> {
    let out: T | undefined;
    await this.#update(licenseId, async (st) => {
      const lease = await check(st);
      out = lease;
      const idx = st.pending.findIndex((p) => p.nonce === lease.nonce);
      const answeredAt = idx < 0 ? Infinity : (st.pending[idx] as PendingRequest).at;
      return {
        pending: st.pending.filter((p) => p.nonce !== lease.nonce && p.at > answeredAt),
        answered: [...st.answered, lease.nonce].slice(-MAX_ANSWERED),
        lease: lease.text,
      };
    });
    return out as T;
  }

  /** Remember that the server refused renewing the installed lease (see {@link ExchangeState.refused}). */
  async recordRefusal(licenseId: string, refusal: { code: string; message: string; at: number }): Promise<void> {
    await this.#update(licenseId, (st) => ({ ...st, refused: refusal }));
  }

  /** Forget the installed lease and open requests of a license (after deactivation). */
  async clear(licenseId: string): Promise<void> {
    await this.#update(licenseId, (st) => ({ pending: [], answered: st.answered, lease: undefined }));
  }

  async #update(licenseId: string, f: (st: ExchangeState) => ExchangeState | Promise<ExchangeState>): Promise<void> {
    await lockedIn(this.dir, this.#lockTimeoutMs, async () => {
      await this.#write(licenseId, await f(await this.#read(licenseId)));
    });
  }
}

async function lockedIn<T>(dir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const { makeDirectory } = await import('../../os/make-dir.js');
  try {
    await makeDirectory(dir);
  } catch (e) {
    throw new LicenseError('ERR_IO', `cannot create the installation directory ${dir}: ${(e as Error).message}`);
  }
  return withLock(join(dir, 'installation.lock'), fn, { timeoutMs });
}

function parseKeyFile(plain: Uint8Array): Uint8Array | undefined {
  try {
    const j = JSON.parse(fromUtf8(plain)) as { v?: unknown; pkcs8?: unknown };
    return j.v === 1 && typeof j.pkcs8 === 'string' ? base64Decode(j.pkcs8) : undefined;
  } catch {
    return undefined;
  }
}

function parseState(plain: Uint8Array): ExchangeState | undefined {
  try {
    const j = JSON.parse(fromUtf8(plain)) as Partial<ExchangeState>;
    const okPending = Array.isArray(j.pending) && j.pending.every((p) => typeof p?.nonce === 'string' && typeof p.at === 'number');
    const okAnswered = Array.isArray(j.answered) && j.answered.every((n) => typeof n === 'string');
    if (!okPending || !okAnswered || !(j.lease === undefined || typeof j.lease === 'string')) return undefined;
    const r = j.refused as { code?: unknown; message?: unknown; at?: unknown } | undefined;
    const refused = r !== undefined && r !== null && typeof r.code === 'string' && typeof r.message === 'string' && typeof r.at === 'number' ? { code: r.code, message: r.message, at: r.at } : undefined;
    return { pending: j.pending as PendingRequest[], answered: j.answered as string[], lease: j.lease, ...(refused === undefined ? {} : { refused }) };
  } catch {
    return undefined;
  }
}
