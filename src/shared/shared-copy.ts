/**
 * Copies into and out of SharedArrayBuffer memory at memcpy speed. V8 copies to or from shared
 * memory (TypedArray.set, and Buffer.copy, which uses it) with a relaxed-atomic memcpy that moves
 * 8-byte words only when source and destination sit at the same address modulo 8; otherwise it
 * moves single bytes, several times slower (measured here: 2.7 GB/s against 18 GB/s for 16 KB).
 * Channel frames land at any ring position, so most copies were the slow kind. A misaligned copy
 * goes through a private bounce buffer instead: a plain memcpy on the unshared side (fast at any
 * alignment) and a word copy on the shared side, with the bounce buffer placed to match it.
 * Synchronous, one thread's module state: the bounce buffer is never held across calls.
 */

/** Below this, the byte-wise copy is as quick as two calls. */
const BOUNCE_MIN_BYTES = 256;
/** Bounce chunk: a multiple of 8, so every chunk keeps the first one's alignment. */
const BOUNCE_CHUNK_BYTES = 64 * 1024;
const WORD_BYTES = 8;

const bounce = new Uint8Array(BOUNCE_CHUNK_BYTES + WORD_BYTES);

/** Copies all of `src` (unshared memory) to `dst` (shared memory) at `dstOffset`, as dst.set(src, dstOffset). */
export function copyToShared(src: Uint8Array, dst: Uint8Array, dstOffset: number): void {
  copyAligned(src, dst, dstOffset, (dst.byteOffset + dstOffset) % WORD_BYTES, src.byteOffset % WORD_BYTES);
}

/** Copies all of `src` (shared memory) to `dst` (unshared memory) at `dstOffset`, as dst.set(src, dstOffset). */
export function copyFromShared(src: Uint8Array, dst: Uint8Array, dstOffset: number): void {
  copyAligned(src, dst, dstOffset, src.byteOffset % WORD_BYTES, (dst.byteOffset + dstOffset) % WORD_BYTES);
}

/**
 * `sharedShift`: where the shared side sits modulo 8; `otherShift`: the unshared side. Misaligned
 * copies go through the bounce buffer placed at `sharedShift`, so its shared-side copy moves words.
 */
function copyAligned(src: Uint8Array, dst: Uint8Array, dstOffset: number, sharedShift: number, otherShift: number): void {
  if (src.length < BOUNCE_MIN_BYTES || otherShift === sharedShift) {
    dst.set(src, dstOffset);
    return;
  }
  for (let done = 0; done < src.length; done += BOUNCE_CHUNK_BYTES) {
    const n = Math.min(BOUNCE_CHUNK_BYTES, src.length - done);
    bounce.set(src.subarray(done, done + n), sharedShift);
    dst.set(bounce.subarray(sharedShift, sharedShift + n), dstOffset + done);
  }
}
