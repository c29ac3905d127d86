/**
 * A license's credits as the server counts them: licensed by its key, added by top-ups, consumed
 * by every ledger it ever had. One reading for `GET /v1/admin/usage` (and the portal's credits
 * page through it) and for the server's credit alerts, so a threshold is crossed at exactly the
 * figure the administrators see.
 */
import type { License } from '../core/license/license.js';
import type { Store } from '../core/store/store.js';
import { licenseTotal } from './consumption.js';
import { KINDS } from './kinds.js';

/** Credits of a license: `licensed` is null when the license sells none. */
export interface CreditFigures {
  readonly licensed: number | null;
  readonly toppedUp: number;
  readonly consumed: number;
}

/** The license's credit figures, read in one snapshot. */
export async function creditFigures(store: Store, license: License): Promise<CreditFigures> {
  return store.read(license.id, async (r) => {
    const topups = await r.list(KINDS.topup);
    const toppedUp = topups.reduce((n, e) => n + (typeof e.value.credits === 'number' ? e.value.credits : 0), 0);
    // Credits carried over from an earlier issue are consumed before the first report says so.
    const consumed = Math.max(await licenseTotal(r), license.carriedCredits);
    return { licensed: license.credits ?? null, toppedUp, consumed };
  });
}

/** What is left and what was granted in all, as an alert observation wants them (undefined: no credits sold). */
export function creditBalance(f: CreditFigures): { remaining: number; allowance: number } | undefined {
  if (f.licensed === null) return undefined;
  const allowance = f.licensed + f.toppedUp;
  return { remaining: Math.max(0, allowance - f.consumed), allowance };
}
