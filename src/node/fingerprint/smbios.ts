/**
 * Decode an SMBIOS table dump with the addon's parser (a support tool: `licit smbios FILE`).
 * The parser is C++ only (bounds-checked and fuzzed): without the addon there is no fallback.
 */
import { LicenseError } from '../../core/errors.js';
import { requireNative, type SmbiosInfo } from './native.js';
import { classifySmbios } from '../../core/fingerprint/placeholders.js';

const REASONS: Record<string, string> = {
  'no-entry-point': 'it starts with no SMBIOS entry point (_SM3_, _SM_ or _DMI_) and holds no structure table either',
  'bad-entry-point': 'its entry point has a wrong length or checksum',
  'table-out-of-range': 'its entry point names a table outside the file',
  'empty-table': 'no complete SMBIOS structure could be read from it',
};

/**
 * Decode `bytes`: a `dmidecode --dump-bin` file, or a bare table such as Linux
 * `/sys/firmware/dmi/tables/DMI` (version then unknown, `"0.0"`). Values are returned as they
 * stand; {@link SmbiosInfo.placeholders} names the filler ones (the core's rules, as for the
 * fingerprint). Throws `ERR_SMBIOS_MALFORMED`,
 * or `ERR_NATIVE_UNAVAILABLE` without the addon (there is no JavaScript fallback).
 *
 * @example
 * ```ts
 * const info = decodeSmbios(await readFile('dump.bin'));
 * console.log(info.system.uuid);
 * ```
 */
export function decodeSmbios(bytes: Uint8Array): SmbiosInfo {
  const addon = requireNative('Decoding an SMBIOS dump (`licit smbios`, `decodeSmbios`)');
  let r = addon.parseSmbios(bytes, 'dump');
  if (r.status === 'no-entry-point') {
    const bare = addon.parseSmbios(bytes, 'table', 0, 0);
    // Almost any bytes walk as "structures": only accept a bare table that decodes a system or
    // baseboard structure.
    const t = bare.table;
    if (bare.status === 'ok' && t !== undefined && Object.keys(t.system).length + Object.keys(t.baseboard).length > 0) r = bare;
  }
  if (r.status !== 'ok' || r.table === undefined) {
    throw new LicenseError('ERR_SMBIOS_MALFORMED', `this is not a readable SMBIOS dump: ${REASONS[r.status] ?? r.status}. Make one with \`dmidecode --dump-bin FILE\``, { reason: r.status });
  }
  return classifySmbios(r.table);
}
