/**
 * The license details page's activation history and first activation come from the newest and
 * oldest events of their kind, read a chunk at a time: the same answer as a walk over the whole
 * trail, from a few chunks on a long one.
 */
import { describe, expect, it } from 'vitest';
import { withAuditChain } from '../src/core/admin/chained-store.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import type { AuditEvent, EventQuery, Store } from '../src/core/store/store.js';
import { newestEvents, oldestEvent } from '../src/server/portal/pages/event-scan.js';

/** A chained store holding `n` events of license L, device events at the seqs `device` picks; counts the events read. */
async function trail(n: number, device: (seq: number) => boolean, chained = true): Promise<{ store: Store; read: () => number }> {
  const base = new MemoryStore();
  let read = 0;
  const counting = Object.create(base) as Store;
  counting.events = async (id: string, q?: EventQuery) => {
    const r = await base.events(id, q);
    read += r.length;
    return r;
  };
  const store = chained ? withAuditChain(counting) : counting;
  for (let start = 1; start <= n; start += 1000) {
    await store.transaction('L', async (tx) => {
      for (let seq = start; seq < Math.min(n + 1, start + 1000); seq++) tx.append({ at: new Date(seq * 1000).toISOString(), actor: 't', kind: device(seq) ? 'device.activated' : 'credits.consumed', details: { n: seq } });
    });
  }
  return { store, read: () => read };
}

const isDevice = (e: AuditEvent) => e.kind === 'device.activated';

describe('newestEvents and oldestEvent', () => {
  it('find what a walk over the whole trail finds, reading a few chunks of a long one', async () => {
    const device = (seq: number) => seq >= 600 && seq % 97 === 0;
    const { store, read } = await trail(5000, device);
    const all = await store.events('L');
    const before = read();
    const newest = await newestEvents(store, 'L', 20, isDevice);
    expect(newest.map((e) => e.seq)).toEqual(all.filter(isDevice).slice(-20).reverse().map((e) => e.seq));
    // 20 device events lie within the newest ~2,000: four chunks of 500, not 5,000 events.
    expect(read() - before).toBeLessThanOrEqual(2000);
    const first = await oldestEvent(store, 'L', isDevice);
    expect(first?.seq).toBe(all.find(isDevice)?.seq);
    expect(first?.seq).toBe(679);
    expect(read() - before).toBeLessThanOrEqual(2000 + 1000);
  });

  it('fewer than asked: all of them; none: empty; and a store without a chain head reads everything', async () => {
    const { store } = await trail(1200, (seq) => seq === 3 || seq === 1100);
    expect((await newestEvents(store, 'L', 20, isDevice)).map((e) => e.seq)).toEqual([1100, 3]);
    expect(await newestEvents(store, 'L', 20, (e) => e.kind === 'nothing')).toEqual([]);
    expect(await oldestEvent(store, 'L', (e) => e.kind === 'nothing')).toBeUndefined();
    const plain = await trail(700, (seq) => seq % 100 === 0, false);
    expect((await newestEvents(plain.store, 'L', 3, isDevice)).map((e) => e.seq)).toEqual([700, 600, 500]);
    expect(await newestEvents(store, 'EMPTY', 20, isDevice)).toEqual([]);
  });
});
