/**
 * `licit inspect`: decode any licit code a customer pastes (license key `LICIT1-`, request code
 * `LICITR1-`, response code / lease `LICITL1-`, top-up token `LICITT1-`) for support. Marked NOT
 * VERIFIED unless `--public-key` is given and the vendor signature holds.
 */
import { LicenseError, formatInstant, loadEnvelopes, loadLeases, loadLicenseReader, loadRequests, loadText, loadTopUps } from '../../cli-internals.js';
import type { Lease } from '../../node/index.js';
import { parseFlags, type Verb } from '../context.js';
import { describeClaims } from '../describe.js';
import { keyOrCode, readPublicKeys } from '../files.js';

export const USAGE = 'licit inspect [CODE | @FILE | PATH | -] [--public-key FILE]... [--json]';

/** Which code a text is, by its armor prefix (whitespace ignored, as every reader ignores it). */
function kindOf(text: string, printableForTerminal: (s: string) => string): 'license' | 'request' | 'lease' | 'topup' {
  const t = text.replace(/\s+/g, '');
  if (t.startsWith('LICITR1-')) return 'request';
  if (t.startsWith('LICITL1-')) return 'lease';
  if (t.startsWith('LICITT1-')) return 'topup';
  if (t.startsWith('LICIT1-')) return 'license';
  throw new LicenseError(
    'ERR_KEY_MALFORMED',
    `this is not a licit code: licit reads license keys (LICIT1-…), request codes (LICITR1-…), response codes (LICITL1-…) and top-up tokens (LICITT1-…); got "${printableForTerminal(t.slice(0, 12))}…"`,
  );
}

const rows = (r: [string, string | number | undefined][], printableForTerminal: (s: string) => string) =>
  r.filter((x): x is [string, string | number] => x[1] !== undefined && x[1] !== '').map(([k, v]) => `  ${k.padEnd(18)} ${typeof v === 'string' ? printableForTerminal(v) : v}`).join('\n');
const counts = (c: Readonly<Record<string, number>> | undefined) => (c === undefined ? undefined : Object.entries(c).map(([t, n]) => `${t}=${n}`).join(', '));

function leaseJSON(l: Lease) {
  return {
    licenseId: l.licenseId, deviceId: l.deviceId, user: l.user, installationId: l.installationId, fingerprint: l.fingerprint,
    serverTime: l.serverTime.toISOString(), verifiedUntil: l.verifiedUntil.toISOString(), floor: l.floor, seats: l.seats,
    topUps: l.topUps.length, reissuedKey: l.licenseKey !== undefined,
  };
}

export const run: Verb = async (argv) => {
  const { values, positionals } = parseFlags(argv, { 'public-key': { type: 'string', multiple: true } }, USAGE);
  if (positionals.length > 1) throw new LicenseError('ERR_USAGE', `expected one code, got ${positionals.length} arguments\nUsage: ${USAGE}`);
  const text = keyOrCode(positionals[0], 'CODE');
  // The readers, each from its own module (not licit/node, which would load the whole runtime).
  const [{ printableForTerminal }, { inspectLicense, claimsToJSON }, { openEnvelope, toKeyring }, { decodeTopUp, verifyTopUp }, { decodeLease, openLease }, { openRequest }] = await Promise.all([
    loadText(),
    loadLicenseReader(),
    loadEnvelopes(),
    loadTopUps(),
    loadLeases(),
    loadRequests(),
  ]);
  const kind = kindOf(text, printableForTerminal);
  const keys = values['public-key'] === undefined ? undefined : readPublicKeys(values['public-key'], USAGE);
  const verified = keys !== undefined && kind !== 'request';
  const seal = verified ? 'VERIFIED: the vendor signature holds' : 'NOT VERIFIED: decoded only; the signature was not checked (give --public-key vendor.pub to check it)';
  switch (kind) {
    case 'license': {
      // With a key: the signature only; whether it is expired is not this question (`licit verify` answers that).
      const found = inspectLicense(text);
      const kid = keys === undefined ? found.kid : (await openEnvelope(text, 'license', await toKeyring(keys))).kid;
      return {
        data: { kind, verified, kid, license: claimsToJSON(found.claims) },
        text: `${verified ? seal : 'NOT VERIFIED: decoded only; the signature was not checked (use `licit verify`, or give --public-key)'}. License key signed by key ${kid}.\n${describeClaims(found.claims)}`,
      };
    }
    case 'lease': {
      const l = keys === undefined ? decodeLease(text) : await openLease(text, keys);
      const j = leaseJSON(l);
      return {
        data: { kind, verified, kid: l.kid, lease: j },
        text: `${seal}. Response code (lease) signed by key ${l.kid}.\n${rows([
          ['license id', j.licenseId], ['device', j.deviceId], ['user', j.user], ['installation', j.installationId],
          ['server time', formatInstant(l.serverTime)], ['verified until', formatInstant(l.verifiedUntil)], ['credits floor', j.floor],
          ['seats', counts(j.seats)], ['top-ups', j.topUps > 0 ? j.topUps : undefined], ['re-issued key', j.reissuedKey ? 'yes' : undefined], ['fingerprint', j.fingerprint],
        ], printableForTerminal)}`,
      };
    }
    case 'topup': {
      const t = keys === undefined ? decodeTopUp(text) : await verifyTopUp(text, { publicKeys: keys });
      const j = { tokenId: t.tokenId, licenseId: t.licenseId, credits: t.credits, issuedAt: t.issuedAt.toISOString() };
      return {
        data: { kind, verified, kid: t.kid, topUp: j },
        text: `${seal}. Top-up token signed by key ${t.kid}.\n${rows([['token id', j.tokenId], ['license id', j.licenseId], ['credits', `+${j.credits}`], ['issued', formatInstant(t.issuedAt)]], printableForTerminal)}`,
      };
    }
    default: {
      // A request is signed by the installation's own key, carried inside it: that proves it was not
      // altered, not who made it. No vendor key applies, so it is never "verified".
      const r = await openRequest(text);
      const j = {
        operation: r.operation, licenseId: r.licenseId, installationId: r.installationId, fingerprint: r.fingerprint, fingerprintSource: r.fingerprintSource,
        container: r.container, appName: r.appName, appVersion: r.appVersion, user: r.user, consumed: r.consumed, seats: r.seats,
        clientTime: r.clientTime.toISOString(), topUp: r.topUp, licenseKey: r.licenseKey !== undefined,
      };
      return {
        data: { kind, verified: false, request: j },
        text: `NOT VERIFIED: a request code is signed by the installation's own key (it was not altered since), but nothing vouches for who made it.\nRequest code: ${r.operation}.\n${rows([
          ['license id', j.licenseId], ['installation', j.installationId], ['user', j.user], ['application', j.appName === undefined ? undefined : `${j.appName}${j.appVersion === undefined ? '' : ` ${j.appVersion}`}`],
          ['client time', formatInstant(r.clientTime)], ['credits consumed', j.consumed], ['seats in use', counts(j.seats)],
          ['top-up asked', j.topUp === undefined ? undefined : JSON.stringify(j.topUp)], ['machine', `${j.fingerprintSource}${j.container ? ', container' : ''}`], ['fingerprint', j.fingerprint],
        ], printableForTerminal)}`,
      };
    }
  }
};
