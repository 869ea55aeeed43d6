// CRC-32C vectors (Kafka's Crc32CTest, the standard check value), subranges, and a pure-JS cross-check.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cUpdate } from '../../src/shared/crc32c.js';

/** Bitwise CRC-32C straight from the definition (reflected polynomial 0x82F63B78). */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('matches Kafka Crc32CTest: "Some String" → 608512271', () => {
    expect(crc32c(Buffer.from('Some String'))).toBe(608512271);
  });

  it('matches the standard check value: "123456789" → 0xE3069283', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('is 0 for no bytes', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('takes a plain Uint8Array as well as a Buffer', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('checks a subrange in place', () => {
    const bytes = Buffer.from('xx123456789yy');
    expect(crc32c(bytes, 2, 11)).toBe(0xe3069283);
    expect(crc32c(bytes.subarray(2), 0, 9)).toBe(0xe3069283);
  });

  it('refuses a range outside the buffer', () => {
    expect(() => crc32c(Buffer.alloc(4), 2, 5)).toThrow(RangeError);
    expect(() => crc32c(Buffer.alloc(4), 3, 2)).toThrow(RangeError);
  });

  it('continues over split input', () => {
    const bytes = Buffer.from('123456789');
    expect(crc32cUpdate(crc32c(bytes, 0, 4), bytes, 4)).toBe(0xe3069283);
  });

  it('agrees with a bitwise reference on random ranges', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length - start === 0 ? 0 : b % (bytes.length - start + 1));
        expect(crc32c(bytes, start, end)).toBe(referenceCrc32c(bytes.subarray(start, end)));
      }),
    );
  });
});
