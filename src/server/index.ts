/**
 * `licit/server`: the vendor's license server (activation, renewal, deactivation, usage, and
 * administration over a store). Only re-exports.
 * @module licit/server
 */
import { setEd25519Backend } from '../core/crypto/ed25519.js';
import { nodeBackend } from '../node/crypto/ed25519-node.js';

// The server verifies every request and license key: use node:crypto, the fastest Ed25519 in Node.
setEd25519Backend(nodeBackend);

export { createLicenseServer, isErrorCode, type LicenseServer, type LicenseServerOptions } from './server.js';
export type { RateLimit } from './rate-limit.js';
export type { TrialPolicy } from './trials.js';
export { WebhookDispatcher, verifyWebhook, notifyingStore, DEFAULT_WEBHOOK_KINDS, type WebhookEndpoint, type WebhookOptions, type WebhookDelivery } from './webhooks.js';
export type { RateLimitOptions } from './limits.js';
export type { AccessLogEntry, AccessLogOption } from './access-log.js';
export type { ClientInfo, HttpTimeouts } from './http.js';
export { Vendor, KINDS, topUpTokenId, type VendorOptions, type ContainerPolicy, type Answer, type TopUpPolicyRequest, type TopUpGrant, type AnswerContext, type UserCredentials } from './vendor.js';
// One re-issue rule for the CLI, the admin API, the portal and a vendor's own automatic top-up.
export { reissueLicense, addSeats, type ReissueContext, type ReissueOptions, type Reissued, type LicenseChanges } from './reissue.js';
export { createLease, openRequest, type Lease, type ExchangeRequest } from '../core/exchange/index.js';
export {
  authenticateUser,
  LicenseUserCredentials,
  createIdTokenVerifier,
  hashPassword,
  verifyPassword,
  USER_AUTH_KINDS,
  type AuthenticateUserContext,
  type AuthenticatedUser,
  type UserAuthMode,
  type UserAuthPolicy,
  type UserCredentialsInput,
  type CredentialOptions,
  type IdTokenVerifier,
  type IdTokenVerifierOptions,
  type VerifiedIdToken,
} from './user-auth.js';
export type { PortalOptions, Company, Account } from './portal/index.js';
