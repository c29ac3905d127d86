/**
 * The one form of a user id. People type `José` with a composed é or with e and a combining accent,
 * and paste `' ann '` with spaces; each must be one user, holding one seat.
 */
import { checkId } from '../store/store.js';

/**
 * A user id in the form licit stores and compares: Unicode NFC, surrounding whitespace trimmed,
 * then checked as every identifier is (non-empty, at most 256 characters, no control or
 * invisible characters; `ERR_USAGE` otherwise). Used at every entry point that takes a user id
 * (seats, license users, activations), so `'José'` in either form and `' ann '` / `'ann'` are
 * one user each.
 *
 * @example
 * ```ts
 * normalizeUserId(' ann ')          // 'ann'
 * normalizeUserId('Jose\u0301')     // 'José' (U+00E9)
 * ```
 */
export function normalizeUserId(value: unknown, what = 'user id'): string {
  return checkId(typeof value === 'string' ? value.normalize('NFC').trim() : value, what);
}

/** True when `value` is already in the form {@link normalizeUserId} gives (a store written before ids were normalised may hold others). */
export function isNormalUserId(value: string): boolean {
  return value === value.normalize('NFC').trim();
}
