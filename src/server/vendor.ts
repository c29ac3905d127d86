/**
 * The vendor's answering logic, shared by the HTTP server and `licit respond` (offline): verify a
 * request, count the activation against the license's limits in the store, record the usage the
 * installation reports, and sign a lease. The steps live beside it: which machines are answered
 * (identity-policy.ts), which licenses the server knows (license-registry.ts), credits added later
 * (topups.ts) and what each answer leaves in the store (exchange-record.ts).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { Signer } from '../core/crypto/envelope.js';
import { LicenseError, isLicenseError } from '../core/errors.js';
import { toClock } from '../core/time/clock.js';
import { createLease } from '../core/exchange/lease.js';
import { openRequest, type ExchangeRequest } from '../core/exchange/request.js';
import type { License } from '../core/license/license.js';
import { Activations, type Activation } from '../core/seats/index.js';
import type { JsonObject, Store, ReadHint, StoreTx } from '../core/store/store.js';
import { verifyLicense } from '../core/license/verify.js';
import type { PublicKeyInput } from '../core/crypto/keys.js';
import { toSigner, type SigningKeyInput } from '../issuer/signer.js';
import { joinTransaction, withAuditChain } from '../core/admin/chained-store.js';
import { assertPartiesActive } from '../core/admin/registry.js';
import { match } from '../core/fingerprint/match.js';
import { authenticateUser } from './auth/authenticate.js';
import { KINDS } from './kinds.js';
import { activationOnMachine, indexMachine } from './machine-index.js';
import { offerSelfReset, selfReset } from './self-reset.js';
import { exchangeReads, prefetchExchange, topUpTokens } from './exchange-reads.js';
import { checkContainer, checkFresh, checkIdentity, checkSameMachine, isStrong, requestWindow, type RequestWindow } from './identity-policy.js';
import { NotRegistered, proveOffer, registerLicense, registerOffered, registeredLicense, registeredText } from './license-registry.js';
import { askTopUp, recordTopUp, type RecordedTopUp, type TopUpRecord } from './topups.js';
import { auditRefusal, recordExchange, REFUSALS_AUDITED } from './exchange-record.js';
import type { Answer, AnswerContext, TopUpGrant, VendorContext, VendorOptions } from './vendor-types.js';

export { KINDS } from './kinds.js';
export { topUpTokenId } from './topups.js';
export type { Answer, AnswerContext, ContainerPolicy, TopUpGrant, TopUpPolicyRequest, UserCredentials, VendorOptions } from './vendor-types.js';

const DAY = 86_400_000;

function publicFrom(key: SigningKeyInput): string {
  let k: KeyObject;
  if (typeof key === 'string') {
    try {
      k = createPrivateKey(key);
    } catch {
      throw new LicenseError('ERR_PRIVATE_KEY_INVALID', 'the signing key is not a PKCS#8 PEM private key; use the vendor.key written by `licit keygen`');
    }
  } else if (typeof (key as Signer).sign === 'function' && typeof (key as Signer).kid === 'string') {
    throw new LicenseError('ERR_USAGE', 'with a custom Signer, also pass publicKeys (the vendor public keys license keys are verified with)');
  } else k = key as KeyObject;
  return createPublicKey(k).export({ format: 'pem', type: 'spki' }).toString();
}

/**
 * The vendor side of the exchange over one store.
 *
 * @example
 * ```ts
 * const vendor = new Vendor({ signingKey: readFileSync('vendor.key', 'utf8'), store: new FileStore('/var/lib/licit') })
 * const { lease } = await vendor.answer(requestCode)
 * ```
 */
export class Vendor implements VendorContext {
  /** Signs leases and top-up tokens (from `signingKey`). */
  readonly signer: Signer;
  /** The store, wrapped with the audit hash chain unless `auditChain` is false. */
  readonly store: Store;
  /** The vendor public keys license keys are verified with (default: the signing key's own). */
  readonly publicKeys: PublicKeyInput | readonly PublicKeyInput[];
  /** The server's clock in ms (default `Date.now`). */
  readonly now: () => number;
  readonly #o: VendorOptions;
  readonly #window: RequestWindow;

  constructor(options: VendorOptions) {
    if (options === null || typeof options !== 'object' || options.store === undefined || options.signingKey === undefined) {
      throw new LicenseError('ERR_USAGE', 'the license server needs { signingKey, store }');
    }
    this.#o = options;
    this.signer = toSigner(options.signingKey);
    // Every event the server writes is chained, so `licit log` and GET /v1/admin/log can prove the trail whole.
    this.store = options.auditChain === false ? options.store : withAuditChain(options.store);
    this.publicKeys = options.publicKeys ?? [publicFrom(options.signingKey)];
    this.now = toClock(options.now);
    this.#window = requestWindow(options);
  }

  /** Verify a license key with the vendor's keys at server time (node-locked keys are checked against `fingerprint`). */
  /** How fingerprints are matched (`fingerprintStrategy`, default `most`). */
  get fingerprintStrategy(): VendorOptions['fingerprintStrategy'] {
    return this.#o.fingerprintStrategy;
  }

  async verifyKey(text: string, fingerprint?: string): Promise<License> {
    const strategy = this.#o.fingerprintStrategy;
    return verifyLicense(text, {
      publicKeys: this.publicKeys,
      now: this.now,
      // Administration (no fingerprint: registering a key, reading usage) is not about a machine;
      // an exchange always carries the requesting machine's fingerprint and is checked against it.
      machine: (stored, licenseId) => {
        if (fingerprint === undefined) return;
        if (!match(stored, fingerprint, strategy).ok) {
          throw new LicenseError('ERR_FINGERPRINT_MISMATCH', `license ${licenseId} is bound to another machine`, { licenseId });
        }
      },
    });
  }

  /**
   * The registered license (for administration). `ERR_LICENSE_NOT_REGISTERED` when this server does not know it:
   * register it first (POST /v1/admin/licenses, or an installation's first activation).
   */
  async license(licenseId: string): Promise<{
    /** The verified license. */
    license: License;
  }> {
    const storedText = await registeredText(this.store, licenseId);
    if (storedText === undefined) {
      throw new LicenseError('ERR_LICENSE_NOT_REGISTERED', `this server does not know license ${licenseId}; register it (POST /v1/admin/licenses or licit serve's first activation with the key)`, { licenseId });
    }
    return { license: await this.verifyKey(storedText) };
  }

  /** Register (or replace with a newer issue of) a license key. */
  async register(license: License, actor: string): Promise<void> {
    await registerLicense(this, license, actor);
  }

  /**
   * Record a top-up for a license: sign one for `credits` (or take the signed `token`), store it so
   * the next lease delivers it, and append `credits.topped-up`. With an `idempotencyKey` the token id
   * is derived from the license id and the key, so a retry after a lost answer finds the token
   * already stored and returns it with `added: false` instead of adding the credits twice. The same
   * key with another amount is refused (`ERR_IDEMPOTENCY_CONFLICT`): it names a different top-up.
   */
  async topUp(license: License, grant: TopUpRecord): Promise<RecordedTopUp> {
    return recordTopUp(this, license, grant);
  }


  /** Activations of a license (users and devices). */
  activations(license: License, actor = 'server'): Activations {
    return new Activations(this.store, license, { now: this.now, actor });
  }

  /**
   * Answer a request code or a verified request: activate, renew, deactivate, record usage or ask
   * for a top-up. Every request must prove its license (the key it carries), come from a machine
   * identity the license allows, and be fresh and unseen; everything but `activate` must come from
   * an installation activated on the license. A refusal changes nothing but the audit log (an
   * `exchange.refused` event on a license this server knows).
   */
  async answer(code: string | ExchangeRequest, context: AnswerContext = {}): Promise<
    | Answer
    | {
        /** A `deactivate` request: the activation was removed. */
        deactivated: true;
        /** The license it belonged to. */
        licenseId: string;
        /** The device id deactivated. */
        deviceId: string;
      }
    | {
        /** A `usage` request: the reported usage was recorded (no lease). */
        recorded: true;
        /** The license it was recorded for. */
        licenseId: string;
        /** Consumption floor in credits after recording: the license's whole known consumption. */
        floor: number;
      }
  > {
    const req = typeof code === 'string' ? await openRequest(code) : code;
    try {
      return await this.#answer(req, context);
    } catch (e) {
      if (isLicenseError(e) && REFUSALS_AUDITED.has(e.code)) await auditRefusal(this, req, e);
      throw e;
    }
  }

  async #answer(req: ExchangeRequest, context: AnswerContext) {
    const now = this.now();
    checkFresh(req, now, this.#window);
    checkContainer(this.#o.containerPolicy ?? 'allow', req);
    await proveOffer(this, req);
    const proven = req as ExchangeRequest & { licenseKey: string };
    context.admit?.(req.licenseId);
    // The whole exchange reads one snapshot and commits once: every step below runs in this one
    // transaction (joinTransaction hands it to code written against Store). A refusal thrown inside
    // leaves nothing but its audit event (written after, in answer()). Only a new installation of
    // a license whose users sign in leaves it, once, to check the password outside the license's
    // lock (scrypt takes tens of milliseconds), and comes back with the user it proved.
    // The first proof of a license this server does not know registers it the same way, in a
    // transaction of its own: the license is known whatever this exchange then decides.
    let signedIn: string | undefined;
    let registered = false;
    const reads = exchangeReads(req, this.#o.defaultUser ?? 'default');
    for (;;) {
      try {
        const done = await this.store.transaction(req.licenseId, (tx) => this.#exchange(tx, joinTransaction(tx, this.store), proven, now, signedIn, reads), { reads });
        return await this.#reply(done, proven, now);
      } catch (e) {
        if (e instanceof NotRegistered && !registered) {
          await registerOffered(this, proven);
          registered = true;
        } else if (e instanceof SignInNeeded && signedIn === undefined) {
          signedIn = await this.#signIn(e.license, req, context);
        } else throw e;
      }
    }
  }

  /** Everything an exchange reads and writes, in `tx` (which `store` joins, for the code written against Store). */
  async #exchange(tx: StoreTx, store: Store, req: ExchangeRequest & { licenseKey: string }, now: number, signedIn: string | undefined, reads: ReadHint | undefined): Promise<Exchanged> {
    const v: VendorContext = { store, signer: this.signer, publicKeys: this.publicKeys, now: this.now, verifyKey: (t, fp) => this.verifyKey(t, fp) };
    await prefetchExchange(tx, reads);
    const { license, replaced } = await registeredLicense(v, req);
    checkIdentity(this.#o.weakIdentity ?? 'allow', license, req);
    const acts = new Activations(store, license, { now: this.now, actor: `installation:${req.installationId}` });
    // Direct reads, never a walk over the license's activations: an exchange costs the same at
    // 100 activations as at 10,000. An installation's own record names the user it activated as
    // (the new id after a rename); where users do not sign in, it counts only for a request that
    // names no user: one that names a user speaks for that user.
    const inst = await tx.get(KINDS.installation, req.installationId);
    const own = typeof inst?.user === 'string' && (license.userAuth !== 'none' || req.user === undefined);
    const mine = own ? await acts.device(inst.user as string, req.installationId) : undefined;
    const user = this.#user(license, req, mine, signedIn);
    const existing = mine !== undefined && mine.userId === user ? mine : await acts.device(user, req.installationId);
    // The vendor's say on this device and user (suspended, revoked); freeing a device or
    // reporting usage is never refused for it.
    if (req.operation !== 'deactivate' && req.operation !== 'usage') {
      const strategy = this.#o.fingerprintStrategy;
      await assertPartiesActive(tx, { licenseId: license.id, deviceId: req.installationId, userId: user, activating: existing === undefined, matches: (fp) => sameMachine(fp, req.fingerprint, strategy) });
    }
    // Only an activated installation may renew, report usage, ask for credits or deactivate.
    if (existing === undefined && req.operation !== 'activate') throw notActivated(req);
    if (existing !== undefined) checkSameMachine(this.#o.fingerprintStrategy, existing, req);
    let floor = await recordExchange(v, this.#window, license, req, user, now, { nonce: true, usage: existing !== undefined });
    const base = { license, replaced, user, floor, activated: false };
    if (req.operation === 'usage' || req.operation === 'deactivate') {
      if (req.operation === 'deactivate') await acts.deactivate(user, (existing as Activation).deviceId);
      return { ...base, topUps: [] };
    }
    let reinstalled: Answer['reinstalled'];
    if (existing !== undefined) {
      await acts.validate(user, existing.deviceId);
    } else {
      if (this.#o.autoAddUsers !== false) await acts.addUser(user);
      // A lost machine freed by its holder, within the license's self-service budget.
      if (req.resetDevice !== undefined) await selfReset(tx, acts, license, req as typeof req & { resetDevice: string }, user, now);
      // A reinstall on the same machine (same strong fingerprint, new installation key) replaces the
      // old installation, which is never renewed again. A weak fingerprint is shared by other
      // machines, so it never identifies "the same machine".
      const strong = isStrong(req.fingerprint);
      const same = strong ? await activationOnMachine(tx, acts, user, req.fingerprint) : undefined;
      if (same !== undefined) {
        const transferCounted = reinstallCounts(license, req);
        await acts.reinstall(user, same.deviceId, req.installationId, { info: deviceInfo(req), countTransfer: transferCounted });
        reinstalled = { from: same.deviceId, transferCounted };
      } else await acts.activate(user, req.installationId, { info: deviceInfo(req) }).catch((e: unknown) => offerSelfReset(e, license, acts, user));
      if (strong) indexMachine(tx, user, req.fingerprint, req.installationId);
      floor = await recordExchange(v, this.#window, license, req, user, now, { nonce: false, usage: true });
    }
    return { ...base, floor, activated: existing === undefined, reinstalled, topUps: await topUpTokens(store, license.id) };
  }

  /** The answer once the exchange committed: a lease signed outside the license's lock, or what was done. */
  async #reply(x: Exchanged, req: ExchangeRequest, now: number) {
    const { license, user } = x;
    if (req.operation === 'usage') return { recorded: true as const, licenseId: license.id, floor: x.floor };
    if (req.operation === 'deactivate') return { deactivated: true as const, licenseId: license.id, deviceId: req.installationId };
    let topUp: TopUpGrant | undefined;
    let topUps = x.topUps;
    if (!x.activated && req.topUp !== undefined) {
      // The vendor's top-up policy may call out (billing, a CRM): it runs after the exchange
      // committed, in transactions of its own, never under the license's lock.
      topUp = await askTopUp(this, this.#o.topUpPolicy, license, req, user, req.topUp);
      if (topUp.added) topUps = await topUpTokens(this.store, license.id);
    }
    const serverTime = new Date(now);
    let until = now + license.leaseDays * DAY;
    if (license.expiresAt !== undefined) until = Math.min(until, Math.max(now, license.expiresAt.getTime()));
    const verifiedUntil = new Date(until);
    const lease = await createLease(
      {
        licenseId: license.id,
        fingerprint: req.fingerprint,
        installationKey: req.installationKey,
        nonce: req.nonce,
        serverTime,
        verifiedUntil,
        deviceId: req.installationId,
        user,
        floor: x.floor,
        topUps,
        licenseKey: x.replaced ? license.text : undefined,
      },
      this.signer,
    );
    return { lease, licenseId: license.id, deviceId: req.installationId, user, verifiedUntil, serverTime, floor: x.floor, activated: x.activated, ...(topUp === undefined ? {} : { topUp }), ...(x.reinstalled === undefined ? {} : { reinstalled: x.reinstalled }) };
  }

  /**
   * The license user the request speaks for. Where the license says users sign in, a user id alone
   * selects nothing: an activated installation is its activation's user (its key proves it); a new
   * activation needs the user's password or an ID token, checked outside the transaction
   * ({@link SignInNeeded}), which then runs again with the user proved (`signedIn`).
   */
  #user(license: License, req: ExchangeRequest, mine: Activation | undefined, signedIn: string | undefined): string {
    const fallback = this.#o.defaultUser ?? 'default';
    // Without sign-in a request speaks for the user it names; one that names none, for the user its
    // installation activated as (renamed with it: `POST /v1/admin/users/rename` of "default"), else the default.
    if (license.userAuth === 'none') return req.user ?? mine?.userId ?? fallback;
    if (mine !== undefined && (req.user === undefined || req.user === mine.userId)) return mine.userId;
    if (req.operation !== 'activate') return req.user ?? fallback; // not activated for that user: refused below
    if (signedIn === undefined) throw new SignInNeeded(license);
    return signedIn;
  }

  /** Check a new installation's user credentials (password or ID token) against the license's users. */
  async #signIn(license: License, req: ExchangeRequest, context: AnswerContext): Promise<string> {
    const who = await authenticateUser({
      store: this.store,
      licenseId: license.id,
      userId: req.user,
      credentials: context.credentials,
      mode: license.userAuth,
      idTokenVerifier: this.#o.idTokenVerifier,
      now: this.now,
      actor: `installation:${req.installationId}`,
      lockout: this.#o.passwordLockout,
    });
    return who.userId ?? this.#o.defaultUser ?? 'default';
  }
}

/** What an exchange's transaction decided, for the answer built after it commits. */
interface Exchanged {
  readonly license: License;
  /** The request carried another issue of the key than the registered one: the lease brings the registered one. */
  readonly replaced: boolean;
  readonly user: string;
  readonly floor: number;
  readonly activated: boolean;
  readonly reinstalled?: Answer['reinstalled'];
  /** The newest top-up tokens, for the lease. */
  readonly topUps: string[];
}

/** Internal: a new installation of a license whose users sign in; the credentials are checked outside the transaction. */
class SignInNeeded extends LicenseError {
  constructor(readonly license: License) {
    // A LicenseError, so that every store passes it through as it is (they wrap foreign errors).
    super('ERR_USER_AUTH_REQUIRED', `license ${license.id} needs its user to sign in`, { licenseId: license.id });
  }
}


/**
 * Whether a same-machine reinstall takes one of the license's transfers. The hardware proved it is
 * the same machine: no. A supplied machine id proves nothing (one id can be set on many machines),
 * and on a license with credits a free reinstall would restart whatever the deleted ledger had not
 * reported yet, without bound: there it counts, as any move does (docs/seats.md "Reinstalls").
 */
function reinstallCounts(license: License, req: ExchangeRequest): boolean {
  return req.fingerprintSource !== 'hardware' || license.credits !== undefined;
}

function deviceInfo(req: ExchangeRequest): JsonObject {
  const info: JsonObject = { fingerprint: req.fingerprint, source: req.fingerprintSource, container: req.container };
  if (req.appName !== undefined) info.app = req.appName;
  if (req.appVersion !== undefined) info.version = req.appVersion;
  return info;
}

function notActivated(req: ExchangeRequest): LicenseError {
  return new LicenseError('ERR_ACTIVATION_NOT_FOUND', `this installation is not activated on license ${req.licenseId} (it was never activated, or its device was reset or deactivated). Activate it again.`, {
    licenseId: req.licenseId,
    deviceId: req.installationId,
  });
}

/** Whether two fingerprints name the same machine; a string that is no fingerprint names none. */
function sameMachine(stored: string, offered: string, strategy: VendorOptions['fingerprintStrategy']): boolean {
  try {
    return match(stored, offered, strategy).ok;
  } catch {
    return false;
  }
}
