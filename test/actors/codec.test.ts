import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonCodec, structCodec, utf8Codec } from '../../src/actors/codec.js';

describe('codecs', () => {
  const codec = structCodec({ id: 'u32', small: 'u8', port: 'u16', delta: 'i32', ratio: 'f64', offset: 'i64', ok: 'bool', name: 'string', data: 'bytes' });

  it('round-trips a struct of every field type', () => {
    fc.assert(fc.property(
      fc.record({
        id: fc.nat({ max: 0xffff_ffff }), small: fc.nat({ max: 255 }), port: fc.nat({ max: 65_535 }),
        delta: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), ratio: fc.double({ noNaN: true }),
        offset: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), ok: fc.boolean(), name: fc.string(), data: fc.uint8Array(),
      }),
      (value) => {
        const decoded = codec.decode(codec.encode(value));
        expect({ ...decoded, data: Array.from(decoded.data) }).toEqual({ ...value, data: Array.from(value.data) });
      },
    ));
  });

  it('refuses a struct whose length field points past the end', () => {
    const bytes = codec.encode({ id: 1, small: 2, port: 3, delta: 4, ratio: 5, offset: 6n, ok: true, name: 'n', data: new Uint8Array(8) });
    expect(() => codec.decode(bytes.subarray(0, bytes.length - 3))).toThrow(RangeError);
  });

  it('round-trips text and json', () => {
    expect(utf8Codec.decode(utf8Codec.encode('zażółć 🚀'))).toBe('zażółć 🚀');
    expect(jsonCodec.decode(jsonCodec.encode({ a: [1, 'b', null] }))).toEqual({ a: [1, 'b', null] });
  });
});
