/**
 * `Licensing`: the client runtime that ties a license key, this installation and the vendor's
 * license server together. Verify the key once; keep the lease in memory so every check is a
 * comparison of two numbers (no I/O, no await); renew in the background before `verifiedUntil`
 * (unref'd timer, back-off on failure, never blocking a check); fall into the license's grace
 * period when the server cannot be reached, then `ERR_LEASE_EXPIRED`.
 */
import { EventEmitter } from 'node:events';
import { ERROR_CODES, LicenseError, isLicenseError, type LicenseErrorCode } from '../core/errors.js';
import { checkLeaseBinding, checkLeaseNonce, openLease, type Lease } from '../core/exchange/lease.js';
import { createRequest, type RequestOperation, type TopUpAsk } from '../core/exchange/request.js';
import { newNonce } from '../core/exchange/fields.js';
import { toKeyring, type Keyring, type PublicKeyInput } from '../core/keys.js';
import type { License } from '../core/license.js';
import { verifyTopUp, type VerifiedTopUp } from '../core/topup.js';
import { verifyLicense } from '../core/verify.js';
import { getFingerprint, hashComponent, Fingerprint, match, type MatchStrategy } from './fingerprint/index.js';
import { inContainer } from './fingerprint/environment.js';
import { Installation } from './installation.js';
import { saltForVendor } from '../core/fingerprint/salt.js';
import { requireSecret } from '../core/require-secret.js';

/** Where this installation stands. */
export type LeaseStatus = 'unactivated' | 'verified' | 'grace' | 'expired';

/** The credit ledger as the runtime uses it (a `CreditLedger` fits). */
export interface LedgerHook {
  /** Read the balance; its consumption is reported in every request. */
  balance(): Promise<{
    /** Credits consumed so far. */
    readonly consumed: number;
    /** Credits this ledger spent itself (without vendor floors); reported with `ledgerId`. */
    readonly spent?: number | undefined;
    /** The ledger's identity (32 hex characters), once it holds a record. */
    readonly ledgerId?: string | undefined;
  }>;
  /** Apply a lease's consumption floor: local consumption may not go below `floor` credits. */
  raiseFloor(floor: number): Promise<unknown>;
  /** Apply a verified top-up token from a lease (called for every token in every lease: must count each `tokenId` once). */
  topUp?(token: VerifiedTopUp): Promise<unknown>;
}

/** A scheduler for the renewal timer (tests inject one; default: an unref'd `setTimeout`). */
export type Schedule = (
  fn: () => void,
  delayMs: number,
) => {
  /** Stop the timer; `fn` is not called after this. */
  cancel(): void;
};

/** Options of {@link Licensing.open}. */
export interface LicensingOptions {
  /** The license key text. */
  readonly license: string;
  /** The vendor public key(s). */
  readonly publicKeys: PublicKeyInput | readonly PublicKeyInput[];
  /** This installation's state directory (installation key, lease, open requests). */
  readonly dir: string;
  /** Your application's secret local state is sealed under. Required (`ERR_SECRET_REQUIRED`): there is no shared default. */
  readonly secret: string | Uint8Array;
  /** Base URL of the vendor's license server (`https://licenses.example.com`). Absent: offline only. */
  readonly server?: string | URL | undefined;
  /**
   * The application's fingerprint salt (the one the vendor binds licenses with). Default:
   * `saltForVendor(first of publicKeys)`, a salt of this vendor's own; there is no salt shared by
   * every vendor. When rotating keys, keep the original key first or set `salt`, or every
   * fingerprint changes.
   */
  readonly salt?: string | undefined;
  /**
   * An explicit machine identity instead of the hardware's, chosen by the application (the vendor's
   * code), for containers and operators: a machine id (hashed with the salt like every component,
   * `fp1:mi=…`) ... The server refuses a supplied id for a license that does not allow one
   * (`ERR_MACHINE_ID_NOT_ALLOWED`). Default: this machine's hardware.
   */
  readonly machineId?: string | undefined;
  /** ... or a whole fingerprint string (`fp1:…`), also the application's choice. Default: this machine's hardware. */
  readonly fingerprint?: string | undefined;
  /**
   * Let the end user's environment supply the machine id: `LICIT_MACHINE_ID` is read (when
   * `machineId` and `fingerprint` are absent) only when this is `true`. Off by default, as
   * whoever sets the variable replaces the hardware fingerprint, and one activation could then
   * serve any number of machines. Turn it on only for deployments where the operator is trusted
   * (and the license allows supplied ids). Default `false`.
   */
  readonly machineIdFromEnv?: boolean | undefined;
  /** How tolerant the machine match is (default `"most"`). */
  readonly fingerprintStrategy?: MatchStrategy | undefined;
  /** The application's name, sent with every request (up to 128 characters). */
  readonly appName?: string | undefined;
  /** The application's version, sent with every request (up to 64 characters). */
  readonly appVersion?: string | undefined;
  /** License user to activate as (default: the server's default user). */
  readonly user?: string | undefined;
  /**
   * The user's sign-in, for licenses whose users must prove who they are (`license.userAuth`): the
   * password the license's administrator set, or an ID token from the vendor's identity provider.
   * Sent (over the server's TLS) with an activation only; renewals are proven by the installation key.
   * A function is called for each activation (e.g. to ask the user, or to fetch a fresh ID token).
   */
  readonly credentials?: UserSignIn | (() => UserSignIn | Promise<UserSignIn>) | undefined;
  /** Release date of the running application (maintenance check). */
  readonly releaseDate?: Date | undefined;
  /** Credit ledger: its consumption is reported, the lease's floor and top-ups applied to it. */
  readonly ledger?: LedgerHook | undefined;
  /**
   * Seats in use here, per user type (e.g. `() => seats.usage()` reduced to counts), read for every
   * request so the server's usage view and reports see them. Absent: no seat usage is reported.
   */
  readonly seatUsage?: (() => Record<string, number> | Promise<Record<string, number>>) | undefined;
  /** Clock in ms (default `Date.now`). */
  readonly now?: (() => number) | undefined;
  /** `fetch` to reach the server (default the global one). */
  readonly fetch?: typeof fetch | undefined;
  /** Renew automatically in the background (default: true when `server` is set). */
  readonly autoRenew?: boolean | undefined;
  /** First retry delay after a failed renewal (default 30 s); doubles per failure. */
  readonly retryMinMs?: number | undefined;
  /** Longest retry delay (default 1 h). */
  readonly retryMaxMs?: number | undefined;
  /** Give up one HTTP attempt after this long (default 10 s). */
  readonly requestTimeoutMs?: number | undefined;
  /** Timer used for renewals (tests). */
  readonly schedule?: Schedule | undefined;
}

/** A license user's sign-in: a password or an ID token. */
export interface UserSignIn {
  /** The password the license's administrator set for the user. */
  readonly password?: string | undefined;
  /** An ID token from the vendor's identity provider (names the user itself). */
  readonly idToken?: string | undefined;
}

/** What {@link Licensing.requestTopUp} got. A plain JSON object, so an alert hook can return it. */
export type TopUpResult = {
  /** The license the credits were asked for. */
  readonly licenseId: string;
  /** The key the ask was sent under (the caller's, or a generated `topup-<nonce>`). */
  readonly idempotencyKey: string;
  /** Credits asked for. */
  readonly requested: number;
  /** Credits the vendor's policy granted (0: the ask was recorded, nothing granted). */
  readonly granted: number;
  /** The top-up token id granted, or null. */
  readonly tokenId: string | null;
  /** False when the server had granted this key before (a retry): nothing was added twice. */
  readonly added: boolean;
};

/** Payload of the `status` event. */
export interface StatusEvent {
  /** The status now. */
  readonly status: LeaseStatus;
  /** The status before the change. */
  readonly previous: LeaseStatus;
  /** End of verification, or undefined before activation. */
  readonly verifiedUntil: Date | undefined;
  /** End of the grace period, or undefined before activation. */
  readonly graceUntil: Date | undefined;
}

/** Payload of the `renewal-failed` event. */
export interface RenewalFailure {
  /** Why the renewal failed. */
  readonly error: LicenseError;
  /** The server could not be reached (grace applies) rather than refusing (it does not). */
  readonly unreachable: boolean;
  /** When the next attempt is due (ms), or undefined when renewal stopped. */
  readonly retryInMs: number | undefined;
}

const DAY = 86_400_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

const defaultSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS));
  t.unref(); // never keeps the application alive
  return { cancel: () => clearTimeout(t) };
};

/**
 * The licensing runtime of an installed application.
 *
 * Events: `status` ({@link StatusEvent}) when the status changes, `renewed` (the new {@link Lease}),
 * `renewal-failed` ({@link RenewalFailure}), `license` (a re-issued {@link License} the server sent).
 *
 * @example
 * ```ts
 * const licensing = await Licensing.open({ license: key, publicKeys: [VENDOR_PUB], dir: stateDir, secret: APP_SECRET,
 *   server: 'https://licenses.example.com', salt: 'com.example.app', appName: 'app', appVersion: '2.1.0' })
 * if (licensing.status === 'unactivated') await licensing.activate()
 * licensing.on('status', (e) => ui.showLicenseBanner(e.status, e.verifiedUntil))
 * if (licensing.has('export-pdf')) enableExport()   // O(1): no I/O, no await
 * ```
 */
export class Licensing extends EventEmitter {
  /** The installation (its key id is `installation.id`). */
  readonly installation: Installation;
  /** This machine's fingerprint string as sent to the server. */
  readonly fingerprint: string;
  /** Where the fingerprint came from. */
  readonly fingerprintSource: 'hardware' | 'operator';
  /** The process looks containerised (reported to the server, whose policy decides). */
  readonly container: boolean;
  #license: License;
  #lease: Lease | undefined;
  readonly #o: LicensingOptions;
  readonly #keyring: Keyring;
  readonly #clock: () => number;
  readonly #schedule: Schedule;
  // Deadlines in ms, precomputed so a check compares numbers only.
  #until = -Infinity;
  #graceUntil = -Infinity;
  #licenseEnd = Infinity;
  /** Highest time believed (ms): the clock never moves it back; only a fresh lease's server time may (`#adopt`). */
  #highest = 0;
  #last: LeaseStatus = 'unactivated';
  #refused: LicenseError | undefined;
  #failures = 0;
  #timer: { cancel(): void } | undefined;
  #closed = false;
  #renewing: Promise<Lease> | undefined;

  private constructor(o: LicensingOptions, license: License, keyring: Keyring, installation: Installation, fp: { text: string; source: 'hardware' | 'operator'; container: boolean }) {
    super();
    this.#o = o;
    this.#license = license;
    this.#keyring = keyring;
    this.installation = installation;
    this.fingerprint = fp.text;
    this.fingerprintSource = fp.source;
    this.container = fp.container;
    this.#clock = o.now ?? Date.now;
    this.#schedule = o.schedule ?? defaultSchedule;
    this.#setLicense(license);
  }

  /**
   * Verify the license, open the installation and load its lease. Rejects with the license's own
   * errors (`ERR_KEY_SIGNATURE`, `ERR_LICENSE_EXPIRED`, …); an installed lease that no longer fits
   * this machine is ignored (status `unactivated`), not an error.
   */
  static async open(options: LicensingOptions): Promise<Licensing> {
    if (options === null || typeof options !== 'object' || typeof options.license !== 'string' || options.publicKeys === undefined || typeof options.dir !== 'string') {
      const missing = options === null || typeof options !== 'object'
        ? ['license', 'publicKeys', 'dir']
        : [typeof options.license !== 'string' ? 'license (the license key text)' : '', options.publicKeys === undefined ? 'publicKeys (the vendor public key(s))' : '', typeof options.dir !== 'string' ? 'dir (where this installation keeps its state)' : ''].filter((m) => m !== '');
      throw new LicenseError('ERR_USAGE', `Licensing.open needs { license, publicKeys, dir, secret }; missing or not text: ${missing.join(', ')}`, { missing: missing.map((m) => m.split(' ')[0] as string) });
    }
    if (options.server !== undefined) checkServer(options.server);
    const cr = options.credentials as unknown;
    if (cr !== undefined && typeof cr !== 'function' && (cr === null || typeof cr !== 'object')) {
      throw new LicenseError('ERR_USAGE', 'the `credentials` option must be { password } or { idToken }, or a function returning one');
    }
    const secret = requireSecret(options.secret, 'Licensing.open');
    const fp = await resolveFingerprint(options);
    const clock = options.now ?? Date.now;
    const strategy = options.fingerprintStrategy;
    const license = await verifyLicense(options.license, {
      publicKeys: options.publicKeys,
      now: new Date(clock()),
      releaseDate: options.releaseDate,
      machine: (stored, licenseId) => {
        if (!match(stored, fp.text, strategy).ok) throw new LicenseError('ERR_FINGERPRINT_MISMATCH', `license ${licenseId} is bound to another machine; ask the vendor to reset it for this one`, { licenseId });
      },
    });
    const installation = await Installation.open({ dir: options.dir, secret });
    const l = new Licensing(options, license, await toKeyring(options.publicKeys), installation, fp);
    // Trusted time starts at the installation's high-water mark. An altered mark is not fatal here:
    // the next lease installed overwrites it (that is the way out its error names).
    l.#highest = await installation.clock.highWaterMark().catch((e: unknown) => {
      if (isLicenseError(e, 'ERR_STATE_TAMPERED')) return 0;
      throw e;
    });
    const st = await installation.state(license.id);
    if (st.lease !== undefined) {
      try {
        const lease = await openLease(st.lease, l.#keyring);
        checkLeaseBinding(lease, l.#binding());
        l.#setLease(lease);
      } catch (e) {
        if (!isLicenseError(e)) throw e;
        // A lease for another machine (hardware changed) or key: not usable here; activate again.
      }
    }
    l.#last = l.status;
    if (options.server !== undefined && options.autoRenew !== false) l.#scheduleNext();
    return l;
  }

  /** The verified license (replaced when the server sends a re-issued key). */
  get license(): License {
    return this.#license;
  }

  /** The installed lease, if any. */
  get lease(): Lease | undefined {
    return this.#lease;
  }

  /** End of verification, or undefined before activation. */
  get verifiedUntil(): Date | undefined {
    return this.#lease?.verifiedUntil;
  }

  /** End of the grace period after `verifiedUntil` (equal to it after the server refused a renewal). */
  get graceUntil(): Date | undefined {
    return this.#lease === undefined ? undefined : new Date(this.#graceUntil);
  }

  /** Status now. O(1), no I/O. */
  get status(): LeaseStatus {
    const s = this.#statusAt(this.#time());
    if (s !== this.#last) this.#changed(s);
    return s;
  }

  /**
   * Throw unless the installation may run now: `ERR_ACTIVATION_NOT_FOUND` before activation,
   * `ERR_LEASE_EXPIRED` after verification and grace ran out, `ERR_LICENSE_EXPIRED` past the
   * license's own end. O(1), no I/O.
   */
  check(): void {
    const t = this.#time();
    if (t > this.#licenseEnd) throw new LicenseError('ERR_LICENSE_EXPIRED', `license ${this.#license.id} has expired; renew the subscription with the vendor`, { licenseId: this.#license.id });
    const s = this.#statusAt(t);
    if (s !== this.#last) this.#changed(s);
    if (s === 'verified' || s === 'grace') return;
    if (s === 'unactivated') throw new LicenseError('ERR_ACTIVATION_NOT_FOUND', `this installation is not activated for license ${this.#license.id}; activate it online or with a request code`, { licenseId: this.#license.id });
    const why = this.#refused === undefined ? 'the license server could not be reached before the grace period ended' : `the license server refused renewal (${this.#refused.code})`;
    throw new LicenseError('ERR_LEASE_EXPIRED', `the license verification expired on ${new Date(this.#until).toISOString()} and ${why}. Connect to the internet, or renew offline with a request code.`, {
      licenseId: this.#license.id,
      verifiedUntil: new Date(this.#until).toISOString(),
    });
  }

  /** True when the installation may run now and `feature` is licensed. O(1), no I/O. */
  has(feature: string): boolean {
    const t = this.#time();
    if (t > this.#licenseEnd || t > this.#graceUntil) return false;
    return this.#license.has(feature);
  }

  /** {@link Licensing.check} then `license.require(feature)`. */
  require(feature: string): void {
    this.check();
    this.#license.require(feature);
  }

  /** Activate online (or renew, when already activated). */
  async activate(): Promise<Lease> {
    return this.#online('activate');
  }

  /** Renew online now. Concurrent calls share one request. */
  async renew(): Promise<Lease> {
    this.#renewing ??= this.#online(this.#lease === undefined ? 'activate' : 'renew').finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  /** Deactivate this installation on the server and forget its lease (frees an activation). */
  async deactivate(): Promise<void> {
    const code = await this.createRequest('deactivate');
    await this.#post('deactivate', code);
    await this.installation.clear(this.#license.id);
    this.#lease = undefined;
    this.#until = -Infinity;
    this.#graceUntil = -Infinity;
    this.#timer?.cancel();
    void this.status;
  }

  /**
   * Ask the vendor's server for more credits (`POST /v1/topup`), e.g. from an `AlertMonitor` top-up
   * hook when credits run low. The server's `topUpPolicy` decides what is granted; a grant comes back
   * in a renewed lease whose top-ups are applied to the `ledger` (once per token). Give the same
   * `idempotencyKey` to every retry of one ask (the monitor's `request.idempotencyKey`): a retry after
   * a lost answer gets the same token, not a second one. Rejects `ERR_SERVER_UNREACHABLE` when the
   * server cannot be reached (retry later), `ERR_ACTIVATION_NOT_FOUND` before activation. A failed
   * ask does not touch the lease or the renewal schedule.
   *
   * @example
   * ```ts
   * const monitor = new AlertMonitor(store, licensing.license.id, {
   *   rules: [{ id: 'credits-low', metric: 'credits', remainingAtMost: 100, topUp: { credits: 1000 } }],
   *   topUp: (r) => licensing.requestTopUp(Number(r.want.credits), { idempotencyKey: r.idempotencyKey }),
   * })
   * ```
   */
  async requestTopUp(credits: number, options: { readonly idempotencyKey?: string | undefined } = {}): Promise<TopUpResult> {
    if (!Number.isSafeInteger(credits) || credits < 1 || credits > 0xffffffff) throw new LicenseError('ERR_USAGE', `a top-up asks for a whole number of credits from 1 to 4294967295, not ${String(credits)}`);
    const idempotencyKey = options.idempotencyKey ?? `topup-${newNonce()}`;
    if (this.#lease === undefined) throw new LicenseError('ERR_ACTIVATION_NOT_FOUND', `activate this installation for license ${this.#license.id} before asking for a top-up`, { licenseId: this.#license.id });
    const code = await this.createRequest('topup', { credits, idempotencyKey });
    const body = await this.#post('topup', code);
    if (typeof body.lease !== 'string') throw new LicenseError('ERR_SERVER_UNREACHABLE', 'the license server answered the top-up without a lease');
    await this.applyResponse(body.lease);
    const t = (body.topUp ?? {}) as { granted?: unknown; tokenId?: unknown; added?: unknown };
    return {
      licenseId: this.#license.id,
      idempotencyKey,
      requested: credits,
      granted: typeof t.granted === 'number' ? t.granted : 0,
      tokenId: typeof t.tokenId === 'string' ? t.tokenId : null,
      added: t.added === true,
    };
  }

  /**
   * Make a request code (`LICITR1-…`) for the vendor's server or its offline page; its nonce is
   * remembered so exactly one answer to it will be accepted. It carries the ledger's consumption and
   * the `seatUsage` counts; a `topup` request also carries what it asks for.
   */
  async createRequest(operation: RequestOperation = 'activate', topUp?: TopUpAsk): Promise<string> {
    const nonce = newNonce();
    const at = this.#clock();
    const balance = this.#o.ledger === undefined ? undefined : await this.#o.ledger.balance();
    const consumed = balance?.consumed;
    const spent = balance?.ledgerId === undefined ? undefined : { spent: balance.spent ?? balance.consumed, ledgerId: balance.ledgerId };
    const seats = this.#o.seatUsage === undefined ? undefined : { ...(await this.#o.seatUsage()) };
    const code = await createRequest(
      {
        operation,
        licenseId: this.#license.id,
        licenseKey: this.#license.text,
        fingerprint: this.fingerprint,
        fingerprintSource: this.fingerprintSource,
        container: this.container,
        appName: this.#o.appName,
        appVersion: this.#o.appVersion,
        consumed,
        ...spent,
        seats,
        user: this.#o.user,
        topUp,
        nonce,
        clientTime: new Date(at),
      },
      this.installation.signer,
    );
    await this.installation.addPending(this.#license.id, nonce, at);
    return code;
  }

  /**
   * Install a response code (`LICITL1-…`) from the server or the vendor's offline page. Refuses
   * another machine's, installation's or license's response, a replayed or stale one, and any
   * tampering, each with its own code.
   */
  async applyResponse(code: string): Promise<Lease> {
    const lease = await this.installation.install(this.#license.id, async (st) => {
      const l = await openLease(code, this.#keyring);
      checkLeaseBinding(l, this.#binding());
      checkLeaseNonce(l, { pending: st.pending.map((p) => p.nonce), answered: st.answered, installedServerTime: this.#lease?.serverTime });
      return l;
    });
    await this.#adopt(lease);
    return lease;
  }

  /** Stop the renewal timer. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #binding() {
    const strategy = this.#o.fingerprintStrategy;
    return {
      licenseId: this.#license.id,
      fingerprint: this.fingerprint,
      installationKey: this.installation.publicKey,
      matchFingerprint: (leaseFp: string, ours: string) => leaseFp === ours || match(leaseFp, ours, strategy).ok,
    };
  }

  #time(): number {
    const c = this.#clock();
    // Trusted time never goes back: a clock set back cannot stretch a lease.
    if (c > this.#highest) this.#highest = c;
    return this.#highest;
  }

  #statusAt(t: number): LeaseStatus {
    if (this.#lease === undefined) return 'unactivated';
    if (t <= this.#until) return 'verified';
    if (t <= this.#graceUntil) return 'grace';
    return 'expired';
  }

  #changed(s: LeaseStatus): void {
    const previous = this.#last;
    this.#last = s;
    const ev: StatusEvent = { status: s, previous, verifiedUntil: this.verifiedUntil, graceUntil: this.graceUntil };
    // Listeners run after the check that noticed the change, never inside it.
    queueMicrotask(() => this.emit('status', ev));
  }

  #setLicense(license: License): void {
    this.#license = license;
    this.#licenseEnd = license.expiresAt === undefined ? Infinity : license.expiresAt.getTime() + license.graceDays * DAY;
  }

  #setLease(lease: Lease): void {
    this.#lease = lease;
    this.#until = lease.verifiedUntil.getTime();
    this.#graceUntil = this.#refused === undefined ? this.#until + this.#license.graceDays * DAY : this.#until;
    if (lease.serverTime.getTime() > this.#highest) this.#highest = lease.serverTime.getTime();
  }

  async #adopt(lease: Lease): Promise<void> {
    // The lease answers a request of ours (applyResponse checked its nonce), so its server time is
    // fresh: it resets a high-water mark that a clock once set ahead left behind, here and in the
    // installation's clock guard. A lease no newer than the last one accepted changes nothing.
    const anchored = await this.installation.clock.acceptSignedTime(lease);
    if (anchored.accepted) this.#highest = anchored.highWaterMark.getTime();
    this.#refused = undefined;
    this.#failures = 0;
    if (lease.licenseKey !== undefined && lease.licenseKey !== this.#license.text) {
      try {
        const next = await verifyLicense(lease.licenseKey, { publicKeys: this.#o.publicKeys, now: new Date(this.#time()), releaseDate: this.#o.releaseDate, machine: () => undefined });
        if (next.id === this.#license.id) {
          this.#setLicense(next);
          this.emit('license', next);
        }
      } catch {
        /* a re-issued key that does not verify here is ignored; the lease still stands */
      }
    }
    this.#setLease(lease);
    const ledger = this.#o.ledger;
    if (ledger !== undefined) {
      await ledger.raiseFloor(lease.floor);
      if (ledger.topUp !== undefined) {
        for (const t of lease.topUps) {
          const tu = await verifyTopUp(t, { publicKeys: this.#o.publicKeys }).catch(() => undefined);
          if (tu !== undefined && tu.licenseId === this.#license.id) await ledger.topUp(tu);
        }
      }
    }
    void this.status;
    this.#renewing = undefined;
    this.emit('renewed', lease);
    if (this.#o.server !== undefined && this.#o.autoRenew !== false) this.#scheduleNext();
  }

  /** Next renewal: halfway through the lease (the date keeps moving ahead), or a back-off retry. */
  #scheduleNext(retryMs?: number): void {
    if (this.#closed) return;
    this.#timer?.cancel();
    let delay: number;
    if (retryMs !== undefined) delay = retryMs;
    else if (this.#lease === undefined) return;
    else {
      const start = this.#lease.serverTime.getTime();
      delay = start + (this.#until - start) / 2 - this.#clock();
    }
    this.#timer = this.#schedule(() => {
      this.#timer = undefined;
      this.renew().catch(() => undefined); // failures are reported through `renewal-failed`
    }, Math.max(0, delay));
  }

  async #online(op: 'activate' | 'renew'): Promise<Lease> {
    try {
      const code = await this.createRequest(op);
      const body = await this.#post(op, code, this.#lease === undefined ? await this.#signIn() : undefined);
      const leaseText = body.lease;
      if (typeof leaseText !== 'string') throw new LicenseError('ERR_SERVER_UNREACHABLE', 'the license server answered without a lease');
      return await this.applyResponse(leaseText);
    } catch (e) {
      const error = isLicenseError(e) ? e : new LicenseError('ERR_INTERNAL', `${op === 'activate' ? 'activation' : 'renewal'} failed: ${(e as Error)?.message ?? String(e)}`, {}, { cause: e });
      const unreachable = error.code === 'ERR_SERVER_UNREACHABLE' || error.code === 'ERR_STORE_UNAVAILABLE';
      let retryInMs: number | undefined;
      if (unreachable) {
        this.#failures += 1;
        const min = this.#o.retryMinMs ?? 30_000;
        const max = this.#o.retryMaxMs ?? 3_600_000;
        retryInMs = Math.min(max, min * 2 ** Math.min(this.#failures - 1, 30));
        if (this.#o.server !== undefined && this.#o.autoRenew !== false) this.#scheduleNext(retryInMs);
      } else if (op === 'renew' && this.#lease !== undefined) {
        // Refused (device reset, machine changed, license revoked): no grace beyond verifiedUntil.
        this.#refused = error;
        this.#graceUntil = this.#until;
        this.#timer?.cancel();
      }
      void this.status;
      const failure: RenewalFailure = { error, unreachable, retryInMs };
      // Settled before listeners run, so a listener (or the retry timer) may start the next attempt at once.
      this.#renewing = undefined;
      this.emit('renewal-failed', failure);
      throw error;
    }
  }

  async #signIn(): Promise<UserSignIn | undefined> {
    const c = this.#o.credentials;
    let signIn: unknown;
    try {
      signIn = typeof c === 'function' ? await c() : c;
    } catch (e) {
      if (isLicenseError(e)) throw e;
      // The application's own callback failed (the user cancelled, the identity provider was down):
      // not a licit bug, and nothing was sent.
      throw new LicenseError('ERR_USER_AUTH_REQUIRED', `the \`credentials\` callback failed (${(e as Error)?.message ?? String(e)}), so no sign-in was sent and nothing was activated; call activate() again once the user can sign in`, {}, { cause: e });
    }
    if (signIn === undefined) return undefined;
    const o = signIn as Record<string, unknown> | null;
    if (o === null || typeof o !== 'object' || (typeof o.password !== 'string' && typeof o.idToken !== 'string')) {
      throw new LicenseError('ERR_USAGE', 'the `credentials` option (or what its function returned) must be { password: string } or { idToken: string }');
    }
    return o as UserSignIn;
  }

  async #post(op: 'activate' | 'renew' | 'deactivate' | 'topup', code: string, credentials?: UserSignIn): Promise<Record<string, unknown>> {
    const server = this.#o.server;
    if (server === undefined) throw new LicenseError('ERR_USAGE', 'no license server configured (the `server` option); use createRequest/applyResponse to activate offline');
    const url = new URL(`v1/${op}`, String(server).endsWith('/') ? String(server) : `${String(server)}/`);
    const doFetch = this.#o.fetch ?? globalThis.fetch;
    let res: Response;
    let body: unknown;
    try {
      res = await doFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials === undefined ? { request: code } : { request: code, credentials }), signal: AbortSignal.timeout(this.#o.requestTimeoutMs ?? 10_000) });
      body = await res.json();
    } catch (e) {
      throw new LicenseError('ERR_SERVER_UNREACHABLE', `the license server ${url.origin} cannot be reached (${(e as Error)?.message ?? String(e)}); licit will retry`, { server: url.origin }, { cause: e });
    }
    const b = (body ?? {}) as { ok?: unknown; error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (res.ok && b.ok === true) return b as Record<string, unknown>;
    const code2 = b.error?.code;
    if (res.status >= 500 || typeof code2 !== 'string' || !(ERROR_CODES as readonly string[]).includes(code2)) {
      throw new LicenseError('ERR_SERVER_UNREACHABLE', `the license server ${url.origin} failed (HTTP ${res.status}); licit will retry`, { server: url.origin, status: res.status });
    }
    const details = typeof b.error?.details === 'object' && b.error.details !== null ? (b.error.details as Record<string, unknown>) : {};
    throw new LicenseError(code2 as LicenseErrorCode, typeof b.error?.message === 'string' ? b.error.message : code2, details);
  }
}

/** `server` must be an http(s) URL; checked at open, so a typo is ERR_USAGE at once, not a failed renewal later. */
function checkServer(server: unknown): void {
  let url: URL | undefined;
  try {
    url = typeof server === 'string' || server instanceof URL ? new URL(String(server)) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new LicenseError('ERR_USAGE', `the \`server\` option must be the license server's http(s) URL, such as https://licenses.example.com; got ${JSON.stringify(String(server)).slice(0, 200)}`);
  }
}

async function resolveFingerprint(o: LicensingOptions): Promise<{ text: string; source: 'hardware' | 'operator'; container: boolean }> {
  if (o.fingerprint !== undefined) return { text: Fingerprint.parse(o.fingerprint).toString(), source: 'operator', container: inContainer() };
  // No salt shared by every vendor (it would link their fingerprints): the vendor's own, from its
  // first public key, unless the application sets one.
  const first = Array.isArray(o.publicKeys) ? (o.publicKeys as readonly PublicKeyInput[])[0] : (o.publicKeys as PublicKeyInput);
  if (first === undefined && (o.salt === undefined || o.salt === '')) throw new LicenseError('ERR_USAGE', 'publicKeys is empty: pass the vendor public key(s) to trust');
  const salt = o.salt !== undefined && o.salt !== '' ? o.salt : saltForVendor(first as PublicKeyInput);
  // The end user's environment replaces the hardware only when the application opts in.
  const id = o.machineId ?? (o.machineIdFromEnv === true ? process.env.LICIT_MACHINE_ID : undefined);
  if (id !== undefined && id.trim() !== '') return { text: `fp1:mi=${hashComponent(salt, 'machine-id', id)}`, source: 'operator', container: inContainer() };
  const fp = await getFingerprint({ salt });
  return { text: fp.toString(), source: 'hardware', container: fp.container };
}
