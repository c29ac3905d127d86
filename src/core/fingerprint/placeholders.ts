/**
 * Which SMBIOS strings are filler: the one place this is decided, for the addon's parser, its
 * sysfs and IOKit readers and the JavaScript fallback alike. The readers report text as they find
 * it ({@link SmbiosFacts}); {@link classifySmbios} names the placeholders.
 */
import type { SmbiosFacts, SmbiosInfo } from './facts.js';
import { isPlaceholder } from './rules.js';

/** Hex digits of `text` (separators dropped, ASCII letters lower-cased) are all `0` or all `f`. */
function allZeroOrFF(text: string, separator: string, digits: number): boolean {
  const hex = text.split(separator).join('').replace(/[A-Z]/g, (c) => c.toLowerCase());
  return hex === '0'.repeat(digits) || hex === 'f'.repeat(digits);
}

/** A UUID that identifies nothing: filler text, or all-00 / all-FF bytes (`00000000-0000-…`). */
export function isPlaceholderUuid(uuid: string): boolean {
  return isPlaceholder(uuid) || allZeroOrFF(uuid, '-', 32);
}

/** A processor ID (`"D4 06 03 00 FF FB EB BF"`) of all-00 or all-FF bytes: unpopulated sockets, some VMs. */
export function isPlaceholderProcessorId(id: string): boolean {
  return allZeroOrFF(id, ' ', 16);
}

/**
 * The same facts with {@link SmbiosInfo.placeholders}: the dotted path of every present field whose
 * text is filler, in table order (system, baseboard, chassis, then each processor).
 */
export function classifySmbios(s: SmbiosFacts): SmbiosInfo {
  const placeholders: string[] = [];
  const texts = (group: string, o: Readonly<Record<string, unknown>>, keys: readonly string[]) => {
    for (const k of keys) {
      const v = o[k];
      if (typeof v !== 'string') continue;
      const filler = k === 'uuid' ? isPlaceholderUuid(v) : k === 'id' && group.startsWith('processors.') ? isPlaceholderProcessorId(v) : isPlaceholder(v);
      if (filler) placeholders.push(`${group}${k}`);
    }
  };
  texts('system.', s.system, ['manufacturer', 'product', 'version', 'serial', 'uuid']);
  texts('baseboard.', s.baseboard, ['manufacturer', 'product', 'version', 'serial']);
  texts('chassis.', s.chassis, ['manufacturer', 'version', 'serial']);
  s.processors.forEach((p, i) => texts(`processors.${i}.`, p, ['socket', 'manufacturer', 'version', 'id']));
  return { ...s, placeholders };
}
