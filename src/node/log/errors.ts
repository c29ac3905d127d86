/**
 * The log engine's own signals, which its owners catch by class (they are not `LicenseError`s:
 * damage is `ERR_STORE_CORRUPT`, see `segment.ts`), and the check of a Node error's `code`.
 */

/** The log changed under us in a way only a full reload explains (shrunk, replaced, directory gone). */
export class LogMoved extends Error {
  constructor(why: string) {
    super(why);
  }
}

/** A roll that failed before it changed anything (the snapshot could not be written): not fatal. */
export class RollSkipped extends Error {
  constructor(cause: unknown) {
    super(`snapshot not written: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** Whether `e` is a Node system error with one of these `code`s (`ENOENT`, …). */
export const isCode = (e: unknown, ...codes: string[]) => codes.includes((e as NodeJS.ErrnoException)?.code ?? '');
