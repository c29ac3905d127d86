/**
 * The verified license an administrator's verb works on (`licit seats`, `licit devices`,
 * `licit users` against a local store). An expired (or not yet valid) key still has a good
 * signature, and its seats and devices still need managing: for the actions that only look or free
 * (never add), it is verified as of its issue time with a warning.
 */
import { LicenseError } from '../cli-internals.js';
import { inspectLicense, verifyLicense, type License } from '../index.node.js';
import type { CliContext } from './context.js';

/** The license of `text`; past its dates only when `afterExpiry` allows `action`. */
export async function licenseFor(text: string, publicKeys: string[], action: string, afterExpiry: ReadonlySet<string>, ctx: CliContext, what = 'seats'): Promise<License> {
  try {
    return await verifyLicense(text, { publicKeys });
  } catch (e) {
    if (!(e instanceof LicenseError) || (e.code !== 'ERR_LICENSE_EXPIRED' && e.code !== 'ERR_LICENSE_NOT_YET_VALID') || !afterExpiry.has(action)) throw e;
    // A moment the key was valid at: its signature and claims are checked as ever, only the date is set aside.
    const c = inspectLicense(text).claims;
    const license = await verifyLicense(text, { publicKeys, now: new Date(Math.max(c.issuedAt.getTime(), c.notBefore?.getTime() ?? 0)) });
    ctx.warn(`warning: ${e.message.replace(/ Ask the vendor.*$/, '')}; managing its ${what} anyway (${action})`);
    return license;
  }
}
