/**
 * Trials: a time-limited license handed out on request, once per machine and product. The
 * installation sends a request code naming `trial:<product>` (no license key: it has none yet),
 * signed with its own key; the server checks the machine has not had that product's trial
 * (fingerprints matched with the same tolerance as activations), signs a node-locked license for
 * it and registers it. The application then activates that key as any other; when the customer
 * buys, it opens the paid key in the same state directory, so the installation stays the same.
 */
import { auditEvent } from '../core/store/audit-event.js';
import { LicenseError } from '../core/errors.js';
import type { ExchangeRequest } from '../core/exchange/request.js';
import { match } from '../core/fingerprint/match.js';
import { fingerprintStrength } from '../core/fingerprint/strength.js';
import { issueLicense, signedLicense } from '../issuer/issue.js';
import { randomBytes } from 'node:crypto';
import { registerLicense } from './license-registry.js';
import type { Vendor } from './vendor.js';

/** What a trial of one product grants. */
export interface TrialPolicy {
  /** Days the trial license runs (1 to 365). */
  readonly days: number;
  /** Features it grants. */
  readonly features?: readonly string[] | undefined;
  /** Named seats per user type. */
  readonly seats?: Readonly<Record<string, number>> | undefined;
  /** Edition name, e.g. `trial`. Default `trial`. */
  readonly edition?: string | undefined;
  /** Credits it carries. */
  readonly credits?: number | undefined;
  /** Days of lease (how often the trial installation must check in). Default the trial length. */
  readonly leaseDays?: number | undefined;
}

/** The store "license" that keeps which machines had a product's trial. */
const trialsOf = (product: string) => `trial:${product}`;
const KIND = 'trial';

/**
 * Answer a trial request: `ERR_TRIAL_UNAVAILABLE` for a product without a trial policy,
 * `ERR_FINGERPRINT_WEAK` for a machine whose identity others share (a second VM of the same kind
 * could take the trial again), `ERR_TRIAL_USED` for a machine that had it; else the new trial key.
 */
export async function startTrial(vendor: Vendor, policies: Readonly<Record<string, TrialPolicy>>, req: ExchangeRequest): Promise<{ licenseKey: string; licenseId: string; expiresAt: string; product: string }> {
  if (req.operation !== 'activate' || !req.licenseId.startsWith('trial:')) {
    throw new LicenseError('ERR_USAGE', 'a trial request is an activation request for the license id trial:<product> (Licensing.startTrial makes one)');
  }
  const product = req.licenseId.slice('trial:'.length);
  const policy = Object.hasOwn(policies, product) ? policies[product] : undefined;
  if (policy === undefined) throw new LicenseError('ERR_TRIAL_UNAVAILABLE', `there is no trial of "${product}" on this server; ask the vendor which products have one`, { product });
  // A supplied machine id (containers) names whatever the operator says: one per trial would be free.
  const suppliedId = req.fingerprintSource === 'operator' && /^fp1:mi=[^,]*$/.test(req.fingerprint);
  if (suppliedId || fingerprintStrength(req.fingerprint).level === 'weak') {
    throw new LicenseError('ERR_FINGERPRINT_WEAK', 'a trial is given once per machine, and this machine\'s identity is shared by others of its kind (or was supplied, not read); ask the vendor for a trial license instead', { product });
  }
  const now = vendor.now();
  const strategy = vendor.fingerprintStrategy;
  const licenseId = `TRIAL-${product.replace(/[^A-Za-z0-9]/g, '').slice(0, 16).toUpperCase()}-${randomBytes(5).toString('hex').toUpperCase()}`;
  // One transaction per product: two requests from one machine at once cannot both get a trial.
  await vendor.store.transaction(trialsOf(product), async (tx) => {
    for (const e of await tx.list(KIND)) {
      const fp = e.value.fingerprint;
      if (typeof fp === 'string' && match(fp, req.fingerprint, strategy).ok) {
        throw new LicenseError('ERR_TRIAL_USED', `this machine already had the trial of "${product}" (license ${String(e.value.licenseId)}, started ${String(e.value.at)}); buy a license to go on`, { product, licenseId: e.value.licenseId as string });
      }
    }
    tx.put(KIND, licenseId, { fingerprint: req.fingerprint, licenseId, installationId: req.installationId, at: new Date(now).toISOString() });
    tx.append(auditEvent(now, 'system', 'trial.started', { product, licenseId, installationId: req.installationId }));
  });
  const days = Math.min(365, Math.max(1, Math.floor(policy.days)));
  const key = await issueLicense(
    {
      licenseId,
      customer: `trial of ${product}`,
      edition: policy.edition ?? 'trial',
      features: [...(policy.features ?? [])],
      seats: { ...(policy.seats ?? {}) },
      ...(policy.credits === undefined ? {} : { credits: policy.credits }),
      expiresAt: new Date(now + days * 86_400_000),
      graceDays: 0,
      leaseDays: policy.leaseDays ?? days,
      maxActivations: 1,
      fingerprint: req.fingerprint,
      meta: { trial: product },
    },
    { signingKey: vendor.signer, now: () => now },
  );
  await registerLicense(vendor, signedLicense(key), 'system');
  return { licenseKey: key, licenseId, expiresAt: new Date(now + days * 86_400_000).toISOString(), product };
}
