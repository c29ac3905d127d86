/** Clock guard: remembers the highest time seen (sealed in a real file) and refuses rollback. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileClockGuard, LicenseError, verifyLicense } from '../src/index.node.js';
import { makeVendor } from './helpers/vendor.js';

const dir = () => mkdtempSync(join(tmpdir(), 'licit-clock-'));
const T = (iso: string) => new Date(iso);

describe('ClockGuard', () => {
  it('accepts time moving forward and small steps back within tolerance; trusts the later time', async () => {
    const g = fileClockGuard(join(dir(), 'clock'), { secret: 's', toleranceMs: 60_000 });
    expect(await g.check(T('2026-05-01T10:00:00Z'))).toEqual(T('2026-05-01T10:00:00Z'));
    expect(await g.check(T('2026-05-01T09:59:30Z'))).toEqual(T('2026-05-01T10:00:00Z'));
  });

  it('refuses a clock set back beyond tolerance, also after a restart (state persisted, sealed)', async () => {
    const path = join(dir(), 'clock');
    const g = fileClockGuard(path, { secret: 's', toleranceMs: 60_000 });
    await g.check(T('2026-05-01T10:00:00Z'));
    await expect(g.check(T('2026-04-01T10:00:00Z'))).rejects.toMatchObject({ code: 'ERR_CLOCK_TAMPERED' });
    const restarted = fileClockGuard(path, { secret: 's', toleranceMs: 60_000 });
    await expect(restarted.check(T('2026-04-30T00:00:00Z'))).rejects.toMatchObject({ code: 'ERR_CLOCK_TAMPERED' });
    expect(readFileSync(path).toString('latin1')).not.toContain('2026');
  });

  it('detects an edited state file and a state file from another application', async () => {
    const path = join(dir(), 'clock');
    await fileClockGuard(path, { secret: 's' }).check(T('2026-05-01T10:00:00Z'));
    const bytes = readFileSync(path);
    for (let i = 0; i < bytes.length; i++) {
      const b = Buffer.from(bytes);
      b[i] = (b[i] as number) ^ 1;
      writeFileSync(path, b);
      await expect(fileClockGuard(path, { secret: 's' }).check(T('2026-05-02T00:00:00Z')), `byte ${i}`).rejects.toMatchObject({ code: 'ERR_STATE_TAMPERED' });
    }
    writeFileSync(path, bytes);
    await expect(fileClockGuard(path, { secret: 'other-app' }).check(T('2026-05-02T00:00:00Z'))).rejects.toMatchObject({ code: 'ERR_STATE_TAMPERED' });
    expect(await fileClockGuard(path, { secret: 's' }).highWaterMark()).toBe(T('2026-05-01T10:00:00Z').getTime());
  });

  it('gates verifyLicense: a license checked after a rollback is refused with ERR_CLOCK_TAMPERED', async () => {
    const vendor = makeVendor();
    const key = await vendor.issue({ expiresAt: T('2026-06-01') }, T('2026-01-01'));
    const clockGuard = fileClockGuard(join(dir(), 'clock'), { secret: 's' });
    expect((await verifyLicense(key, { publicKeys: vendor.publicKeyPem, now: T('2026-05-01'), clockGuard })).status).toBe('valid');
    // Expired by the real calendar: setting the clock back to before expiry does not help.
    await expect(verifyLicense(key, { publicKeys: vendor.publicKeyPem, now: T('2026-06-20'), clockGuard })).rejects.toMatchObject({ code: 'ERR_LICENSE_EXPIRED' });
    const err = await verifyLicense(key, { publicKeys: vendor.publicKeyPem, now: T('2026-05-15'), clockGuard }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LicenseError);
    expect((err as LicenseError).code).toBe('ERR_CLOCK_TAMPERED');
    expect((err as LicenseError).message).toMatch(/Set the clock correctly; if it is correct now, renew online or apply a response code from the vendor \(licit request \/ licit apply\)/);
  });

  it('reports an unwritable state directory as ERR_IO, not a crash', async () => {
    // A regular file where the state directory should be: no mkdir can succeed (root ignores modes).
    const notADir = join(dir(), 'file');
    writeFileSync(notADir, 'x');
    const g = fileClockGuard(join(notADir, 'clock'), { secret: 's' });
    await expect(g.check(T('2026-05-01T10:00:00Z'))).rejects.toMatchObject({ code: 'ERR_IO' });
  });
});
