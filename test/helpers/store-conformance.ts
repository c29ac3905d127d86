/**
 * The one conformance suite every {@link Store} passes: the raw transaction contract first, then
 * the seat, license-user, activation and floating-seat rules running over it. Call
 * `storeConformance(name, open)` inside a test file; `open` returns a fresh, empty store.
 */
import { describe, expect, it } from 'vitest';
import { LicenseError, type LicenseErrorCode } from '../../src/core/errors.js';
import type { Store } from '../../src/core/store/store.js';
import { Activations, FloatingSeats, SeatManager, migrateUserIds, type SeatLimits } from '../../src/core/seats/index.js';
import { readVerifiedLog } from '../../src/core/admin/index.js';

/** Expect `p` to reject with a LicenseError of `code`; returns it. */
export async function rejects(p: Promise<unknown>, code: LicenseErrorCode): Promise<LicenseError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LicenseError);
    expect((e as LicenseError).code, (e as Error).message).toBe(code);
    return e as LicenseError;
  }
  throw new Error(`expected ${code}, but it resolved`);
}

/** A clock tests move by hand. */
export function manualClock(start = Date.UTC(2030, 0, 1)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** Everything a store shows about a license: records of the seat kinds and the event count. */
async function snapshot(store: Store, licenseId: string) {
  const state = await store.read(licenseId, async (r) => ({
    meta: await r.list('meta'),
    seat: await r.list('seat'),
    user: await r.list('user'),
    activation: await r.list('activation'),
    lease: await r.list('lease'),
  }));
  return { state, events: (await store.events(licenseId)).length };
}

export function storeConformance(name: string, open: () => Promise<Store>): void {
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const store = await open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  describe(`${name}: store contract`, () => {
    it(
      'lists the license ids holding records or events, sorted; reading an unknown license adds none',
      withStore(async (store) => {
        expect(store.licenseIds).toBeTypeOf('function');
        const ids = () => (store.licenseIds as () => Promise<string[]>).call(store);
        expect(await ids()).toEqual([]);
        await store.read('never-written', async (r) => r.get('k', 'a'));
        await store.events('never-written');
        const odd = 'ACME/2027 \u00e9 ../x'; // not a plain file name: FileStore hashes it
        for (const id of ['b-2', odd, 'a-1']) await store.transaction(id, async (tx) => tx.put('k', 'x', { n: 1 }));
        await store.transaction('c-3', async (tx) => void tx.append({ at: new Date(0).toISOString(), actor: 't', kind: 'license.registered', details: {} }));
        expect(await ids()).toEqual(['a-1', 'b-2', 'c-3', odd].sort());
      }),
    );
    it(
      'reads its own writes, commits all at once, numbers events 1..n',
      withStore(async (store) => {
        const seq = await store.transaction('L', async (tx) => {
          tx.put('k', 'a', { n: 1 });
          tx.put('k', 'b', { n: 2, nested: { list: [1, 'x', null, true] } });
          tx.put('other', 'a', { n: 3 });
          expect(await tx.get('k', 'a')).toEqual({ n: 1 });
          tx.delete('k', 'a');
          expect(await tx.get('k', 'a')).toBeUndefined();
          expect((await tx.list('k')).map((e) => e.key)).toEqual(['b']);
          return [tx.append({ at: '2030-01-01T00:00:00.000Z', actor: 'me', kind: 'x', details: { a: 1 } }), tx.append({ at: '2030-01-01T00:00:01.000Z', actor: 'me', kind: 'y', details: {} })];
        });
        expect(seq).toEqual([1, 2]);
        await store.read('L', async (r) => {
          expect(await r.get('k', 'a')).toBeUndefined();
          expect(await r.get('k', 'b')).toEqual({ n: 2, nested: { list: [1, 'x', null, true] } });
          expect(await r.get('other', 'a')).toEqual({ n: 3 });
        });
        const ev = await store.events('L');
        expect(ev.map((e) => [e.seq, e.kind, e.licenseId, e.actor])).toEqual([
          [1, 'x', 'L', 'me'],
          [2, 'y', 'L', 'me'],
        ]);
        expect(ev[0]!.at).toBe('2030-01-01T00:00:00.000Z');
        expect(ev[0]!.details).toEqual({ a: 1 });
        expect((await store.events('L', { afterSeq: 1 })).map((e) => e.seq)).toEqual([2]);
        expect((await store.events('L', { limit: 1 })).map((e) => e.seq)).toEqual([1]);
        await store.transaction('L', async (tx) => void tx.append({ at: '2030-01-01T00:00:02.000Z', actor: 'me', kind: 'z', details: {} }));
        expect((await store.events('L')).map((e) => e.seq)).toEqual([1, 2, 3]);
      }),
    );

    it(
      'rolls back everything when the function throws',
      withStore(async (store) => {
        await store.transaction('L', async (tx) => void tx.put('k', 'keep', { v: 1 }));
        const before = await snapshot(store, 'L');
        const boom = new TypeError('boom');
        // The caller's own error comes back as it is, not dressed up as a store failure.
        await expect(
          store.transaction('L', async (tx) => {
            tx.put('k', 'keep', { v: 2 });
            tx.put('k', 'new', { v: 3 });
            tx.append({ at: '2030-01-01T00:00:00.000Z', actor: 'me', kind: 'x', details: {} });
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await snapshot(store, 'L')).toEqual(before);
        expect(await store.read('L', (r) => r.get('k', 'keep'))).toEqual({ v: 1 });
        // The next event still gets number 1: the rolled-back one left no gap.
        expect(await store.transaction('L', async (tx) => tx.append({ at: '2030-01-01T00:00:00.000Z', actor: 'me', kind: 'x', details: {} }))).toBe(1);
      }),
    );

    it(
      'keeps licenses apart, sorts and filters lists by key prefix, returns copies',
      withStore(async (store) => {
        const keys = ['b\nz', 'a\n2', 'a\n1', 'ab\n1', 'é', '__proto__', 'constructor', '😀'];
        await store.transaction('L1', async (tx) => {
          for (const k of keys) tx.put('k', k, { k });
        });
        await store.transaction('L2', async (tx) => void tx.put('k', 'only', { k: 'only' }));
        const l1 = await store.read('L1', (r) => r.list('k'));
        expect(l1.map((e) => e.key)).toEqual([...keys].sort());
        expect(l1.every((e) => e.value.k === e.key)).toBe(true);
        expect((await store.read('L1', (r) => r.list('k', 'a\n'))).map((e) => e.key)).toEqual(['a\n1', 'a\n2']);
        expect(await store.read('L1', (r) => r.get('k', 'toString'))).toBeUndefined();
        expect(await store.read('L1', (r) => r.get('k', '__proto__'))).toEqual({ k: '__proto__' });
        expect((await store.read('L2', (r) => r.list('k'))).map((e) => e.key)).toEqual(['only']);
        expect(await store.read('never-used', (r) => r.list('k'))).toEqual([]);
        expect(await store.events('never-used')).toEqual([]);
        const v = await store.read('L2', (r) => r.get('k', 'only'));
        v!.k = 'mutated';
        expect(await store.read('L2', (r) => r.get('k', 'only'))).toEqual({ k: 'only' });
      }),
    );

    it(
      'prefetch is only a hint: reads after it see what reads without it see, own writes and absent records included',
      withStore(async (store) => {
        await store.transaction('P', async (tx) => {
          tx.put('a', 'x', { n: 1 });
          tx.put('a', 'y', { n: 2 });
          tx.put('t', 'k1', { v: 'one' });
          tx.put('t', 'k2', { v: 'two' });
        });
        const seen = await store.transaction('P', async (tx) => {
          tx.put('a', 'y', { n: 20 }); // written before the prefetch: the write wins
          await tx.prefetch?.([['a', 'x'], ['a', 'y'], ['a', 'missing']], ['t']);
          tx.delete('t', 'k1'); // written after it: the write wins too
          const x = await tx.get('a', 'x');
          x!.n = 99; // a copy: mutating it changes nothing
          return { x: await tx.get('a', 'x'), y: await tx.get('a', 'y'), missing: await tx.get('a', 'missing'), t: await tx.list('t'), k2: await tx.get('t', 'k2'), t2: await tx.list('t', 'k2') };
        });
        expect(seen).toEqual({ x: { n: 1 }, y: { n: 20 }, missing: undefined, t: [{ key: 'k2', value: { v: 'two' } }], k2: { v: 'two' }, t2: [{ key: 'k2', value: { v: 'two' } }] });
        // And it committed what it wrote.
        expect(await store.read('P', (r) => Promise.all([r.list('t'), r.get('a', 'y')]))).toEqual([[{ key: 'k2', value: { v: 'two' } }], { n: 20 }]);
      }),
    );

    it(
      'runs concurrent transactions of one license one at a time',
      withStore(async (store) => {
        await Promise.all(
          Array.from({ length: 40 }, () =>
            store.transaction('L', async (tx) => {
              const n = Number((await tx.get('c', 'n'))?.n ?? 0);
              await new Promise((r) => setTimeout(r, 0)); // invite interleaving
              tx.put('c', 'n', { n: n + 1 });
              tx.append({ at: '2030-01-01T00:00:00.000Z', actor: 'me', kind: 'inc', details: { n: n + 1 } });
            }),
          ),
        );
        expect(await store.read('L', (r) => r.get('c', 'n'))).toEqual({ n: 40 });
        const ev = await store.events('L');
        expect(ev.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        expect(ev.map((e) => e.details.n)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      }),
    );

    it(
      'refuses bad license ids before touching state',
      withStore(async (store) => {
        await rejects(store.transaction('', async () => 1), 'ERR_USAGE');
        await rejects(store.read('x'.repeat(10_000), async () => 1), 'ERR_USAGE');
        await rejects(store.events('a\u0000b'), 'ERR_USAGE');
      }),
    );
  });

  describe(`${name}: named seats`, () => {
    const lic: SeatLimits = { id: 'lic-seats', seats: { basic: 3, advanced: 1 } };

    it(
      'assigns up to the limit, then refuses with the numbers in the message',
      withStore(async (store) => {
        const seats = new SeatManager(store, lic, { actor: 'admin' });
        for (const u of ['ann', 'bob', 'cy']) await seats.assign(u, 'basic');
        await seats.assign('dee', 'advanced');
        const before = await snapshot(store, lic.id);
        const e = await rejects(seats.assign('eve', 'basic'), 'ERR_SEATS_EXHAUSTED');
        expect(e.message).toMatch(/3 licensed, 3 in use/);
        expect(e.details).toMatchObject({ type: 'basic', licensed: 3, inUse: 3 });
        expect(await snapshot(store, lic.id)).toEqual(before);
        expect(await seats.usage()).toEqual([
          { type: 'advanced', licensed: 1, inUse: 1, available: 0, over: false },
          { type: 'basic', licensed: 3, inUse: 3, available: 0, over: false },
        ]);
        expect((await seats.list()).map((a) => [a.userId, a.type])).toEqual([
          ['ann', 'basic'],
          ['bob', 'basic'],
          ['cy', 'basic'],
          ['dee', 'advanced'],
        ]);
        // Assigning again the same type is a no-op; another type needs reassign.
        await seats.assign('ann', 'basic');
        await rejects(seats.assign('ann', 'advanced'), 'ERR_SEAT_CONFLICT');
        await seats.release('bob');
        await seats.assign('eve', 'basic', { actor: 'ops@example.com' });
        const ev = await store.events(lic.id);
        expect(ev.map((x) => x.kind)).toEqual(['seat.assigned', 'seat.assigned', 'seat.assigned', 'seat.assigned', 'seat.released', 'seat.assigned']);
        expect(ev.at(-1)).toMatchObject({ actor: 'ops@example.com', details: { user: 'eve', type: 'basic', inUse: 3, licensed: 3 } });
        expect(ev[0]!.actor).toBe('admin');
      }),
    );

    it(
      'reassigns within limits only, and release frees the old type',
      withStore(async (store) => {
        const seats = new SeatManager(store, lic);
        await seats.assign('ann', 'basic');
        await seats.assign('bob', 'advanced');
        await rejects(seats.reassign('ann', 'advanced'), 'ERR_SEATS_EXHAUSTED');
        await seats.reassign('bob', 'basic');
        await seats.reassign('ann', 'advanced');
        expect((await seats.usage()).map((u) => [u.type, u.inUse])).toEqual([
          ['advanced', 1],
          ['basic', 1],
        ]);
        await rejects(seats.reassign('nobody', 'basic'), 'ERR_USER_NOT_FOUND');
        await rejects(seats.release('nobody'), 'ERR_USER_NOT_FOUND');
      }),
    );

    it(
      'refuses bad input with clear errors and unchanged state',
      withStore(async (store) => {
        const seats = new SeatManager(store, lic);
        await seats.assign('ann', 'basic');
        const before = await snapshot(store, lic.id);
        const e = await rejects(seats.assign('bob', 'premium'), 'ERR_UNKNOWN_USER_TYPE');
        expect(e.message).toMatch(/"basic", "advanced"/);
        await rejects(seats.assign('bob', 'constructor'), 'ERR_UNKNOWN_USER_TYPE');
        await rejects(seats.assign('bob', '__proto__'), 'ERR_UNKNOWN_USER_TYPE');
        await rejects(seats.assign('', 'basic'), 'ERR_USAGE');
        await rejects(seats.assign('x'.repeat(257), 'basic'), 'ERR_USAGE');
        await rejects(seats.assign('x'.repeat(5_000_000), 'basic'), 'ERR_USAGE');
        await rejects(seats.assign('a\nb', 'basic'), 'ERR_USAGE');
        await rejects(seats.assign(undefined as unknown as string, 'basic'), 'ERR_USAGE');
        await rejects(seats.assign('bob', 'basic', { actor: '' }), 'ERR_USAGE');
        expect(await snapshot(store, lic.id)).toEqual(before);
        // Identifiers that are object-prototype names are ordinary users.
        await seats.assign('__proto__', 'basic');
        await seats.assign('constructor', 'basic');
        expect((await seats.list()).map((a) => a.userId)).toEqual(['__proto__', 'ann', 'constructor']);
        expect(() => new SeatManager(store, { id: 'x', seats: { basic: -1 } })).toThrow(LicenseError);
        expect(() => new SeatManager(store, { id: 'x', seats: { basic: 1.5 } })).toThrow(LicenseError);
      }),
    );

    it(
      'over the limit after a new key: admins admin-only, others denied, until usage fits',
      withStore(async (store) => {
        const old = new SeatManager(store, { id: 'lic-over', seats: { basic: 3, advanced: 1 } });
        for (const u of ['ann', 'bob', 'cy']) await old.assign(u, 'basic');
        await old.assign('dee', 'advanced');
        // The new key grants fewer basic seats; nothing is deleted.
        const seats = new SeatManager(store, { id: 'lic-over', seats: { basic: 2, advanced: 1 } });
        expect((await seats.list()).length).toBe(4);
        expect(await seats.usage()).toContainEqual({ type: 'basic', licensed: 2, inUse: 3, available: 0, over: true });
        const denied = await seats.access('ann');
        expect(denied.access).toBe('denied');
        expect(denied.error?.code).toBe('ERR_SEATS_EXCEEDED');
        expect(denied.error?.message).toMatch(/3 users hold a basic seat but the license grants 2/);
        expect((await seats.access('ann', { admin: true })).access).toBe('admin-only');
        // Another type within its limit is unaffected.
        expect((await seats.access('dee')).access).toBe('full');
        const nobody = await seats.access('zed');
        expect([nobody.access, nobody.error?.code]).toEqual(['denied', 'ERR_USER_NOT_FOUND']);
        await rejects(seats.assign('zed', 'basic'), 'ERR_SEATS_EXHAUSTED');
        await seats.release('cy');
        expect(await seats.access('ann')).toEqual({ access: 'full', type: 'basic' });
        // A type the new key dropped entirely counts as 0 licensed.
        const none = new SeatManager(store, { id: 'lic-over', seats: { basic: 2 } });
        expect((await none.access('dee')).error?.code).toBe('ERR_SEATS_EXCEEDED');
        expect(await none.usage()).toContainEqual({ type: 'advanced', licensed: 0, inUse: 1, available: 0, over: true });
      }),
    );

    it(
      'never exceeds the limit under concurrent assigns',
      withStore(async (store) => {
        const seats = new SeatManager(store, { id: 'lic-race', seats: { basic: 25 } });
        const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => seats.assign(`u${i}`, 'basic')));
        expect(results.filter((r) => r.status === 'fulfilled').length).toBe(25);
        for (const r of results) if (r.status === 'rejected') expect((r.reason as LicenseError).code).toBe('ERR_SEATS_EXHAUSTED');
        expect((await seats.usage())[0]).toMatchObject({ inUse: 25 });
        expect((await seats.list()).length).toBe(25);
        expect((await store.events('lic-race')).length).toBe(25);
      }),
    );
  });

  describe(`${name}: license users and activations`, () => {
    const lic: SeatLimits = { id: 'lic-act', seats: {}, maxUsers: 2, maxActivations: 3, maxUserActivations: 2, maxTransfers: 2 };

    it(
      'limits users, per-user and per-license activations',
      withStore(async (store) => {
        const acts = new Activations(store, lic);
        await acts.addUser('ann');
        await acts.addUser('bob');
        await acts.addUser('ann'); // exists: no-op
        const before = await snapshot(store, lic.id);
        const u = await rejects(acts.addUser('cy'), 'ERR_USERS_EXHAUSTED');
        expect(u.message).toMatch(/2 licensed, 2 in use/);
        expect(await snapshot(store, lic.id)).toEqual(before);
        await rejects(acts.activate('cy', 'dev-1'), 'ERR_USER_NOT_FOUND');
        await acts.activate('ann', 'dev-1', { info: { host: 'laptop' } });
        await acts.activate('ann', 'dev-2');
        const perUser = await rejects(acts.activate('ann', 'dev-3'), 'ERR_ACTIVATIONS_EXHAUSTED');
        expect(perUser.details).toMatchObject({ scope: 'user', licensed: 2, inUse: 2 });
        await acts.activate('ann', 'dev-1'); // again: refresh only
        await acts.activate('bob', 'dev-9');
        const perLicense = await rejects(acts.activate('bob', 'dev-10'), 'ERR_ACTIVATIONS_EXHAUSTED');
        expect(perLicense.details).toMatchObject({ scope: 'license', licensed: 3, inUse: 3 });
        expect(await acts.usage()).toEqual({ users: { licensed: 2, inUse: 2 }, activations: { licensed: 3, inUse: 3 }, transfers: { licensed: 2, used: 0 } });
        expect((await acts.devices('ann')).map((a) => [a.deviceId, a.info])).toEqual([
          ['dev-1', { host: 'laptop' }],
          ['dev-2', {}],
        ]);
        expect((await acts.users()).map((x) => [x.userId, x.activations, x.maxActivations])).toEqual([
          ['ann', 2, 2],
          ['bob', 1, 2],
        ]);
        await acts.deactivate('ann', 'dev-2');
        await rejects(acts.deactivate('ann', 'dev-2'), 'ERR_ACTIVATION_NOT_FOUND');
        await acts.activate('bob', 'dev-10');
        // Removing a user frees the user and its devices.
        await acts.removeUser('ann');
        expect(await acts.usage()).toMatchObject({ users: { inUse: 1 }, activations: { inUse: 2 } });
        await acts.addUser('cy');
        await rejects(acts.removeUser('ann'), 'ERR_USER_NOT_FOUND');
      }),
    );

    it(
      'per-user limits can be raised and lowered within the license total',
      withStore(async (store) => {
        const acts = new Activations(store, lic);
        await acts.addUser('ann', { maxActivations: 1 });
        await acts.activate('ann', 'd1');
        await rejects(acts.activate('ann', 'd2'), 'ERR_ACTIVATIONS_EXHAUSTED');
        await acts.setUserLimit('ann', 3);
        await acts.activate('ann', 'd2');
        await rejects(acts.setUserLimit('ann', 4), 'ERR_USAGE');
        await rejects(acts.setUserLimit('ann', -1), 'ERR_USAGE');
        await acts.setUserLimit('ann', undefined);
        expect((await acts.users())[0]!.maxActivations).toBe(2);
        await rejects(acts.activate('ann', 'd3'), 'ERR_ACTIVATIONS_EXHAUSTED');
        await rejects(acts.activate('ann', 'd3', { info: { blob: 'x'.repeat(5000) } }), 'ERR_USAGE');
        await rejects(acts.activate('ann', 'd3', { info: { nul: 'a\u0000b' } }), 'ERR_USAGE');
      }),
    );

    it(
      'resets a device or a user, transfers within maxTransfers, keeps history and last validation',
      withStore(async (store) => {
        const clock = manualClock();
        const acts = new Activations(store, lic, { now: clock.now });
        await acts.addUser('ann');
        await acts.addUser('bob');
        await acts.activate('ann', 'pc-1');
        await acts.activate('bob', 'pc-1');
        clock.advance(60_000);
        const v = await acts.validate('ann', 'pc-1');
        expect(v.validatedAt.getTime() - v.activatedAt.getTime()).toBe(60_000);
        await rejects(acts.validate('ann', 'nope'), 'ERR_ACTIVATION_NOT_FOUND');
        // Reset a lost device: every activation on it goes, one transfer is used.
        expect(await acts.resetDevice('pc-1', { actor: 'vendor' })).toEqual(['ann', 'bob']);
        expect(await acts.usage()).toMatchObject({ activations: { inUse: 0 }, transfers: { used: 1 } });
        await rejects(acts.resetDevice('pc-1'), 'ERR_ACTIVATION_NOT_FOUND');
        await acts.activate('ann', 'pc-2');
        const moved = await acts.transfer('ann', 'pc-2', 'pc-3');
        expect(moved.deviceId).toBe('pc-3');
        expect((await acts.devices('ann')).map((a) => a.deviceId)).toEqual(['pc-3']);
        await acts.activate('ann', 'pc-4');
        const before = await snapshot(store, lic.id);
        const t = await rejects(acts.transfer('ann', 'pc-3', 'pc-5'), 'ERR_TRANSFERS_EXHAUSTED');
        expect(t.message).toMatch(/all 2 transfers/);
        await rejects(acts.resetDevice('pc-4'), 'ERR_TRANSFERS_EXHAUSTED');
        expect(await snapshot(store, lic.id)).toEqual(before);
        await rejects(acts.transfer('ann', 'pc-3', 'pc-4'), 'ERR_USAGE');
        await rejects(acts.transfer('ann', 'nope', 'pc-9'), 'ERR_ACTIVATION_NOT_FOUND');
        // A vendor's goodwill reset is free; resetting a user is not a transfer.
        await acts.resetDevice('pc-4', { countTransfer: false });
        expect(await acts.resetUser('ann')).toEqual(['pc-3']);
        expect(await acts.usage()).toMatchObject({ activations: { inUse: 0 }, transfers: { used: 2 } });
        expect((await acts.users()).map((u) => u.activations)).toEqual([0, 0]);
        expect((await acts.history('pc-1')).map((e) => [e.kind, e.details.user ?? null])).toEqual([
          ['device.activated', 'ann'],
          ['device.activated', 'bob'],
          ['device.reset', null],
        ]);
        expect((await acts.history('pc-3')).map((e) => e.kind)).toEqual(['device.transferred', 'user.activations-reset']);
        expect((await acts.history('pc-2')).map((e) => e.kind)).toEqual(['device.activated', 'device.transferred']);
      }),
    );

    it(
      'never exceeds maxActivations under concurrent activations',
      withStore(async (store) => {
        const l: SeatLimits = { id: 'lic-act-race', seats: {}, maxActivations: 20 };
        const acts = new Activations(store, l);
        for (const u of ['a', 'b', 'c']) await acts.addUser(u);
        const results = await Promise.allSettled(Array.from({ length: 45 }, (_, i) => acts.activate(['a', 'b', 'c'][i % 3]!, `d${i}`)));
        expect(results.filter((r) => r.status === 'fulfilled').length).toBe(20);
        expect((await acts.usage()).activations.inUse).toBe(20);
        expect((await acts.devices()).length).toBe(20);
      }),
    );
  });

  describe(`${name}: floating seats`, () => {
    const lic: SeatLimits = { id: 'lic-float', seats: { concurrent: 2 } };

    it(
      'leases run out after the time-to-live, not before; heartbeats extend them',
      withStore(async (store) => {
        const clock = manualClock();
        const f = new FloatingSeats(store, lic, { ttlMs: 10_000, now: clock.now });
        const a = await f.checkout('host-a', 'concurrent');
        const b = await f.checkout('host-b', 'concurrent');
        expect(a.expiresAt.getTime() - a.checkedOutAt.getTime()).toBe(10_000);
        const e = await rejects(f.checkout('host-c', 'concurrent'), 'ERR_SEATS_EXHAUSTED');
        expect(e.message).toMatch(/2 licensed, 2 in use/);
        clock.advance(9_999);
        await rejects(f.checkout('host-c', 'concurrent'), 'ERR_SEATS_EXHAUSTED');
        await f.heartbeat(a.id); // a lives until 19 999
        clock.advance(1);
        // b lapsed exactly now: its seat is reused, with an audit event saying so.
        const c = await f.checkout('host-c', 'concurrent');
        expect((await f.active()).map((l) => l.holder).sort()).toEqual(['host-a', 'host-c']);
        await rejects(f.heartbeat(b.id), 'ERR_LEASE_EXPIRED');
        expect(await f.checkin(c.id)).toBe(true);
        expect(await f.checkin(c.id)).toBe(false);
        expect(await f.usage()).toEqual([{ type: 'concurrent', licensed: 2, inUse: 1, available: 1, over: false }]);
        clock.advance(10_000);
        await rejects(f.heartbeat(a.id), 'ERR_LEASE_EXPIRED');
        expect(await f.active()).toEqual([]);
        const kinds = (await store.events(lic.id)).map((x) => x.kind);
        expect(kinds).toEqual(['lease.checked-out', 'lease.checked-out', 'lease.expired', 'lease.checked-out', 'lease.checked-in']);
        await rejects(f.checkout('h', 'nope'), 'ERR_UNKNOWN_USER_TYPE');
        expect(() => new FloatingSeats(store, lic, { ttlMs: 5 })).toThrow(LicenseError);
      }),
    );
  });

  describe(`${name}: user ids normalised (NFC, trimmed)`, () => {
    const composed = 'Jos\u00e9';
    const decomposed = 'Jose\u0301';
    it(
      'every entry point takes one form: " ann " and "ann", composed and decomposed José are one user, one seat',
      withStore(async (store) => {
        const lic: SeatLimits = { id: 'lic-nfc', seats: { basic: 3 }, maxUsers: 3, maxActivations: 5 };
        const seats = new SeatManager(store, lic);
        expect((await seats.assign(' ann ', 'basic')).userId).toBe('ann');
        expect((await seats.assign('ann', 'basic')).userId).toBe('ann');
        await seats.assign(composed, 'basic');
        await seats.assign(decomposed, 'basic');
        expect((await seats.list()).map((a) => a.userId)).toEqual(['Jos\u00e9', 'ann']);
        expect((await seats.usage())[0]).toMatchObject({ inUse: 2 });
        expect((await seats.access('\tann\n')).access).toBe('full');
        expect((await seats.release(`  ${decomposed}`)).userId).toBe(composed);
        const acts = new Activations(store, lic);
        await acts.addUser(` ${decomposed} `);
        await acts.addUser(composed);
        expect((await acts.users()).map((u) => u.userId)).toEqual([composed]);
        await acts.activate(decomposed, 'pc-1');
        expect((await acts.devices(` ${composed}`)).map((d) => d.userId)).toEqual([composed]);
        await acts.deactivate(composed, 'pc-1');
        await acts.removeUser(decomposed);
        expect(await acts.users()).toEqual([]);
        await rejects(seats.assign('   ', 'basic'), 'ERR_USAGE');
      }),
    );

    /** Write records as a store from before normalisation holds them (two forms of one user). */
    async function legacy(store: Store, licenseId: string): Promise<void> {
      await store.transaction(licenseId, async (tx) => {
        tx.put('seat', 'ann', { type: 'basic', since: '2030-01-02T00:00:00.000Z' });
        tx.put('seat', ' ann ', { type: 'advanced', since: '2030-01-01T00:00:00.000Z' });
        tx.put('seat', decomposed, { type: 'basic', since: '2030-01-03T00:00:00.000Z' });
        tx.put('seat', 'bob', { type: 'basic', since: '2030-01-01T00:00:00.000Z' });
        tx.put('user', composed, { createdAt: '2030-01-01T00:00:00.000Z', maxActivations: null, activations: 2 });
        tx.put('user', decomposed, { createdAt: '2030-01-05T00:00:00.000Z', maxActivations: null, activations: 2 });
        const act = (user: string, device: string, day: number) =>
          tx.put('activation', `${user}\n${device}`, { user, device, activatedAt: `2030-01-0${day}T00:00:00.000Z`, validatedAt: `2030-01-0${day}T00:00:00.000Z`, info: {} });
        act(composed, 'pc-1', 1);
        act(composed, 'pc-2', 2);
        act(decomposed, 'pc-2', 3); // the same device under the other form
        act(decomposed, 'pc-3', 4);
        tx.put('meta', 'counters', { seats: { basic: 3, advanced: 1 }, users: 2, activations: 4, transfers: 0 });
      });
    }

    it(
      'migrateUserIds merges duplicates keeping the earliest, frees seats, respects the device limit, audits it, and is a no-op the second time',
      withStore(async (store) => {
        const lic: SeatLimits = { id: 'lic-mig', seats: { basic: 2, advanced: 1 }, maxUsers: 2, maxActivations: 4, maxUserActivations: 2 };
        await legacy(store, lic.id);
        // A dry run says the same and writes nothing.
        const before = await snapshot(store, lic.id);
        const plan = await migrateUserIds(store, lic, { dryRun: true });
        expect(plan.dryRun).toBe(true);
        expect(await snapshot(store, lic.id)).toEqual(before);

        const done = await migrateUserIds(store, lic, { actor: 'admin' });
        expect({ ...done, dryRun: true, eventSeq: undefined }).toEqual({ ...plan, eventSeq: undefined });
        // ann: the earliest seat (' ann ', advanced, 1 January) is kept under 'ann'; the later basic seat is freed.
        expect(done.seats.find((m) => m.userId === 'ann')).toMatchObject({ kept: ' ann ', seatsFreed: ['basic'] });
        expect(done.seats.find((m) => m.userId === composed)).toMatchObject({ kept: decomposed, forms: [decomposed] });
        const seats = new SeatManager(store, lic);
        expect((await seats.list()).map((a) => [a.userId, a.type, a.since.toISOString()])).toEqual([
          [composed, 'basic', '2030-01-03T00:00:00.000Z'],
          ['ann', 'advanced', '2030-01-01T00:00:00.000Z'],
          ['bob', 'basic', '2030-01-01T00:00:00.000Z'],
        ]);
        expect((await seats.usage()).map((u) => [u.type, u.inUse, u.over])).toEqual([['advanced', 1, false], ['basic', 2, false]]);
        // José: one user (the earliest, composed), pc-2 once, and at most 2 devices (the newest, pc-3, deactivated).
        const acts = new Activations(store, lic);
        expect((await acts.users()).map((u) => [u.userId, u.activations, u.createdAt.toISOString()])).toEqual([[composed, 2, '2030-01-01T00:00:00.000Z']]);
        expect((await acts.devices()).map((d) => [d.userId, d.deviceId])).toEqual([[composed, 'pc-1'], [composed, 'pc-2']]);
        expect(done.users).toEqual([{ userId: composed, forms: [composed, decomposed].sort(), kept: composed, seatsFreed: [], devicesDeactivated: ['pc-2', 'pc-3'] }]);
        expect(await acts.usage()).toMatchObject({ users: { inUse: 1 }, activations: { inUse: 2 } });
        // Audited: the ordinary events for each change, then one summary, all in the verified chain.
        const log = await readVerifiedLog(store, lic.id);
        expect(log.events.map((e) => e.kind)).toEqual(['seat.released', 'device.deactivated', 'device.deactivated', 'user.removed', 'user.ids-normalized']);
        expect(log.events.at(-1)).toMatchObject({ actor: 'admin', seq: done.eventSeq });
        // The merged records answer to every form now.
        expect((await seats.access(' ann')).access).toBe('full');
        await acts.validate(decomposed, 'pc-1');
        // Again: nothing to do, nothing written.
        const again = await migrateUserIds(store, lic);
        expect(again).toEqual({ dryRun: false, seats: [], users: [] });
        expect((await store.events(lic.id)).length).toBe(log.events.length);
      }),
    );
  });
}
