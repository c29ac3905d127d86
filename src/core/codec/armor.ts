/**
 * Text armor for every signed licit object: a prefix naming its kind, then base64url.
 * Whitespace anywhere is ignored (keys get wrapped in e-mails); everything else is strict.
 */
import { base64urlDecode, base64urlEncode } from './base64.js';
import { LicenseError } from '../errors.js';

/** The kinds of signed object licit exchanges, each with its own armor prefix. */
export type EnvelopeKind = 'license' | 'lease' | 'topup' | 'request';

export const PREFIXES: Readonly<Record<EnvelopeKind, string>> = {
  license: 'LICIT1-',
  lease: 'LICITL1-',
  topup: 'LICITT1-',
  request: 'LICITR1-',
};

const NAMES: Readonly<Record<EnvelopeKind, string>> = {
  license: 'license key',
  lease: 'lease (response code)',
  topup: 'top-up token',
  request: 'request code',
};

/** Largest armored text accepted, checked before any decoding. Real keys are well under 2 KiB. */
export const MAX_ARMORED_CHARS = 64 * 1024;
/** Largest decoded envelope accepted. */
export const MAX_ENVELOPE_BYTES = 16 * 1024;

export function armor(kind: EnvelopeKind, bytes: Uint8Array): string {
  return PREFIXES[kind] + base64urlEncode(bytes);
}

/** Human name of a kind, for messages. */
export const kindName = (kind: EnvelopeKind): string => NAMES[kind];

/** Strip whitespace, check the prefix, decode. Throws `LicenseError` with a precise code. */
export function dearmor(text: unknown, kind: EnvelopeKind): Uint8Array {
  const name = NAMES[kind];
  if (typeof text !== 'string') throw new LicenseError('ERR_KEY_MALFORMED', `the ${name} must be a string`);
  if (text.length > MAX_ARMORED_CHARS) {
    throw new LicenseError('ERR_KEY_TOO_LARGE', `the ${name} is ${text.length} characters; licit accepts at most ${MAX_ARMORED_CHARS}. Check that you pasted only the ${name}.`);
  }
  const compact = text.replace(/\s+/g, '');
  const prefix = PREFIXES[kind];
  if (!compact.startsWith(prefix)) {
    const other = (Object.keys(PREFIXES) as EnvelopeKind[]).find((k) => k !== kind && compact.startsWith(PREFIXES[k]));
    if (other !== undefined) {
      throw new LicenseError('ERR_KEY_WRONG_KIND', `this is a ${NAMES[other]}, not a ${name}`, { expected: kind, found: other });
    }
    throw new LicenseError('ERR_KEY_MALFORMED', `not a licit ${name}: it must start with "${prefix}". Copy the whole ${name}, including its prefix.`);
  }
  const body = compact.slice(prefix.length);
  if (body.length > Math.ceil((MAX_ENVELOPE_BYTES * 4) / 3)) {
    throw new LicenseError('ERR_KEY_TOO_LARGE', `the ${name} is larger than ${MAX_ENVELOPE_BYTES} bytes; it cannot be a licit ${name}`);
  }
  const bytes = base64urlDecode(body);
  if (bytes === undefined || bytes.length === 0) {
    throw new LicenseError('ERR_KEY_MALFORMED', `the ${name} contains characters that cannot be part of it or is cut short. Copy it again in full.`);
  }
  return bytes;
}
