/**
 * Whole-batch compression, synchronous: a complete RecordBatch v2 in, the same batch out with its
 * records section compressed by another codec (or decompressed), every other header field kept
 * (offsets, timestamps, producer fields, transactional and control bits) and batchLength, the
 * attributes' codec bits and the CRC-32C rewritten. This is what CompressionPool runs on its
 * threads, and what the broker needs to recompress a batch for a topic's compression.type.
 *
 * The input is validated as one whole batch (length, magic, CRC); results are fresh buffers that
 * own their whole ArrayBuffer (never a slice of Node's shared pool), so they can be transferred.
 */
import { crc32c } from '../crc32c.js';
import { CorruptRecordError } from '../errors.js';
import { codecFor, decompressRecords } from './compression.js';
import { type RecordBatchHeader, readBatchHeader } from './header.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CRC_OFFSET,
  CRC_START_OFFSET,
  Compression,
  type CompressionId,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
} from './layout.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from './reader.js';

const MAX_BATCH_LENGTH = 0x7fffffff;

/** The header of `bytes`, which must be exactly one valid batch. */
function readWholeBatch(bytes: Uint8Array): RecordBatchHeader {
  const header = readBatchHeader(bytes);
  if (header.sizeInBytes !== bytes.byteLength) {
    throw new CorruptRecordError(`batch at byte 0: batchLength says ${header.sizeInBytes} bytes, but ${bytes.byteLength} were given`);
  }
  return header;
}

/** A new batch: `batch`'s header with `records` as its records section, coded as `compression`. */
function withRecords(batch: RecordBatchHeader, compression: CompressionId, records: Uint8Array): Buffer {
  const batchLength = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD + records.length;
  if (batchLength > MAX_BATCH_LENGTH) {
    throw new CorruptRecordError(`batch at byte 0: ${records.length} bytes of records do not fit in one batch (batchLength is an int32)`);
  }
  // allocUnsafeSlow: its own ArrayBuffer, which the pool moves to the caller's thread without a copy.
  const out = Buffer.allocUnsafeSlow(RECORD_BATCH_OVERHEAD + records.length);
  batch.bytes.copy(out, 0, 0, RECORD_BATCH_OVERHEAD);
  out.set(records, RECORD_BATCH_OVERHEAD);
  out.writeInt32BE(batchLength, BATCH_LENGTH_OFFSET);
  out.writeInt16BE((batch.attributes & ~COMPRESSION_CODEC_MASK) | compression, ATTRIBUTES_OFFSET);
  out.writeUInt32BE(crc32c(out, CRC_START_OFFSET), CRC_OFFSET);
  return out;
}

/** `batch` with its records coded as `compression`; the batch itself (a view) when it already is. */
function recode(batch: RecordBatchHeader, compression: CompressionId, maxDecompressedBytes: number): Buffer {
  if (batch.compression === compression) return batch.bytes;
  const codec = compression === Compression.none ? null : codecFor(compression); // unsupported: fail before any work
  const records = batch.compression === Compression.none ? batch.bytes.subarray(RECORD_BATCH_OVERHEAD) : decompressRecords(batch, maxDecompressedBytes);
  return withRecords(batch, compression, codec === null ? records : codec.compress(records));
}

/**
 * The batch with its records compressed by `compression`. An uncompressed batch is what this is
 * for; a batch compressed with another codec is decompressed first (at most
 * DEFAULT_MAX_DECOMPRESSED_BYTES of records), and one already in `compression` (or `none` for an
 * uncompressed batch) comes back as is, as a Buffer over the same memory.
 */
export function compressBatchSync(batch: Uint8Array, compression: CompressionId): Buffer {
  return recode(readWholeBatch(batch), compression, DEFAULT_MAX_DECOMPRESSED_BYTES);
}

/**
 * The batch with its records decompressed (codec bits none). Records that would decompress to more
 * than `maxOutputBytes`, or do not decompress, are a CorruptRecordError; an uncompressed batch
 * comes back as is.
 */
export function decompressBatchSync(batch: Uint8Array, maxOutputBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  return recode(readWholeBatch(batch), Compression.none, maxOutputBytes);
}
