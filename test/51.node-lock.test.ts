/** Node-locked licenses: verify only on the machine whose fingerprint they carry. */
import { describe, expect, it } from 'vitest';
import { verifyLicense } from '../src/index.node.js';
import { getFingerprint } from '../src/node/fingerprint/index.js';
import { machineCheck } from '../src/node/licensing/machine-check.js';
import { licit } from './helpers/cli.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();
const SALT = 'node-lock-test';

/** This machine's fingerprint string with the values of some component kinds replaced. */
async function alter(kinds: string[]): Promise<string> {
  const fp = (await getFingerprint({ salt: SALT })).toString();
  return fp.replace(/([a-z]{2})=([A-Za-z0-9_-]+)/g, (all, code: string) => (kinds.includes(code) ? `${code}=AAAAAAAAAAAAAAAA` : all));
}

describe('node-locked licenses', async () => {
  const here = (await getFingerprint({ salt: SALT })).toString();

  it('verify on the machine they were bound to', async () => {
    const key = await vendor.issue({ fingerprint: here });
    const l = await verifyLicense(key, { publicKeys: vendor.publicKeyPem, machine: machineCheck({ salt: SALT }) });
    expect(l.fingerprint).toBe(here);
  });

  it('are refused elsewhere with ERR_FINGERPRINT_MISMATCH and say what changed', async () => {
    const key = await vendor.issue({ fingerprint: await alter(['cp', 'mi', 'mc']) });
    const err = await verifyLicense(key, { publicKeys: vendor.publicKeyPem, machine: machineCheck({ salt: SALT }) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_FINGERPRINT_MISMATCH' });
    expect((err as Error).message).toMatch(/CHANGED/);
    expect((err as { details: { changed: string[] } }).details.changed).toEqual(expect.arrayContaining(['cpu', 'machine-id']));
  });

  it('are refused without a machine check rather than silently accepted', async () => {
    const key = await vendor.issue({ fingerprint: here });
    await expect(verifyLicense(key, { publicKeys: vendor.publicKeyPem })).rejects.toMatchObject({ code: 'ERR_FINGERPRINT_MISMATCH' });
  });

  it('survive a new network card (one component of several changed)', async () => {
    const key = await vendor.issue({ fingerprint: await alter(['mc', 'ml']) });
    expect((await verifyLicense(key, { publicKeys: vendor.publicKeyPem, machine: machineCheck({ salt: SALT }) })).status).toBe('valid');
  });

  it('work through the CLI: licit verify --salt', async () => {
    const ok = await vendor.issue({ fingerprint: here });
    const r = licit(['verify', '--public-key', vendor.pubPath, '--salt', SALT, ok, '--json']);
    expect(r.code, r.stdout).toBe(0);
    const bad = await vendor.issue({ fingerprint: await alter(['cp', 'mi', 'mc']) });
    const refused = licit(['verify', '--public-key', vendor.pubPath, '--salt', SALT, bad, '--json']);
    expect(refused.code).toBe(1);
    expect(refused.json().error?.code).toBe('ERR_FINGERPRINT_MISMATCH');
  });

  it('are refused when every strong component differs, however many weak ones (CPU, board model, software-assigned MACs) still match', async (ctx) => {
    if (!/\b(su|ss|bs|cs|mi|mc)=/.test(here)) ctx.skip('this machine has no strong component to alter');
    const key = await vendor.issue({ fingerprint: await alter(['su', 'ss', 'bs', 'cs', 'mi', 'mc']) });
    await expect(verifyLicense(key, { publicKeys: vendor.publicKeyPem, machine: machineCheck({ salt: SALT }) })).rejects.toMatchObject({ code: 'ERR_FINGERPRINT_MISMATCH' });
  });

  it('machineCheck takes the salt as { salt } or as the vendor { publicKey }, and has no default', async () => {
    const { saltForVendor } = await import('../src/node/fingerprint/salt.js');
    const viaKey = (await getFingerprint({ salt: saltForVendor(vendor.publicKeyPem) })).toString();
    const key = await vendor.issue({ fingerprint: viaKey });
    expect((await verifyLicense(key, { publicKeys: vendor.publicKeyPem, machine: machineCheck({ publicKey: vendor.publicKeyPem }) })).status).toBe('valid');
    await expect(verifyLicense(key, { publicKeys: vendor.publicKeyPem, machine: machineCheck({ salt: SALT }) })).rejects.toMatchObject({ code: 'ERR_FINGERPRINT_MISMATCH' });
    expect(() => machineCheck({})).toThrow(expect.objectContaining({ code: 'ERR_USAGE', message: expect.stringContaining('publicKey') }));
    expect(() => machineCheck(undefined as unknown as {})).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
    // The CLI derives it from the first --public-key when --salt is absent.
    const r = licit(['verify', '--public-key', vendor.pubPath, key, '--json']);
    expect(r.code, r.stdout).toBe(0);
  });

  it('a license bound to a supplied machine id verifies with machineCheck({ machineId }) and only with that id', async () => {
    const bound = await getFingerprint({ salt: SALT, machineId: 'pod-7' });
    const key = await vendor.issue({ licenseId: 'NL-ID', fingerprint: bound.toString() });
    const check = (machineId?: string) => verifyLicense(key, { publicKeys: vendor.publicKeyPem, machine: machineCheck({ salt: SALT, machineId }) });
    expect((await check('pod-7')).status).toBe('valid');
    await expect(check('pod-8')).rejects.toMatchObject({ code: 'ERR_FINGERPRINT_MISMATCH' });
    await expect(check()).rejects.toMatchObject({ code: 'ERR_FINGERPRINT_MISMATCH' });
  });
});
