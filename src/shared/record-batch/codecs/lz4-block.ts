/**
 * Decoding of one LZ4 block (the sequence format inside an LZ4 frame) straight into a caller's
 * buffer. Written here rather than taken from the native library because the frame reader needs
 * exact bounds: output goes into one buffer sized up front, every length and offset is checked
 * against what is left, and a block that would write past the end is refused instead of growing
 * anything.
 */
import { CorruptRecordError } from '../../errors.js';

const MIN_MATCH_BYTES = 4;
/** Copies at most this long go byte by byte; longer ones through copyWithin/set (call overhead). */
const SHORT_COPY_BYTES = 32;

function fail(message: string): never {
  throw new CorruptRecordError(message);
}

/** A length of 15 goes on in the bytes from `i`: their sum, each byte of 255 saying another follows. */
function lengthExtension(src: Uint8Array, i: number, end: number): number {
  let extra = 0;
  let byte: number;
  do {
    if (i >= end) fail('block ends inside a length');
    byte = src[i++];
    extra += byte;
  } while (byte === 255);
  return extra;
}

/** How many bytes a length extension summing to `extra` took: its 255s and the last byte. */
const extensionBytes = (extra: number): number => Math.floor(extra / 255) + 1;

/**
 * Decodes src[start, end) into dst from `dstStart`, writing no further than `dstLimit`; returns the
 * end of what it wrote. Matches may reach back only into this block's own output (independent blocks).
 */
export function decodeLz4Block(src: Uint8Array, start: number, end: number, dst: Uint8Array, dstStart: number, dstLimit: number): number {
  let ip = start;
  let op = dstStart;
  for (;;) {
    if (ip >= end) fail('block ends before its last literals');
    const token = src[ip++];
    let literalBytes = token >>> 4;
    if (literalBytes === 15) {
      const extra = lengthExtension(src, ip, end);
      literalBytes += extra;
      ip += extensionBytes(extra);
    }
    if (literalBytes > end - ip) fail(`${literalBytes} literal bytes run past the end of the block`);
    if (literalBytes > dstLimit - op) fail(`output does not fit in ${dstLimit} bytes`);
    if (literalBytes <= SHORT_COPY_BYTES) {
      for (let k = 0; k < literalBytes; k++) dst[op + k] = src[ip + k];
    } else {
      dst.set(src.subarray(ip, ip + literalBytes), op);
    }
    ip += literalBytes;
    op += literalBytes;
    if (ip === end) return op; // the last sequence is literals only

    if (end - ip < 2) fail('block ends inside a match offset');
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op - dstStart) fail(`match offset ${offset} reaches before the block's output`);
    let matchBytes = (token & 15) + MIN_MATCH_BYTES;
    if ((token & 15) === 15) {
      const extra = lengthExtension(src, ip, end);
      matchBytes += extra;
      ip += extensionBytes(extra);
    }
    if (matchBytes > dstLimit - op) fail(`output does not fit in ${dstLimit} bytes`);
    let from = op - offset;
    if (offset < matchBytes || matchBytes <= SHORT_COPY_BYTES) {
      // Overlapping matches repeat bytes just written, so they must go forward one at a time.
      for (const stop = op + matchBytes; op < stop; ) dst[op++] = dst[from++];
    } else {
      dst.copyWithin(op, from, from + matchBytes);
      op += matchBytes;
    }
  }
}
