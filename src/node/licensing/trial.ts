/**
 * Asking the vendor's license server for a trial (`requestTrial`): the installation signs a request
 * for `trial:<product>` with its own key and this machine's fingerprint; the server answers with a
 * node-locked, time-limited license key once per machine and product. Activate it with
 * `Licensing.open({ license: key, … })` in the same state directory; the paid key later opens in
 * that directory too, so the installation stays the same.
 */
import { LicenseError } from '../../core/errors.js';
import { createRequest } from '../../core/exchange/request.js';
import { newNonce } from '../../core/exchange/fields.js';
import { verifyLicense } from '../../core/license/verify.js';
import { match } from '../fingerprint/index.js';
import { Installation } from './installation.js';
import { requireSecret } from '../../core/crypto/require-secret.js';
import { resolveMachineIdentity } from './machine-identity.js';
import type { LicensingOptions } from './options.js';
import { checkServer, postToServer } from './server-client.js';

/** Options of {@link requestTrial}: those of `Licensing.open` without a license, plus the product. */
export type TrialRequestOptions = Omit<LicensingOptions, 'license'> & {
  /** The product whose trial to ask for (the name the vendor's server lists in `trials`). */
  readonly product: string;
};

/**
 * Ask the license server for a trial of `product` on this machine; resolves with the trial's
 * license key (verified with `publicKeys`). Rejects `ERR_TRIAL_USED` when this machine had that
 * trial, `ERR_TRIAL_UNAVAILABLE` when the server offers none, `ERR_FINGERPRINT_WEAK` when this
 * machine cannot be told from others of its kind, `ERR_SERVER_UNREACHABLE` offline.
 *
 * @example
 * ```ts
 * const key = await requestTrial({ product: 'acme-cad', server, publicKeys, dir, secret })
 * const licensing = await Licensing.open({ license: key, server, publicKeys, dir, secret })
 * await licensing.activate()
 * ```
 */
export async function requestTrial(options: TrialRequestOptions): Promise<string> {
  if (typeof options?.product !== 'string' || options.product === '') throw new LicenseError('ERR_USAGE', 'requestTrial needs the `product` whose trial to ask for');
  checkServer(options.server);
  const secret = requireSecret(options.secret, 'requestTrial');
  // Licensing's own readers, which take the license-free part of its options.
  const asLicensing = { ...options, license: '' } as LicensingOptions;
  const fp = await resolveMachineIdentity(asLicensing);
  const installation = await Installation.open({ dir: options.dir, secret });
  const code = await createRequest(
    { operation: 'activate', licenseId: `trial:${options.product}`, fingerprint: fp.text, fingerprintSource: fp.source, container: fp.container, appName: options.appName, appVersion: options.appVersion, nonce: newNonce(), clientTime: new Date() },
    installation.signer,
  );
  const body = await postToServer(asLicensing, 'trial', code);
  const key = body.licenseKey;
  if (typeof key !== 'string') throw new LicenseError('ERR_SERVER_UNREACHABLE', 'the license server answered the trial request without a license key');
  // The vendor's signature, and the lock to this very machine, before the application trusts it.
  await verifyLicense(key, {
    publicKeys: options.publicKeys,
    machine: (stored, licenseId) => {
      if (!match(stored, fp.text, options.fingerprintStrategy).ok) throw new LicenseError('ERR_FINGERPRINT_MISMATCH', `the trial license ${licenseId} is bound to another machine`, { licenseId });
    },
  });
  return key;
}
