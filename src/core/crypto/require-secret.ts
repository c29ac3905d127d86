/**
 * The application secret that local state is sealed under. There is no default: a default would be
 * the same for every application built on licit, so anyone could unseal and reseal another
 * application's state with it.
 */
import { LicenseError } from '../errors.js';

/**
 * `secret` when it is a non-empty string or byte array; otherwise `ERR_SECRET_REQUIRED` naming
 * `where` (e.g. `"Installation.open"`) and how to pass one.
 *
 * @example
 * ```ts
 * const secret = requireSecret(options.secret, 'Installation.open')
 * ```
 */
export function requireSecret(secret: unknown, where: string): string | Uint8Array {
  if ((typeof secret === 'string' || secret instanceof Uint8Array) && secret.length > 0) return secret;
  throw new LicenseError(
    'ERR_SECRET_REQUIRED',
    `${where} needs your application's own secret to seal its local state: pass it as the \`secret\` option (a string or bytes built into your application; there is no shared default). From the licit CLI, give --secret-file FILE or set LICIT_SECRET.`,
    { where },
  );
}
