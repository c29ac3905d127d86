// `npm run demo`: the main job, start to finish, on an embedded default.
// A vendor makes a key pair and issues a license; an application verifies it and gates features.
// Uses only the public API, exactly as an application and a vendor would import it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LicenseError, verifyLicense } from 'licit';
import { fileClockGuard } from 'licit/node';
import { issueLicense, writeKeyPair } from 'licit/issuer';

const step = (n, title) => console.log(`\n${n}. ${title}`);
const show = (label, value) => console.log(`   ${label.padEnd(22)} ${value}`);
const work = mkdtempSync(join(tmpdir(), 'licit-demo-'));

console.log('licit demo: vendor-signed license keys, verified offline, gating features');

step(1, 'The vendor makes an Ed25519 key pair (once, kept secret)');
const files = await writeKeyPair(join(work, 'vendor'));
show('private key', `${files.privateKeyPath} (mode 0600)`);
show('public key', `${files.publicKeyPath} (shipped inside the app)`);
show('key id (kid)', files.kid);

step(2, 'The vendor issues a license for a customer');
const signingKey = readFileSync(files.privateKeyPath, 'utf8');
const key = await issueLicense(
  {
    licenseId: 'LIC-2027-0042',
    customer: 'ACME Manufacturing GmbH',
    edition: 'professional',
    features: ['timesheets', 'reports', 'desktop-app'],
    maintenanceFeatures: ['desktop-app'],
    seats: { basic: 25, advanced: 5 },
    maxActivations: 3,
    expiresAt: new Date('2027-12-31T23:59:59Z'),
    maintenanceExpiresAt: new Date('2027-06-30T23:59:59Z'),
    graceDays: 14,
    credits: 10000,
  },
  { signingKey },
);
show('license key', `${key.slice(0, 60)}… (${key.length} characters)`);

step(3, 'The customer pastes it; an e-mail client wrapped it in lines. The app verifies it offline');
const publicKeys = [readFileSync(files.publicKeyPath, 'utf8')];
const pasted = key.replace(/(.{64})/g, '$1\n');
const clockGuard = fileClockGuard(join(work, 'app-state', 'clock'), { secret: 'demo-application-secret' });
const now = new Date('2027-03-01T09:00:00Z');
const license = await verifyLicense(pasted, { publicKeys, now, clockGuard });
show('status', `${license.status} (${license.report.daysLeft} days left)`);
show('customer', license.customer);
show('edition', license.edition);
show('seats', Object.entries(license.seats).map(([t, n]) => `${t}=${n}`).join(', '));
show('credits', license.credits);

step(4, 'The app gates features with O(1) checks');
for (const f of ['timesheets', 'reports', 'payroll']) show(`has('${f}')`, license.has(f));
try {
  license.require('payroll');
} catch (e) {
  show('require(payroll)', `${e.code}: ${e.message}`);
}

step(5, 'Maintenance ends before the license does');
const later = await verifyLicense(key, { publicKeys, now: new Date('2027-08-01T09:00:00Z'), clockGuard });
show('status', later.status);
show("has('desktop-app')", `${later.has('desktop-app')} (maintenance-gated feature, maintenance ended)`);
try {
  await verifyLicense(key, { publicKeys, now: new Date('2027-08-01T09:00:00Z'), releaseDate: new Date('2027-07-15') });
} catch (e) {
  show('release of 2027-07-15', e.code);
}

step(6, 'After expiry: grace period, then refusal');
const grace = await verifyLicense(key, { publicKeys, now: new Date('2028-01-05T09:00:00Z'), clockGuard });
show('2028-01-05', `${grace.status}: ${grace.report.warning}`);
for (const [label, at] of [['2028-02-01', new Date('2028-02-01T09:00:00Z')]]) {
  try {
    await verifyLicense(key, { publicKeys, now: at, clockGuard });
  } catch (e) {
    show(label, `${e.code}`);
  }
}

step(7, 'Setting the clock back does not bring it back');
try {
  await verifyLicense(key, { publicKeys, now: new Date('2027-05-01T09:00:00Z'), clockGuard });
} catch (e) {
  show('clock set to 2027-05-01', e instanceof LicenseError ? e.code : String(e));
}

step(8, 'Altered and forged keys fail');
const flipped = key.slice(0, 100) + (key[100] === 'A' ? 'B' : 'A') + key.slice(101);
for (const [label, text] of [['one character changed', flipped], ['truncated', key.slice(0, -10)], ['not a key', 'hello']]) {
  try {
    await verifyLicense(text, { publicKeys, now });
    show(label, 'ACCEPTED (this must never happen)');
    process.exitCode = 1;
  } catch (e) {
    show(label, e.code);
  }
}

const keyFile = join(work, 'license.key');
writeFileSync(keyFile, `${pasted}\n`);
console.log(`\nDone. Files are in ${work}. Try the CLI on them:\n  npx licit verify --public-key ${files.publicKeyPath} --now 2027-03-01 - < ${keyFile}\n  npx licit inspect - < ${keyFile}`);
