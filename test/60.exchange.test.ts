/**
 * The exchange protocol as pure functions: request codes signed by an installation, leases signed
 * by the vendor, and every refusal with its own code.
 */
import { describe, expect, it } from 'vitest';
import { base64urlDecode, base64urlEncode } from '../src/core/codec/base64.js';
import { createLease, createRequest, newNonce, openLease, openRequest, verifyLease, type InstallationSigner } from '../src/core/exchange/index.js';
import { isLicenseError } from '../src/core/errors.js';
import { toSigner } from '../src/issuer/signer.js';
import { makeVendor } from './helpers/vendor.js';
import { newInstallation as installation } from './helpers/installation.js';

async function code(e: Promise<unknown>): Promise<string> {
  try {
    await e;
  } catch (err) {
    if (isLicenseError(err)) return err.code;
    throw err;
  }
  return 'OK';
}

const FP_A = 'fp1:mi=AAAAAAAAAAAAAAAAAAAAAA';
const FP_B = 'fp1:mi=BBBBBBBBBBBBBBBBBBBBBB';
const vendor = makeVendor();
const signer = toSigner(vendor.privateKeyPem);
const T0 = new Date('2026-03-01T10:00:00Z');

function flipChar(text: string, at: number): string {
  const body = text.slice(text.indexOf('-') + 1);
  const bytes = base64urlDecode(body)!;
  bytes[at % bytes.length]! ^= 0x01;
  return text.slice(0, text.indexOf('-') + 1) + base64urlEncode(bytes);
}

describe('request codes', () => {
  it('round-trips every claim and names the installation', async () => {
    const inst = installation();
    const nonce = newNonce();
    const text = await createRequest(
      { operation: 'activate', licenseId: 'LIC-1', licenseKey: 'LICIT1-abc', fingerprint: FP_A, appName: 'app', appVersion: '1.2.3', consumed: 7, seats: { basic: 2 }, user: 'ann@example.com', nonce, clientTime: T0, container: true, fingerprintSource: 'operator' },
      inst,
    );
    expect(text.startsWith('LICITR1-')).toBe(true);
    // Whitespace-tolerant: wrapped at 64 columns it still opens.
    const wrapped = text.replace(/(.{64})/g, '$1\n');
    const r = await openRequest(wrapped);
    expect(r).toMatchObject({ operation: 'activate', licenseId: 'LIC-1', licenseKey: 'LICIT1-abc', fingerprint: FP_A, appName: 'app', appVersion: '1.2.3', consumed: 7, user: 'ann@example.com', nonce, container: true, fingerprintSource: 'operator', installationId: inst.kid });
    expect(r.seats).toEqual({ basic: 2 });
    expect(r.clientTime.toISOString()).toBe(T0.toISOString());
  });

  it('refuses every single-bit change', async () => {
    const inst = installation();
    const text = await createRequest({ operation: 'renew', licenseId: 'LIC-1', fingerprint: FP_A, nonce: newNonce(), clientTime: T0 }, inst);
    const len = base64urlDecode(text.slice(8))!.length;
    const codes = new Set<string>();
    for (let i = 0; i < len; i += 3) codes.add(await code(openRequest(flipChar(text, i))));
    expect(codes.has('OK')).toBe(false);
    expect(codes.has('ERR_KEY_SIGNATURE')).toBe(true);
  });

  it('refuses a request re-signed by another installation claiming the first one', async () => {
    const a = installation();
    const b = installation();
    // b signs but claims a's public key: the kid/ipk check catches it.
    const forged = await createRequest({ operation: 'renew', licenseId: 'LIC-1', fingerprint: FP_A, nonce: newNonce(), clientTime: T0 }, { ...b, publicKey: a.publicKey, kid: a.kid }).catch((e) => e);
    expect(isLicenseError(forged, 'ERR_PRIVATE_KEY_INVALID') || (typeof forged === 'string' && (await code(openRequest(forged))) === 'ERR_KEY_SIGNATURE')).toBe(true);
  });
});

describe('leases', () => {
  async function lease(over: Partial<Parameters<typeof createLease>[0]> = {}, inst = installation(), nonce = newNonce()) {
    const text = await createLease({ licenseId: 'LIC-1', fingerprint: FP_A, installationKey: inst.publicKey, nonce, serverTime: T0, verifiedUntil: new Date(+T0 + 14 * 864e5), deviceId: inst.kid, floor: 5, ...over }, signer);
    return { text, inst, nonce };
  }
  const expectFor = (inst: InstallationSigner, nonce: string, over: Record<string, unknown> = {}) => ({ publicKeys: vendor.publicKeyPem, licenseId: 'LIC-1', fingerprint: FP_A, installationKey: inst.publicKey, pending: [nonce], ...over });

  it('verifies the lease meant for this license, machine, installation and request', async () => {
    const { text, inst, nonce } = await lease({ seats: { basic: 3 }, topUps: ['LICITT1-x'], user: 'ann' });
    const l = await verifyLease(text, expectFor(inst, nonce));
    expect(l).toMatchObject({ licenseId: 'LIC-1', fingerprint: FP_A, deviceId: inst.kid, floor: 5, user: 'ann', topUps: ['LICITT1-x'], nonce, installationId: inst.kid, kid: vendor.kid });
    expect(l.verifiedUntil.toISOString()).toBe('2026-03-15T10:00:00.000Z');
    expect(l.seats).toEqual({ basic: 3 });
  });

  it('refuses each mismatch with its own code', async () => {
    const { text, inst, nonce } = await lease();
    expect(await code(verifyLease(text, expectFor(inst, nonce, { licenseId: 'LIC-2' })))).toBe('ERR_EXCHANGE_WRONG_LICENSE');
    expect(await code(verifyLease(text, expectFor(inst, nonce, { fingerprint: FP_B })))).toBe('ERR_EXCHANGE_WRONG_MACHINE');
    expect(await code(verifyLease(text, expectFor(installation(), nonce)))).toBe('ERR_EXCHANGE_WRONG_INSTALLATION');
    expect(await code(verifyLease(text, expectFor(inst, nonce, { answered: [nonce] })))).toBe('ERR_EXCHANGE_REPLAYED');
    expect(await code(verifyLease(text, expectFor(inst, nonce, { pending: [newNonce()] })))).toBe('ERR_EXCHANGE_STALE');
    expect(await code(verifyLease(text, expectFor(inst, nonce, { installedServerTime: new Date(+T0 + 1000) })))).toBe('ERR_EXCHANGE_STALE');
    expect(await code(verifyLease(text, expectFor(inst, nonce, { publicKeys: makeVendor().publicKeyPem })))).toBe('ERR_KEY_UNKNOWN_SIGNER');
    // A tolerant matcher accepts a machine whose fingerprint drifted.
    await expect(verifyLease(text, expectFor(inst, nonce, { fingerprint: FP_B, matchFingerprint: () => true }))).resolves.toBeDefined();
  });

  it('refuses any tampering: every byte flipped fails, mostly as ERR_KEY_SIGNATURE', async () => {
    const { text, inst, nonce } = await lease();
    const len = base64urlDecode(text.slice(8))!.length;
    const codes = new Map<string, number>();
    for (let i = 0; i < len; i++) {
      const c = await code(verifyLease(flipChar(text, i), expectFor(inst, nonce)));
      codes.set(c, (codes.get(c) ?? 0) + 1);
    }
    expect(codes.has('OK')).toBe(false);
    expect(codes.get('ERR_KEY_SIGNATURE')).toBeGreaterThan(len / 2);
  });

  it('a request code is not a lease and a lease is not a license', async () => {
    const inst = installation();
    const req = await createRequest({ operation: 'renew', licenseId: 'LIC-1', fingerprint: FP_A, nonce: newNonce(), clientTime: T0 }, inst);
    expect(await code(openLease(req, vendor.publicKeyPem))).toBe('ERR_KEY_WRONG_KIND');
    const { text } = await lease();
    expect(await code(openRequest(text))).toBe('ERR_KEY_WRONG_KIND');
  });

  it('validates claims before signing', async () => {
    expect(await code(lease({ verifiedUntil: new Date(+T0 - 1000) }))).toBe('ERR_KEY_INVALID_CLAIM');
    expect(await code(lease({ nonce: 'abcd' }))).toBe('ERR_USAGE');
    expect(await code(lease({ floor: -1 }))).toBe('ERR_KEY_INVALID_CLAIM');
  });
});
