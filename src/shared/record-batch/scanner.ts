/**
 * RecordBatchScanner walks the batches of a byte range — a fetch response's records or a log
 * segment read — validating each header (readBatchHeader) without parsing records, and stops
 * cleanly at a partial trailing batch, which a Kafka fetch response may end with.
 */
import { CorruptRecordError } from '../errors.js';
import { type ReadBatchHeaderOptions, type RecordBatchHeader, asBuffer, readBatchHeader } from './header.js';
import { BATCH_LENGTH_OFFSET, LOG_OVERHEAD, MAGIC_OFFSET, MAGIC_V2, MIN_BATCH_LENGTH } from './layout.js';

export interface ScanOptions extends ReadBatchHeaderOptions {
  /** Where the range starts (default 0). */
  start?: number;
  /**
   * A batch declaring more bytes than this is corrupt rather than partial, so a garbage length at
   * the end of a range is not mistaken for a batch still to come. Default: no limit.
   */
  maxBatchSizeBytes?: number;
}

/**
 * Iterates the batches of a byte range, validating each header (readBatchHeader). Stops without
 * error at a partial trailing batch, as a fetch response may end with one: afterwards
 * `position` is where that partial batch starts and `partialBytes` how many of its bytes are
 * present. Throws CorruptRecordError at the first corrupt batch.
 */
export class RecordBatchScanner implements IterableIterator<RecordBatchHeader> {
  private readonly bytes: Buffer;
  private readonly end: number;
  private readonly headerOptions: ReadBatchHeaderOptions;
  private readonly maxBatchSizeBytes: number;
  private nextPosition: number;
  private partialTrailingBytes = 0;

  constructor(bytes: Uint8Array, options: ScanOptions = {}) {
    this.bytes = asBuffer(bytes);
    this.nextPosition = options.start ?? 0;
    this.end = options.end ?? this.bytes.length;
    if (!Number.isInteger(this.nextPosition) || this.nextPosition < 0 || this.end > this.bytes.length || this.nextPosition > this.end) {
      throw new RangeError(`scan range [${this.nextPosition}, ${this.end}) is outside a buffer of ${this.bytes.length} bytes`);
    }
    this.headerOptions = { end: this.end, verifyCrc: options.verifyCrc };
    this.maxBatchSizeBytes = options.maxBatchSizeBytes ?? Infinity;
  }

  /** Where the next batch starts: after the last whole batch once iteration is done, or at the corrupt batch. */
  get position(): number {
    return this.nextPosition;
  }

  /** Bytes of a partial trailing batch (0 when the range ended exactly at a batch boundary). */
  get partialBytes(): number {
    return this.partialTrailingBytes;
  }

  /** True when iteration stopped at a partial trailing batch. */
  get isPartial(): boolean {
    return this.partialTrailingBytes > 0;
  }

  [Symbol.iterator](): RecordBatchScanner {
    return this;
  }

  next(): IteratorResult<RecordBatchHeader> {
    const batch = this.readNext();
    return batch === null ? { done: true, value: undefined } : { done: false, value: batch };
  }

  /** The next batch, or null at the end of the range or at a partial trailing batch. */
  readNext(): RecordBatchHeader | null {
    const { bytes, nextPosition: position } = this;
    const available = this.end - position;
    if (available < LOG_OVERHEAD) {
      this.partialTrailingBytes = available;
      return null;
    }
    const batchLength = bytes.readInt32BE(position + BATCH_LENGTH_OFFSET);
    if (batchLength < MIN_BATCH_LENGTH) {
      throw new CorruptRecordError(`batch at byte ${position}: batchLength ${batchLength} is below the minimum ${MIN_BATCH_LENGTH}`);
    }
    const sizeInBytes = LOG_OVERHEAD + batchLength;
    if (sizeInBytes > this.maxBatchSizeBytes) {
      throw new CorruptRecordError(`batch at byte ${position}: ${sizeInBytes} bytes, over the ${this.maxBatchSizeBytes}-byte limit`);
    }
    // Like Kafka's ByteBufferLogInputStream: check the magic as soon as it is there, so garbage
    // is reported as corrupt rather than waited for as a partial batch.
    if (available > MAGIC_OFFSET && bytes[position + MAGIC_OFFSET] !== MAGIC_V2) {
      throw new CorruptRecordError(`batch at byte ${position}: magic ${bytes.readInt8(position + MAGIC_OFFSET)}, expected ${MAGIC_V2}`);
    }
    if (sizeInBytes > available) {
      this.partialTrailingBytes = available;
      return null;
    }
    const batch = readBatchHeader(bytes, position, this.headerOptions);
    this.nextPosition = position + sizeInBytes;
    return batch;
  }
}

/** Batches of bytes[start, end); see RecordBatchScanner. */
export function scanBatches(bytes: Uint8Array, options?: ScanOptions): RecordBatchScanner {
  return new RecordBatchScanner(bytes, options);
}
