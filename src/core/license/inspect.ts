/** Decode a license key WITHOUT verifying it: for support tools and `licit inspect`. */
import { mapToClaims, type LicenseClaims } from './claims.js';
import { decodeClaims, parseEnvelope } from '../crypto/envelope.js';

/** What an unverified license key says. Nothing here is trustworthy until verified. */
export interface InspectedLicense {
  /** Always false: nothing was verified. */
  readonly verified: false;
  /** Key id the key claims to be signed by. */
  readonly kid: string;
  /** The claims as written, unverified. */
  readonly claims: LicenseClaims;
}

/** Decode a license key's claims without checking its signature. Throws on malformed keys. */
export function inspectLicense(text: string): InspectedLicense {
  const env = parseEnvelope(text, 'license');
  if (env.unsupported !== undefined) throw env.unsupported;
  return { verified: false, kid: env.kid, claims: mapToClaims(decodeClaims(env)) };
}
