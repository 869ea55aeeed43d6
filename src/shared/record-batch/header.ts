/**
 * RecordBatch v2 headers without parsing records: validated reads (readBatchHeader), cheap
 * unvalidated peeks for code that has already validated a batch, and the in-place patches the
 * broker makes (baseOffset and partitionLeaderEpoch lie outside the CRC; log-append time does not,
 * so that patch recomputes the CRC).
 *
 * Offsets, timestamps and producer ids are JavaScript numbers. int64 fields whose value is beyond
 * ±(2^53 - 1) cannot be represented exactly and are reported as CorruptRecordError.
 */
import { crc32c } from '../crc32c.js';
import { CorruptRecordError } from '../errors.js';
import { compressionName, isKnownCompression } from './compression.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  CRC_START_OFFSET,
  DELETE_HORIZON_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  MIN_BATCH_LENGTH,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  TimestampType,
  type TimestampTypeId,
} from './layout.js';

const TWO_POW_32 = 4294967296;

/** A Buffer over the same memory as `bytes` (no copy), for Buffer's big-endian accessors. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A big-endian int64 as a number; exact when the value is a safe integer (check with Number.isSafeInteger). */
export function readInt64Number(buf: Buffer, position: number): number {
  return buf.readInt32BE(position) * TWO_POW_32 + buf.readUInt32BE(position + 4);
}

/** Writes a safe integer as a big-endian int64. */
export function writeInt64Number(buf: Buffer, position: number, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`int64 value ${value} is not a safe integer`);
  // floor gives the signed high word; ToUint32 is exact modulo 2^32 for safe integers.
  buf.writeInt32BE(Math.floor(value / TWO_POW_32), position);
  buf.writeUInt32BE(value >>> 0, position + 4);
}

/** The fixed-width fields of one batch, and a view of its bytes. */
export interface RecordBatchHeader {
  /** Byte position of the batch in the buffer it was read from. */
  position: number;
  /** The whole batch, LOG_OVERHEAD + batchLength bytes: a view, not a copy. */
  bytes: Buffer;
  /** LOG_OVERHEAD + batchLength. */
  sizeInBytes: number;
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  /** Stored CRC-32C, as an unsigned 32-bit number. */
  crc: number;
  attributes: number;
  /** Compression id, attribute bits 0-2 (see Compression in layout.ts). */
  compression: number;
  timestampType: TimestampTypeId;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
  lastOffsetDelta: number;
  /** baseOffset + lastOffsetDelta. */
  lastOffset: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

export interface ReadBatchHeaderOptions {
  /** Bytes past this position do not belong to the range being read. Default: the buffer's end. */
  end?: number;
  /** Check the CRC-32C (default true). Skip only for bytes that were validated already. */
  verifyCrc?: boolean;
}

function int64Field(buf: Buffer, batchPosition: number, fieldOffset: number, name: string): number {
  const value = readInt64Number(buf, batchPosition + fieldOffset);
  if (!Number.isSafeInteger(value)) {
    throw new CorruptRecordError(`batch at byte ${batchPosition}: ${name} ${buf.readBigInt64BE(batchPosition + fieldOffset)} is beyond ±(2^53 - 1), which ringlog does not support`);
  }
  return value;
}

/**
 * Reads and validates the header of the batch that starts at `position`: enough bytes for the log
 * overhead, a batchLength of at least 49 that fits before `end`, magic 2, a known compression id,
 * a matching CRC-32C and recordsCount >= 0. Every failure is a CorruptRecordError. Records are not
 * parsed.
 */
export function readBatchHeader(bytes: Uint8Array, position = 0, options: ReadBatchHeaderOptions = {}): RecordBatchHeader {
  const buf = asBuffer(bytes);
  const end = options.end ?? buf.length;
  if (!Number.isInteger(position) || position < 0 || end > buf.length || position > end) {
    throw new RangeError(`batch position ${position} / end ${end} outside a buffer of ${buf.length} bytes`);
  }
  const available = end - position;
  if (available < LOG_OVERHEAD) {
    throw new CorruptRecordError(`batch at byte ${position}: only ${available} bytes, fewer than the ${LOG_OVERHEAD}-byte log overhead`);
  }
  const batchLength = buf.readInt32BE(position + BATCH_LENGTH_OFFSET);
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new CorruptRecordError(`batch at byte ${position}: batchLength ${batchLength} is below the minimum ${MIN_BATCH_LENGTH}`);
  }
  const sizeInBytes = LOG_OVERHEAD + batchLength;
  if (sizeInBytes > available) {
    throw new CorruptRecordError(`batch at byte ${position}: batchLength ${batchLength} needs ${sizeInBytes} bytes, only ${available} available`);
  }
  const magic = buf.readInt8(position + MAGIC_OFFSET);
  if (magic !== MAGIC_V2) {
    throw new CorruptRecordError(`batch at byte ${position}: magic ${magic}, expected ${MAGIC_V2}`);
  }
  const crc = buf.readUInt32BE(position + CRC_OFFSET);
  if (options.verifyCrc !== false) {
    const actual = crc32c(buf, position + CRC_START_OFFSET, position + sizeInBytes);
    if (actual !== crc) {
      throw new CorruptRecordError(`batch at byte ${position}: CRC-32C mismatch, stored 0x${hex32(crc)}, computed 0x${hex32(actual)}`);
    }
  }
  const attributes = buf.readInt16BE(position + ATTRIBUTES_OFFSET);
  const compression = attributes & COMPRESSION_CODEC_MASK;
  if (!isKnownCompression(compression)) {
    throw new CorruptRecordError(`batch at byte ${position}: unknown compression id ${compression} (${compressionName(compression)})`);
  }
  const recordsCount = buf.readInt32BE(position + RECORDS_COUNT_OFFSET);
  if (recordsCount < 0) {
    throw new CorruptRecordError(`batch at byte ${position}: negative recordsCount ${recordsCount}`);
  }
  const baseOffset = int64Field(buf, position, BASE_OFFSET_OFFSET, 'baseOffset');
  const lastOffsetDelta = buf.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
  const lastOffset = baseOffset + lastOffsetDelta;
  if (!Number.isSafeInteger(lastOffset)) {
    throw new CorruptRecordError(`batch at byte ${position}: last offset ${baseOffset} + ${lastOffsetDelta} is beyond 2^53 - 1`);
  }
  return {
    position,
    bytes: buf.subarray(position, position + sizeInBytes),
    sizeInBytes,
    baseOffset,
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(position + PARTITION_LEADER_EPOCH_OFFSET),
    magic,
    crc,
    attributes,
    compression,
    timestampType: (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? TimestampType.logAppendTime : TimestampType.createTime,
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_FLAG_MASK) !== 0,
    lastOffsetDelta,
    lastOffset,
    baseTimestamp: int64Field(buf, position, BASE_TIMESTAMP_OFFSET, 'baseTimestamp'),
    maxTimestamp: int64Field(buf, position, MAX_TIMESTAMP_OFFSET, 'maxTimestamp'),
    producerId: int64Field(buf, position, PRODUCER_ID_OFFSET, 'producerId'),
    producerEpoch: buf.readInt16BE(position + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(position + BASE_SEQUENCE_OFFSET),
    recordsCount,
  };
}

function hex32(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, '0');
}

// ---- unvalidated peeks (the caller has validated the batch, or only needs a length) ----

/** baseOffset of the batch at `position` (no validation). */
export function peekBaseOffset(bytes: Uint8Array, position = 0): number {
  return readInt64Number(asBuffer(bytes), position + BASE_OFFSET_OFFSET);
}

/** LOG_OVERHEAD + batchLength of the batch at `position` (no validation). */
export function peekBatchSizeInBytes(bytes: Uint8Array, position = 0): number {
  return LOG_OVERHEAD + asBuffer(bytes).readInt32BE(position + BATCH_LENGTH_OFFSET);
}

/** baseOffset + lastOffsetDelta of the batch at `position` (no validation). */
export function peekLastOffset(bytes: Uint8Array, position = 0): number {
  const buf = asBuffer(bytes);
  return readInt64Number(buf, position + BASE_OFFSET_OFFSET) + buf.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
}

/** maxTimestamp of the batch at `position` (no validation). */
export function peekMaxTimestamp(bytes: Uint8Array, position = 0): number {
  return readInt64Number(asBuffer(bytes), position + MAX_TIMESTAMP_OFFSET);
}

/**
 * producerId of the batch at `position` (no validation), read byte by byte rather than through a
 * Buffer wrapper: cheap enough to ask of every batch on a write path. -1 for no producer.
 */
export function peekProducerId(bytes: Uint8Array, position = 0): number {
  const at = position + PRODUCER_ID_OFFSET;
  const high = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
  const low = ((bytes[at + 4]! << 24) | (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!) >>> 0;
  return high * TWO_POW_32 + low;
}

/** producerEpoch of the batch at `position` (no validation). */
export function peekProducerEpoch(bytes: Uint8Array, position = 0): number {
  return asBuffer(bytes).readInt16BE(position + PRODUCER_EPOCH_OFFSET);
}

/** baseSequence of the batch at `position` (no validation). */
export function peekBaseSequence(bytes: Uint8Array, position = 0): number {
  return asBuffer(bytes).readInt32BE(position + BASE_SEQUENCE_OFFSET);
}

/** lastOffsetDelta of the batch at `position` (no validation). */
export function peekLastOffsetDelta(bytes: Uint8Array, position = 0): number {
  return asBuffer(bytes).readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
}

/** Whether the batch at `position` is a control batch (transaction markers; no validation). */
export function peekIsControl(bytes: Uint8Array, position = 0): boolean {
  return (asBuffer(bytes).readInt16BE(position + ATTRIBUTES_OFFSET) & CONTROL_FLAG_MASK) !== 0;
}

/** recordsCount of the batch at `position` (no validation). */
export function peekRecordsCount(bytes: Uint8Array, position = 0): number {
  return asBuffer(bytes).readInt32BE(position + RECORDS_COUNT_OFFSET);
}

// ---- in-place patches (the broker's side) ----

/** Sets baseOffset in place. It is outside the CRC, so the batch stays valid. */
export function setBaseOffset(bytes: Uint8Array, position: number, baseOffset: number): void {
  writeInt64Number(asBuffer(bytes), position + BASE_OFFSET_OFFSET, baseOffset);
}

/** Sets partitionLeaderEpoch in place. It is outside the CRC, so the batch stays valid. */
export function setPartitionLeaderEpoch(bytes: Uint8Array, position: number, epoch: number): void {
  asBuffer(bytes).writeInt32BE(epoch, position + PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * Marks the batch LogAppendTime with `timestampMs` as its maxTimestamp (what the broker does for a
 * topic with message.timestamp.type=LogAppendTime; readers then give every record this timestamp).
 * Both fields are inside the CRC, so the CRC is recomputed over the batch's bytes.
 */
export function setLogAppendTime(bytes: Uint8Array, position: number, timestampMs: number): void {
  const buf = asBuffer(bytes);
  const attributes = buf.readInt16BE(position + ATTRIBUTES_OFFSET);
  buf.writeInt16BE(attributes | TIMESTAMP_TYPE_MASK, position + ATTRIBUTES_OFFSET);
  writeInt64Number(buf, position + MAX_TIMESTAMP_OFFSET, timestampMs);
  rewriteCrc(buf, position);
}

/**
 * Stamps the producer id, epoch and base sequence in place (what an idempotent producer's sender
 * does when a batch first goes out). They are inside the CRC, so the CRC is recomputed.
 */
export function setProducerState(bytes: Uint8Array, position: number, producerId: number, producerEpoch: number, baseSequence: number): void {
  const buf = asBuffer(bytes);
  writeInt64Number(buf, position + PRODUCER_ID_OFFSET, producerId);
  buf.writeInt16BE(producerEpoch, position + PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(baseSequence, position + BASE_SEQUENCE_OFFSET);
  rewriteCrc(buf, position);
}

/** Recomputes the CRC-32C of the batch at `position` after a patch inside it. */
function rewriteCrc(buf: Buffer, position: number): void {
  const sizeInBytes = LOG_OVERHEAD + buf.readInt32BE(position + BATCH_LENGTH_OFFSET);
  buf.writeUInt32BE(crc32c(buf, position + CRC_START_OFFSET, position + sizeInBytes), position + CRC_OFFSET);
}
