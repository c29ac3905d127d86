import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Decode, base64Encode, base64urlDecode, base64urlEncode } from '../src/core/codec/base64.js';

describe('base64url', () => {
  it('round-trips any bytes and matches Node', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const s = base64urlEncode(b);
        expect(s).toBe(Buffer.from(b).toString('base64url'));
        expect(base64urlDecode(s)).toEqual(b);
        expect(base64Encode(b)).toBe(Buffer.from(b).toString('base64'));
        expect(base64Decode(base64Encode(b))).toEqual(b);
      }),
    );
  });

  it('refuses non-canonical text: foreign characters, padding, impossible lengths, stray bits', () => {
    expect(base64urlDecode('AAAA')).toEqual(new Uint8Array(3));
    expect(base64urlDecode('AA==')).toBeUndefined();
    expect(base64urlDecode('AA+A')).toBeUndefined();
    expect(base64urlDecode('A')).toBeUndefined();
    expect(base64urlDecode('AB')).toBeUndefined(); // 'B' leaves a non-zero trailing bit
    expect(base64urlDecode('AA')).toEqual(new Uint8Array(1));
    expect(base64urlDecode('é')).toBeUndefined();
  });

  it('gives each byte string exactly one text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), maxLength: 40 }), (s) => {
        const b = base64urlDecode(s);
        if (b !== undefined) expect(base64urlEncode(b)).toBe(s);
      }),
    );
  });
});

describe('native and portable base64url decoders', () => {
  it('agree on every input, valid or not', async () => {
    const { base64urlDecodePortable } = await import('../src/core/codec/base64.js');
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= é'), maxLength: 40 }), (s) => {
        expect(base64urlDecode(s)).toEqual(base64urlDecodePortable(s));
      }),
      { numRuns: 5000 },
    );
  });
});
