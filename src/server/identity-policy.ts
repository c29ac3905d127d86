/**
 * Which machines the vendor answers: the request's window in time, containers, supplied machine
 * ids, weak hardware identities, and a renewing machine that must still be the one activated.
 * Each check throws the refusal the installation sees; none touches the store.
 */
import { LicenseError } from '../core/errors.js';
import type { ExchangeRequest } from '../core/exchange/request.js';
import { explain, match, type MatchStrategy } from '../core/fingerprint/match.js';
import { fingerprintStrength } from '../core/fingerprint/strength.js';
import type { License } from '../core/license/license.js';
import type { Activation } from '../core/seats/index.js';
import type { ContainerPolicy } from './vendor-types.js';

const DAY = 86_400_000;

/** How old and how far ahead a request may be dated. */
export interface RequestWindow {
  /** Older than this is stale (offline codes travel slowly). */
  readonly maxAgeMs: number;
  /** Further ahead of the server's clock than this is refused. */
  readonly maxSkewMs: number;
}

/** The window of `VendorOptions`: 30 days back (offline codes travel slowly), 10 minutes ahead. */
export function requestWindow(o: { readonly requestMaxAgeMs?: number | undefined; readonly requestMaxSkewMs?: number | undefined }): RequestWindow {
  return { maxAgeMs: o.requestMaxAgeMs ?? 30 * DAY, maxSkewMs: o.requestMaxSkewMs ?? 10 * 60_000 };
}

/** A request is accepted only inside its window: not older than `maxAgeMs`, not dated beyond `maxSkewMs` ahead. */
export function checkFresh(req: ExchangeRequest, now: number, window: RequestWindow): void {
  const t = req.clientTime.getTime();
  if (now - t > window.maxAgeMs) {
    throw new LicenseError('ERR_EXCHANGE_STALE', `this request was made on ${req.clientTime.toISOString()}, too long ago; make a new request`, { clientTime: req.clientTime.toISOString() });
  }
  if (t - now > window.maxSkewMs) {
    throw new LicenseError('ERR_EXCHANGE_FUTURE', `this request is dated ${req.clientTime.toISOString()}, ahead of the server's clock (${new Date(now).toISOString()}); set the requesting machine's clock correctly and make a new request`, { clientTime: req.clientTime.toISOString() });
  }
}

/** Activations from a container, as the vendor's `containerPolicy` says (default `"allow"`). */
export function checkContainer(policy: ContainerPolicy, req: ExchangeRequest): void {
  if (!req.container || policy === 'allow') return;
  if (policy === 'machine-id' && req.fingerprintSource === 'operator') return;
  throw new LicenseError(
    'ERR_FINGERPRINT_MISMATCH',
    policy === 'refuse'
      ? 'this vendor does not allow activation inside a container; run the application on a host or a virtual machine'
      : 'inside a container the hardware identity changes on every restart: supply a stable machine id (the machineId option of the application, or LICIT_MACHINE_ID where the application sets machineIdFromEnv) on a license that allows supplied ids, and activate again',
    { reason: 'container', policy },
  );
}

/** Supplied machine ids only where the license allows them; weak hardware identities as the vendor's policy says. */
export function checkIdentity(weakIdentity: 'allow' | 'refuse', license: License, req: ExchangeRequest): void {
  if (req.fingerprintSource === 'operator' && !license.allowSuppliedMachineId) {
    throw new LicenseError(
      'ERR_MACHINE_ID_NOT_ALLOWED',
      `license ${license.id} does not allow a supplied machine id: activate with the machine's hardware fingerprint, or ask the vendor for a license that allows supplied ids (licit issue --allow-machine-id)`,
      { licenseId: license.id },
    );
  }
  if (req.fingerprintSource === 'hardware' && weakIdentity === 'refuse' && !isStrong(req.fingerprint)) {
    throw new LicenseError(
      'ERR_FINGERPRINT_WEAK',
      'this machine has no identity of its own (no SMBIOS serials, only parts other machines share, such as a hypervisor-default network address); this vendor does not activate such machines by hardware. Ask the vendor for a license that allows a supplied machine id.',
      { licenseId: license.id },
    );
  }
}

/** Renewal of an existing activation: the machine must still match the fingerprint it activated with. */
export function checkSameMachine(strategy: MatchStrategy | undefined, a: Activation, req: ExchangeRequest): void {
  const stored = a.info.fingerprint;
  if (typeof stored !== 'string' || stored === req.fingerprint) return;
  if (match(stored, req.fingerprint, strategy).ok) return;
  const why = explain(stored, req.fingerprint, strategy);
  throw new LicenseError('ERR_FINGERPRINT_MISMATCH', `this machine no longer matches the one activated: ${why.changed.join(', ')} changed. Ask the license administrator to reset this device, then activate again.\n${why.text}`, {
    licenseId: req.licenseId,
    deviceId: a.deviceId,
    changed: why.changed,
    score: why.score,
  });
}

/** A fingerprint that identifies one machine (not only parts many machines share); a malformed one does not. */
export function isStrong(fingerprint: string): boolean {
  try {
    return fingerprintStrength(fingerprint).level === 'strong';
  } catch {
    return false;
  }
}
