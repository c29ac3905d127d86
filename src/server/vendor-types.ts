/**
 * The shapes the vendor's answering logic takes and gives: its options, what a top-up policy
 * decides on, and what an answer carries. Apart from vendor.ts so the exchange's steps can name them
 * without importing the class.
 */
import type { License } from '../core/license/license.js';
import type { PublicKeyInput } from '../core/crypto/keys.js';
import type { Clock } from '../core/time/clock.js';
import type { Signer } from '../core/crypto/envelope.js';
import type { Store } from '../core/store/store.js';
import type { MatchStrategy } from '../core/fingerprint/match.js';
import type { SigningKeyInput } from '../issuer/signer.js';
import type { IdTokenVerifier } from './auth/id-token.js';

/** What the vendor does with activations from containers (DESIGN.md, "Containers"). */
export type ContainerPolicy = 'allow' | 'refuse' | 'machine-id';

/** Options of `Vendor`. */
export interface VendorOptions {
  /** The vendor's Ed25519 private key (PKCS#8 PEM, KeyObject or a Signer). */
  readonly signingKey: SigningKeyInput;
  /** Where activations, users and usage live. */
  readonly store: Store;
  /** Public keys license keys are verified with. Default: the signing key's public half (required for a bare Signer). */
  readonly publicKeys?: PublicKeyInput | readonly PublicKeyInput[] | undefined;
  /** The server's clock (`() => ms`). Default `Date.now`. */
  readonly now?: Clock | undefined;
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
  /**
   * A reinstall on the same machine: this activation took over the one of installation `from`,
   * which is never renewed again (audited as `device.reinstalled`; the server's access log says so).
   */
  readonly reinstalled?: {
    /** The installation (device id) replaced. */
    readonly from: string;
    /** Whether it counted one transfer (docs/seats.md "Reinstalls"). */
    readonly transferCounted: boolean;
  } | undefined;
}

/** What `Vendor.answer` knows beyond the request code. */
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

/**
 * What the exchange's steps (registry, top-ups, records) need of a `Vendor`: its store, keys and
 * clock. Internal: the class passes itself, so every step sees the same store and time.
 */
export interface VendorContext {
  readonly store: Store;
  readonly signer: Signer;
  readonly publicKeys: PublicKeyInput | readonly PublicKeyInput[];
  readonly now: () => number;
  /** Verify a license key with the vendor's keys at server time (node-locked keys against `fingerprint`). */
  verifyKey(text: string, fingerprint?: string): Promise<License>;
}
