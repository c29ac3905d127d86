/**
 * Seat, license-user, activation and floating-seat rules over MemoryStore: the conformance suite,
 * plus a property test that random operation sequences never break a limit or the audit trail.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { SeatManager } from '../src/core/seats/index.js';
import { isLicenseError } from '../src/core/errors.js';
import { storeConformance } from './helpers/store-conformance.js';

storeConformance('MemoryStore', async () => new MemoryStore());

describe('SeatManager over random operation sequences', () => {
  it('matches a simple model: usage never exceeds the limit, events replay to the state', async () => {
    const op = fc.record({
      verb: fc.constantFrom('assign', 'release', 'reassign'),
      user: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5', 'u6'),
      type: fc.constantFrom('basic', 'advanced', 'bogus'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const store = new MemoryStore();
        const seats = new SeatManager(store, { id: 'p', seats: { basic: 3, advanced: 1 } });
        const model = new Map<string, string>();
        for (const o of ops) {
          try {
            if (o.verb === 'assign') await seats.assign(o.user, o.type);
            else if (o.verb === 'release') await seats.release(o.user);
            else await seats.reassign(o.user, o.type);
            if (o.verb === 'release') model.delete(o.user);
            else model.set(o.user, o.type);
          } catch (e) {
            if (!isLicenseError(e)) throw e;
          }
          const usage = await seats.usage();
          for (const u of usage) expect(u.inUse).toBeLessThanOrEqual(u.licensed);
        }
        const list = await seats.list();
        expect(Object.fromEntries(list.map((a) => [a.userId, a.type]))).toEqual(Object.fromEntries([...model].sort()));
        // Replaying the audit trail gives the same assignments.
        const replay = new Map<string, string>();
        for (const e of await store.events('p')) {
          if (e.kind === 'seat.released') replay.delete(String(e.details.user));
          else replay.set(String(e.details.user), String(e.details.type));
        }
        expect(replay).toEqual(new Map(list.map((a) => [a.userId, a.type])));
      }),
      { numRuns: 60 },
    );
  });
});

describe('identifiers that only look alike are refused', () => {
  it('refuses blank ids, zero-width and bidi characters, and lone surrogates', async () => {
    const { MemoryStore } = await import('../src/core/store/memory-store.js');
    const { SeatManager } = await import('../src/core/seats/index.js');
    const seats = new SeatManager(new MemoryStore(), { id: 'L-ID', seats: { basic: 10 } });
    for (const id of [' ', 'ann\u200b', 'a\u202eb', 'a\ud800b', 'tab\there']) {
      await expect(seats.assign(id, 'basic'), JSON.stringify(id)).rejects.toMatchObject({ code: 'ERR_USAGE' });
    }
    await expect(seats.assign('anné 😀', 'basic')).resolves.toBeDefined();
  });
});

describe('device labels and same-machine reinstalls', () => {
  it('a label is stored with the activation, audited, kept by a reinstall and dropped by a transfer', async () => {
    const { Activations } = await import('../src/core/seats/index.js');
    const store = new MemoryStore();
    const acts = new Activations(store, { id: 'lab', seats: {}, maxActivations: 2, maxTransfers: 1 });
    await acts.addUser('ann');
    await acts.activate('ann', 'inst-1');
    expect(await acts.rename('inst-1', "  Ann's laptop ")).toMatchObject([{ deviceId: 'inst-1', label: "Ann's laptop" }]);
    await expect(acts.rename('nope', 'x')).rejects.toMatchObject({ code: 'ERR_ACTIVATION_NOT_FOUND' });
    for (const bad of ['a\tb', 'x'.repeat(101)]) await expect(acts.rename('inst-1', bad)).rejects.toMatchObject({ code: 'ERR_USAGE' });
    // A reinstall takes no transfer unless asked to, and keeps the name.
    expect(await acts.reinstall('ann', 'inst-1', 'inst-2')).toMatchObject({ deviceId: 'inst-2', label: "Ann's laptop" });
    expect((await acts.usage()).transfers.used).toBe(0);
    expect(await acts.reinstall('ann', 'inst-2', 'inst-3', { countTransfer: true })).toMatchObject({ label: "Ann's laptop" });
    await expect(acts.reinstall('ann', 'inst-3', 'inst-4', { countTransfer: true })).rejects.toMatchObject({ code: 'ERR_TRANSFERS_EXHAUSTED' });
    expect((await acts.usage()).transfers.used).toBe(1);
    await acts.rename('inst-3', '');
    expect((await acts.devices())[0]?.label).toBeUndefined();
    const kinds = (await store.events('lab')).map((e) => [e.kind, e.details.transferCounted ?? e.details.label ?? null]);
    expect(kinds.slice(2)).toEqual([['device.renamed', "Ann's laptop"], ['device.reinstalled', false], ['device.reinstalled', true], ['device.renamed', null]]);
    expect((await acts.history('inst-2')).map((e) => e.kind)).toEqual(['device.reinstalled', 'device.reinstalled']);
  });
});
