// Helpers for the record-batch tests: build a batch in one call, read one back whole, and craft
// batches around hand-written record bytes (with a correct header and CRC, so only the records are bad).
import fc from 'fast-check';
import { crc32c } from '../../../src/shared/crc32c.js';
import {
  CRC_OFFSET,
  CRC_START_OFFSET,
  Compression,
  type CompressionId,
  LOG_OVERHEAD,
  MAGIC_V2,
  RECORD_BATCH_OVERHEAD,
  RecordBatchBuilder,
  type RecordBatchBuilderOptions,
  type RecordInput,
  type ReadRecord,
  readBatchHeader,
  readRecords,
} from '../../../src/shared/record-batch/index.js';

/** Builds one batch of `records` in a fresh region big enough for them. */
export function buildBatch(records: readonly RecordInput[], options: Partial<RecordBatchBuilderOptions> = {}): Buffer {
  const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(options.capacityBytes ?? 1 << 20), ...options });
  for (const record of records) {
    if (builder.tryAppend(record) === null) throw new Error('test batch does not fit');
  }
  return builder.build();
}

/** All records of the single batch in `bytes`, read with our reader. */
export function readAll(bytes: Uint8Array, position = 0): ReadRecord[] {
  return [...readRecords(readBatchHeader(bytes, position))];
}

/** Recomputes the CRC of the batch at `position`, so a deliberate change reaches the record parser. */
export function fixCrc(batch: Buffer, position = 0): Buffer {
  const size = LOG_OVERHEAD + batch.readInt32BE(position + 8);
  batch.writeUInt32BE(crc32c(batch, position + CRC_START_OFFSET, position + size), position + CRC_OFFSET);
  return batch;
}

/** A batch with a valid header and CRC around the given records section. */
export function rawBatch(recordsSection: readonly number[] | Uint8Array, recordsCount: number, compression: CompressionId = Compression.none): Buffer {
  const batch = Buffer.alloc(RECORD_BATCH_OVERHEAD + recordsSection.length);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, 8);
  batch.writeInt32BE(-1, 12);
  batch.writeInt8(MAGIC_V2, 16);
  batch.writeInt16BE(compression, 21);
  batch.writeInt32BE(recordsCount - 1, 23);
  batch.writeBigInt64BE(1000n, 27);
  batch.writeBigInt64BE(1000n, 35);
  batch.writeBigInt64BE(-1n, 43);
  batch.writeInt16BE(-1, 51);
  batch.writeInt32BE(-1, 53);
  batch.writeInt32BE(recordsCount, 57);
  batch.set(recordsSection, RECORD_BATCH_OVERHEAD);
  return fixCrc(batch);
}

const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 40 }), { freq: 4 });

/** Random records: null and empty keys/values, headers (null values, non-ASCII keys), any timestamp order. */
export const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.constant(-1)),
  key: bytesOrNull.map((b) => (b === null ? null : Buffer.from(b))),
  value: bytesOrNull.map((b) => (b === null ? null : Buffer.from(b))),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 8, unit: 'grapheme' }), value: bytesOrNull.map((b) => (b === null ? null : Buffer.from(b))) }), { maxLength: 3 }),
});

/** A record as plain data, for comparing what went in with what came out. */
export function plain(record: { key: Uint8Array | null; value: Uint8Array | null; headers?: readonly { key: string; value: Uint8Array | null }[] }): unknown {
  const hex = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'));
  return { key: hex(record.key), value: hex(record.value), headers: (record.headers ?? []).map((h) => ({ key: h.key, value: hex(h.value) })) };
}
