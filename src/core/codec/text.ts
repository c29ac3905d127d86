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

/**
 * `v` made safe to print on a terminal: control characters (C0, DEL, C1) and the invisible
 * bidirectional controls become `\u{…}` escapes, so stored free text (a consume reason, say)
 * cannot fake extra lines, colours or reorder what is printed around it.
 */
export function printableForTerminal(v: string): string {
  return v.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}
