/**
 * The log engine's byte format (node/log/): CRC-32C against RFC 3720, frames against stored
 * vectors, and the scan's one judgement that matters, a torn last write (cut) against damage
 * before it (refused), over every single-byte corruption of random segments.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LicenseError } from '../src/core/errors.js';
import { crc32c } from '../src/node/log/crc32c.js';
import { FrameType, encodeFrames, readFrame } from '../src/node/log/frame.js';
import { dataBytes, headerBytes, scanSegment, sealBytes } from '../src/node/log/segment.js';

const vectors = JSON.parse(readFileSync(new URL('./vectors/log-frames.json', import.meta.url), 'utf8')) as {
  crc32c: Array<{ name: string; hex: string; crc: string }>;
  frames: {
    header: { id: string; gen: number; base: number; hex: string };
    batch: { seq: number; payloads: string[]; hex: string };
    seal: { gen: number; seq: number; hex: string };
  };
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (s: string) => new Uint8Array(Buffer.from(s));
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const ID = { id: 'lic-1', gen: 1 };

/** A segment: header, then one write per entry of `batches` (each a list of payloads), then `pad` zeros. */
function segmentOf(batches: string[][], pad = 256): { bytes: Uint8Array; ends: number[] } {
  const parts = [headerBytes('lic-1', 1, 0)];
  const ends: number[] = [];
  let seq = 0;
  let at = parts[0]!.length;
  for (const b of batches) {
    const w = dataBytes(seq, b.map(utf8));
    parts.push(w);
    seq += b.length;
    at += w.length;
    ends.push(at);
  }
  parts.push(new Uint8Array(pad));
  return { bytes: concat(...parts), ends };
}

const texts = (records: Uint8Array[]) => records.map((r) => Buffer.from(r).toString('utf8'));

describe('CRC-32C', () => {
  it.each(vectors.crc32c)('$name', ({ hex: h, crc }) => {
    expect(crc32c(new Uint8Array(Buffer.from(h, 'hex'))).toString(16).padStart(8, '0')).toBe(crc);
  });

  it('gives the same answer over any sub-range as over a copy of it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const from = bytes.length === 0 ? 0 : a % bytes.length;
        const to = from + (bytes.length === 0 ? 0 : b % (bytes.length - from + 1));
        expect(crc32c(bytes, from, to)).toBe(crc32c(bytes.slice(from, to)));
      }),
    );
  });
});

describe('frames', () => {
  it('encode to the stored bytes and decode back', () => {
    const v = vectors.frames;
    expect(hex(headerBytes(v.header.id, v.header.gen, v.header.base))).toBe(v.header.hex);
    expect(hex(dataBytes(v.batch.seq, v.batch.payloads.map(utf8)))).toBe(v.batch.hex);
    expect(hex(sealBytes(v.seal.gen, v.seal.seq))).toBe(v.seal.hex);
    const batch = new Uint8Array(Buffer.from(v.batch.hex, 'hex'));
    const first = readFrame(batch, 0)!;
    const second = readFrame(batch, first.end)!;
    expect([first.type, first.seq, first.batch, first.flags, second.seq, second.batch, second.flags]).toEqual([FrameType.data, 1, 1, 0, 2, 1, 1]);
    expect(texts([first.payload, second.payload])).toEqual(v.batch.payloads);
  });

  it('zeros, a flipped bit and a cut body are never a frame', () => {
    expect(readFrame(new Uint8Array(64), 0)).toBeUndefined();
    const f = encodeFrames([{ type: FrameType.data, seq: 1, batch: 1, payload: utf8('{"x":1}'), end: true }]);
    for (let i = 0; i < f.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const g = f.slice();
        g[i] = (g[i] as number) ^ bit;
        expect(readFrame(g, 0), `byte ${i} bit ${bit}`).toBeUndefined();
      }
    }
    expect(readFrame(f.subarray(0, f.length - 1), 0)).toBeUndefined();
    expect(() => encodeFrames([{ type: FrameType.data, seq: 1, batch: 1, payload: new Uint8Array(64 * 1024 * 1024) }])).toThrow(RangeError);
  });
});

describe('scanning a segment', () => {
  it('returns the records of complete writes and stops at zeros', () => {
    const { bytes, ends } = segmentOf([['a'], ['b', 'c'], ['d']]);
    const s = scanSegment('seg', bytes, 0, ID);
    expect(texts(s.records)).toEqual(['a', 'b', 'c', 'd']);
    expect([s.end, s.seq, s.sealed, s.dataEnd]).toEqual([ends[2], 4, false, ends[2]]);
  });

  it('a write torn anywhere leaves the writes before it, whole', () => {
    const { bytes, ends } = segmentOf([['a'], ['b', 'c'], ['d', 'e', 'f']]);
    // Every prefix of the last write that reached the disk, the rest still zeros.
    for (let cut = ends[1]!; cut < ends[2]!; cut++) {
      const torn = concat(bytes.subarray(0, cut), new Uint8Array(bytes.length - cut));
      const s = scanSegment('seg', torn, 0, ID);
      expect(texts(s.records), `cut at ${cut}`).toEqual(['a', 'b', 'c']);
      expect(s.end).toBe(ends[1]);
    }
    // Sectors of the last write that landed out of order: its end without its start.
    const holed = bytes.slice();
    holed.fill(0, ends[1]!, ends[1]! + 20);
    expect(texts(scanSegment('seg', holed, 0, ID).records)).toEqual(['a', 'b', 'c']);
  });

  it('leftovers of a torn write that a shorter later write covered are not damage', () => {
    // Write 3 was torn after a crash; the next writer wrote a shorter write 3' over its start.
    const old = segmentOf([['a'], ['torn-1', 'torn-2', 'torn-3-long-long-long']]);
    const over = dataBytes(1, [utf8('new')]);
    const torn = concat(old.bytes.subarray(0, old.ends[1]! - 5), new Uint8Array(old.bytes.length - old.ends[1]! + 5));
    torn.set(over, old.ends[0]!);
    const s = scanSegment('seg', torn, 0, ID);
    expect(texts(s.records)).toEqual(['a', 'new']);
    expect(s.dataEnd).toBeGreaterThan(s.end); // the leftovers are there, to be zeroed by a writer
  });

  it('any damage before the last write is ERR_STORE_CORRUPT; any in the last write cuts it alone', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 5 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (batches, where, xor) => {
          const { bytes, ends } = segmentOf(batches);
          const headerEnd = readFrame(bytes, 0)!.end;
          const at = headerEnd + (where % (ends.at(-1)! - headerEnd));
          const bad = bytes.slice();
          bad[at] = (bad[at] as number) ^ xor;
          const lastStart = ends.at(-2)!;
          if (at < lastStart) {
            expect(() => scanSegment('seg', bad, 0, ID)).toThrow(LicenseError);
          } else {
            const s = scanSegment('seg', bad, 0, ID);
            expect(texts(s.records)).toEqual(batches.slice(0, -1).flat());
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a seal ends the segment; records numbered out of order are damage', () => {
    const { bytes, ends } = segmentOf([['a'], ['b']], 0);
    const sealed = concat(bytes, sealBytes(1, 2), new Uint8Array(64));
    const s = scanSegment('seg', sealed, 0, ID);
    expect([s.sealed, s.seq, texts(s.records)]).toEqual([true, 2, ['a', 'b']]);
    const skipped = concat(bytes.subarray(0, ends[0]), dataBytes(2, [utf8('c')]));
    expect(() => scanSegment('seg', skipped, 0, ID)).toThrow(/belongs to write 3 but write 2 was expected/);
    expect(() => scanSegment('seg', bytes, 0, { id: 'other', gen: 1 })).toThrow(/belongs to "lic-1", not "other"/);
    expect(() => scanSegment('seg', bytes, 5, ID)).toThrow(/starts after record 0 but the log before it ends at record 5/);
  });

  it('asks for more bytes when a frame runs past the window', () => {
    const w = dataBytes(0, [utf8('x'.repeat(100))]);
    const s = scanSegment('seg', w.subarray(0, 50), 0, undefined, 1000);
    expect([s.records.length, s.needMore]).toEqual([0, true]);
  });
});
