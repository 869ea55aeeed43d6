/**
 * Kafka's variable-length integers (ByteUtils): zigzag varint (int32), zigzag varlong (int64) and
 * the protocol's unsigned varint, each LEB128 — 7 bits a byte, least significant group first,
 * 0x80 meaning "more bytes follow".
 *
 * Writers take (bytes, offset, value) and return the offset after the value; the caller makes
 * room first (sizeOf*). Readers take a Cursor, return the value and advance `cursor.offset`, so a
 * hot loop reuses one cursor and allocates nothing. A reader never looks past `end`: a value that
 * runs past it, or that is longer than 5 (varint) or 10 (varlong) bytes, is a CorruptRecordError.
 *
 * Varlongs come in two flavours: `number` (every safe integer, |v| <= 2^53 - 1 — timestamps and
 * their deltas) and `bigint` (the whole int64 range). Both go through the same hi/lo 32-bit words,
 * so no intermediate double ever loses bits.
 */
import { CorruptRecordError } from './errors.js';

/** A read position that readers advance in place. */
export interface Cursor {
  offset: number;
}

const MAX_VARINT_BYTES = 5;
const MAX_VARLONG_BYTES = 10;
const TWO_POW_32 = 4294967296;

function checkWritten(bytes: Uint8Array, end: number): number {
  // Typed arrays drop out-of-range stores silently; say so instead of returning a lie.
  if (end > bytes.length) throw new RangeError(`varint write ends at ${end}, past the buffer's ${bytes.length} bytes`);
  return end;
}

// ---- unsigned varint (protocol compact lengths) ----

/** Bytes that `value` (taken as uint32: -1 is 0xFFFFFFFF) needs as an unsigned varint. */
export function sizeOfUnsignedVarint(value: number): number {
  let v = value >>> 0;
  let size = 1;
  while (v >= 0x80) {
    v >>>= 7;
    size++;
  }
  return size;
}

/** Writes `value` as uint32 (so -1 → FF FF FF FF 0F); returns the offset after it. */
export function writeUnsignedVarint(bytes: Uint8Array, offset: number, value: number): number {
  let v = value >>> 0;
  let pos = offset;
  while (v >= 0x80) {
    bytes[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  bytes[pos++] = v;
  return checkWritten(bytes, pos);
}

/** Reads an unsigned varint as a uint32 (0 … 2^32 - 1). Bits past the 32nd are ignored, as in Kafka. */
export function readUnsignedVarint(bytes: Uint8Array, cursor: Cursor, end: number = bytes.length): number {
  let pos = cursor.offset;
  let value = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos >= end) throw new CorruptRecordError(`varint at byte ${cursor.offset} runs past the end (${end})`);
    const b = bytes[pos++];
    value |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      cursor.offset = pos;
      return value >>> 0;
    }
  }
  throw new CorruptRecordError(`varint at byte ${cursor.offset} is longer than ${MAX_VARINT_BYTES} bytes`);
}

// ---- zigzag varint (int32) ----

/** Bytes that the int32 `value` needs as a zigzag varint (1 … 5). */
export function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint((value << 1) ^ (value >> 31));
}

/** Writes the int32 `value` zigzag-encoded; returns the offset after it. */
export function writeVarint(bytes: Uint8Array, offset: number, value: number): number {
  return writeUnsignedVarint(bytes, offset, (value << 1) ^ (value >> 31));
}

/** Reads a zigzag varint as an int32. */
export function readVarint(bytes: Uint8Array, cursor: Cursor, end: number = bytes.length): number {
  const z = readUnsignedVarint(bytes, cursor, end);
  return (z >>> 1) ^ -(z & 1);
}

// ---- zigzag varlong (int64) over hi/lo words ----

function sizeOfZigzag64(zhi: number, zlo: number): number {
  if (zhi === 0) return sizeOfUnsignedVarint(zlo);
  // Bits above 35 live in zhi shifted by 3 (35 = 5 groups of 7).
  let size = 5;
  let rest = (zhi >>> 3) >>> 0;
  while (rest !== 0) {
    rest >>>= 7;
    size++;
  }
  return size;
}

function writeZigzag64(bytes: Uint8Array, offset: number, zhi: number, zlo: number): number {
  if (zhi === 0) return writeUnsignedVarint(bytes, offset, zlo);
  let pos = offset;
  let lo = zlo >>> 0;
  // The first four groups come from lo alone (bits 0..27).
  for (let i = 0; i < 4; i++) {
    bytes[pos++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  // Group 4 straddles: bits 28..31 of lo and bits 0..2 of hi.
  let hi = zhi >>> 0;
  let group = lo | ((hi & 0x07) << 4);
  hi >>>= 3;
  while (hi !== 0) {
    bytes[pos++] = group | 0x80;
    group = hi & 0x7f;
    hi >>>= 7;
  }
  bytes[pos++] = group;
  return checkWritten(bytes, pos);
}

/** Zigzag of the int64 (hi, lo): (v << 1) ^ (v >> 63), as two words. Writes into ZZ. */
const ZZ = { hi: 0, lo: 0 };
function zigzag64(hi: number, lo: number): void {
  const sign = hi >> 31;
  ZZ.hi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
  ZZ.lo = ((lo << 1) ^ sign) >>> 0;
}

function checkSafe(value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`varlong value ${value} is not a safe integer; use the bigint API`);
}

/** Bytes that the safe integer `value` needs as a zigzag varlong (1 … 10). */
export function sizeOfVarlong(value: number): number {
  if ((value | 0) === value) return sizeOfVarint(value);
  checkSafe(value);
  zigzag64(Math.floor(value / TWO_POW_32), value >>> 0);
  return sizeOfZigzag64(ZZ.hi, ZZ.lo);
}

/** Writes the safe integer `value` as a zigzag varlong; returns the offset after it. */
export function writeVarlong(bytes: Uint8Array, offset: number, value: number): number {
  // An int32's 64-bit zigzag equals its 32-bit zigzag, so most deltas take the short path.
  if ((value | 0) === value) return writeVarint(bytes, offset, value);
  checkSafe(value);
  // ToUint32 is exact modulo 2^32 for any safe integer; floor gives the signed high word.
  zigzag64(Math.floor(value / TWO_POW_32), value >>> 0);
  return writeZigzag64(bytes, offset, ZZ.hi, ZZ.lo);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function splitBigInt(value: bigint): void {
  if (value < INT64_MIN || value > INT64_MAX) throw new RangeError(`varlong value ${value} is outside int64`);
  zigzag64(Number(BigInt.asIntN(32, value >> 32n)), Number(value & 0xffffffffn));
}

/** Bytes that the int64 `value` needs as a zigzag varlong (1 … 10). */
export function sizeOfVarlongBigInt(value: bigint): number {
  splitBigInt(value);
  return sizeOfZigzag64(ZZ.hi, ZZ.lo);
}

/** Writes the int64 `value` as a zigzag varlong; returns the offset after it. */
export function writeVarlongBigInt(bytes: Uint8Array, offset: number, value: bigint): number {
  splitBigInt(value);
  return writeZigzag64(bytes, offset, ZZ.hi, ZZ.lo);
}

/** Reads an unsigned LEB128 of up to 10 bytes into the words of RAW. */
const RAW = { hi: 0, lo: 0 };
function readRaw64(bytes: Uint8Array, cursor: Cursor, end: number): void {
  let pos = cursor.offset;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < MAX_VARLONG_BYTES; i++) {
    if (pos >= end) throw new CorruptRecordError(`varlong at byte ${cursor.offset} runs past the end (${end})`);
    const b = bytes[pos++];
    const bits = b & 0x7f;
    if (i < 4) lo |= bits << (7 * i);
    else if (i === 4) {
      lo |= bits << 28;
      hi = bits >>> 4;
    } else hi |= bits << (7 * i - 32); // bits past the 64th fall off the shift, as in Kafka
    if (b < 0x80) {
      cursor.offset = pos;
      RAW.hi = hi >>> 0;
      RAW.lo = lo >>> 0;
      return;
    }
  }
  throw new CorruptRecordError(`varlong at byte ${cursor.offset} is longer than ${MAX_VARLONG_BYTES} bytes`);
}

/**
 * Reads a zigzag varlong as a number. A value outside the safe-integer range cannot be represented
 * and is reported as a CorruptRecordError (use readVarlongBigInt for the whole int64 range).
 */
export function readVarlong(bytes: Uint8Array, cursor: Cursor, end: number = bytes.length): number {
  const start = cursor.offset;
  readRaw64(bytes, cursor, end);
  const sign = -(RAW.lo & 1);
  const vlo = (((RAW.lo >>> 1) | (RAW.hi << 31)) ^ sign) >>> 0;
  const vhi = (RAW.hi >>> 1) ^ sign;
  const value = vhi * TWO_POW_32 + vlo;
  // Rounding can only land outside the safe range, so this also catches inexact results.
  if (!Number.isSafeInteger(value)) {
    throw new CorruptRecordError(`varlong at byte ${start} is ${value}, beyond ±(2^53 - 1), which ringlog does not support`);
  }
  return value;
}

/** Reads a zigzag varlong as a bigint (the whole int64 range). */
export function readVarlongBigInt(bytes: Uint8Array, cursor: Cursor, end: number = bytes.length): bigint {
  readRaw64(bytes, cursor, end);
  const sign = -(RAW.lo & 1);
  const vlo = (((RAW.lo >>> 1) | (RAW.hi << 31)) ^ sign) >>> 0;
  const vhi = (RAW.hi >>> 1) ^ sign;
  return (BigInt(vhi) << 32n) | BigInt(vlo);
}
