/**
 * License user authentication: passwords the license's administrator set (scrypt hashes in the
 * store, lockout after repeated failures) and ID tokens from the vendor's identity provider
 * (verified with `jose` against its JWKS). Only re-exports; see `docs/users.md`.
 */
export { authenticateUser, type AuthenticateUserContext, type AuthenticatedUser, type UserAuthMode, type UserAuthPolicy, type UserCredentialsInput } from './auth/authenticate.js';
export { LicenseUserCredentials, CREDENTIAL_KIND, LOCKOUT_DEFAULTS, USER_AUTH_KINDS, type CredentialOptions, type UserAuthKind } from './auth/credentials.js';
export { createIdTokenVerifier, type IdTokenVerifier, type IdTokenVerifierOptions, type VerifiedIdToken } from './auth/id-token.js';
export { hashPassword, verifyPassword, SCRYPT_DEFAULTS, PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH, type ScryptParams } from './auth/password.js';
