// Kafka's varint/varlong vectors (ByteUtilsTest) both ways, boundaries, bad input, and round trips.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptRecordError } from '../../src/shared/errors.js';
import {
  type Cursor,
  readUnsignedVarint,
  readVarint,
  readVarlong,
  readVarlongBigInt,
  sizeOfUnsignedVarint,
  sizeOfVarint,
  sizeOfVarlong,
  sizeOfVarlongBigInt,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
  writeVarlongBigInt,
} from '../../src/shared/varint.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.split(' ').map((b) => parseInt(b, 16)));
const encode = (write: (b: Uint8Array, o: number) => number): Uint8Array => {
  const bytes = new Uint8Array(16);
  return bytes.subarray(0, write(bytes, 0));
};

// Every vector of repo apache/kafka clients/src/test/java/org/apache/kafka/common/utils/ByteUtilsTest.java
// (testVarintSerde, testVarlongSerde, testUnsignedVarintSerde, testInvalidVarint/Varlong).
const varintVectors: [number, string][] = [
  [0, '00'],
  [-1, '01'],
  [1, '02'],
  [63, '7E'],
  [-64, '7F'],
  [64, '80 01'],
  [-65, '81 01'],
  [8191, 'FE 7F'],
  [-8192, 'FF 7F'],
  [8192, '80 80 01'],
  [-8193, '81 80 01'],
  [1048575, 'FE FF 7F'],
  [-1048576, 'FF FF 7F'],
  [1048576, '80 80 80 01'],
  [-1048577, '81 80 80 01'],
  [134217727, 'FE FF FF 7F'],
  [-134217728, 'FF FF FF 7F'],
  [134217728, '80 80 80 80 01'],
  [-134217729, '81 80 80 80 01'],
  [2147483647, 'FE FF FF FF 0F'],
  [-2147483648, 'FF FF FF FF 0F'],
];

const varlongVectors: [bigint, string][] = [
  ...varintVectors.map(([v, b]): [bigint, string] => [BigInt(v), b]),
  [17179869183n, 'FE FF FF FF 7F'],
  [-17179869184n, 'FF FF FF FF 7F'],
  [17179869184n, '80 80 80 80 80 01'],
  [-17179869185n, '81 80 80 80 80 01'],
  [2199023255551n, 'FE FF FF FF FF 7F'],
  [-2199023255552n, 'FF FF FF FF FF 7F'],
  [2199023255552n, '80 80 80 80 80 80 01'],
  [-2199023255553n, '81 80 80 80 80 80 01'],
  [281474976710655n, 'FE FF FF FF FF FF 7F'],
  [-281474976710656n, 'FF FF FF FF FF FF 7F'],
  [281474976710656n, '80 80 80 80 80 80 80 01'],
  [-281474976710657n, '81 80 80 80 80 80 80 01'],
  [36028797018963967n, 'FE FF FF FF FF FF FF 7F'],
  [-36028797018963968n, 'FF FF FF FF FF FF FF 7F'],
  [36028797018963968n, '80 80 80 80 80 80 80 80 01'],
  [-36028797018963969n, '81 80 80 80 80 80 80 80 01'],
  [4611686018427387903n, 'FE FF FF FF FF FF FF FF 7F'],
  [-4611686018427387904n, 'FF FF FF FF FF FF FF FF 7F'],
  [4611686018427387904n, '80 80 80 80 80 80 80 80 80 01'],
  [-4611686018427387905n, '81 80 80 80 80 80 80 80 80 01'],
  [9223372036854775807n, 'FE FF FF FF FF FF FF FF FF 01'],
  [-9223372036854775808n, 'FF FF FF FF FF FF FF FF FF 01'],
];

// testUnsignedVarintSerde writes Java ints; readUnsignedVarint here answers the same bits as a uint32.
const unsignedVectors: [number, string][] = [
  [0, '00'],
  [-1, 'FF FF FF FF 0F'],
  [1, '01'],
  [63, '3F'],
  [-64, 'C0 FF FF FF 0F'],
  [64, '40'],
  [8191, 'FF 3F'],
  [-8192, '80 C0 FF FF 0F'],
  [8192, '80 40'],
  [-8193, 'FF BF FF FF 0F'],
  [1048575, 'FF FF 3F'],
  [1048576, '80 80 40'],
  [2147483647, 'FF FF FF FF 07'],
  [-2147483648, '80 80 80 80 08'],
];

/** A plain bigint zigzag + LEB128, written straight from the definition, to check the word-based code against. */
function referenceVarlong(value: bigint): Uint8Array {
  let z = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return Uint8Array.from(out);
}

describe('varint (zigzag int32)', () => {
  it.each(varintVectors)('%d ⇄ %s', (value, bytes) => {
    expect(encode((b, o) => writeVarint(b, o, value))).toEqual(hex(bytes));
    expect(sizeOfVarint(value)).toBe(hex(bytes).length);
    const cursor: Cursor = { offset: 0 };
    expect(readVarint(hex(bytes), cursor)).toBe(value);
    expect(cursor.offset).toBe(hex(bytes).length);
  });

  it('reads and writes at an offset inside a larger buffer', () => {
    const bytes = new Uint8Array(10).fill(0xaa);
    expect(writeVarint(bytes, 3, 8192)).toBe(6);
    expect(bytes.subarray(3, 6)).toEqual(hex('80 80 01'));
    expect(bytes[6]).toBe(0xaa);
    const cursor = { offset: 3 };
    expect(readVarint(bytes, cursor)).toBe(8192);
    expect(cursor.offset).toBe(6);
  });

  it('refuses more than 5 bytes (testInvalidVarint) and reads past the end', () => {
    expect(() => readVarint(hex('FF FF FF FF FF 01'), { offset: 0 })).toThrow(/longer than 5 bytes/);
    expect(() => readVarint(hex('80 80'), { offset: 0 })).toThrow(/runs past the end/);
    expect(() => readVarint(new Uint8Array(0), { offset: 0 })).toThrow(CorruptRecordError);
    // `end` bounds the read even when the buffer goes on.
    expect(() => readVarint(hex('80 80 01'), { offset: 0 }, 2)).toThrow(CorruptRecordError);
  });

  it('leaves the cursor where it was when a read fails', () => {
    const cursor = { offset: 1 };
    expect(() => readVarint(hex('00 80'), cursor)).toThrow(CorruptRecordError);
    expect(cursor.offset).toBe(1);
  });

  it('throws RangeError instead of dropping bytes past the buffer', () => {
    expect(() => writeVarint(new Uint8Array(2), 0, 8192)).toThrow(RangeError);
  });

  it('round-trips every int32', () => {
    fc.assert(
      fc.property(fc.integer(), (value) => {
        const bytes = encode((b, o) => writeVarint(b, o, value));
        expect(bytes.length).toBe(sizeOfVarint(value));
        expect(readVarint(bytes, { offset: 0 })).toBe(value);
      }),
    );
  });
});

describe('unsigned varint', () => {
  it.each(unsignedVectors)('%d ⇄ %s', (value, bytes) => {
    expect(encode((b, o) => writeUnsignedVarint(b, o, value))).toEqual(hex(bytes));
    expect(sizeOfUnsignedVarint(value)).toBe(hex(bytes).length);
    const cursor = { offset: 0 };
    expect(readUnsignedVarint(hex(bytes), cursor)).toBe(value >>> 0);
    expect(cursor.offset).toBe(hex(bytes).length);
  });

  it.each([
    [127, '7F'],
    [128, '80 01'],
    [300, 'AC 02'],
    [4294967295, 'FF FF FF FF 0F'],
  ])('%d ⇄ %s', (value, bytes) => {
    expect(encode((b, o) => writeUnsignedVarint(b, o, value))).toEqual(hex(bytes));
    expect(readUnsignedVarint(hex(bytes), { offset: 0 })).toBe(value);
  });

  it('refuses a sixth byte', () => {
    expect(() => readUnsignedVarint(hex('80 80 80 80 80 01'), { offset: 0 })).toThrow(/longer than 5 bytes/);
  });

  it('round-trips every uint32', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        const bytes = encode((b, o) => writeUnsignedVarint(b, o, value));
        expect(bytes.length).toBe(sizeOfUnsignedVarint(value));
        expect(readUnsignedVarint(bytes, { offset: 0 })).toBe(value);
      }),
    );
  });
});

describe('varlong (zigzag int64)', () => {
  it.each(varlongVectors)('%s ⇄ %s (bigint)', (value, bytes) => {
    expect(encode((b, o) => writeVarlongBigInt(b, o, value))).toEqual(hex(bytes));
    expect(sizeOfVarlongBigInt(value)).toBe(hex(bytes).length);
    const cursor = { offset: 0 };
    expect(readVarlongBigInt(hex(bytes), cursor)).toBe(value);
    expect(cursor.offset).toBe(hex(bytes).length);
  });

  const safe = varlongVectors.filter(([v]) => v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER));
  it.each(safe)('%s ⇄ %s (number)', (value, bytes) => {
    const n = Number(value);
    expect(encode((b, o) => writeVarlong(b, o, n))).toEqual(hex(bytes));
    expect(sizeOfVarlong(n)).toBe(hex(bytes).length);
    expect(readVarlong(hex(bytes), { offset: 0 })).toBe(n);
  });

  it('numbers cover the whole safe range exactly', () => {
    for (const n of [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 32, -(2 ** 32), 2 ** 32 - 1, -(2 ** 31) - 1, 2 ** 31]) {
      const bytes = encode((b, o) => writeVarlong(b, o, n));
      expect(bytes).toEqual(encode((b, o) => writeVarlongBigInt(b, o, BigInt(n))));
      expect(readVarlong(bytes, { offset: 0 })).toBe(n);
    }
  });

  it('refuses to read a value beyond the safe range as a number, but not as a bigint', () => {
    const bytes = encode((b, o) => writeVarlongBigInt(b, o, 2n ** 53n));
    expect(() => readVarlong(bytes, { offset: 0 })).toThrow(CorruptRecordError);
    expect(readVarlongBigInt(bytes, { offset: 0 })).toBe(2n ** 53n);
  });

  it('refuses to write what it cannot represent', () => {
    expect(() => writeVarlong(new Uint8Array(10), 0, 2 ** 53)).toThrow(RangeError);
    expect(() => writeVarlong(new Uint8Array(10), 0, 1.5)).toThrow(RangeError);
    expect(() => writeVarlongBigInt(new Uint8Array(10), 0, 2n ** 63n)).toThrow(RangeError);
  });

  it('refuses more than 10 bytes (testInvalidVarlong) and reads past the end', () => {
    expect(() => readVarlong(hex('FF FF FF FF FF FF FF FF FF FF 01'), { offset: 0 })).toThrow(/longer than 10 bytes/);
    expect(() => readVarlongBigInt(hex('80 80 80 80 80 80'), { offset: 0 })).toThrow(/runs past the end/);
  });

  it('round-trips every safe integer as a number and every int64 as a bigint', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (value) => {
        const bytes = encode((b, o) => writeVarlong(b, o, value));
        expect(bytes).toEqual(referenceVarlong(BigInt(value)));
        expect(bytes.length).toBe(sizeOfVarlong(value));
        expect(readVarlong(bytes, { offset: 0 })).toBe(value);
        expect(readVarlongBigInt(bytes, { offset: 0 })).toBe(BigInt(value));
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (value) => {
        const bytes = encode((b, o) => writeVarlongBigInt(b, o, value));
        expect(bytes).toEqual(referenceVarlong(value));
        expect(bytes.length).toBe(sizeOfVarlongBigInt(value));
        expect(readVarlongBigInt(bytes, { offset: 0 })).toBe(value);
      }),
    );
  });
});
