/** Every CLI writer chains the audit log, so the log stays verifiable whoever wrote last. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readVerifiedLog } from '../src/core/admin/index.js';
import { SeatManager } from '../src/core/seats/index.js';
import { FileStore } from '../src/node/store/file-store.js';
import { licit } from './helpers/cli.js';
import { makeVendor } from './helpers/vendor.js';

describe('one audit chain across the CLI and the library', () => {
  it('licit seats, an application on a bare FileStore, and licit log agree', async () => {
    const vendor = makeVendor();
    const key = await vendor.issue({ licenseId: 'L-CHAIN', seats: { basic: 5 } });
    const dir = join(mkdtempSync(join(tmpdir(), 'licit-chain-')), 'store');
    const seats = (...a: string[]) => licit(['seats', '--store', dir, '--license', key, '--public-key', vendor.pubPath, ...a, '--json']);
    expect(seats('assign', 'alice', 'basic').code).toBe(0);
    // The application writes with its own, unwrapped FileStore: licit's counters chain anyway.
    const store = new FileStore(dir);
    await new SeatManager(store, { id: 'L-CHAIN', seats: { basic: 5 } }, { actor: 'app' }).assign('bob', 'basic');
    await store.close();
    expect(seats('release', 'alice').code).toBe(0);
    const log = licit(['log', '--store', dir, '--license-id', 'L-CHAIN', '--json']);
    expect(log.code, log.stdout).toBe(0);
    const verified = await readVerifiedLog(new FileStore(dir), 'L-CHAIN');
    expect(verified.events.map((e) => e.kind)).toEqual(['seat.assigned', 'seat.assigned', 'seat.released']);
  });
});
