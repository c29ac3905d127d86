/**
 * Canonical JSON: the one byte form of a JSON value that the audit chain hashes. Object keys are
 * sorted by code unit, no whitespace, numbers and strings as `JSON.stringify` writes them. Two
 * stores that hand back the same value (PostgreSQL `jsonb` reorders keys; files keep them) thus
 * give the same bytes.
 */
import type { JsonValue } from '../store/store.js';

/**
 * The canonical JSON text of `value`.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i] as JsonValue);
    return `${out}]`;
  }
  const keys = Object.keys(value);
  // Default sort compares UTF-16 code units, the order wanted; keys are few, so this is cheap.
  keys.sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = value[k];
    // `undefined` members are dropped, as JSON.stringify (and every store) drops them.
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}
