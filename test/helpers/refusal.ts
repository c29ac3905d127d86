/** What a call that must be refused was refused with: its LicenseError (anything else fails the test). */
import { expect } from 'vitest';
import { LicenseError } from '../../src/core/errors.js';

export async function refusal(p: Promise<unknown>): Promise<LicenseError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LicenseError);
    return e as LicenseError;
  }
  throw new Error('expected a LicenseError, got success');
}
