/**
 * `Licensing`: the client runtime that ties a license key, this installation and the vendor's
 * license server together. Verify the key once; keep the lease in memory so every check compares
 * two numbers (no I/O, no await); renew in the background before `verifiedUntil` (unref'd timer,
 * back-off on failure, never blocking a check); fall into the license's grace period when the
 * server cannot be reached, then `ERR_LEASE_EXPIRED`. Beside it in licensing/: options and events
 * (options.ts), the HTTP client (server-client.ts), the renewal timer (renewal.ts), time and lease
 * as deadlines (lease-state.ts), which machine it speaks for (machine-identity.ts).
 */
import { EventEmitter } from 'node:events';
import { type LicenseErrorCode, LicenseError, isLicenseError } from '../../core/errors.js';
import { toClock } from '../../core/time/clock.js';
import { checkLeaseBinding, checkLeaseNonce, openLease, type Lease } from '../../core/exchange/lease.js';
import { createRequest, type RequestOperation, type TopUpAsk } from '../../core/exchange/request.js';
import { newNonce } from '../../core/exchange/fields.js';
import { toKeyring, type Keyring } from '../../core/crypto/keys.js';
import type { License } from '../../core/license/license.js';
import { verifyTopUp } from '../../core/exchange/topup.js';
import { verifyLicense } from '../../core/license/verify.js';
import { match } from '../fingerprint/index.js';
import { Installation } from './installation.js';
import { LeaseState } from './lease-state.js';
import { requireSecret } from '../../core/crypto/require-secret.js';
import { resolveMachineIdentity, type MachineIdentity } from './machine-identity.js';
import type { LeaseStatus, LicensingOptions, RenewalFailure, StatusEvent, TopUpResult } from './options.js';
import { defaultSchedule, RenewalScheduler } from './renewal.js';
import { checkServer, postToServer, readSignIn } from './server-client.js';

export type { LeaseStatus, LedgerHook, LicensingOptions, RenewalFailure, Schedule, StatusEvent, TopUpResult, UserSignIn } from './options.js';

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
  readonly #state: LeaseState;
  readonly #o: LicensingOptions;
  readonly #keyring: Keyring;
  readonly #clock: () => number;
  readonly #renewal: RenewalScheduler;
  #last: LeaseStatus = 'unactivated';
  #renewing: Promise<Lease> | undefined;

  private constructor(o: LicensingOptions, license: License, keyring: Keyring, installation: Installation, fp: MachineIdentity) {
    super();
    this.#o = o;
    this.#keyring = keyring;
    this.installation = installation;
    this.fingerprint = fp.text;
    this.fingerprintSource = fp.source;
    this.container = fp.container;
    this.#clock = toClock(o.now);
    this.#state = new LeaseState(license, this.#clock);
    this.#renewal = new RenewalScheduler(o.schedule ?? defaultSchedule, () => this.renew(), { minMs: o.retryMinMs, maxMs: o.retryMaxMs });
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
    const fp = await resolveMachineIdentity(options);
    const clock = toClock(options.now);
    const strategy = options.fingerprintStrategy;
    const license = await verifyLicense(options.license, {
      publicKeys: options.publicKeys,
      now: clock,
      releaseDate: options.releaseDate,
      machine: (stored, licenseId) => {
        if (!match(stored, fp.text, strategy).ok) throw new LicenseError('ERR_FINGERPRINT_MISMATCH', `license ${licenseId} is bound to another machine; ask the vendor to reset it for this one`, { licenseId });
      },
    });
    // The ledger's records carry their times: a witness kept apart from clock.sealed (deleting that one file does not reset trusted time).
    const ledger = options.ledger;
    const installation = await Installation.open({ dir: options.dir, secret, witnesses: typeof ledger?.highestKnownTime === 'function' ? [{ highestKnownTime: () => ledger.highestKnownTime?.() }] : [] });
    const l = new Licensing(options, license, await toKeyring(options.publicKeys), installation, fp);
    // Trusted time starts at the installation's high-water mark. An altered mark is not fatal here:
    // the next lease installed overwrites it (that is the way out its error names).
    l.#state.anchor(
      await installation.clock.highWaterMark().catch((e: unknown) => {
        if (isLicenseError(e, 'ERR_STATE_TAMPERED')) return 0;
        throw e;
      }),
    );
    const st = await installation.state(license.id);
    if (st.lease !== undefined) {
      try {
        const lease = await openLease(st.lease, l.#keyring);
        checkLeaseBinding(lease, l.#binding());
        // A refusal of an earlier run still holds for this lease: no grace beyond it.
        if (st.refused !== undefined) l.#state.refuse(new LicenseError(st.refused.code as LicenseErrorCode, st.refused.message));
        l.#state.setLease(lease);
      } catch (e) {
        if (!isLicenseError(e)) throw e;
        // A lease for another machine (hardware changed) or key: not usable here; activate again.
      }
    }
    // The time this run starts at is a time that has passed: the mark keeps it, so a later run with
    // the clock set back (after a lease ran out, say) does not see the lease valid again.
    await installation.clock.observe(new Date(clock())).catch(() => undefined);
    l.#last = l.status;
    if (options.server !== undefined && options.autoRenew !== false) l.#scheduleNext();
    return l;
  }

  /** The verified license (replaced when the server sends a re-issued key). */
  get license(): License {
    return this.#state.license;
  }

  /** The installed lease, if any. */
  get lease(): Lease | undefined {
    return this.#state.lease;
  }

  /** End of verification, or undefined before activation. */
  get verifiedUntil(): Date | undefined {
    return this.#state.lease?.verifiedUntil;
  }

  /** End of the grace period after `verifiedUntil` (equal to it after the server refused a renewal). */
  get graceUntil(): Date | undefined {
    return this.#state.lease === undefined ? undefined : new Date(this.#state.graceUntil);
  }

  /** Status now. O(1), no I/O. */
  get status(): LeaseStatus {
    const s = this.#state.statusAt(this.#state.time());
    if (s !== this.#last) this.#changed(s);
    return s;
  }

  /**
   * Throw unless the installation may run now: `ERR_ACTIVATION_NOT_FOUND` before activation,
   * `ERR_LEASE_EXPIRED` after verification and grace ran out, `ERR_LICENSE_EXPIRED` past the
   * license's own end. O(1), no I/O.
   */
  check(): void {
    const t = this.#state.time();
    this.#state.checkLicenseEnd(t);
    const s = this.#state.statusAt(t);
    if (s !== this.#last) this.#changed(s);
    this.#state.checkStatus(s);
  }

  /** True when the installation may run now and `feature` is licensed. O(1), no I/O. */
  has(feature: string): boolean {
    return this.#state.has(feature, this.#state.time());
  }

  /** {@link Licensing.check} then `license.require(feature)`. */
  require(feature: string): void {
    this.check();
    this.#state.license.require(feature);
  }

  /**
   * Activate online (or renew, when already activated). `resetDevice` frees one of this user's
   * devices first (a lost machine: the ids come with `ERR_ACTIVATIONS_EXHAUSTED`), where the license
   * allows its holder that (`selfResets`).
   */
  async activate(options: { resetDevice?: string } = {}): Promise<Lease> {
    return this.#online('activate', options.resetDevice);
  }

  /** Renew online now. Concurrent calls share one request. */
  async renew(): Promise<Lease> {
    this.#renewing ??= this.#online(this.#state.lease === undefined ? 'activate' : 'renew').finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  /** Deactivate this installation on the server and forget its lease (frees an activation). */
  async deactivate(): Promise<void> {
    const code = await this.createRequest('deactivate');
    await postToServer(this.#o, 'deactivate', code);
    await this.installation.clear(this.#state.license.id);
    this.#state.forget();
    this.#renewal.cancel();
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
    if (this.#state.lease === undefined) throw new LicenseError('ERR_ACTIVATION_NOT_FOUND', `activate this installation for license ${this.#state.license.id} before asking for a top-up`, { licenseId: this.#state.license.id });
    const code = await this.createRequest('topup', { credits, idempotencyKey });
    const body = await postToServer(this.#o, 'topup', code);
    if (typeof body.lease !== 'string') throw new LicenseError('ERR_SERVER_UNREACHABLE', 'the license server answered the top-up without a lease');
    await this.applyResponse(body.lease);
    const t = (body.topUp ?? {}) as { granted?: unknown; tokenId?: unknown; added?: unknown };
    return {
      licenseId: this.#state.license.id,
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
  async createRequest(operation: RequestOperation = 'activate', topUp?: TopUpAsk, resetDevice?: string): Promise<string> {
    const nonce = newNonce();
    const at = this.#clock();
    const balance = this.#o.ledger === undefined ? undefined : await this.#o.ledger.balance();
    const consumed = balance?.consumed;
    const spent = balance?.ledgerId === undefined ? undefined : { spent: balance.spent ?? balance.consumed, ledgerId: balance.ledgerId };
    const seats = this.#o.seatUsage === undefined ? undefined : { ...(await this.#o.seatUsage()) };
    const code = await createRequest(
      {
        operation,
        licenseId: this.#state.license.id,
        licenseKey: this.#state.license.text,
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
        resetDevice,
        nonce,
        clientTime: new Date(at),
      },
      this.installation.signer,
    );
    await this.installation.addPending(this.#state.license.id, nonce, at);
    return code;
  }

  /**
   * Install a response code (`LICITL1-…`) from the server or the vendor's offline page. Refuses
   * another machine's, installation's or license's response, a replayed or stale one, and any
   * tampering, each with its own code.
   */
  async applyResponse(code: string): Promise<Lease> {
    const lease = await this.installation.install(this.#state.license.id, async (st) => {
      const l = await openLease(code, this.#keyring);
      checkLeaseBinding(l, this.#binding());
      checkLeaseNonce(l, { pending: st.pending.map((p) => p.nonce), answered: st.answered, installedServerTime: this.#state.lease?.serverTime });
      return l;
    });
    await this.#adopt(lease);
    return lease;
  }

  /** Stop the renewal timer. */
  close(): void {
    this.#renewal.close();
  }

  #binding() {
    const strategy = this.#o.fingerprintStrategy;
    return {
      licenseId: this.#state.license.id,
      fingerprint: this.fingerprint,
      installationKey: this.installation.publicKey,
      matchFingerprint: (leaseFp: string, ours: string) => leaseFp === ours || match(leaseFp, ours, strategy).ok,
    };
  }

  #changed(s: LeaseStatus): void {
    const previous = this.#last;
    this.#last = s;
    const ev: StatusEvent = { status: s, previous, verifiedUntil: this.verifiedUntil, graceUntil: this.graceUntil };
    // Listeners run after the check that noticed the change, never inside it.
    queueMicrotask(() => this.emit('status', ev));
  }


  async #adopt(lease: Lease): Promise<void> {
    // The lease answers a request of ours (applyResponse checked its nonce), so its server time is
    // fresh: it resets a high-water mark that a clock once set ahead left behind, here and in the
    // installation's clock guard. A lease no newer than the last one accepted changes nothing.
    const anchored = await this.installation.clock.acceptSignedTime(lease);
    if (anchored.accepted) this.#state.anchor(anchored.highWaterMark.getTime());
    this.#state.answered();
    this.#renewal.succeeded();
    if (lease.licenseKey !== undefined && lease.licenseKey !== this.#state.license.text) {
      try {
        const next = await verifyLicense(lease.licenseKey, { publicKeys: this.#o.publicKeys, now: () => this.#state.time(), releaseDate: this.#o.releaseDate, machine: () => undefined });
        if (next.id === this.#state.license.id) {
          this.#state.setLicense(next);
          this.emit('license', next);
        }
      } catch {
        /* a re-issued key that does not verify here is ignored; the lease still stands */
      }
    }
    this.#state.setLease(lease);
    const ledger = this.#o.ledger;
    if (ledger !== undefined) {
      await ledger.raiseFloor(lease.floor);
      if (ledger.topUp !== undefined) {
        for (const t of lease.topUps) {
          const tu = await verifyTopUp(t, { publicKeys: this.#o.publicKeys }).catch(() => undefined);
          if (tu !== undefined && tu.licenseId === this.#state.license.id) await ledger.topUp(tu);
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
    if (retryMs !== undefined || this.#state.lease === undefined) return this.#renewal.next(retryMs);
    const start = this.#state.lease.serverTime.getTime();
    this.#renewal.next(start + (this.#state.until - start) / 2 - this.#clock());
  }

  async #online(op: 'activate' | 'renew', resetDevice?: string): Promise<Lease> {
    try {
      const code = await this.createRequest(op, undefined, resetDevice);
      const body = await postToServer(this.#o, op, code, this.#state.lease === undefined ? await readSignIn(this.#o.credentials) : undefined);
      const leaseText = body.lease;
      if (typeof leaseText !== 'string') throw new LicenseError('ERR_SERVER_UNREACHABLE', 'the license server answered without a lease');
      return await this.applyResponse(leaseText);
    } catch (e) {
      const error = isLicenseError(e) ? e : new LicenseError('ERR_INTERNAL', `${op === 'activate' ? 'activation' : 'renewal'} failed: ${(e as Error)?.message ?? String(e)}`, {}, { cause: e });
      const unreachable = error.code === 'ERR_SERVER_UNREACHABLE' || error.code === 'ERR_STORE_UNAVAILABLE';
      let retryInMs: number | undefined;
      if (unreachable) {
        retryInMs = this.#renewal.backoff();
        if (this.#o.server !== undefined && this.#o.autoRenew !== false) this.#scheduleNext(retryInMs);
      } else if (op === 'renew' && this.#state.lease !== undefined) {
        // Refused (device reset, machine changed, license revoked): no grace beyond verifiedUntil,
        // in this run and every later one (the refusal is kept with the installation's state).
        this.#state.refuse(error);
        this.#renewal.cancel();
        await this.installation.recordRefusal(this.#state.license.id, { code: error.code, message: error.message, at: this.#clock() }).catch(() => undefined);
      }
      void this.status;
      const failure: RenewalFailure = { error, unreachable, retryInMs };
      // Settled before listeners run, so a listener (or the retry timer) may start the next attempt at once.
      this.#renewing = undefined;
      this.emit('renewal-failed', failure);
      throw error;
    }
  }
}
