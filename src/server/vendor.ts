/**
 * The vendor's answering logic, shared by the HTTP server and `licit respond` (offline): verify a
 * request, count the activation against the license's limits in the store, record the usage the
 * installation reports, and sign a lease.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { Signer } from '../core/envelope.js';
import { LicenseError, isLicenseError } from '../core/errors.js';
import { mapToClaims, type LicenseClaims } from '../core/claims.js';
import { decodeClaims, parseEnvelope, verifySignature } from '../core/envelope.js';
import { toKeyring } from '../core/keys.js';
import { createLease } from '../core/exchange/lease.js';
import { openRequest, type ExchangeRequest } from '../core/exchange/request.js';
import type { License } from '../core/license.js';
import { Activations, type Activation } from '../core/seats/index.js';
import type { JsonObject, JsonValue, Store } from '../core/store.js';
import { verifyLicense } from '../core/verify.js';
import type { PublicKeyInput } from '../core/keys.js';
import { toSigner, type SigningKeyInput } from '../issuer/signer.js';
import { adminEvent } from '../core/admin/events.js';
import { sha256Hex } from '../node/digest.js';
import { withAuditChain } from '../core/admin/chained-store.js';
import { verifyTopUp } from '../core/topup.js';
import { addSpent, checkPlausible, licenseTotal } from './consumption.js';
import { KINDS } from './kinds.js';

export { KINDS } from './kinds.js';
import { authenticateUser } from './auth/authenticate.js';
import type { IdTokenVerifier } from './auth/id-token.js';
import { issueTopUp } from '../issuer/issue.js';
import { explain, match, type MatchStrategy } from '../core/fingerprint/match.js';
import { fingerprintStrength } from '../core/fingerprint/strength.js';

/** What the vendor does with activations from containers (DESIGN.md, "Containers"). */
export type ContainerPolicy = 'allow' | 'refuse' | 'machine-id';

/** Options of {@link Vendor}. */
export interface VendorOptions {
  /** The vendor's Ed25519 private key (PKCS#8 PEM, KeyObject or a Signer). */
  readonly signingKey: SigningKeyInput;
  /** Where activations, users and usage live. */
  readonly store: Store;
  /** Public keys license keys are verified with. Default: the signing key's public half (required for a bare Signer). */
  readonly publicKeys?: PublicKeyInput | readonly PublicKeyInput[] | undefined;
  /** Server clock (ms). Default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** How tolerant the machine check on renewal is (default `"most"`, as `match`). */
  readonly fingerprintStrategy?: MatchStrategy | undefined;
  /**
   * Activations from a container: `"allow"` (default; report only), `"refuse"`, or `"machine-id"`
   * (accept only a machine id the operator supplied, never the container's own hardware view).
   */
  readonly containerPolicy?: ContainerPolicy | undefined;
  /** Requests made longer ago than this are stale (default 30 days: offline codes travel slowly). */
  readonly requestMaxAgeMs?: number | undefined;
  /** Requests dated further ahead of the server's clock than this are refused (default 10 minutes). */
  readonly requestMaxSkewMs?: number | undefined;
  /**
   * Hardware fingerprints made only of parts other machines share (a VM without SMBIOS, a
   * hypervisor-default MAC): `"allow"` (default; such a machine activates, but a reinstall is never
   * taken for a move) or `"refuse"` (`ERR_FINGERPRINT_WEAK`; sell a license with supplied machine
   * ids or floating seats instead).
   */
  readonly weakIdentity?: 'allow' | 'refuse' | undefined;
  /**
   * Verifies ID tokens from the vendor's identity provider, for licenses whose users sign in with one
   * (`userAuth` claim `id-token` or `password-or-id-token`). Build it once with `createIdTokenVerifier`.
   */
  readonly idTokenVerifier?: IdTokenVerifier | undefined;
  /** Password lockout: failures before a lock (default 5) and its length (default 15 minutes). */
  readonly passwordLockout?: { readonly maxFailures?: number; readonly lockMs?: number } | undefined;
  /** License user for requests that name none (default `"default"`). */
  readonly defaultUser?: string | undefined;
  /** Create a license user on first activation (default true); false: only users an admin assigned may activate. */
  readonly autoAddUsers?: boolean | undefined;
  /** Hash-chain every audit event written through the server (default true; see `withAuditChain`). */
  readonly auditChain?: boolean | undefined;
  /**
   * How many credits to grant when an activated installation asks for a top-up (`POST /v1/topup`,
   * e.g. from an alert's automatic top-up hook). Return 0 to grant nothing (the ask is still in the
   * audit log as `topup.requested`). Default: grant nothing, record only. Called once per
   * idempotency key that it granted for; a key granted before is answered from the store.
   *
   * @example
   * ```ts
   * topUpPolicy: ({ requested }) => Math.min(requested, 1000) // at most 1000 credits per ask
   * ```
   */
  readonly topUpPolicy?: ((req: TopUpPolicyRequest) => number | Promise<number>) | undefined;
}

/** What {@link VendorOptions.topUpPolicy} decides on. */
export interface TopUpPolicyRequest {
  /** The license the credits are asked for. */
  readonly licenseId: string;
  /** Credits the installation asked for. */
  readonly requested: number;
  /** The installation asking (its key id; also its device id). */
  readonly installation: string;
  /** The license user of its activation. */
  readonly user: string;
  /** The idempotency key of the ask. */
  readonly idempotencyKey: string;
  /** The verified license. */
  readonly license: License;
}

/** What a `topup` request was granted. */
export interface TopUpGrant {
  /** Credits the installation asked for. */
  readonly requested: number;
  /** Credits granted (0: recorded only). */
  readonly granted: number;
  /** The token granted, when any. */
  readonly tokenId: string | undefined;
  /** False when this key was granted before (a retry): the credits were not added again. */
  readonly added: boolean;
}

/** A signed answer and what it granted. */
export interface Answer {
  /** The signed lease (`LICITL1-…`) to send back to the installation. */
  readonly lease: string;
  /** The license answered for. */
  readonly licenseId: string;
  /** The device id the activation counts under (the installation's key id). */
  readonly deviceId: string;
  /** The license user of the activation (the request's, else `defaultUser`, else `"default"`). */
  readonly user: string;
  /** End of verification: server time plus the license's lease days, never past the license's expiry. */
  readonly verifiedUntil: Date;
  /** The server's clock when it answered. */
  readonly serverTime: Date;
  /** Consumption floor in credits: the most this installation has reported, at least the license's carried credits. */
  readonly floor: number;
  /** True when the activation was counted just now (not a renewal). */
  readonly activated: boolean;
  /** For a `topup` request: what was granted (the token is also in the lease's top-ups). */
  readonly topUp?: TopUpGrant | undefined;
}

const DAY = 86_400_000;
/** Requests one installation may make within the request window (nonces are kept that long). */
const MAX_NONCES = 4096;
const MAX_TOPUPS = 64;

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
export class Vendor {
  /** Signs leases and top-up tokens (from `signingKey`). */
  readonly signer: Signer;
  /** The store, wrapped with the audit hash chain unless `auditChain` is false. */
  readonly store: Store;
  /** The vendor public keys license keys are verified with (default: the signing key's own). */
  readonly publicKeys: PublicKeyInput | readonly PublicKeyInput[];
  /** The server's clock in ms (default `Date.now`). */
  readonly now: () => number;
  readonly #o: VendorOptions;

  constructor(options: VendorOptions) {
    if (options === null || typeof options !== 'object' || options.store === undefined || options.signingKey === undefined) {
      throw new LicenseError('ERR_USAGE', 'the license server needs { signingKey, store }');
    }
    this.#o = options;
    this.signer = toSigner(options.signingKey);
    // Every event the server writes is chained, so `licit log` and GET /v1/admin/log can prove the trail whole.
    this.store = options.auditChain === false ? options.store : withAuditChain(options.store);
    this.publicKeys = options.publicKeys ?? [publicFrom(options.signingKey)];
    this.now = options.now ?? Date.now;
  }

  /** Verify a license key with the vendor's keys at server time (node-locked keys are checked against `fingerprint`). */
  async verifyKey(text: string, fingerprint?: string): Promise<License> {
    const strategy = this.#o.fingerprintStrategy;
    return verifyLicense(text, {
      publicKeys: this.publicKeys,
      now: new Date(this.now()),
      machine: (stored, licenseId) => {
        if (fingerprint === undefined || !match(stored, fingerprint, strategy).ok) {
          throw new LicenseError('ERR_FINGERPRINT_MISMATCH', `license ${licenseId} is bound to another machine`, { licenseId });
        }
      },
    });
  }

  /**
   * The registered license (for administration). `ERR_USAGE` when this server does not know it:
   * register it first (POST /v1/admin/licenses, or an installation's first activation).
   */
  async license(licenseId: string): Promise<{
    /** The verified license. */
    license: License;
  }> {
    const storedText = await this.#registeredText(licenseId);
    if (storedText === undefined) {
      throw new LicenseError('ERR_USAGE', `this server does not know license ${licenseId}; register it (POST /v1/admin/licenses or licit serve's first activation with the key)`, { licenseId });
    }
    return { license: await this.verifyKey(storedText) };
  }

  async #registeredText(licenseId: string): Promise<string | undefined> {
    const stored = await this.store.read(licenseId, (r) => r.get(KINDS.license, 'key'));
    return typeof stored?.text === 'string' ? stored.text : undefined;
  }

  /**
   * Proof of license: the request must carry a license key signed by the vendor for the license it
   * names. The key proves the requester holds that license (a license id alone proves nothing); it
   * may be an older or newer issue than the registered one, and may have expired (the registered
   * issue decides what is granted). The first proof of a license the server does not know
   * registers it. Returns the registered (newest) license, checked against the request's machine.
   */
  async #prove(req: ExchangeRequest): Promise<{ license: License; replaced: boolean }> {
    if (req.licenseKey === undefined) {
      throw new LicenseError('ERR_EXCHANGE_UNPROVEN', `the request for license ${req.licenseId} carries no license key; send the license key installed on this machine with the request (licit does so itself)`, { licenseId: req.licenseId, reason: 'missing' });
    }
    let offered: LicenseClaims;
    try {
      offered = await authenticClaims(req.licenseKey, this.publicKeys);
    } catch (e) {
      if (!isLicenseError(e)) throw e;
      // One message whatever failed: a forger learns nothing about what was close.
      // The signer's key id is public (it is in the key); it lets an operator see a wrong --signing-key.
      const kid = e.code === 'ERR_KEY_UNKNOWN_SIGNER' && typeof e.details.kid === 'string' ? { kid: e.details.kid } : {};
      throw new LicenseError('ERR_EXCHANGE_UNPROVEN', `the license key sent with the request is not a license key of this vendor; send the key installed on this machine, or ask the vendor for it`, { licenseId: req.licenseId, reason: e.code, ...kid });
    }
    if (offered.licenseId !== req.licenseId) {
      throw new LicenseError('ERR_EXCHANGE_UNPROVEN', `the license key sent is for license ${offered.licenseId}, the request names ${req.licenseId}`, { licenseId: req.licenseId, reason: 'other-license' });
    }
    const storedText = await this.#registeredText(req.licenseId);
    if (storedText === undefined) {
      const license = await this.verifyKey(req.licenseKey, req.fingerprint);
      await this.register(license, 'system');
      return { license, replaced: false };
    }
    const license = await this.verifyKey(storedText, req.fingerprint);
    // A lease carries the registered key only to a requester that proved this license (above).
    return { license, replaced: req.licenseKey.replace(/\s+/g, '') !== license.text };
  }

  /** Register (or replace with a newer issue of) a license key. */
  async register(license: License, actor: string): Promise<void> {
    await this.store.transaction(license.id, async (tx) => {
      const cur = await tx.get(KINDS.license, 'key');
      if (cur?.text === license.text) return;
      if (typeof cur?.issuedAt === 'string' && new Date(cur.issuedAt) > license.issuedAt) {
        throw new LicenseError('ERR_USAGE', `the server holds a newer issue of license ${license.id} (${cur.issuedAt}); refusing to replace it with an older one`, { licenseId: license.id });
      }
      const at = this.now();
      tx.put(KINDS.license, 'key', { text: license.text, issuedAt: license.issuedAt.toISOString(), seats: { ...license.seats } });
      tx.append(adminEvent(at, actor, 'license.registered', { issuedAt: license.issuedAt.toISOString(), replaced: cur !== undefined }));
      // A re-issued key with other seat counts: licenses added (or removed), as reports count them.
      const before = cur?.seats !== null && typeof cur?.seats === 'object' && !Array.isArray(cur.seats) ? (cur.seats as Record<string, number>) : undefined;
      if (before !== undefined) {
        for (const type of new Set([...Object.keys(before), ...Object.keys(license.seats)])) {
          const from = typeof before[type] === 'number' ? before[type] : 0;
          const to = license.seatsFor(type);
          if (from !== to) tx.append(adminEvent(at, actor, 'seats.changed', { type, from, to, licensed: to, source: 'vendor' }));
        }
      }
    });
  }

  /**
   * Record a top-up for a license: sign one for `credits` (or take the signed `token`), store it so
   * the next lease delivers it, and append `credits.topped-up`. With an `idempotencyKey` the token id
   * is derived from the license id and the key, so a retry after a lost answer finds the token
   * already stored and returns it with `added: false` instead of adding the credits twice. The same
   * key with another amount is refused (`ERR_USAGE`): it names a different top-up.
   */
  async topUp(
    license: License,
    grant: { credits?: number; token?: string; idempotencyKey?: string; requested?: number; source: 'manual' | 'auto'; actor: string },
  ): Promise<{
    /** The top-up token's id. */
    tokenId: string;
    /** Credits the token adds. */
    credits: number;
    /** The signed token text (`LICITT1-…`), whitespace removed. */
    token: string;
    /** False when the idempotency key had been used before: the stored token is returned, nothing added. */
    added: boolean;
  }> {
    const tokenId = grant.idempotencyKey === undefined ? undefined : topUpTokenId(license.id, grant.idempotencyKey);
    if (tokenId !== undefined) {
      const prior = await this.store.read(license.id, (r) => r.get(KINDS.topup, tokenId));
      if (prior !== undefined) return this.#repeat(license, prior, tokenId, grant);
    }
    const text =
      grant.token !== undefined
        ? grant.token.replace(/\s+/g, '')
        : await issueTopUp({ licenseId: license.id, credits: grant.credits as number, ...(tokenId === undefined ? {} : { tokenId }) }, { signingKey: this.signer, now: new Date(this.now()) });
    const t = await verifyTopUp(text, { publicKeys: this.publicKeys });
    if (t.licenseId !== license.id) throw new LicenseError('ERR_EXCHANGE_WRONG_LICENSE', `the top-up is for license ${t.licenseId}, not ${license.id}`);
    const requested = grant.requested ?? t.credits;
    return this.store.transaction(license.id, async (tx) => {
      const prior = await tx.get(KINDS.topup, t.tokenId);
      // Two concurrent retries of one key: the first to commit wins, the other reports it.
      if (prior !== undefined) return this.#repeat(license, prior, t.tokenId, grant);
      const at = this.now();
      const rec: JsonObject = { token: text, credits: t.credits, requested, at: new Date(at).toISOString(), source: grant.source };
      if (grant.idempotencyKey !== undefined) rec.key = grant.idempotencyKey;
      tx.put(KINDS.topup, t.tokenId, rec);
      tx.append(adminEvent(at, grant.actor, 'credits.topped-up', { credits: t.credits, tokenId: t.tokenId, source: grant.source }));
      return { tokenId: t.tokenId, credits: t.credits, token: text, added: true };
    });
  }

  #repeat(license: License, prior: JsonObject, tokenId: string, grant: { credits?: number; requested?: number; idempotencyKey?: string }): { tokenId: string; credits: number; token: string; added: false } {
    const credits = typeof prior.credits === 'number' ? prior.credits : 0;
    const requested = typeof prior.requested === 'number' ? prior.requested : credits;
    const asked = grant.requested ?? grant.credits;
    if (asked !== undefined && asked !== requested) {
      throw new LicenseError('ERR_USAGE', `the idempotency key "${grant.idempotencyKey ?? ''}" was already used for a top-up of ${requested} credits on license ${license.id}; use a new key for a different top-up`, { licenseId: license.id, tokenId });
    }
    return { tokenId, credits, token: typeof prior.token === 'string' ? prior.token : '', added: false };
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
      if (isLicenseError(e) && REFUSALS_AUDITED.has(e.code)) await this.#auditRefusal(req, e);
      throw e;
    }
  }

  async #answer(req: ExchangeRequest, context: AnswerContext) {
    const now = this.now();
    this.#fresh(req, now);
    this.#containerPolicy(req);
    const { license, replaced } = await this.#prove(req);
    context.admit?.(license.id);
    this.#identityPolicy(license, req);
    const acts = this.activations(license, `installation:${req.installationId}`);
    const user = await this.#user(license, req, context, acts);
    const existing = (await acts.devices(user)).find((a) => a.deviceId === req.installationId);
    // Only an activated installation may renew, report usage, ask for credits or deactivate.
    if (existing === undefined && req.operation !== 'activate') throw notActivated(req);
    if (existing !== undefined) this.#sameMachine(existing, req);
    let floor = await this.#recordExchange(license, req, user, now, { nonce: true, usage: existing !== undefined });
    if (req.operation === 'usage') return { recorded: true as const, licenseId: license.id, floor };
    if (req.operation === 'deactivate') {
      await acts.deactivate(user, (existing as Activation).deviceId);
      return { deactivated: true as const, licenseId: license.id, deviceId: req.installationId };
    }
    let activated = false;
    let topUp: TopUpGrant | undefined;
    if (existing !== undefined) {
      await acts.validate(user, existing.deviceId);
      if (req.topUp !== undefined) topUp = await this.#askTopUp(license, req, user, req.topUp);
    } else {
      if (this.#o.autoAddUsers !== false) await acts.addUser(user);
      // A reinstall on the same machine (same strong fingerprint, new installation key) is a move:
      // it counts one transfer, and the moved-from installation is never renewed again. A weak
      // fingerprint is shared by other machines, so it never identifies "the same machine".
      const same = isStrong(req.fingerprint) ? (await acts.devices(user)).find((a) => a.info.fingerprint === req.fingerprint) : undefined;
      if (same !== undefined) await acts.transfer(user, same.deviceId, req.installationId, { info: deviceInfo(req) });
      else await acts.activate(user, req.installationId, { info: deviceInfo(req) });
      activated = true;
      floor = await this.#recordExchange(license, req, user, now, { nonce: false, usage: true });
    }
    const serverTime = new Date(now);
    let until = now + license.leaseDays * DAY;
    if (license.expiresAt !== undefined) until = Math.min(until, Math.max(now, license.expiresAt.getTime()));
    const verifiedUntil = new Date(until);
    const topUps = await this.store.read(license.id, async (r) => (await r.list(KINDS.topup)).map((e) => e.value.token).filter((t): t is string => typeof t === 'string').slice(-MAX_TOPUPS));
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
        floor,
        topUps,
        licenseKey: replaced ? license.text : undefined,
      },
      this.signer,
    );
    return { lease, licenseId: license.id, deviceId: req.installationId, user, verifiedUntil, serverTime, floor, activated, ...(topUp === undefined ? {} : { topUp }) };
  }

  /** A request is accepted only inside its window: not older than `requestMaxAgeMs`, not dated beyond `requestMaxSkewMs` ahead. */
  #fresh(req: ExchangeRequest, now: number): void {
    const t = req.clientTime.getTime();
    if (now - t > this.#maxAge) {
      throw new LicenseError('ERR_EXCHANGE_STALE', `this request was made on ${req.clientTime.toISOString()}, too long ago; make a new request`, { clientTime: req.clientTime.toISOString() });
    }
    if (t - now > this.#maxSkew) {
      throw new LicenseError('ERR_EXCHANGE_FUTURE', `this request is dated ${req.clientTime.toISOString()}, ahead of the server's clock (${new Date(now).toISOString()}); set the requesting machine's clock correctly and make a new request`, { clientTime: req.clientTime.toISOString() });
    }
  }

  get #maxAge(): number {
    return this.#o.requestMaxAgeMs ?? 30 * DAY;
  }

  get #maxSkew(): number {
    return this.#o.requestMaxSkewMs ?? 10 * 60_000;
  }

  /** Supplied machine ids only where the license allows them; weak hardware identities as the vendor's policy says. */
  #identityPolicy(license: License, req: ExchangeRequest): void {
    if (req.fingerprintSource === 'operator' && !license.allowSuppliedMachineId) {
      throw new LicenseError(
        'ERR_MACHINE_ID_NOT_ALLOWED',
        `license ${license.id} does not allow a supplied machine id: activate with the machine's hardware fingerprint, or ask the vendor for a license that allows supplied ids (licit issue --allow-machine-id)`,
        { licenseId: license.id },
      );
    }
    if (req.fingerprintSource === 'hardware' && (this.#o.weakIdentity ?? 'allow') === 'refuse' && !isStrong(req.fingerprint)) {
      throw new LicenseError(
        'ERR_FINGERPRINT_WEAK',
        'this machine has no identity of its own (no SMBIOS serials, only parts other machines share, such as a hypervisor-default network address); this vendor does not activate such machines by hardware. Ask the vendor for a license that allows a supplied machine id.',
        { licenseId: license.id },
      );
    }
  }

  /**
   * The license user the request speaks for. Where the license says users sign in, a user id alone
   * selects nothing: an activated installation is its activation's user (its key proves it); a new
   * activation needs the user's password or an ID token (`ERR_USER_AUTH_REQUIRED`/`_FAILED`).
   */
  async #user(license: License, req: ExchangeRequest, context: AnswerContext, acts: Activations): Promise<string> {
    const fallback = this.#o.defaultUser ?? 'default';
    if (license.userAuth === 'none') return req.user ?? fallback;
    const mine = (await acts.devices()).find((a) => a.deviceId === req.installationId);
    if (mine !== undefined && (req.user === undefined || req.user === mine.userId)) return mine.userId;
    if (req.operation !== 'activate') return req.user ?? fallback; // not activated for that user: refused below
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
    return who.userId ?? fallback;
  }

  /** Append `exchange.refused` to a license this server knows (never create state for an unknown id). */
  async #auditRefusal(req: ExchangeRequest, e: LicenseError): Promise<void> {
    try {
      if ((await this.#registeredText(req.licenseId)) === undefined) return;
      await this.store.transaction(req.licenseId, async (tx) => {
        tx.append(adminEvent(this.now(), `installation:${req.installationId}`, 'exchange.refused', { operation: req.operation, code: e.code, reason: typeof e.details.reason === 'string' ? e.details.reason : null, device: req.installationId }));
      });
    } catch {
      /* the refusal stands whether or not it could be audited */
    }
  }

  /** An installation's ask for credits: audit it, let the vendor's policy decide, sign what it grants. */
  async #askTopUp(license: License, req: ExchangeRequest, user: string, ask: { credits: number; idempotencyKey: string }): Promise<TopUpGrant> {
    const actor = `installation:${req.installationId}`;
    const tokenId = topUpTokenId(license.id, ask.idempotencyKey);
    const prior = await this.store.transaction(license.id, async (tx) => {
      tx.append(adminEvent(this.now(), actor, 'topup.requested', { key: ask.idempotencyKey, credits: ask.credits, device: req.installationId, user }));
      return tx.get(KINDS.topup, tokenId);
    });
    if (prior !== undefined) {
      // A retry of an ask granted before: the same token, not a second grant (nor a second policy call).
      const r = this.#repeat(license, prior, tokenId, { requested: ask.credits, idempotencyKey: ask.idempotencyKey });
      return { requested: ask.credits, granted: r.credits, tokenId, added: false };
    }
    const policy = this.#o.topUpPolicy;
    const granted = policy === undefined ? 0 : await policy({ licenseId: license.id, requested: ask.credits, installation: req.installationId, user, idempotencyKey: ask.idempotencyKey, license });
    if (!Number.isSafeInteger(granted) || granted < 0 || granted > 0xffffffff) {
      throw new LicenseError('ERR_INTERNAL', `the server's topUpPolicy returned ${String(granted)}; it must return a whole number of credits from 0 to 4294967295`);
    }
    if (granted === 0) return { requested: ask.credits, granted: 0, tokenId: undefined, added: false };
    const r = await this.topUp(license, { credits: granted, requested: ask.credits, idempotencyKey: ask.idempotencyKey, source: 'auto', actor });
    return { requested: ask.credits, granted: r.credits, tokenId: r.tokenId, added: r.added };
  }

  #containerPolicy(req: ExchangeRequest): void {
    const policy = this.#o.containerPolicy ?? 'allow';
    if (!req.container || policy === 'allow') return;
    if (policy === 'machine-id' && req.fingerprintSource === 'operator') return;
    throw new LicenseError(
      'ERR_FINGERPRINT_MISMATCH',
      policy === 'refuse'
        ? 'this vendor does not allow activation inside a container; run the application on a host or a virtual machine'
        : 'inside a container the hardware identity changes on every restart: supply a stable machine id (the machineId option of the application, or LICIT_MACHINE_ID where the application sets machineIdFromEnv) on a license that allows supplied ids, and activate again',
      { reason: 'container', policy },
    );
  }

  /** Renewal of an existing activation: the machine must still match the fingerprint it activated with. */
  #sameMachine(a: Activation, req: ExchangeRequest): void {
    const stored = a.info.fingerprint;
    if (typeof stored !== 'string' || stored === req.fingerprint) return;
    const strategy = this.#o.fingerprintStrategy;
    if (match(stored, req.fingerprint, strategy).ok) return;
    const why = explain(stored, req.fingerprint, strategy);
    throw new LicenseError('ERR_FINGERPRINT_MISMATCH', `this machine no longer matches the one activated: ${why.changed.join(', ')} changed. Ask the license administrator to reset this device, then activate again.\n${why.text}`, {
      licenseId: req.licenseId,
      deviceId: a.deviceId,
      changed: why.changed,
      score: why.score,
    });
  }

  /**
   * In one transaction: refuse a replayed nonce (remembered for the whole request window) and
   * implausible usage, remember the nonce, and (with `usage`) add what this installation's ledger
   * spent to the license's consumption and record its seats. A new installation's usage is recorded
   * only once its activation counted (a second call with `nonce: false`): usage only from activations.
   * Returns the floor for the lease: the license's whole known consumption.
   */
  async #recordExchange(license: License, req: ExchangeRequest, user: string, now: number, phase: { nonce: boolean; usage: boolean }): Promise<number> {
    return this.store.transaction(license.id, async (tx) => {
      const rec = (await tx.get(KINDS.installation, req.installationId)) ?? {};
      const horizon = Math.floor((now - this.#maxAge - this.#maxSkew) / 1000);
      let nonces = readNonces(rec.nonces).filter(([, at]) => at >= horizon);
      if (phase.nonce) {
        if (nonces.some(([n]) => n === req.nonce)) {
          throw new LicenseError('ERR_EXCHANGE_REPLAYED', 'this request was already answered; a request code works once. Make a new request.', { nonce: req.nonce });
        }
        if (nonces.length >= MAX_NONCES) {
          throw new LicenseError('ERR_RATE_LIMITED', `this installation made ${MAX_NONCES} requests within the request window; wait before making another`, { retryAfterSeconds: 3600 });
        }
        nonces = [...nonces, [req.nonce, Math.floor(req.clientTime.getTime() / 1000)]];
      }
      const topups = await tx.list(KINDS.topup);
      const allowance = (license.credits ?? 0) + topups.reduce((n, e) => n + (typeof e.value.credits === 'number' ? e.value.credits : 0), 0);
      checkPlausible(license, req, allowance);
      const total = phase.usage ? await addSpent(tx, req, now, allowance) : await licenseTotal(tx);
      const at = new Date(now).toISOString();
      const usage = phase.usage
        ? { consumed: Math.max(typeof rec.consumed === 'number' ? rec.consumed : 0, req.consumed ?? 0), seats: req.seats === undefined ? (rec.seats ?? null) : { ...req.seats } }
        : { consumed: typeof rec.consumed === 'number' ? rec.consumed : 0, seats: rec.seats ?? null };
      tx.put(KINDS.installation, req.installationId, {
        user,
        nonces,
        ...usage,
        app: req.appName ?? null,
        version: req.appVersion ?? null,
        container: req.container,
        lastSeen: at,
      });
      return Math.max(total, license.carriedCredits);
    });
  }
}

/** What {@link Vendor.answer} knows beyond the request code. */
export interface AnswerContext {
  /** The license user's credentials (online: from the request body; offline: given to `licit respond`). */
  readonly credentials?: UserCredentials | undefined;
  /**
   * Called with the license id once the request proved its license, before anything is counted:
   * the HTTP server's per-license rate limit (throws `ERR_RATE_LIMITED` to refuse).
   */
  readonly admit?: ((licenseId: string) => void) | undefined;
}

/** What a license user signs in with. */
export interface UserCredentials {
  /** The password the license's administrator set. */
  readonly password?: string | undefined;
  /** An ID token from the vendor's identity provider. */
  readonly idToken?: string | undefined;
}

/** Refusals that leave a trace in the license's audit log. */
const REFUSALS_AUDITED: ReadonlySet<string> = new Set([
  'ERR_EXCHANGE_UNPROVEN',
  'ERR_EXCHANGE_IMPLAUSIBLE',
  'ERR_EXCHANGE_REPLAYED',
  'ERR_EXCHANGE_FUTURE',
  'ERR_MACHINE_ID_NOT_ALLOWED',
  'ERR_FINGERPRINT_WEAK',
  'ERR_FINGERPRINT_MISMATCH',
  'ERR_ACTIVATION_NOT_FOUND',
  'ERR_USER_AUTH_REQUIRED',
]);

/** `[nonce, clientTime seconds]` pairs of an installation record (older records kept bare nonces: dropped). */
function readNonces(v: JsonValue | undefined): [string, number][] {
  if (!Array.isArray(v)) return [];
  const out: [string, number][] = [];
  for (const x of v) if (Array.isArray(x) && typeof x[0] === 'string' && typeof x[1] === 'number') out.push([x[0], x[1]]);
  return out;
}

/** A license key's claims once its signature held under the vendor keys, whatever its dates say. */
async function authenticClaims(text: string, publicKeys: PublicKeyInput | readonly PublicKeyInput[]): Promise<LicenseClaims> {
  const env = parseEnvelope(text, 'license');
  await verifySignature(env, await toKeyring(publicKeys));
  return mapToClaims(decodeClaims(env));
}

/** A fingerprint that identifies one machine (not only parts many machines share); a malformed one does not. */
function isStrong(fingerprint: string): boolean {
  try {
    return fingerprintStrength(fingerprint).level === 'strong';
  } catch {
    return false;
  }
}

/**
 * The token id of the top-up an idempotency key names: a digest of the license id and the key, so
 * every retry with the key (from any server process) lands on the same stored token.
 */
export function topUpTokenId(licenseId: string, idempotencyKey: string): string {
  return `TOP-${sha256Hex(`licit-topup\n${licenseId}\n${idempotencyKey}`).slice(0, 32).toUpperCase()}`;
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
