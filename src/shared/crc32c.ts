/**
 * CRC-32C (Castagnoli), the checksum of RecordBatch v2, computed by @node-rs/crc32's prebuilt
 * native SIMD code. Takes a subrange so callers can check part of a larger buffer (a batch inside
 * a fetch response or a segment read) through a view, never a copy.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

function range(bytes: Uint8Array, start: number, end: number): Uint8Array {
  if (start < 0 || end > bytes.length || start > end) {
    throw new RangeError(`crc32c range [${start}, ${end}) is outside a buffer of ${bytes.length} bytes`);
  }
  // A subarray is a view over the same memory; the native side reads it in place.
  return start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
}

/** CRC-32C of bytes[start, end). `end` defaults to the end of `bytes`. */
export function crc32c(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  return nativeCrc32c(range(bytes, start, end));
}

/** Continues a CRC-32C over more bytes: crc32cUpdate(crc32c(a), b) === crc32c(a ‖ b). */
export function crc32cUpdate(crc: number, bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  return nativeCrc32c(range(bytes, start, end), crc);
}
