/**
 * Writes test/vectors/licit-formats.json: golden vectors of licit's own text formats (license keys
 * `LICIT1-`, request codes `LICITR1-`, leases `LICITL1-`, top-up tokens `LICITT1-`, fingerprint
 * strings `fp1:`), made by licit's own encoders from fixed inputs under fixed keys (RFC 8032
 * TEST 1 and TEST 2 seeds), fixed dates and fixed nonces. test/05b checks every text against the
 * library, both ways. See test/vectors/README.md.
 *
 *   node --import tsx scripts/make-vectors.ts           # regenerate (only on a deliberate format change)
 *   node --import tsx scripts/make-vectors.ts --check   # exit 1 unless regeneration gives the file byte for byte
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { claimsToJSON } from '../src/core/license/license.js';
import { verifyLicense } from '../src/core/license/verify.js';
import { verifyTopUp } from '../src/core/exchange/topup.js';
import { openLease, openRequest } from '../src/core/exchange/index.js';
import { Fingerprint } from '../src/core/fingerprint/fingerprint.js';
import { decodeClaims, parseEnvelope, type EnvelopeKind } from '../src/core/crypto/envelope.js';
import { saltForVendor } from '../src/core/fingerprint/salt.js';
import '../src/node/crypto/backends.js';
import type { HostFacts } from '../src/core/fingerprint/facts.js';
import { physicalFacts } from '../test/helpers/host-facts.js';
import {
  encode, installation, INSTALLATION_SEED, jsonOf, serialise, vendor, VENDOR_SEED, VECTORS_URL,
  type FingerprintInput, type FormatVectors,
} from '../test/helpers/format-vectors.js';

/** The claim keys of an envelope's payload in wire order (CWT integer keys as numbers): documentation of what each text carries. */
const claimKeys = (text: string, kind: EnvelopeKind): (string | number)[] => [...decodeClaims(parseEnvelope(text, kind)).keys()];

const VERIFY_AT = '2026-06-01T00:00:00.000Z';
const SALT = 'com.example.app';

// ---- Fingerprints ------------------------------------------------------------------------------

/** The test laptop, with a hypervisor-default MAC as its second adapter (so `ml` appears). */
function facts(over: Partial<HostFacts> = {}): HostFacts {
  return physicalFacts({
    adapters: [
      { name: 'enp0s31f6', mac: '8c:16:45:aa:bb:cc', origin: 'current' },
      { name: 'ens4', mac: '02:fc:00:00:00:01', origin: 'current' },
    ],
    ...over,
  });
}

const fingerprintInputs: { name: string; note: string; input: FingerprintInput }[] = [
  {
    name: 'every-kind',
    note: 'One component of each kind: su ss bs bd cs cp mi mc ml (ml: the locally administered MAC 02:fc:00:00:00:01).',
    input: { salt: SALT, facts: facts() },
  },
  {
    name: 'several-macs',
    note: 'Two vendor-assigned MACs (mc) and two software-assigned ones (ml: locally administered, and a VMware OUI), each sorted by hash.',
    input: {
      salt: SALT,
      facts: facts({
        smbios: null,
        smbiosSource: 'none',
        adapters: [
          { name: 'eth0', mac: '8c:16:45:aa:bb:cc', origin: 'current' },
          { name: 'eth1', mac: 'a4:34:d9:11:22:33', origin: 'permanent' },
          { name: 'eth2', mac: '02:42:ac:11:00:02', origin: 'current' },
          { name: 'eth3', mac: '00:50:56:01:02:03', origin: 'current' },
        ],
      }),
    },
  },
  {
    name: 'fallback-vendor-salt',
    note: "No SMBIOS (the JavaScript fallback): cp and mi only, under the vendor key's default salt (saltForVendor).",
    input: { salt: saltForVendor(vendor.publicKeyPem), facts: facts({ source: 'fallback', smbios: null, smbiosSource: 'none', adapters: [] }) },
  },
  {
    name: 'supplied-machine-id',
    note: 'An operator-supplied machine id: a single mi component.',
    input: { salt: SALT, suppliedMachineId: 'fleet-node-0042' },
  },
];

// ---- The catalogue -----------------------------------------------------------------------------

async function build(): Promise<FormatVectors> {
  const fingerprints: FormatVectors['fingerprints'] = fingerprintInputs.map(({ name, note, input }) => {
    const text = encode.fingerprint(input);
    return { name, note, input, text, expected: { components: Fingerprint.parse(text).components.map((c) => ({ kind: c.kind, value: c.value })) } };
  });
  const fpText = (name: string) => fingerprints.find((f) => f.name === name)!.text;

  const licenseInputs: { name: string; note: string; input: Record<string, unknown> }[] = [
    {
      name: 'minimal',
      note: 'Only a license id and an issue time: every default (perpetual, no grace, 14-day leases, no features, seats, fingerprint or meta).',
      input: { licenseId: 'LIC-MINIMAL', issuedAt: '2026-01-15T10:00:00.000Z' },
    },
    {
      name: 'full',
      note: 'Every claim set, none at its default: dates, grace and lease days, edition, features and maintenance features, seats, limits, credits and carried credits, a node-lock fingerprint, smid, uauth and meta.',
      input: {
        licenseId: 'LIC-FULL-0001',
        customer: 'ACME Corp',
        issuer: 'Example Software Ltd',
        issuedAt: '2026-01-15T10:00:00.000Z',
        notBefore: '2026-02-01T00:00:00.000Z',
        expiresAt: '2027-01-31T23:59:59.000Z',
        maintenanceExpiresAt: '2026-12-31T23:59:59.000Z',
        graceDays: 7,
        leaseDays: 30,
        edition: 'professional',
        features: ['export', 'reports', 'sso'],
        maintenanceFeatures: ['sso'],
        seats: { basic: 10, advanced: 2 },
        maxUsers: 25,
        maxActivations: 50,
        maxUserActivations: 3,
        maxTransfers: 5,
        credits: 10000,
        carriedCredits: 1250,
        fingerprint: fpText('every-kind'),
        allowSuppliedMachineId: true,
        userAuth: 'password-or-id-token',
        meta: { order: 'PO-7731', region: 'eu-west' },
      },
    },
    {
      name: 'sign-in-seats',
      note: 'A perpetual seat license whose users sign in with a password (uauth "password").',
      input: { licenseId: 'LIC-SEATS-0002', customer: 'Globex', issuedAt: '2026-03-01T08:30:00.000Z', edition: 'team', features: ['collab'], seats: { editor: 5 }, maxUsers: 5, userAuth: 'password' },
    },
    {
      name: 'fleet-id-token',
      note: 'Containers and fleets: operator-supplied machine ids allowed (smid), users prove themselves with an ID token (uauth "id-token"), click-charge credits.',
      input: { licenseId: 'LIC-FLEET-0003', issuedAt: '2026-03-01T08:30:00.000Z', expiresAt: '2026-12-31T00:00:00.000Z', credits: 500, allowSuppliedMachineId: true, userAuth: 'id-token' },
    },
    {
      name: 'far-expiry-unicode',
      note: 'Expiry 9999-12-31T23:59:59Z (beyond 2^32 seconds: an 8-byte CBOR integer) and non-ASCII text in sub, iss and meta.',
      input: { licenseId: 'LIC-ÜBER-0004', customer: 'Müller & Søn GmbH', issuer: 'Ēxample 株式会社', issuedAt: '2026-01-15T10:00:00.000Z', expiresAt: '9999-12-31T23:59:59.000Z', meta: { note: 'naïve café ✓' } },
    },
  ];
  const verifyAt = new Date(VERIFY_AT);
  const licenses: FormatVectors['licenses'] = [];
  for (const { name, note, input } of licenseInputs) {
    const text = await encode.license(input);
    const lic = await verifyLicense(text, { publicKeys: vendor.publicKeyPem, now: verifyAt, machine: () => undefined });
    licenses.push({ name, note, input, text, claimKeys: claimKeys(text, 'license'), expected: { kid: lic.kid, status: lic.report.status, claims: jsonOf(claimsToJSON(lic.claims)) as Record<string, unknown> } });
  }
  const licenseText = (name: string) => licenses.find((l) => l.name === name)!.text;

  const topupInputs = [
    { name: 'small', note: 'A top-up of 250 credits.', input: { licenseId: 'LIC-FULL-0001', credits: 250, tokenId: 'TOP-0001', issuedAt: '2026-04-01T12:00:00.000Z' } },
    { name: 'largest', note: 'The largest top-up (4294967295 credits: a 4-byte CBOR integer).', input: { licenseId: 'LIC-FULL-0001', credits: 4294967295, tokenId: 'TOP-0002', issuedAt: '2026-04-02T12:00:00.000Z' } },
  ];
  const topups: FormatVectors['topups'] = [];
  for (const { name, note, input } of topupInputs) {
    const text = await encode.topup(input);
    topups.push({ name, note, input, text, claimKeys: claimKeys(text, 'topup'), expected: jsonOf(await verifyTopUp(text, { publicKeys: vendor.publicKeyPem })) as Record<string, unknown> });
  }

  const base = { licenseId: 'LIC-FULL-0001', fingerprint: fpText('every-kind'), clientTime: '2026-05-01T09:00:00.000Z' };
  const requestInputs: { name: string; note: string; input: Record<string, unknown> }[] = [
    {
      name: 'activate',
      note: 'Activation carrying the license key, app name and version and the user.',
      input: { ...base, operation: 'activate', licenseKey: licenseText('full'), appName: 'Example App', appVersion: '3.2.1', user: 'alice@example.com', nonce: '000102030405060708090a0b0c0d0e0f' },
    },
    {
      name: 'activate-supplied-id',
      note: 'Activation from a container with an operator-supplied machine id (fps "operator", ctr true).',
      input: { ...base, operation: 'activate', licenseId: 'LIC-FLEET-0003', licenseKey: licenseText('fleet-id-token'), fingerprint: fpText('supplied-machine-id'), fingerprintSource: 'operator', container: true, nonce: '101112131415161718191a1b1c1d1e1f' },
    },
    { name: 'renew', note: 'Renewal: the minimum a request carries.', input: { ...base, operation: 'renew', nonce: '202122232425262728292a2b2c2d2e2f' } },
    { name: 'deactivate', note: 'Deactivation of one user.', input: { ...base, operation: 'deactivate', user: 'alice@example.com', nonce: '303132333435363738393a3b3c3d3e3f' } },
    {
      name: 'usage',
      note: 'A usage report: used (consumed), spent with the ledger id (lgr) and seats in use.',
      input: { ...base, operation: 'usage', consumed: 1375, spent: 125, ledgerId: '00112233445566778899aabbccddeeff', seats: { basic: 7, advanced: 1 }, nonce: '404142434445464748494a4b4c4d4e4f' },
    },
    { name: 'topup', note: 'A top-up request (tuc, tuk).', input: { ...base, operation: 'topup', topUp: { credits: 1000, idempotencyKey: 'order-7731-topup-1' }, nonce: '505152535455565758595a5b5c5d5e5f' } },
  ];
  const requests: FormatVectors['requests'] = [];
  for (const { name, note, input } of requestInputs) {
    const text = await encode.request(input);
    requests.push({ name, note, input, text, claimKeys: claimKeys(text, 'request'), expected: jsonOf(await openRequest(text)) as Record<string, unknown> });
  }

  const leaseBase = { licenseId: 'LIC-FULL-0001', fingerprint: fpText('every-kind'), installationKey: Buffer.from(installation.publicKey).toString('hex'), deviceId: 'DEV-0001' };
  const leaseInputs: { name: string; note: string; input: Record<string, unknown> }[] = [
    {
      name: 'minimal',
      note: 'A 14-day lease answering the renew request, floor 0.',
      input: { ...leaseBase, nonce: '202122232425262728292a2b2c2d2e2f', serverTime: '2026-05-01T09:00:05.000Z', verifiedUntil: '2026-05-15T09:00:05.000Z', floor: 0 },
    },
    {
      name: 'full',
      note: 'A 30-day lease answering the activate request: user, credit floor, seats, both top-up tokens and a re-issued license key (the "full" license vector).',
      input: {
        ...leaseBase,
        nonce: '000102030405060708090a0b0c0d0e0f',
        serverTime: '2026-05-01T09:00:05.000Z',
        verifiedUntil: '2026-05-31T09:00:05.000Z',
        user: 'alice@example.com',
        floor: 1375,
        seats: { basic: 12, advanced: 2 },
        topUps: topups.map((t) => t.text),
        licenseKey: licenseText('full'),
      },
    },
  ];
  const leases: FormatVectors['leases'] = [];
  for (const { name, note, input } of leaseInputs) {
    const text = await encode.lease(input);
    const { text: leaseText, ...rest } = await openLease(text, vendor.publicKeyPem);
    if (leaseText !== text) throw new Error(`lease ${name}: openLease gave back another text`);
    leases.push({ name, note, input, text, claimKeys: claimKeys(text, 'lease'), expected: jsonOf(rest) as Record<string, unknown> });
  }

  return {
    about: 'Golden vectors of licit\'s own text formats, made by scripts/make-vectors.ts and checked by test/05b. Do not edit by hand; see test/vectors/README.md.',
    vendorKey: { seed: VENDOR_SEED, publicKey: Buffer.from(vendor.publicKey).toString('hex'), publicKeyPem: vendor.publicKeyPem, kid: vendor.kid },
    installationKey: { seed: INSTALLATION_SEED, publicKey: Buffer.from(installation.publicKey).toString('hex'), kid: installation.kid },
    verifyAt: VERIFY_AT,
    licenses,
    requests,
    leases,
    topups,
    fingerprints,
  };
}

const text = serialise(await build());
const path = fileURLToPath(VECTORS_URL);
if (process.argv.includes('--check')) {
  let old = '';
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    // missing: differs
  }
  if (old !== text) {
    console.error(`${path}: regeneration differs from the stored file`);
    process.exit(1);
  }
  console.log(`${path}: regeneration reproduces the stored file byte for byte`);
} else {
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
