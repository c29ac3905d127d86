/**
 * Ledger core (src/core/ledger): record layout, sealing, the chain reader's torn-tail and
 * tamper rules, reconciliation of two copies, and the group-commit plan. Pure: no files.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  crossings, decodeRecord, deriveLedgerKey, emptyHead, encodeRecord, frameAll, genesisHash, IdempotencyIndex, planBatch, readChain,
  reconcile, sealRecord, SECTOR, type ChainHead, type ChainRead, type LedgerOp, type LedgerRecord,
} from '../src/core/ledger/index.js';
import { fromHex as parseHex, toHex } from '../src/core/codec/bytes.js';
import { isLicenseError } from '../src/core/errors.js';

const fromHex = (h: string): Uint8Array => parseHex(h) as Uint8Array;
/** test/vectors/ledger-records.json: records and their exact plaintext bytes (see test/vectors/README.md). */
const VECTORS = JSON.parse(readFileSync(new URL('./vectors/ledger-records.json', import.meta.url), 'utf8')) as { name: string; record: Omit<LedgerRecord, 'prevHash'> & { prevHash: string }; plaintext: string }[];

const LID = 'LIC-30';
const key = await deriveLedgerKey('app-secret', LID);
const genesis = genesisHash(LID);

/** Seal and frame a plan's records: the bytes a writer would put in a file. */
async function build(ops: LedgerOp[], credits = 100, head: ChainHead = emptyHead(genesis)) {
  const plan = planBatch(head, ops, credits, 1_700_000_000_000);
  const bytes = frameAll(await Promise.all(plan.plaintexts.map((pt) => sealRecord(key, pt))));
  return { plan, bytes };
}
const consumes = (n: number, reason = 'r'): LedgerOp[] => Array.from({ length: n }, () => ({ kind: 'consume', amount: 1, reason }));
const ok = (r: ChainRead) => {
  if (r.status !== 'ok') throw new Error(`expected ok, got ${r.reason}`);
  return r;
};
/** Frame boundaries of a file made of frames. */
function boundaries(bytes: Uint8Array): number[] {
  const out = [0];
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  for (let p = 0; p < bytes.length; ) {
    p += 4 + dv.getUint32(p);
    out.push(p);
  }
  return out;
}

describe('record layout', () => {
  it('round-trips every field', () => {
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.nat(), amount: fc.integer({ min: 1, max: 2 ** 40 }), consumed: fc.nat(), toppedUp: fc.nat(), time: fc.nat(),
          reason: fc.string({ maxLength: 50 }), kind: fc.constantFrom('consume', 'topup', 'carry' as const), tok: fc.string({ minLength: 1, maxLength: 40 }),
        }),
        (r) => {
          const rec: LedgerRecord = { seq: r.seq, kind: r.kind, amount: r.amount, consumed: r.consumed, toppedUp: r.toppedUp, time: r.time, reason: r.reason, prevHash: genesis, ...(r.kind === 'topup' ? { tokenId: r.tok } : {}) };
          expect(decodeRecord(encodeRecord(rec))).toEqual(rec);
        },
      ),
    );
  });

  it('refuses malformed plaintexts', () => {
    const good = encodeRecord({ seq: 1, kind: 'consume', amount: 1, consumed: 1, toppedUp: 0, time: 5, reason: 'x', prevHash: genesis });
    const mut = (f: (b: Uint8Array) => void) => {
      const b = good.slice();
      f(b);
      return decodeRecord(b);
    };
    expect(mut((b) => (b[0] = 2))).toBeUndefined(); // version
    expect(mut((b) => (b[1] = 9))).toBeUndefined(); // kind
    expect(mut((b) => new DataView(b.buffer).setFloat64(10, 0.5))).toBeUndefined(); // amount not whole
    expect(mut((b) => new DataView(b.buffer).setFloat64(2, -1))).toBeUndefined(); // negative seq
    expect(decodeRecord(good.subarray(0, good.length - 1))).toBeUndefined();
    expect(decodeRecord(new Uint8Array([...good, 0]))).toBeUndefined();
    expect(() => encodeRecord({ seq: 0, kind: 'consume', amount: 1, consumed: 1, toppedUp: 0, time: 0, reason: 'x'.repeat(201), prevHash: genesis })).toThrow(/reason/);
  });

  it('encodes and decodes the stored vectors byte for byte (version 1 without a key, version 2 with one)', () => {
    expect(VECTORS.length).toBeGreaterThanOrEqual(4);
    for (const v of VECTORS) {
      const rec: LedgerRecord = { ...v.record, prevHash: fromHex(v.record.prevHash) };
      expect(toHex(encodeRecord(rec)), v.name).toBe(v.plaintext);
      expect(decodeRecord(fromHex(v.plaintext)), v.name).toEqual(rec);
      expect(fromHex(v.plaintext)[0], v.name).toBe(rec.idempotencyKey === undefined ? 1 : 2);
    }
  });

  it('keeps idempotency keys to consumes, exactly as written, and refuses malformed version-2 records', () => {
    const base = { seq: 0, amount: 1, consumed: 1, toppedUp: 0, time: 5, reason: 'x', prevHash: genesis } as const;
    const keyed = encodeRecord({ ...base, kind: 'consume', idempotencyKey: 'k-1' });
    expect(decodeRecord(keyed)?.idempotencyKey).toBe('k-1');
    for (const bad of ['', 'x'.repeat(129), 'lone \ud800']) expect(() => encodeRecord({ ...base, kind: 'consume', idempotencyKey: bad }), bad).toThrow(/idempotency key/);
    expect(() => encodeRecord({ ...base, kind: 'carry', idempotencyKey: 'k' })).toThrow(/carry record carries no idempotency key/);
    expect(decodeRecord(keyed.subarray(0, keyed.length - 1))).toBeUndefined(); // key cut short
    const zeroKey = keyed.slice(0, keyed.length - 3);
    zeroKey[zeroKey.length - 1] = 0; // version 2 with an empty key: never written
    expect(decodeRecord(zeroKey)).toBeUndefined();
    const v3 = keyed.slice();
    v3[0] = 3;
    expect(decodeRecord(v3)).toBeUndefined();
  });
});

describe('idempotency keys', () => {
  it('planBatch answers a known key with the original, refuses it with another amount, and dedupes within a batch', () => {
    const first = planBatch(emptyHead(genesis), [{ kind: 'consume', amount: 2, reason: '', idempotencyKey: 'a' }], 10, 1);
    const index = new IdempotencyIndex();
    index.add(first.records, 0);
    const plan = planBatch(
      first.head,
      [
        { kind: 'consume', amount: 2, reason: '', idempotencyKey: 'a' }, // recorded before
        { kind: 'consume', amount: 3, reason: '', idempotencyKey: 'a' }, // same key, other amount
        { kind: 'consume', amount: 1, reason: '', idempotencyKey: 'b' }, // new
        { kind: 'consume', amount: 1, reason: '', idempotencyKey: 'b' }, // repeated within the batch
        { kind: 'consume', amount: 50, reason: '', idempotencyKey: 'c' }, // exhausted: nothing recorded under c
      ],
      10,
      2,
      (k) => index.get(k),
    );
    expect(plan.plaintexts).toHaveLength(1);
    const [a, conflict, b, b2, c] = plan.outcomes;
    expect(a).toMatchObject({ ok: true, repeated: { seq: 0, amount: 2, consumed: 2 }, balance: { consumed: 2, remaining: 8 } });
    expect(conflict?.ok === false && conflict.error).toMatchObject({ code: 'ERR_IDEMPOTENCY_CONFLICT', details: { idempotencyKey: 'a', recordedAmount: 2, requested: 3 } });
    expect(b).toMatchObject({ ok: true, record: { seq: 1, idempotencyKey: 'b' } });
    expect(b2).toMatchObject({ ok: true, repeated: { seq: 1, amount: 1, consumed: 3 } });
    expect(c?.ok === false && c.error.code).toBe('ERR_CREDITS_EXHAUSTED');
  });

  it('the index keeps the newest keys of a window and the newest record under a reused key', () => {
    const index = new IdempotencyIndex(3);
    const rec = (seq: number, key: string | undefined, kind: LedgerRecord['kind'] = 'consume'): LedgerRecord => ({ seq, kind, amount: 1, consumed: seq + 1, toppedUp: 0, time: 0, reason: '', prevHash: genesis, ...(key === undefined ? {} : { idempotencyKey: key }) });
    const carried = index.add([rec(0, 'k0'), rec(1, undefined, 'carry'), rec(2, 'k2'), rec(3, 'k3'), rec(4, 'k4')], 0);
    expect(carried).toBe(1);
    expect(index.size).toBe(3);
    expect(index.get('k0')).toBeUndefined(); // the oldest went first
    expect(index.get('k4')).toEqual({ seq: 4, amount: 1, consumed: 5, toppedUp: 0, spent: 4 }); // spent: consumed less carried
    index.add([rec(5, 'k2')], carried);
    expect(index.get('k2')?.seq).toBe(5);
    index.add([rec(6, 'k6')], carried);
    expect(index.get('k3')).toBeUndefined(); // k2 was renewed, so k3 was the oldest
    expect(index.get('k2')?.seq).toBe(5);
  });
});

describe('readChain', () => {
  it('reads a chain and its totals', async () => {
    const { bytes, plan } = await build([...consumes(3), { kind: 'topup', tokenId: 'T1', credits: 50 }, { kind: 'floor', floor: 10 }]);
    const r = ok(await readChain(key, bytes, 0, emptyHead(genesis)));
    expect(r.entries.map((e) => e.record.kind)).toEqual(['consume', 'consume', 'consume', 'topup', 'carry']);
    expect(r.head.consumed).toBe(10);
    expect(r.head.toppedUp).toBe(50);
    expect(r.head.hash).toEqual(plan.head.hash);
    expect(r.end).toBe(bytes.length);
    expect(r.torn).toBe(false);
  });

  it('treats a zero-filled (pre-extended) tail as the end', async () => {
    const { bytes } = await build(consumes(2));
    const file = new Uint8Array(bytes.length + 4096);
    file.set(bytes);
    const r = ok(await readChain(key, file, 0, emptyHead(genesis)));
    expect(r.entries).toHaveLength(2);
    expect(r.torn).toBe(false);
  });

  it('another license or another secret does not open', async () => {
    const { bytes } = await build(consumes(1));
    const other = await deriveLedgerKey('app-secret', 'LIC-OTHER');
    expect((await readChain(other, bytes, 0, emptyHead(genesis))).status).toBe('tampered');
    const wrongSecret = await deriveLedgerKey('other-secret', LID);
    expect((await readChain(wrongSecret, bytes, 0, emptyHead(genesis))).status).toBe('tampered');
    // Right key, wrong genesis: the chain is bound to the license id.
    expect((await readChain(key, bytes, 0, emptyHead(genesisHash('LIC-OTHER')))).status).toBe('tampered');
  });

  it('truncation at every offset reads as a clean or torn prefix, never as more', async () => {
    const { bytes } = await build(consumes(4));
    const ends = boundaries(bytes);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const r = ok(await readChain(key, bytes.subarray(0, cut), 0, emptyHead(genesis)));
      const complete = ends.filter((e) => e > 0 && e <= cut).length;
      expect(r.entries).toHaveLength(complete);
      // Torn unless the cut is at a frame boundary (or only a length prefix's leading zero bytes remain).
      const start = Math.max(...ends.filter((e) => e <= cut));
      expect(r.torn).toBe(bytes.subarray(start, cut).some((x) => x !== 0));
    }
  });

  it('a flipped byte anywhere is tampering, also in the zero tail', async () => {
    const { bytes } = await build(consumes(3));
    const file = new Uint8Array(bytes.length + 64);
    file.set(bytes);
    for (let i = 0; i < file.length; i++) {
      const f = file.slice();
      f[i] = (f[i] as number) ^ 0x01;
      const r = await readChain(key, f, 0, emptyHead(genesis));
      expect(r.status, `byte ${i}`).toBe('tampered');
    }
  });

  it('a write torn at a sector boundary is a torn tail; the same shape mid-file is tampering', async () => {
    // Put the last record across a sector boundary, then zero it from the boundary on.
    const { bytes } = await build(consumes(6));
    const ends = boundaries(bytes);
    const lastStart = ends[ends.length - 2] as number;
    const pad = SECTOR - (lastStart % SECTOR) - 40; // the last frame starts 40 bytes before a boundary
    const file = new Uint8Array(pad + bytes.length + 1024);
    // A leading filler record is not possible, so shift by building a file whose base offset is `pad`.
    file.set(bytes, pad);
    const base = 0;
    const view = file.subarray(pad); // the reader is told the file starts at absolute offset `pad`
    const torn = view.slice();
    const boundary = SECTOR * Math.ceil((pad + lastStart + 1) / SECTOR) - pad;
    torn.fill(0, boundary, bytes.length);
    const r = ok(await readChain(key, torn, pad + base, emptyHead(genesis)));
    expect(r.entries).toHaveLength(5);
    expect(r.torn).toBe(true);
    // The same record damaged in a way no crash produces (a flipped byte) is tampering.
    const flipped = view.slice();
    flipped[lastStart + 10] = (flipped[lastStart + 10] as number) ^ 0xff;
    expect((await readChain(key, flipped, pad, emptyHead(genesis))).status).toBe('tampered');
  });

  it('a lengthened or shortened length prefix on the last record is tampering, not a torn tail', async () => {
    const { bytes } = await build(consumes(3));
    const ends = boundaries(bytes);
    const lastStart = ends[ends.length - 2] as number;
    for (const delta of [1, 7, -1, -5]) {
      for (const tail of [0, 600]) {
        const f = new Uint8Array(bytes.length + tail);
        f.set(bytes);
        const dv = new DataView(f.buffer);
        dv.setUint32(lastStart, dv.getUint32(lastStart) + delta);
        expect((await readChain(key, f, 0, emptyHead(genesis))).status, `delta ${delta} tail ${tail}`).toBe('tampered');
      }
    }
  });

  it('swapped records are tampering', async () => {
    const { bytes } = await build(consumes(3));
    const [a, b, c] = boundaries(bytes) as [number, number, number];
    const swapped = new Uint8Array([...bytes.subarray(b, c), ...bytes.subarray(a, b), ...bytes.subarray(c)]);
    expect((await readChain(key, swapped, 0, emptyHead(genesis))).status).toBe('tampered');
  });

  it('a repeated top-up token in a chain is tampering', async () => {
    const first = await build([{ kind: 'topup', tokenId: 'T', credits: 5 }]);
    // Forge a second record with the same token by planning from a head that forgot the token.
    const head = { ...first.plan.head, tokens: new Set<string>() };
    const second = await build([{ kind: 'topup', tokenId: 'T', credits: 5 }], 100, head);
    const both = new Uint8Array([...first.bytes, ...second.bytes]);
    expect((await readChain(key, both, 0, emptyHead(genesis))).status).toBe('tampered');
  });
});

describe('reconcile', () => {
  const read = async (bytes: Uint8Array) => readChain(key, bytes, 0, emptyHead(genesis));
  it('rebuilds a missing copy, extends the shorter, refuses forks and bad chains', async () => {
    const { bytes } = await build(consumes(4));
    const ends = boundaries(bytes);
    const full = await read(bytes);
    const short = await read(bytes.subarray(0, ends[2]));
    expect(reconcile({ status: 'missing' }, { status: 'missing' }).winner).toBe('none');
    const m = reconcile(full, { status: 'missing' });
    expect(m.winner).toBe('primary');
    expect(m.repairs).toEqual([{ copy: 'mirror', create: true, from: 0, to: bytes.length, zeroTo: 0 }]);
    const e = reconcile(short, full);
    expect(e.winner).toBe('mirror');
    expect(e.repairs).toEqual([{ copy: 'primary', create: false, from: ends[2], to: bytes.length, zeroTo: ends[2] }]);
    // A torn tail in the shorter copy is overwritten and zeroed beyond.
    const torn = await read(bytes.subarray(0, (ends[2] as number) + 9));
    expect(reconcile(full, torn).repairs[0]).toMatchObject({ copy: 'mirror', from: ends[2], to: bytes.length });
    const other = await build(consumes(4, 'different history'));
    expect(() => reconcile(full, ok(read as never) as never)).toThrow();
    try {
      reconcile(full, await read(other.bytes));
      expect.unreachable();
    } catch (err) {
      expect(isLicenseError(err, 'ERR_LEDGER_TAMPERED')).toBe(true);
    }
    const bad = bytes.slice();
    bad[30] = (bad[30] as number) ^ 1;
    expect(() => reconcile(full, { status: 'tampered', offset: 0, reason: 'x' })).toThrow(/mirror/);
    expect(() => reconcile(full, { status: 'missing' }) && reconcile({ status: 'tampered', offset: 0, reason: 'x' }, full)).toThrow(/primary/);
  });
});

describe('planBatch', () => {
  it('decides in order; a refusal consumes nothing', async () => {
    const plan = planBatch(emptyHead(genesis), [
      { kind: 'consume', amount: 7, reason: '' },
      { kind: 'consume', amount: 4, reason: '' }, // 3 remain: refused
      { kind: 'consume', amount: 3, reason: '' },
      { kind: 'consume', amount: 1, reason: '' }, // 0 remain: refused
    ], 10, 0);
    expect(plan.outcomes.map((o) => o.ok)).toEqual([true, false, true, false]);
    expect(plan.plaintexts).toHaveLength(2);
    expect(plan.head.consumed).toBe(10);
    const refused = plan.outcomes[1];
    expect(refused?.ok === false && refused.error.code).toBe('ERR_CREDITS_EXHAUSTED');
  });

  it('applies a token once, and a floor only upwards', () => {
    const plan = planBatch(emptyHead(genesis), [
      { kind: 'topup', tokenId: 'A', credits: 5 },
      { kind: 'topup', tokenId: 'A', credits: 5 },
      { kind: 'floor', floor: 4 },
      { kind: 'floor', floor: 2 },
    ], 0, 0);
    expect(plan.plaintexts).toHaveLength(2);
    expect(plan.head.toppedUp).toBe(5);
    expect(plan.head.consumed).toBe(4);
    // A later batch knows the token, and planning never changes the head it was given.
    const before = [...plan.head.tokens];
    const again = planBatch(plan.head, [{ kind: 'consume', amount: 1, reason: '' }, { kind: 'topup', tokenId: 'A', credits: 5 }, { kind: 'topup', tokenId: 'B', credits: 1 }], 0, 0);
    expect(again.plaintexts).toHaveLength(2);
    expect(again.head.toppedUp).toBe(6);
    expect([...plan.head.tokens]).toEqual(before);
    expect([...again.head.tokens].sort()).toEqual(['A', 'B']);
  });

  it('reports threshold crossings both ways', () => {
    expect(crossings(12, 9, [10, 5])).toEqual([{ threshold: 10, direction: 'down', remaining: 9 }]);
    expect(crossings(9, 4, [10, 5])).toEqual([{ threshold: 5, direction: 'down', remaining: 4 }]);
    expect(crossings(4, 20, [10, 5]).map((e) => e.direction)).toEqual(['up', 'up']);
    expect(crossings(10, 10, [10])).toEqual([]);
  });
});
