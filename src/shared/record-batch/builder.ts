/**
 * RecordBatchBuilder: writes records straight into a caller-provided memory region as a Kafka
 * RecordBatch v2 (like Kafka's MemoryRecordsBuilder), so the producer's accumulator never
 * re-encodes: build() fills in the header and CRC and returns a view of the finished batch.
 *
 * With a compression other than none, records are written uncompressed into the region and the
 * records section is compressed once, at build(). Room is judged on the uncompressed bytes, so
 * the compressed batch fits whenever the codec shrinks its input; when it does not (tiny or
 * incompressible records), build() returns a new buffer instead of a view.
 */
import { crc32c } from '../crc32c.js';
import { IllegalStateError } from '../errors.js';
import { sizeOfVarint } from '../varint.js';
import { codecFor } from './compression.js';
import { writeInt64Number } from './header.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  CRC_START_OFFSET,
  Compression,
  type CompressionId,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  MIN_RECORD_BYTES,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORD_BATCH_OVERHEAD,
  TRANSACTIONAL_FLAG_MASK,
} from './layout.js';
import { type RecordHeader, sizeOfHeadersInBytes, sizeOfRecordBodyInBytes, writeRecord } from './record.js';

export interface RecordInput {
  /** Create time in ms since the epoch, or NO_TIMESTAMP (-1). */
  timestamp: number;
  /** null is a null key, distinct from an empty one. */
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers?: readonly RecordHeader[];
}

export interface RecordBatchBuilderOptions {
  /** The memory to write into; the batch starts at `offset`. */
  buffer: Uint8Array;
  /** Where the batch starts in `buffer` (default 0). */
  offset?: number;
  /** Bytes the batch may take (default: the rest of `buffer`); at least RECORD_BATCH_OVERHEAD. */
  capacityBytes?: number;
  compression?: CompressionId;
  /** Producers send 0; the broker patches the real one in (setBaseOffset). */
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
}

const EMPTY_HEADERS: readonly RecordHeader[] = Object.freeze([]);

export class RecordBatchBuilder {
  private readonly region: Buffer;
  private readonly capacityBytes: number;
  private readonly compression: CompressionId;
  private readonly baseOffset: number;
  private readonly partitionLeaderEpoch: number;
  private readonly producerId: number;
  private readonly producerEpoch: number;
  private readonly baseSequence: number;
  private readonly attributeFlags: number;
  /** Next write position inside `region` (records start after the header). */
  private writePosition = RECORD_BATCH_OVERHEAD;
  private count = 0;
  private firstTimestamp = NO_TIMESTAMP;
  private maxTimestampMs = NO_TIMESTAMP;
  private refusedAppend = false;
  private built: Buffer | null = null;

  constructor(options: RecordBatchBuilderOptions) {
    const { buffer } = options;
    const offset = options.offset ?? 0;
    const capacityBytes = options.capacityBytes ?? buffer.byteLength - offset;
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(capacityBytes) || offset + capacityBytes > buffer.byteLength) {
      throw new RangeError(`batch region [${offset}, ${offset + capacityBytes}) is outside a buffer of ${buffer.byteLength} bytes`);
    }
    if (capacityBytes < RECORD_BATCH_OVERHEAD) {
      throw new RangeError(`batch capacity ${capacityBytes} bytes is below the ${RECORD_BATCH_OVERHEAD}-byte batch header`);
    }
    this.compression = options.compression ?? Compression.none;
    // Fail at construction, naming the codec, rather than after the records are in.
    if (this.compression !== Compression.none) codecFor(this.compression);
    this.region = Buffer.from(buffer.buffer, buffer.byteOffset + offset, capacityBytes);
    this.capacityBytes = capacityBytes;
    this.baseOffset = options.baseOffset ?? 0;
    this.partitionLeaderEpoch = options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH;
    this.producerId = options.producerId ?? NO_PRODUCER_ID;
    this.producerEpoch = options.producerEpoch ?? NO_PRODUCER_EPOCH;
    this.baseSequence = options.baseSequence ?? NO_SEQUENCE;
    this.attributeFlags = (options.isTransactional ? TRANSACTIONAL_FLAG_MASK : 0) | (options.isControl ? CONTROL_FLAG_MASK : 0);
  }

  /** Records appended so far. */
  get recordsCount(): number {
    return this.count;
  }

  /** offsetDelta of the last record, -1 when empty. */
  get lastOffsetDelta(): number {
    return this.count - 1;
  }

  /** The first record's timestamp (NO_TIMESTAMP when empty); record deltas are relative to it. */
  get baseTimestamp(): number {
    return this.firstTimestamp;
  }

  get maxTimestamp(): number {
    return this.maxTimestampMs;
  }

  /** Bytes written so far, uncompressed (header included). */
  get estimatedSizeInBytes(): number {
    return this.writePosition;
  }

  get isClosed(): boolean {
    return this.built !== null;
  }

  /**
   * True once the batch takes no more records: it was built, an append did not fit, or not even
   * the smallest possible record would fit.
   */
  get isFull(): boolean {
    return this.built !== null || this.refusedAppend || this.capacityBytes - this.writePosition < MIN_RECORD_BYTES;
  }

  /** True when `record` would fit now (the exact size it would take, deltas included). */
  hasRoomFor(record: RecordInput): boolean {
    if (this.built !== null) return false;
    const headersBytes = sizeOfHeadersInBytes(record.headers ?? EMPTY_HEADERS);
    const body = sizeOfRecordBodyInBytes(this.count, this.timestampDeltaOf(record.timestamp), record.key, record.value, headersBytes);
    return this.writePosition + sizeOfVarint(body) + body <= this.capacityBytes;
  }

  /**
   * Appends a record; returns its offsetDelta, or null when it does not fit (the batch is then full).
   * A record too big for an empty batch never fits: size the region with batchSizeUpperBoundInBytes.
   */
  tryAppend(record: RecordInput): number | null {
    if (this.built !== null) throw new IllegalStateError('cannot append to a record batch that was built');
    const { timestamp, key, value } = record;
    if (!Number.isSafeInteger(timestamp) || timestamp < NO_TIMESTAMP) {
      throw new RangeError(`invalid record timestamp ${timestamp}: must be a non-negative integer or -1 (none)`);
    }
    const headers = record.headers ?? EMPTY_HEADERS;
    const offsetDelta = this.count;
    const timestampDelta = this.timestampDeltaOf(timestamp);
    const body = sizeOfRecordBodyInBytes(offsetDelta, timestampDelta, key, value, sizeOfHeadersInBytes(headers));
    const end = this.writePosition + sizeOfVarint(body) + body;
    if (end > this.capacityBytes) {
      this.refusedAppend = true;
      return null;
    }
    this.writePosition = writeRecord(this.region, this.writePosition, body, offsetDelta, timestampDelta, key, value, headers);
    if (this.count === 0) this.firstTimestamp = timestamp;
    if (timestamp > this.maxTimestampMs) this.maxTimestampMs = timestamp;
    this.count++;
    return offsetDelta;
  }

  private timestampDeltaOf(timestamp: number): number {
    return this.count === 0 ? 0 : timestamp - this.firstTimestamp;
  }

  /**
   * Finishes the batch: compresses the records if asked, writes the header and the CRC-32C, and
   * returns the batch bytes — a view of the region, or (compressed output larger than the region)
   * a new buffer. Later calls return the same bytes; appends are refused from now on.
   */
  build(): Buffer {
    if (this.built !== null) return this.built;
    if (this.count === 0) throw new IllegalStateError('cannot build a record batch with no records');
    let batch: Buffer;
    if (this.compression === Compression.none) {
      batch = this.region.subarray(0, this.writePosition);
    } else {
      const compressed = codecFor(this.compression).compress(this.region.subarray(RECORD_BATCH_OVERHEAD, this.writePosition));
      const size = RECORD_BATCH_OVERHEAD + compressed.length;
      batch = size <= this.capacityBytes ? this.region.subarray(0, size) : Buffer.allocUnsafe(size);
      batch.set(compressed, RECORD_BATCH_OVERHEAD);
    }
    this.writeHeader(batch);
    this.built = batch;
    return batch;
  }

  private writeHeader(batch: Buffer): void {
    writeInt64Number(batch, BASE_OFFSET_OFFSET, this.baseOffset);
    batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
    batch.writeInt32BE(this.partitionLeaderEpoch, PARTITION_LEADER_EPOCH_OFFSET);
    batch.writeInt8(MAGIC_V2, MAGIC_OFFSET);
    batch.writeInt16BE(this.compression | this.attributeFlags, ATTRIBUTES_OFFSET);
    batch.writeInt32BE(this.count - 1, LAST_OFFSET_DELTA_OFFSET);
    writeInt64Number(batch, BASE_TIMESTAMP_OFFSET, this.firstTimestamp);
    writeInt64Number(batch, MAX_TIMESTAMP_OFFSET, this.maxTimestampMs);
    writeInt64Number(batch, PRODUCER_ID_OFFSET, this.producerId);
    batch.writeInt16BE(this.producerEpoch, PRODUCER_EPOCH_OFFSET);
    batch.writeInt32BE(this.baseSequence, BASE_SEQUENCE_OFFSET);
    batch.writeInt32BE(this.count, RECORDS_COUNT_OFFSET);
    batch.writeUInt32BE(crc32c(batch, CRC_START_OFFSET), CRC_OFFSET);
  }
}
