/**
 * Lazy reading of the records of one RecordBatch v2 (its header read by readBatchHeader or a
 * RecordBatchScanner): RecordIterator walks them, decompressing first when the batch is compressed.
 *
 * Records carry `offset` and `timestamp` as numbers (exact: values beyond ±(2^53 - 1) are refused
 * as CorruptRecordError), and key, value and header values as Buffer views into the batch bytes or
 * into the decompressed records — copy them to keep them past the buffer's lifetime.
 *
 * The input is untrusted: every length is checked against the bytes that remain before anything is
 * sized from it, every loop advances through bytes, and every failure is a CorruptRecordError
 * (UnsupportedCompressionError for a codec that is not registered).
 */
import { CorruptRecordError } from '../errors.js';
import { type Cursor, readVarint, readVarlong } from '../varint.js';
import { decompressRecords } from './compression.js';
import { type RecordBatchHeader, asBuffer } from './header.js';
import { Compression, MIN_RECORD_BYTES, NULL_LENGTH, RECORD_BATCH_OVERHEAD, TimestampType } from './layout.js';

/** Default bound on a batch's decompressed records (a compressed bomb fails instead of allocating). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export interface ReadRecordHeader {
  key: string;
  value: Buffer | null;
}

export interface ReadRecord {
  /** baseOffset + offsetDelta. */
  offset: number;
  offsetDelta: number;
  /** baseTimestamp + timestampDelta; the batch's maxTimestamp for a LogAppendTime batch. */
  timestamp: number;
  /** Record attributes (unused by Kafka, 0). */
  attributes: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly ReadRecordHeader[];
}

export interface ReadRecordsOptions {
  /** Refuse (CorruptRecordError) a compressed batch whose records decompress to more bytes. */
  maxDecompressedBytes?: number;
}

const NO_HEADERS: readonly ReadRecordHeader[] = Object.freeze([]);

/** Iterates the records of one validated batch (see readBatchHeader / RecordBatchScanner). */
export class RecordIterator implements IterableIterator<ReadRecord> {
  private readonly bytes: Buffer;
  private readonly cursor: Cursor;
  private readonly end: number;
  /** "batch at byte P" and which bytes record positions count in, for error messages. */
  private readonly where: string;
  private readonly section: string;
  private readonly baseOffset: number;
  private readonly baseTimestamp: number;
  /** The timestamp every record gets in a LogAppendTime batch, else null. */
  private readonly logAppendTime: number | null;
  private remaining: number;
  /** Set by the first failure: a corrupt batch stays corrupt for every later call. */
  private failure: CorruptRecordError | null = null;

  constructor(batch: RecordBatchHeader, options: ReadRecordsOptions = {}) {
    this.where = `batch at byte ${batch.position}`;
    this.baseOffset = batch.baseOffset;
    this.baseTimestamp = batch.baseTimestamp;
    this.logAppendTime = batch.timestampType === TimestampType.logAppendTime ? batch.maxTimestamp : null;
    this.remaining = batch.recordsCount;
    const recordsSection = batch.bytes.subarray(RECORD_BATCH_OVERHEAD);
    if (batch.compression === Compression.none) {
      this.bytes = recordsSection;
      this.section = 'records';
    } else {
      this.bytes = asBuffer(decompressRecords(batch, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES));
      this.section = 'decompressed records';
    }
    this.end = this.bytes.length;
    this.cursor = { offset: 0 };
    // Every record takes at least MIN_RECORD_BYTES, so a larger count is a lie we can see now.
    if (batch.recordsCount > Math.floor(this.end / MIN_RECORD_BYTES)) {
      throw new CorruptRecordError(`${this.where}: recordsCount ${batch.recordsCount} cannot fit in ${this.end} bytes of ${this.section}`);
    }
  }

  [Symbol.iterator](): RecordIterator {
    return this;
  }

  next(): IteratorResult<ReadRecord> {
    const record = this.readNext();
    return record === null ? { done: true, value: undefined } : { done: false, value: record };
  }

  /** The next record, or null after the last one (having checked no bytes are left over). */
  readNext(): ReadRecord | null {
    if (this.failure !== null) throw this.failure;
    if (this.remaining === 0) {
      if (this.cursor.offset !== this.end) {
        this.failure = new CorruptRecordError(`${this.where}: ${this.end - this.cursor.offset} bytes of ${this.section} left after the last record`);
        throw this.failure;
      }
      return null;
    }
    const recordStart = this.cursor.offset;
    try {
      const record = this.readRecord(recordStart);
      this.remaining--;
      return record;
    } catch (err) {
      // Say where, for the varint readers' errors as much as for ours.
      if (err instanceof CorruptRecordError) {
        this.failure = new CorruptRecordError(`${this.where}, record at byte ${recordStart} of its ${this.section}: ${err.message}`);
        throw this.failure;
      }
      throw err;
    }
  }

  private readRecord(recordStart: number): ReadRecord {
    const { bytes, cursor } = this;
    if (recordStart >= this.end) throw new CorruptRecordError(`records end before recordsCount is reached (${this.remaining} missing)`);
    const bodyBytes = readVarint(bytes, cursor, this.end);
    if (bodyBytes < 0) throw new CorruptRecordError(`negative record length ${bodyBytes}`);
    if (bodyBytes < MIN_RECORD_BYTES - 1) throw new CorruptRecordError(`record length ${bodyBytes} is below the minimum ${MIN_RECORD_BYTES - 1}`);
    const recordEnd = cursor.offset + bodyBytes;
    if (recordEnd > this.end) throw new CorruptRecordError(`record length ${bodyBytes} runs past the end of the records (${this.end - cursor.offset} bytes left)`);

    const attributes = bytes[cursor.offset++];
    const timestampDelta = readVarlong(bytes, cursor, recordEnd);
    const offsetDelta = readVarint(bytes, cursor, recordEnd);
    const key = this.readNullableBytes(recordEnd, 'key');
    const value = this.readNullableBytes(recordEnd, 'value');
    const headers = this.readHeaders(recordEnd);
    if (cursor.offset !== recordEnd) {
      throw new CorruptRecordError(`record length says ${bodyBytes} bytes but its fields take ${cursor.offset - (recordEnd - bodyBytes)}`);
    }

    const offset = this.baseOffset + offsetDelta;
    const timestamp = this.logAppendTime ?? this.baseTimestamp + timestampDelta;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(timestamp)) {
      throw new CorruptRecordError(`offset ${offset} or timestamp ${timestamp} is beyond ±(2^53 - 1)`);
    }
    return { offset, offsetDelta, timestamp, attributes, key, value, headers };
  }

  private readNullableBytes(recordEnd: number, what: string): Buffer | null {
    const { cursor } = this;
    const length = readVarint(this.bytes, cursor, recordEnd);
    if (length === NULL_LENGTH) return null;
    if (length < 0) throw new CorruptRecordError(`negative ${what} length ${length}`);
    const start = cursor.offset;
    if (length > recordEnd - start) throw new CorruptRecordError(`${what} length ${length} runs past the record end (${recordEnd - start} bytes left)`);
    cursor.offset = start + length;
    return this.bytes.subarray(start, start + length);
  }

  private readHeaders(recordEnd: number): readonly ReadRecordHeader[] {
    const { bytes, cursor } = this;
    const count = readVarint(bytes, cursor, recordEnd);
    if (count === 0) return NO_HEADERS;
    if (count < 0) throw new CorruptRecordError(`negative header count ${count}`);
    // A header takes at least two bytes (key length and value length), checked before we loop.
    if (count > (recordEnd - cursor.offset) / 2) throw new CorruptRecordError(`header count ${count} cannot fit in ${recordEnd - cursor.offset} bytes`);
    const headers: ReadRecordHeader[] = [];
    for (let i = 0; i < count; i++) {
      const keyLength = readVarint(bytes, cursor, recordEnd);
      if (keyLength < 0) throw new CorruptRecordError(`header ${i}: negative key length ${keyLength}`);
      const keyStart = cursor.offset;
      if (keyLength > recordEnd - keyStart) throw new CorruptRecordError(`header ${i}: key length ${keyLength} runs past the record end`);
      cursor.offset = keyStart + keyLength;
      const key = bytes.toString('utf8', keyStart, keyStart + keyLength);
      headers.push({ key, value: this.readNullableBytes(recordEnd, `header ${i} value`) });
    }
    return headers;
  }
}

/** The records of a batch whose header was read with readBatchHeader or a scanner. */
export function readRecords(batch: RecordBatchHeader, options?: ReadRecordsOptions): RecordIterator {
  return new RecordIterator(batch, options);
}
