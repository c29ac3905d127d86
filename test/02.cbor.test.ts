/**
 * The CBOR codec must write exactly RFC 8949 shortest-form bytes (COSE needs them) and must
 * refuse every other encoding of the same value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bstrHeader, decodeCanonical, encodeCbor } from '../src/core/codec/cbor.js';
import { toHex } from '../src/core/codec/bytes.js';

/** Reference shortest-form head (major type, argument), written from RFC 8949 section 3. */
function head(major: number, n: number): string {
  const m = major << 5;
  const h = (x: number, w: number) => x.toString(16).padStart(w * 2, '0');
  if (n < 24) return h(m | n, 1);
  if (n < 0x100) return h(m | 24, 1) + h(n, 1);
  if (n < 0x10000) return h(m | 25, 1) + h(n, 2);
  return h(m | 26, 1) + h(n, 4);
}

describe('canonical CBOR encoding', () => {
  it('writes shortest-form heads for integers at every boundary', () => {
    for (const n of [0, 1, 23, 24, 255, 256, 65535, 65536, 0xffffffff]) {
      expect(toHex(encodeCbor(n)), `+${n}`).toBe(head(0, n));
      if (n > 0) expect(toHex(encodeCbor(-n)), `-${n}`).toBe(head(1, n - 1));
    }
  });

  it('writes shortest-form lengths for text, bytes, arrays and maps', () => {
    for (const len of [0, 1, 23, 24, 255, 256, 1000, 65535, 65536]) {
      expect(toHex(encodeCbor('a'.repeat(len))).slice(0, head(3, len).length), `text ${len}`).toBe(head(3, len));
      expect(toHex(encodeCbor(new Uint8Array(len))).slice(0, head(2, len).length), `bytes ${len}`).toBe(head(2, len));
      expect(toHex(bstrHeader(len)), `bstrHeader ${len}`).toBe(head(2, len));
      if (len <= 1000) {
        expect(toHex(encodeCbor(new Array(len).fill(0))).slice(0, head(4, len).length), `array ${len}`).toBe(head(4, len));
        const m = new Map(Array.from({ length: len }, (_, i) => [i, 0]));
        expect(toHex(encodeCbor(m)).slice(0, head(5, len).length), `map ${len}`).toBe(head(5, len));
      }
    }
  });

  it('writes a JS Map as a plain CBOR map (no tag 259) and bytes untagged', () => {
    expect(toHex(encodeCbor(new Map([[1, -8]])))).toBe('a10127');
    expect(toHex(encodeCbor(Uint8Array.of(1, 2)))).toBe('420102');
    // The exact protected header licit writes: {1: -8, 4: h'0102030405060708', 16: "application/licit-license+cwt"}
    const hdr = encodeCbor(new Map<number, unknown>([[1, -8], [4, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)], [16, 'application/licit-license+cwt']]));
    expect(toHex(hdr)).toBe('a3012704480102030405060708' + '10781d' + Buffer.from('application/licit-license+cwt').toString('hex'));
  });
});

describe('strict decoding', () => {
  it('accepts exactly what the encoder writes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 10 }), fc.integer({ min: -1000, max: 1000 })), fc.oneof(fc.string(), fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 40 }), fc.boolean()))),
        (pairs) => {
          const m = new Map(pairs);
          const bytes = encodeCbor(m);
          expect(decodeCanonical(bytes)).toEqual(m);
        },
      ),
    );
  });

  const refused: [string, string][] = [
    ['duplicate map keys', 'a201010102'],
    ['non-shortest integer', '1817'],
    ['non-shortest integer (2 bytes)', '190017'],
    ['non-shortest text length', '7801' + '61'],
    ['non-shortest map length', 'b80101' + '02'],
    ['indefinite-length array', '9f01ff'],
    ['indefinite-length text', '7f6161ff'],
    ['float standing in for an integer', 'fb3ff0000000000000'],
    ['half float', 'f93c00'],
    ['trailing bytes', '0101'],
    ['truncated', '6461'],
    ['tag 259 map', 'd90103a10101'],
    ['tag inside a payload', 'a101c11a00000001'],
    ['undefined simple value', 'f7'],
    ['uint64 that fits in 4 bytes', '1b00000000ffffffff'],
    ['empty input', ''],
    ['reserved additional info', '1c'],
    ['break outside indefinite item', 'ff'],
  ];
  for (const [why, hex] of refused) {
    it(`refuses ${why}`, () => {
      expect(decodeCanonical(Buffer.from(hex, 'hex'))).toBeUndefined();
    });
  }

  it('accepts only what cbor-x re-encodes to the identical bytes (validator agrees with round trip)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (b) => {
        const v = decodeCanonical(b);
        if (v !== undefined) expect(toHex(encodeCbor(v))).toBe(toHex(b));
      }),
      { numRuns: 20000 },
    );
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        decodeCanonical(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('survives deep nesting without crashing', () => {
    const deep = new Uint8Array(16 * 1024).fill(0x81);
    expect(decodeCanonical(deep)).toBeUndefined();
  });
});

describe('text strings', () => {
  it('accept exactly the valid UTF-8 that TextDecoder (fatal) accepts', () => {
    const fatal = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (body) => {
        const item = new Uint8Array([0x60 | body.length, ...body]);
        let ok = true;
        try {
          fatal.decode(body);
        } catch {
          ok = false;
        }
        expect(decodeCanonical(item) !== undefined, toHex(body)).toBe(ok);
      }),
      { numRuns: 20000 },
    );
    for (const s of ['é', '€', '𝄞', 'ascii']) expect(decodeCanonical(encodeCbor(s))).toBe(s);
  });
});

describe('wide integers', () => {
  it('encodes integers beyond 32 bits as shortest CBOR integers and decodes them as numbers', () => {
    for (const n of [2 ** 32, 253402300799, 2 ** 53 - 1, -(2 ** 32) - 1, -(2 ** 53 - 1)]) {
      const b = encodeCbor(n);
      expect(b[0], String(n)).toBe(n > 0 ? 0x1b : 0x3b);
      expect(decodeCanonical(b)).toBe(n);
      expect(decodeCanonical(encodeCbor(new Map([['exp', n]])))).toEqual(new Map([['exp', n]]));
    }
    expect(decodeCanonical(Buffer.from('1b0020000000000000', 'hex'))).toBeUndefined(); // 2^53: no exact JS number
  });
});
