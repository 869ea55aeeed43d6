// murmur2 / toPositive against Kafka's UtilsTest vectors and the extra values in kafka-facts §1.
import { describe, expect, it } from 'vitest';
import { murmur2, toPositive } from '../../src/shared/murmur2.js';

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');

// [input, murmur2, toPositive, % 3, % 10]; murmur2 from repo apache/kafka UtilsTest.testMurmur2,
// the other columns from kafka-facts §1.
const vectors: [string, Uint8Array, number, number, number, number][] = [
  ['"21"', ascii('21'), -973932308, 1173551340, 0, 0],
  ['"foobar"', ascii('foobar'), -790332482, 1357151166, 0, 6],
  ['"a-little-bit-long-string"', ascii('a-little-bit-long-string'), -985981536, 1161502112, 2, 2],
  ['"a-little-bit-longer-string"', ascii('a-little-bit-longer-string'), -1486304829, 661178819, 2, 9],
  ['"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"', ascii('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971, 2088585677, 2, 7],
  ["{'a','b','c'}", Uint8Array.of(0x61, 0x62, 0x63), 479470107, 479470107, 0, 7],
];

describe('murmur2', () => {
  it.each(vectors)('%s', (_name, bytes, hash, positive, mod3, mod10) => {
    expect(murmur2(bytes)).toBe(hash);
    expect(toPositive(hash)).toBe(positive);
    expect(positive % 3).toBe(mod3);
    expect(positive % 10).toBe(mod10);
  });

  // Not in the repo: computed for kafka-facts §1 by an independent re-implementation.
  it.each([
    ['empty', new Uint8Array(0), 275646681],
    ['"key-0"', ascii('key-0'), 29210041],
    ['"key-1"', ascii('key-1'), 193331640],
    ['"hello"', ascii('hello'), 2132663229],
    ['FF FE 80 (bytes Java sees as negative)', Uint8Array.of(0xff, 0xfe, 0x80), -160726397],
  ])('%s', (_name, bytes, hash) => {
    expect(murmur2(bytes)).toBe(hash);
  });

  it('toPositive clears the sign bit (not Math.abs)', () => {
    expect(toPositive(-160726397)).toBe(1986757251);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-1)).toBe(2147483647);
    expect(toPositive(5)).toBe(5);
  });

  it('hashes a view by its own bytes only', () => {
    const bytes = Buffer.from('xxfoobarxx');
    expect(murmur2(bytes.subarray(2, 8))).toBe(-790332482);
  });
});
