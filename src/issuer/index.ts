/**
 * `licit/issuer`: the vendor side. Key generation, license keys and top-up tokens.
 * Never ship this entry's private keys inside an application.
 * @module licit/issuer
 */
export { generateKeyPair, writeKeyPair, type VendorKeyPair, type KeyPairFiles } from './keygen.js';
export { issueLicense, issueTopUp, type IssueOptions, type TopUpInput } from './issue.js';
export { toSigner, type SigningKeyInput } from './signer.js';
export type { LicenseInput } from '../core/license/claims.js';
export { parseTimeWords, type TimeWordsOptions, type DayEdge } from '../core/time/time-words.js';
export type { Signer } from '../core/crypto/envelope.js';
