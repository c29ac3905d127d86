/**
 * Trials: a time-limited, node-locked license handed out once per machine and product; the same
 * machine asking again is refused (also through a fresh state directory: the machine, not the
 * installation, is what counts), another machine gets its own, a product without a trial and a
 * supplied machine id are refused, and buying converts without losing the installation.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectLicense } from '../src/core/license/inspect.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { hashComponent } from '../src/node/fingerprint/index.js';
import { Licensing } from '../src/node/licensing/licensing.js';
import { requestTrial } from '../src/node/licensing/trial.js';
import { createLicenseServer } from '../src/server/index.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();
const SECRET = 'trial-app-secret';
const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: 't', trials: { 'acme-cad': { days: 30, features: ['export'], seats: { basic: 1 } } } });
const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => server.handle(new Request(url as string, init))) as typeof fetch;
/** A strong machine identity: system UUID and machine id, as a hardware read would give. */
const machine = (n: number) => `fp1:su=${hashComponent('com.example.cad', 'system-uuid', `uuid-${n}`)},mi=${hashComponent('com.example.cad', 'machine-id', `machine-${n}`)}`;
const dir = () => mkdtempSync(join(tmpdir(), 'licit-86-'));
const base = (fingerprint: string, d = dir()) => ({ product: 'acme-cad', server: 'http://licenses.test', publicKeys: vendor.publicKeyPem, secret: SECRET, dir: d, fingerprint, fetch: fetchFn, salt: 'com.example.cad' });

describe('trials', () => {
  it('once per machine and product; activates like any key; a paid key converts in the same directory', async (ctx) => {
    // This machine, read from its hardware as an application reads it.
    const { getFingerprint, fingerprintStrength } = await import('../src/node/index.js');
    const here = await getFingerprint({ salt: 'com.example.cad' });
    if (fingerprintStrength(here).level === 'weak') return ctx.skip('this machine has no strong identity (no SMBIOS serials, no machine id): trials refuse it');
    const d = dir();
    const opts = { server: 'http://licenses.test', publicKeys: vendor.publicKeyPem, secret: SECRET, dir: d, fetch: fetchFn, salt: 'com.example.cad' };
    const key = await requestTrial({ ...opts, product: 'acme-cad' });
    const claims = inspectLicense(key).claims;
    expect(claims).toMatchObject({ edition: 'trial', features: ['export'], maxActivations: 1, fingerprint: here.toString(), graceDays: 0 });
    expect(claims.expiresAt!.getTime() - claims.issuedAt.getTime()).toBe(30 * 86_400_000);
    const l = await Licensing.open({ ...opts, license: key, autoRenew: false });
    await l.activate();
    expect(l.status).toBe('verified');
    expect(l.has('export')).toBe(true);
    const installationId = l.installation.id;
    l.close();
    // The same machine again, even from a fresh directory (a reinstall): refused.
    await expect(requestTrial({ ...opts, dir: dir(), product: 'acme-cad' })).rejects.toMatchObject({ code: 'ERR_TRIAL_USED' });
    // Another machine (its fingerprint as its hardware would give it) gets its own.
    await expect(requestTrial(base(machine(2)))).resolves.toMatch(/^LICIT1-/);
    await expect(requestTrial(base(machine(2)))).rejects.toMatchObject({ code: 'ERR_TRIAL_USED' });
    // Buying: the paid key in the same directory keeps the installation.
    const paid = await vendor.issue({ licenseId: 'LIC-PAID', features: ['export', 'print'] });
    const p = await Licensing.open({ ...opts, license: paid, autoRenew: false });
    await p.activate();
    expect(p.installation.id).toBe(installationId);
    expect(p.has('print')).toBe(true);
    p.close();
  });

  it('refuses a product without a trial, and an identity others could share', async () => {
    await expect(requestTrial({ ...base(machine(3)), product: 'nope' })).rejects.toMatchObject({ code: 'ERR_TRIAL_UNAVAILABLE' });
    const { fingerprint: _f, ...noFp } = base(machine(4));
    await expect(requestTrial({ ...noFp, machineId: 'container-7' })).rejects.toMatchObject({ code: 'ERR_FINGERPRINT_WEAK' });
  });
});
