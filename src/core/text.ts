/** Text rules shared by claims, exchange fields, ids and flags. */

/** True when `v` is a string of 1 to `max` UTF-16 units with no control characters (C0 or DEL). */
export function isPrintableText(v: unknown, max: number): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}
