/**
 * Idempotency keys on seat and activation operations: a retry after an error or a lost answer acts
 * once. Run on MemoryStore and on a FileStore in a temporary directory (the key survives a reopen).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { Activations, SeatManager } from '../src/core/seats/index.js';
import type { Store } from '../src/core/store/store.js';
import { FileStore } from '../src/node/store/file-store.js';

const work = mkdtempSync(join(tmpdir(), 'licit-idem-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const LICENSE = { id: 'LIC-IDEM', seats: { basic: 1 }, maxActivations: 1, maxTransfers: 1 };
let n = 0;

describe.each<[string, () => { store: Store; reopen: () => Store }]>([
  ['MemoryStore', () => { const s = new MemoryStore(); return { store: s, reopen: () => s }; }],
  ['FileStore', () => { const dir = join(work, `fs-${++n}`); return { store: new FileStore(dir), reopen: () => new FileStore(dir) }; }],
])('%s', (_name, make) => {
  it('a retried assign or release with its key acts once, also after a reopen', async () => {
    const { store, reopen } = make();
    let now = 1_000;
    const seats = new SeatManager(store, LICENSE, { now: () => now });
    const first = await seats.assign('ann', 'basic', { idempotencyKey: 'assign-ann' });
    now = 2_000;
    expect(await seats.assign('ann', 'basic', { idempotencyKey: 'assign-ann' })).toEqual(first);
    const released = await seats.release('ann', { idempotencyKey: 'release-ann' });
    // Without a key a second release is an error; with its key it is the same answer, nothing freed twice.
    await expect(seats.release('ann')).rejects.toMatchObject({ code: 'ERR_USER_NOT_FOUND' });
    const again = new SeatManager(reopen(), LICENSE);
    expect(await again.release('ann', { idempotencyKey: 'release-ann' })).toEqual(released);
    // The key names one change: other arguments are refused, and nothing changed.
    await expect(again.assign('bob', 'basic', { idempotencyKey: 'assign-ann' })).rejects.toMatchObject({ code: 'ERR_IDEMPOTENCY_CONFLICT' });
    expect(await again.list()).toEqual([]);
    expect((await again.usage()).find((u) => u.type === 'basic')).toMatchObject({ inUse: 0 });
  });

  it('activate, transfer, deactivate and reset with keys count once', async () => {
    const { store } = make();
    const acts = new Activations(store, LICENSE);
    await acts.addUser('ann');
    const a = await acts.activate('ann', 'dev-1', { idempotencyKey: 'act-1' });
    expect(await acts.activate('ann', 'dev-1', { idempotencyKey: 'act-1' })).toEqual(a);
    const moved = await acts.transfer('ann', 'dev-1', 'dev-2', { idempotencyKey: 'move-1' });
    // The retry of a transfer that committed: the same answer, no second transfer spent (only 1 exists).
    expect(await acts.transfer('ann', 'dev-1', 'dev-2', { idempotencyKey: 'move-1' })).toEqual(moved);
    expect((await acts.usage()).transfers).toMatchObject({ used: 1 });
    await acts.deactivate('ann', 'dev-2', { idempotencyKey: 'off-2' });
    await expect(acts.deactivate('ann', 'dev-2', { idempotencyKey: 'off-2' })).resolves.toBeUndefined();
    await expect(acts.deactivate('ann', 'dev-2')).rejects.toMatchObject({ code: 'ERR_ACTIVATION_NOT_FOUND' });
    await expect(acts.activate('ann', 'dev-3', { idempotencyKey: 'x'.repeat(129) })).rejects.toMatchObject({ code: 'ERR_USAGE' });
    expect((await acts.usage()).activations).toMatchObject({ inUse: 0 });
  });
});
