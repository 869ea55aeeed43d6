import { describe, expect, it } from 'vitest';
import { copyFromShared, copyToShared } from '../../src/shared/shared-copy.js';

function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

// Sizes below the bounce threshold, between, and across several bounce chunks; every alignment pair.
const SIZES = [0, 1, 7, 255, 256, 1_000, 16_389, 200_003];

describe('shared-copy', () => {
  it('copies into shared memory exactly as TypedArray.set, at every alignment of source and destination', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(210_000));
    const expected = new Uint8Array(210_000);
    for (const size of SIZES) {
      for (let srcShift = 0; srcShift < 8; srcShift++) {
        for (let dstShift = 0; dstShift < 8; dstShift++) {
          const src = pattern(size + srcShift, size + dstShift).subarray(srcShift);
          shared.fill(0xee);
          expected.fill(0xee);
          copyToShared(src, shared, 3 + dstShift);
          expected.set(src, 3 + dstShift);
          expect(Buffer.compare(Buffer.from(shared.buffer), Buffer.from(expected.buffer))).toBe(0);
        }
      }
    }
  });

  it('copies out of shared memory exactly as TypedArray.set, at every alignment of source and destination', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(210_000));
    shared.set(pattern(210_000, 5));
    const out = new Uint8Array(210_000);
    const expected = new Uint8Array(210_000);
    for (const size of SIZES) {
      for (let srcShift = 0; srcShift < 8; srcShift++) {
        for (let dstShift = 0; dstShift < 8; dstShift++) {
          const src = shared.subarray(srcShift, srcShift + size);
          out.fill(0xee);
          expected.fill(0xee);
          copyFromShared(src, out, 5 + dstShift);
          expected.set(src, 5 + dstShift);
          expect(Buffer.compare(out, expected)).toBe(0);
        }
      }
    }
  });
});
