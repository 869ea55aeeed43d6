/**
 * What the log needs to know of a RecordBatch without parsing its records: where it is, how long
 * it is, its offsets and max timestamp, and (for recovery) whether it is valid. A thin view over
 * record-batch/: the log reads just a batch's fixed header from disk, so it peeks at that, and
 * validates whole batches only when recovering.
 */
import { CorruptRecordError } from '../errors.js';
import { peekBaseOffset, peekBatchSizeInBytes, peekLastOffset, peekMaxTimestamp, readBatchHeader } from '../record-batch/header.js';
import { MAGIC_OFFSET, MAGIC_V2, RECORD_BATCH_OVERHEAD } from '../record-batch/layout.js';

/** Bytes of a RecordBatch v2 header, up to and including recordsCount. */
export const BATCH_HEADER_BYTES = RECORD_BATCH_OVERHEAD;

export interface BatchSpan {
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

/** Reads a batch's fixed header; null when it cannot be a v2 batch (wrong magic, impossible length). */
export function readBatchSpan(header: Uint8Array, position: number): BatchSpan | null {
  const sizeBytes = peekBatchSizeInBytes(header);
  if (header[MAGIC_OFFSET] !== MAGIC_V2 || sizeBytes < RECORD_BATCH_OVERHEAD) return null;
  return { position, sizeBytes, baseOffset: peekBaseOffset(header), lastOffset: peekLastOffset(header), maxTimestamp: peekMaxTimestamp(header) };
}

/** True when `batch` is exactly one whole, valid batch (length, magic, CRC, counts). */
export function validateBatch(batch: Uint8Array): boolean {
  try {
    return readBatchHeader(batch).sizeInBytes === batch.length;
  } catch (error) {
    if (error instanceof CorruptRecordError) return false;
    throw error;
  }
}
