/**
 * The vendor's answering logic, shared by the HTTP server and `licit respond` (offline): verify a
 * request, count the activation against the license's limits in the store, record the usage the
 * installation reports, and sign a lease.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { Signer } from '../core/envelope.js';
import { LicenseError } from '../core/errors.js';
import { createLease } from '../core/exchange/lease.js';
import { openRequest, type ExchangeRequest } from '../core/exchange/request.js';
import type { License } from '../core/license.js';
import { Activations, type Activation } from '../core/seats/index.js';
import type { JsonObject, Store } from '../core/store.js';
import { verifyLicense } from '../core/verify.js';
import type { PublicKeyInput } from '../core/keys.js';
import { toSigner, type SigningKeyInput } from '../issuer/signer.js';
import { adminEvent } from '../core/admin/events.js';
import { withAuditChain } from '../core/admin/chained-store.js';
import { verifyTopUp } from '../core/topup.js';
import { issueTopUp } from '../issuer/issue.js';
import { explain, match, type MatchStrategy } from '../node/fingerprint/match.js';

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

/** Record kinds the server keeps beside the seat layer's. */
export const KINDS = {
  /** The registered license key (key `key`): its text, issue time and seat counts. */
  license: 'server.license',
  /** One record per installation (keyed by its id): user, recent nonces, consumption, seats, last seen. */
  installation: 'server.installation',
  /** One record per top-up token (keyed by token id): the token, credits, idempotency key, source. */
  topup: 'server.topup',
} as const;
const DAY = 86_400_000;
const MAX_NONCES = 32;
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

  /** The license as the server knows it: the registered key, else `offered` (registered on first use). */
  async license(
    licenseId: string,
    offered?: string,
    fingerprint?: string,
  ): Promise<{
    /** The verified license. */
    license: License;
    /** True when the key offered differs from the registered one (the lease then carries the registered key). */
    replaced: boolean;
  }> {
    const stored = await this.store.read(licenseId, (r) => r.get(KINDS.license, 'key'));
    const storedText = typeof stored?.text === 'string' ? stored.text : undefined;
    if (storedText !== undefined) {
      const license = await this.verifyKey(storedText, fingerprint);
      return { license, replaced: offered !== undefined && offered.replace(/\s+/g, '') !== license.text };
    }
    if (offered === undefined) {
      throw new LicenseError('ERR_USAGE', `this server does not know license ${licenseId}; send the license key with the request or register it (POST /v1/admin/licenses)`, { licenseId });
    }
    const license = await this.verifyKey(offered, fingerprint);
    if (license.id !== licenseId) throw new LicenseError('ERR_EXCHANGE_WRONG_LICENSE', `the key sent is for license ${license.id}, the request for ${licenseId}`, { licenseId });
    await this.register(license, 'system');
    return { license, replaced: false };
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
      tx.append({ at: new Date(at).toISOString(), actor, kind: 'license.registered', details: { issuedAt: license.issuedAt.toISOString(), replaced: cur !== undefined } });
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

  /** Answer a request code or a verified request: activate, renew, deactivate or record usage. */
  async answer(code: string | ExchangeRequest): Promise<
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
        /** Consumption floor in credits after recording. */
        floor: number;
      }
  > {
    const req = typeof code === 'string' ? await openRequest(code) : code;
    const now = this.now();
    const maxAge = this.#o.requestMaxAgeMs ?? 30 * DAY;
    if (now - req.clientTime.getTime() > maxAge) {
      throw new LicenseError('ERR_EXCHANGE_STALE', `this request was made on ${req.clientTime.toISOString()}, too long ago; make a new request`, { clientTime: req.clientTime.toISOString() });
    }
    this.#containerPolicy(req);
    const { license, replaced } = await this.license(req.licenseId, req.licenseKey, req.fingerprint);
    const user = req.user ?? this.#o.defaultUser ?? 'default';
    const acts = this.activations(license, `installation:${req.installationId}`);
    const floor = await this.#recordExchange(license, req, user);
    if (req.operation === 'usage') return { recorded: true, licenseId: license.id, floor };
    const existing = (await acts.devices(user)).find((a) => a.deviceId === req.installationId);
    if (req.operation === 'deactivate') {
      if (existing === undefined) throw notActivated(req);
      await acts.deactivate(user, existing.deviceId);
      return { deactivated: true, licenseId: license.id, deviceId: existing.deviceId };
    }
    let activated = false;
    let topUp: TopUpGrant | undefined;
    if (existing !== undefined) {
      this.#sameMachine(existing, req);
      await acts.validate(user, existing.deviceId);
      if (req.topUp !== undefined) topUp = await this.#askTopUp(license, req, user, req.topUp);
    } else {
      // Only an activated installation may ask for credits: a bare license key is not enough.
      if (req.operation === 'topup') throw notActivated(req);
      if (req.operation === 'renew') throw notActivated(req);
      if (this.#o.autoAddUsers !== false) await acts.addUser(user);
      // A reinstall on the same machine (same fingerprint, new installation key) moves the activation.
      const same = (await acts.devices(user)).find((a) => a.info.fingerprint === req.fingerprint);
      if (same !== undefined) await acts.deactivate(user, same.deviceId);
      await acts.activate(user, req.installationId, { info: deviceInfo(req) });
      activated = true;
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
        : 'inside a container the hardware identity changes on every restart: supply a stable machine id (LICIT_MACHINE_ID or the machineId option) and activate again',
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

  /** Refuse a replayed nonce, remember it, and raise the consumption floor to what the installation reports. */
  async #recordExchange(license: License, req: ExchangeRequest, user: string): Promise<number> {
    return this.store.transaction(license.id, async (tx) => {
      const rec = (await tx.get(KINDS.installation, req.installationId)) ?? {};
      const nonces = Array.isArray(rec.nonces) ? rec.nonces.filter((n): n is string => typeof n === 'string') : [];
      if (nonces.includes(req.nonce)) {
        throw new LicenseError('ERR_EXCHANGE_REPLAYED', 'this request was already answered; a request code works once. Make a new request.', { nonce: req.nonce });
      }
      const before = typeof rec.consumed === 'number' ? rec.consumed : 0;
      const consumed = Math.max(before, req.consumed ?? 0);
      const now = this.now();
      const at = new Date(now).toISOString();
      const next: JsonObject = {
        user,
        nonces: [...nonces, req.nonce].slice(-MAX_NONCES),
        consumed,
        seats: req.seats === undefined ? (rec.seats ?? null) : { ...req.seats },
        app: req.appName ?? null,
        version: req.appVersion ?? null,
        container: req.container,
        lastSeen: at,
      };
      tx.put(KINDS.installation, req.installationId, next);
      if (consumed > before) {
        let total = consumed;
        for (const e of await tx.list(KINDS.installation)) if (e.key !== req.installationId && typeof e.value.consumed === 'number') total += e.value.consumed;
        tx.append(adminEvent(now, 'system', 'credits.consumed', { amount: consumed - before, consumed: total, device: req.installationId }));
      }
      return Math.max(consumed, license.carriedCredits);
    });
  }
}

/**
 * The token id of the top-up an idempotency key names: a digest of the license id and the key, so
 * every retry with the key (from any server process) lands on the same stored token.
 */
export function topUpTokenId(licenseId: string, idempotencyKey: string): string {
  return `TOP-${createHash('sha256').update(`licit-topup\n${licenseId}\n${idempotencyKey}`).digest('hex').slice(0, 32).toUpperCase()}`;
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
