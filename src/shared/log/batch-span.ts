/**
 * What the log needs to know of a RecordBatch without parsing its records: where it is, how long
 * it is, its offsets and max timestamp, and (for recovery) whether its magic and CRC are right.
 */
import { crc32c } from '@node-rs/crc32';

/** Bytes of a RecordBatch v2 header, up to and including recordsCount. */
export const BATCH_HEADER_BYTES = 61;
const BATCH_LENGTH_OFFSET = 8;
const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const LAST_OFFSET_DELTA_OFFSET = 23;
const MAX_TIMESTAMP_OFFSET = 35;
/** baseOffset + batchLength: batchLength counts the bytes after these. */
const LOG_OVERHEAD = 12;

export interface BatchSpan {
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

/** Reads a batch header; null when it cannot be a v2 batch (wrong magic, impossible length). */
export function readBatchSpan(header: Buffer, position: number): BatchSpan | null {
  const batchLength = header.readInt32BE(BATCH_LENGTH_OFFSET);
  if (header[MAGIC_OFFSET] !== 2 || batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD) return null;
  const baseOffset = Number(header.readBigInt64BE(0));
  return {
    position,
    sizeBytes: LOG_OVERHEAD + batchLength,
    baseOffset,
    lastOffset: baseOffset + header.readInt32BE(LAST_OFFSET_DELTA_OFFSET),
    maxTimestamp: Number(header.readBigInt64BE(MAX_TIMESTAMP_OFFSET)),
  };
}

/** True when the whole batch's CRC-32C (attributes to end) matches its header. */
export function validateBatch(batch: Buffer): boolean {
  return batch[MAGIC_OFFSET] === 2 && crc32c(batch.subarray(ATTRIBUTES_OFFSET)) === batch.readUInt32BE(CRC_OFFSET);
}
