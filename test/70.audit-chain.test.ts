/**
 * The audit log's hash chain: the pure verifier on hand-made logs, the `withAuditChain` wrapper
 * (it passes the store conformance suite on MemoryStore and FileStore), and tampering with a
 * FileStore's real files: an edited event, a truncated log, an edited head, a foreign writer.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { FileStore } from '../src/node/store/file-store.js';
import { SeatManager } from '../src/core/seats/index.js';
import type { AuditEvent, Store } from '../src/core/store/store.js';
import { CHAIN_FIELD, genesisHash, linkEvent, HEAD_KEY, HEAD_KIND, isAuditChained, rawEvents, readVerifiedLog, verifyAuditLog, withAuditChain, type AuditHead } from '../src/core/admin/index.js';
import { manualClock, rejects, storeConformance } from './helpers/store-conformance.js';
import { frames, licenseDir, rewriteRecords, segment } from './helpers/file-store-disk.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'licit-audit-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

storeConformance('withAuditChain(MemoryStore)', async () => withAuditChain(new MemoryStore()));
storeConformance('withAuditChain(FileStore)', async () => withAuditChain(new FileStore(join(tempDir(), 'store'))));

const lic = { id: 'lic-1', seats: { basic: 3, pro: 1 } };

/** A chained log of `n` seat events on `store`; returns the events and head. */
async function history(store: Store, n = 6): Promise<{ events: AuditEvent[]; head: AuditHead }> {
  const clock = manualClock();
  const seats = new SeatManager(store, lic, { now: clock.now });
  for (let i = 0; i < n; i++) {
    clock.advance(60_000);
    if (i % 2 === 0) await seats.assign(`u${i}`, 'basic');
    else await seats.release(`u${i - 1}`);
  }
  const head = (await store.read(lic.id, (r) => r.get(HEAD_KIND, HEAD_KEY))) as unknown as AuditHead;
  return { events: await rawEvents(store, lic.id), head };
}

const clone = <T>(x: T): T => structuredClone(x);

describe('verifyAuditLog (pure)', () => {
  it('accepts an intact log and names the first bad event of every kind of damage', async () => {
    const { events, head } = await history(withAuditChain(new MemoryStore()));
    expect(events).toHaveLength(6);
    const ok = verifyAuditLog(events, head);
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(ok.head).toEqual(head);

    // Edit any field of any event: that event is named.
    for (let i = 0; i < events.length; i++) {
      for (const edit of [
        (e: { actor: string }) => void (e.actor = 'mallory'),
        (e: { at: string }) => void (e.at = '2031-01-01T00:00:00.000Z'),
        (e: { kind: string }) => void (e.kind = 'seat.edited'),
        (e: { details: Record<string, unknown> }) => void (e.details.user = 'someone-else'),
      ]) {
        const bad = clone(events);
        edit(bad[i] as never);
        const v = verifyAuditLog(bad, head);
        expect(v.ok).toBe(false);
        if (!v.ok) expect(v.seq).toBe(i + 1);
      }
    }
    // Truncation: every shorter prefix fails at the first missing event.
    for (let n = 0; n < events.length; n++) {
      const v = verifyAuditLog(events.slice(0, n), head);
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.seq).toBe(n + 1);
    }
    // A deleted event in the middle, two swapped, the chain field removed, events of another license.
    const gap = [...events.slice(0, 2), ...events.slice(3)];
    expect(verifyAuditLog(gap, head)).toMatchObject({ ok: false, seq: 3 });
    const swapped = clone(events);
    [swapped[2], swapped[3]] = [swapped[3] as AuditEvent, swapped[2] as AuditEvent];
    expect(verifyAuditLog(swapped, head)).toMatchObject({ ok: false, seq: 3 });
    const unchained = clone(events);
    delete (unchained[4] as { details: Record<string, unknown> }).details[CHAIN_FIELD];
    expect(verifyAuditLog(unchained, head)).toMatchObject({ ok: false, seq: 5, reason: expect.stringMatching(/no hash chain/) });
    // Rewrite event 2 and recompute every link after it: self-consistent, different hashes.
    const rewritten: AuditEvent[] = [];
    let prev = genesisHash(lic.id);
    for (const e of clone(events)) {
      const details = { ...e.details };
      delete details[CHAIN_FIELD];
      if (e.seq === 2) details.user = 'rewritten';
      const l = linkEvent(lic.id, e.seq, { ...e, details }, prev);
      rewritten.push({ ...e, details: l.details });
      prev = l.hash;
    }
    const other = { events: rewritten, head: { seq: 6, hash: prev } };
    const foreign = events.map((e) => ({ ...e, licenseId: 'lic-2' }));
    expect(verifyAuditLog(foreign, head)).toMatchObject({ ok: false, seq: 1 });
    // A rewrite that recomputed every hash is caught only by an anchor kept elsewhere.
    expect(verifyAuditLog(other.events, other.head).ok).toBe(true);
    expect(verifyAuditLog(other.events, other.head, { anchor: { seq: 2, hash: (events[1] as unknown as { details: { [CHAIN_FIELD]: { hash: string } } }).details[CHAIN_FIELD].hash } })).toMatchObject({ ok: false, seq: 2 });
    expect(verifyAuditLog(events, head, { anchor: { seq: 2, hash: (events[1] as unknown as { details: { [CHAIN_FIELD]: { hash: string } } }).details[CHAIN_FIELD].hash } }).ok).toBe(true);
    // Head missing, head edited, head ahead of the log.
    expect(verifyAuditLog(events, undefined)).toMatchObject({ ok: false, seq: 1 });
    expect(verifyAuditLog(events, { seq: 6, hash: '0'.repeat(64) })).toMatchObject({ ok: false, seq: 6 });
    expect(verifyAuditLog(events, { seq: 9, hash: head.hash })).toMatchObject({ ok: false, seq: 7, reason: expect.stringMatching(/truncated/) });
    expect(verifyAuditLog([], { seq: 2, hash: head.hash })).toMatchObject({ ok: false, seq: 1 });
    expect(verifyAuditLog([], undefined).ok).toBe(true);
  });
});

describe('withAuditChain', () => {
  it('chains every event, keeps the head in the same commit, strips the chain from the verified log', async () => {
    const store = withAuditChain(new MemoryStore());
    expect(withAuditChain(store)).toBe(store);
    expect(isAuditChained(store)).toBe(true);
    const { head } = await history(store, 4);
    const events = await rawEvents(store, lic.id);
    expect((await store.events(lic.id)).some((e) => Object.hasOwn(e.details, CHAIN_FIELD))).toBe(false);
    const log = await readVerifiedLog(store, lic.id);
    expect(log.head).toEqual(head);
    expect(log.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(log.events[0]?.details).toEqual({ user: 'u0', type: 'basic', inUse: 1, licensed: 3 });
    expect(log.events[1]?.prev).toBe(log.events[0]?.hash);
    expect(events.every((e) => Object.hasOwn(e.details, CHAIN_FIELD))).toBe(true);
    // A failed transaction leaves neither events nor a moved head.
    await rejects(new SeatManager(store, lic).assign('u9', 'nope'), 'ERR_USAGE').catch(() => undefined);
    await expect(
      store.transaction(lic.id, async (tx) => {
        tx.append({ at: new Date().toISOString(), actor: 'x', kind: 'k', details: {} });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await readVerifiedLog(store, lic.id)).head).toEqual(head);
    // The head and the chain field are licit's.
    await rejects(store.transaction(lic.id, async (tx) => tx.put(HEAD_KIND, HEAD_KEY, { seq: 0, hash: '' })), 'ERR_USAGE');
    await rejects(store.transaction(lic.id, async (tx) => tx.append({ at: new Date().toISOString(), actor: 'x', kind: 'k', details: { [CHAIN_FIELD]: 1 } })), 'ERR_USAGE');
  });

  it('an event written around the wrapper is named, and seats keep working', async () => {
    const inner = new MemoryStore();
    const store = withAuditChain(inner);
    await history(store, 2);
    // event 3, unchained: a raw transaction on the bare store (licit's own counters always chain)
    await inner.transaction(lic.id, async (tx) => {
      tx.append({ at: new Date().toISOString(), actor: 'sneaky', kind: 'seat.assigned', details: { userId: 'sneaky' } });
    });
    await new SeatManager(store, lic).assign('after', 'basic'); // event 4, chained over the gap
    expect((await store.events(lic.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    const e = await rejects(readVerifiedLog(store, lic.id), 'ERR_AUDIT_TAMPERED');
    expect(e.details).toMatchObject({ seq: 3, reason: expect.stringMatching(/no hash chain/) });
  });

  it('licit\'s counters chain their events even over a bare store', async () => {
    const bare = new MemoryStore();
    await new SeatManager(bare, lic).assign('a', 'basic');
    await new SeatManager(bare, lic).assign('b', 'basic');
    expect((await readVerifiedLog(bare, lic.id)).events).toHaveLength(2);
  });

  it('concurrent writers in one process still produce one valid chain', async () => {
    const store = withAuditChain(new MemoryStore());
    const seats = new SeatManager(store, { id: lic.id, seats: { basic: 50 } });
    await Promise.all(Array.from({ length: 40 }, (_, i) => seats.assign(`u${i}`, 'basic')));
    const log = await readVerifiedLog(store, lic.id);
    expect(log.events).toHaveLength(40);
    expect(log.head.seq).toBe(40);
  });
});

describe('tampering with a FileStore on disk', () => {
  const seg = (dir: string) => segment(licenseDir(dir, lic.id));

  it('an event edited in the log, checksums recomputed, is named', async () => {
    const dir = join(tempDir(), 'store');
    const store = withAuditChain(new FileStore(dir));
    await history(store, 6);
    await readVerifiedLog(store, lic.id);
    // Edited bytes alone fail the record checksum: the store refuses the file.
    const raw = readFileSync(seg(dir));
    const at = raw.indexOf('"user":"u2"');
    expect(at).toBeGreaterThan(0);
    const flipped = Buffer.from(raw);
    flipped.write('"user":"u7"', at);
    writeFileSync(seg(dir), flipped);
    await rejects(readVerifiedLog(new FileStore(dir), lic.id), 'ERR_STORE_CORRUPT');
    writeFileSync(seg(dir), raw);
    // An editor who recomputes the checksums is caught by the hash chain, which names the event.
    rewriteRecords(seg(dir), (recs) =>
      recs.map((r) => ({ seq: r.seq, json: { ...r.json, e: (r.json.e as Array<[number, string, string, string, { user?: string }]>).map((e) => (e[0] === 4 ? [e[0], e[1], e[2], e[3], { ...e[4], user: 'u7' }] : e)) } })),
    );
    const e = await rejects(readVerifiedLog(new FileStore(dir), lic.id), 'ERR_AUDIT_TAMPERED');
    expect(e.details.seq).toBe(4);
    expect(e.message).toMatch(/event 4/);
  });

  it('events removed from the log while the head stays are detected by the head', async () => {
    const dir = join(tempDir(), 'store');
    await history(withAuditChain(new FileStore(dir)), 6);
    // Keep every write (the head says 6) but drop events 5 and 6.
    rewriteRecords(seg(dir), (recs) => recs.map((r) => ({ seq: r.seq, json: { ...r.json, e: (r.json.e as Array<[number]>).filter((e) => e[0] <= 4) } })));
    const e = await rejects(readVerifiedLog(new FileStore(dir), lic.id), 'ERR_AUDIT_TAMPERED');
    expect(e.details).toMatchObject({ seq: 5, reason: expect.stringMatching(/truncated/) });
    // Cutting the log file short (records and head alike) is caught by the store itself.
    const dir2 = join(tempDir(), 'store');
    const writer = new FileStore(dir2);
    await history(withAuditChain(writer), 6);
    await writer.close();
    const f = frames(seg(dir2));
    writeFileSync(seg(dir2), readFileSync(seg(dir2)).subarray(0, f[4]!.start));
    expect((await rejects(readVerifiedLog(new FileStore(dir2), lic.id), 'ERR_STORE_CORRUPT')).message).toMatch(/ends at record 3 but record 6 was committed/);
    await rejects(new SeatManager(new FileStore(dir2), lic).assign('x', 'basic'), 'ERR_STORE_CORRUPT');
  });

  it('the head record edited or deleted in the log is detected', async () => {
    const dir = join(tempDir(), 'store');
    await history(withAuditChain(new FileStore(dir)), 3);
    const isHead = (w: unknown) => (w as string[])[0] === HEAD_KIND && (w as string[])[1] === HEAD_KEY;
    const raw = readFileSync(seg(dir));
    rewriteRecords(seg(dir), (recs) =>
      recs.map((r) => ({ seq: r.seq, json: { ...r.json, w: (r.json.w as unknown[]).map((w) => (isHead(w) ? [HEAD_KIND, HEAD_KEY, { ...(w as [string, string, AuditHead])[2], hash: 'f'.repeat(64) }] : w)) } })),
    );
    expect((await rejects(readVerifiedLog(new FileStore(dir), lic.id), 'ERR_AUDIT_TAMPERED')).details.seq).toBe(3);
    writeFileSync(seg(dir), raw);
    rewriteRecords(seg(dir), (recs) => recs.map((r) => ({ seq: r.seq, json: { ...r.json, w: (r.json.w as unknown[]).filter((w) => !isHead(w)) } })));
    expect((await rejects(readVerifiedLog(new FileStore(dir), lic.id), 'ERR_AUDIT_TAMPERED')).details.reason).toMatch(/head record is missing/);
  });
});
