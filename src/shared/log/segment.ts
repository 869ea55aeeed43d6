/**
 * LogSegment: one `<baseOffset>.log` file of a partition with its `.index` and `.timeindex`, as in
 * Kafka's LogSegment. The .log is the plain concatenation of offset-assigned RecordBatch v2
 * batches, exactly the bytes that came in. An offset index entry is added when more than
 * indexIntervalBytes were appended since the last one (so a fresh segment's first batch gets none),
 * and a time index entry whenever the segment's max timestamp grew at that point.
 * Owned by one thread: the log writer appends; readers open their own LogSegment copies.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readdirSync, readSync, rmSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptRecordError } from '../errors.js';
import { BATCH_HEADER_BYTES, readBatchSpan, validateBatch, type BatchSpan } from './batch-span.js';
import { OFFSET_INDEX, SparseIndex, TIME_INDEX } from './sparse-index.js';

/** A batch to append, with the offsets the broker assigned and its max timestamp. */
export interface AppendBatch {
  bytes: Uint8Array;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

/** How much of a segment batchHeaders() reads at a time. */
const HEADER_SCAN_CHUNK_BYTES = 64 * 1024;

/** Segment file names: the base offset, zero-padded to 20 digits. */
export function segmentFileName(baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

/** The offsets of the files in `dir` named `<20 digits><suffix>` (segmentFileName), ascending. */
export function fileOffsets(dir: string, suffix: string): number[] {
  return readdirSync(dir)
    .filter((name) => name.length === 20 + suffix.length && name.endsWith(suffix) && /^\d{20}/.test(name))
    .map((name) => Number(name.slice(0, 20)))
    .sort((a, b) => a - b);
}

export class LogSegment {
  readonly dir: string;
  readonly baseOffset: number;
  readonly #indexIntervalBytes: number;
  #fd: number;
  #index: SparseIndex;
  #timeIndex: SparseIndex;
  sizeBytes = 0;
  /** One past the last offset in the segment; baseOffset when empty. */
  nextOffset: number;
  /** Largest batch max timestamp seen, -1 when empty. */
  maxTimestamp = -1;
  #offsetOfMaxTimestamp = -1;
  #bytesSinceIndexEntry = 0;
  /** When the first batch was appended (for segment.ms), or undefined while empty. */
  firstAppendMs: number | undefined;

  private constructor(dir: string, baseOffset: number, indexIntervalBytes: number, fd: number, index: SparseIndex, timeIndex: SparseIndex) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.#indexIntervalBytes = indexIntervalBytes;
    this.#fd = fd;
    this.#index = index;
    this.#timeIndex = timeIndex;
  }

  path(suffix: '.log' | '.index' | '.timeindex'): string {
    return join(this.dir, segmentFileName(this.baseOffset, suffix));
  }

  static create(dir: string, baseOffset: number, indexIntervalBytes: number): LogSegment {
    const name = (suffix: string): string => join(dir, segmentFileName(baseOffset, suffix));
    return new LogSegment(
      dir, baseOffset, indexIntervalBytes, openSync(name('.log'), 'w+'),
      SparseIndex.create(OFFSET_INDEX, name('.index')), SparseIndex.create(TIME_INDEX, name('.timeindex')),
    );
  }

  /**
   * Opens an existing segment. With `recover`, every batch is validated (length, magic, CRC) and
   * the file is truncated after the last valid one, and both indexes are rebuilt. Without it the
   * indexes are trusted when intact (rebuilt when missing or damaged) and only the batches after
   * the last index entry are read to find the segment's end. Returns the bytes truncated away.
   */
  static open(dir: string, baseOffset: number, indexIntervalBytes: number, recover: boolean): { segment: LogSegment; truncatedBytes: number } {
    const name = (suffix: string): string => join(dir, segmentFileName(baseOffset, suffix));
    const fd = openSync(name('.log'), 'r+');
    const sizeBytes = fstatSync(fd).size;
    const index = recover ? null : SparseIndex.tryOpen(OFFSET_INDEX, name('.index'), sizeBytes);
    const timeIndex = index === null ? null : SparseIndex.tryOpen(TIME_INDEX, name('.timeindex'), 0x7fff_ffff);
    if (index === null || timeIndex === null) {
      index?.close();
      const segment = new LogSegment(
        dir, baseOffset, indexIntervalBytes, fd,
        SparseIndex.create(OFFSET_INDEX, name('.index')), SparseIndex.create(TIME_INDEX, name('.timeindex')),
      );
      const truncatedBytes = segment.#rebuild(sizeBytes, recover);
      return { segment, truncatedBytes };
    }
    const segment = new LogSegment(dir, baseOffset, indexIntervalBytes, fd, index, timeIndex);
    segment.sizeBytes = sizeBytes;
    // Find the end: scan the batches after the last offset index entry.
    const from = index.last();
    let position = from === undefined ? 0 : from.value;
    // The state machine restarts at the last entry, so #account adds only entries that are missing.
    for (const span of segment.#spans(position, sizeBytes)) {
      segment.#account(span.lastOffset, span.maxTimestamp, span.position, span.sizeBytes);
      position = span.position + span.sizeBytes;
    }
    index.flushPending();
    timeIndex.flushPending();
    const lastTime = timeIndex.last();
    if (lastTime !== undefined && lastTime.key > segment.maxTimestamp) {
      segment.maxTimestamp = lastTime.key;
      segment.#offsetOfMaxTimestamp = baseOffset + lastTime.value;
    }
    if (position !== sizeBytes) {
      throw new CorruptRecordError(`${name('.log')}: batches end at ${position} but the file has ${sizeBytes} bytes; recovery needed`);
    }
    return { segment, truncatedBytes: 0 };
  }

  /** Appends batches with one writev (coalesced: one system call for all of them). */
  append(batches: readonly AppendBatch[]): void {
    if (batches.length === 0) return;
    let position = this.sizeBytes;
    for (const batch of batches) {
      this.#account(batch.lastOffset, batch.maxTimestamp, position, batch.bytes.length);
      position += batch.bytes.length;
    }
    writeAll(this.#fd, batches.map((b) => b.bytes), this.sizeBytes);
    this.sizeBytes = position;
    // Index entries after the bytes they point at: an entry never names unwritten data.
    this.#index.flushPending();
    this.#timeIndex.flushPending();
    this.firstAppendMs ??= Date.now();
  }

  /** Index bookkeeping for a batch at `position`: the same whether appended now or found on disk. */
  #account(lastOffset: number, maxTimestamp: number, position: number, sizeBytes: number): void {
    this.#maybeIndex(lastOffset, position);
    this.#bytesSinceIndexEntry += sizeBytes;
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.#offsetOfMaxTimestamp = lastOffset;
    }
    this.nextOffset = lastOffset + 1;
  }

  /**
   * Whole batches starting with the one that holds `offset`, up to maxBytes; at least the first
   * batch even if it alone is larger (as Kafka's fetch does). Null when `offset` is past the end.
   */
  read(offset: number, maxBytes: number): Buffer | null {
    if (offset >= this.nextOffset) return null;
    const start = this.#positionOf(offset);
    if (start === undefined) return null;
    let end = start.position;
    for (const span of this.#spans(start.position, this.sizeBytes)) {
      if (end > start.position && span.position + span.sizeBytes - start.position > maxBytes) break;
      end = span.position + span.sizeBytes;
      if (end - start.position >= maxBytes) break;
    }
    const out = Buffer.allocUnsafe(end - start.position);
    readFully(this.#fd, out, start.position);
    return out;
  }

  /** The base offset of the first batch whose max timestamp is >= timestamp, or undefined. */
  offsetForTimestamp(timestamp: number): number | undefined {
    if (timestamp > this.maxTimestamp) return undefined;
    const entry = this.#timeIndex.floor(timestamp - 1);
    const fromOffset = entry === undefined ? this.baseOffset : this.baseOffset + entry.value;
    const start = this.#positionOf(fromOffset);
    if (start === undefined) return undefined;
    for (const span of this.#spans(start.position, this.sizeBytes)) {
      if (span.maxTimestamp >= timestamp) return span.baseOffset;
    }
    return undefined;
  }

  /**
   * The fixed headers of the batches from the one holding `offset` to the end of the segment, each
   * a view into a reused buffer that is valid until the next step. The file is read in
   * HEADER_SCAN_CHUNK_BYTES pieces, so a segment of small batches costs one read per chunk rather
   * than one per batch: what recovering producer state reads, never the records.
   */
  *batchHeaders(offset: number): Generator<Buffer> {
    const start = offset <= this.baseOffset ? { position: 0 } : this.#positionOf(offset);
    if (start === undefined) return;
    const chunk = Buffer.allocUnsafe(HEADER_SCAN_CHUNK_BYTES);
    let chunkStart = 0;
    let chunkEnd = 0;
    for (let position = start.position; position + BATCH_HEADER_BYTES <= this.sizeBytes;) {
      if (position + BATCH_HEADER_BYTES > chunkEnd) {
        chunkEnd = Math.min(position + chunk.length, this.sizeBytes);
        readFully(this.#fd, chunk.subarray(0, chunkEnd - position), position);
        chunkStart = position;
      }
      const header = chunk.subarray(position - chunkStart, position - chunkStart + BATCH_HEADER_BYTES);
      const span = readBatchSpan(header, position);
      if (span === null || position + span.sizeBytes > this.sizeBytes) return;
      yield header;
      position += span.sizeBytes;
    }
  }

  /** Removes every batch at or after `offset` (which must be a batch boundary or the end). */
  truncateTo(offset: number): void {
    if (offset >= this.nextOffset) return;
    const start = offset <= this.baseOffset ? { position: 0 } : this.#positionOf(offset);
    if (start === undefined) return;
    ftruncateSync(this.#fd, start.position);
    this.sizeBytes = start.position;
    this.nextOffset = Math.max(this.baseOffset, offset);
    this.#index.truncateWhile((relative) => this.baseOffset + relative < offset);
    this.#timeIndex.truncateWhile((_, relative) => this.baseOffset + relative < offset);
    this.#recomputeMaxTimestamp();
  }

  flush(): void {
    fsyncSync(this.#fd);
  }

  close(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
    this.#index.close();
    this.#timeIndex.close();
  }

  /** Closes and removes the segment's three files. */
  delete(): void {
    this.close();
    for (const suffix of ['.log', '.index', '.timeindex'] as const) rmSync(this.path(suffix), { force: true });
  }

  #maybeIndex(offset: number, position: number): void {
    if (this.#bytesSinceIndexEntry <= this.#indexIntervalBytes) return;
    this.#index.append(offset - this.baseOffset, position);
    const lastTime = this.#timeIndex.lastKey();
    if (this.maxTimestamp >= 0 && (lastTime === undefined || this.maxTimestamp > lastTime)) {
      this.#timeIndex.append(this.maxTimestamp, this.#offsetOfMaxTimestamp - this.baseOffset);
    }
    this.#bytesSinceIndexEntry = 0;
  }

  #recomputeMaxTimestamp(): void {
    this.maxTimestamp = -1;
    this.#offsetOfMaxTimestamp = -1;
    for (const span of this.#spans(0, this.sizeBytes)) {
      if (span.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = span.maxTimestamp;
        this.#offsetOfMaxTimestamp = span.lastOffset;
      }
    }
  }

  /** Reads every batch from scratch, validating when `validate`, and rewrites both indexes. */
  #rebuild(fileBytes: number, validate: boolean): number {
    for (const span of this.#spans(0, fileBytes, validate)) {
      this.#account(span.lastOffset, span.maxTimestamp, span.position, span.sizeBytes);
      this.sizeBytes = span.position + span.sizeBytes;
    }
    if (this.sizeBytes < fileBytes) ftruncateSync(this.#fd, this.sizeBytes);
    this.#index.flushPending();
    this.#timeIndex.flushPending();
    return fileBytes - this.sizeBytes;
  }

  /** The batch holding `offset`: index floor, then a scan forward over batch headers. */
  #positionOf(offset: number): { position: number } | undefined {
    const entry = this.#index.floor(offset - this.baseOffset);
    for (const span of this.#spans(entry === undefined ? 0 : entry.value, this.sizeBytes)) {
      if (span.lastOffset >= offset) return { position: span.position };
    }
    return undefined;
  }

  /**
   * The batches in [from, to), read header by header. Stops at the first batch that is cut short
   * or, when `validate`, invalid (wrong magic, bad CRC) — the recovery rule.
   */
  *#spans(from: number, to: number, validate = false): Generator<BatchSpan> {
    const header = Buffer.allocUnsafe(BATCH_HEADER_BYTES);
    let position = from;
    while (position + BATCH_HEADER_BYTES <= to) {
      readFully(this.#fd, header, position);
      const span = readBatchSpan(header, position);
      if (span === null || position + span.sizeBytes > to) return;
      if (validate) {
        const whole = Buffer.allocUnsafe(span.sizeBytes);
        readFully(this.#fd, whole, position);
        if (!validateBatch(whole)) return;
      }
      yield span;
      position += span.sizeBytes;
    }
  }
}

function readFully(fd: number, buffer: Uint8Array, position: number): void {
  let done = 0;
  while (done < buffer.length) {
    const n = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (n === 0) throw new CorruptRecordError(`unexpected end of segment file at ${position + done}`);
    done += n;
  }
}

/** writev until every byte is written (writev may write less than asked). */
function writeAll(fd: number, buffers: Uint8Array[], position: number): void {
  let pending = buffers.filter((b) => b.length > 0);
  let at = position;
  while (pending.length > 0) {
    let written = writevSync(fd, pending, at);
    at += written;
    while (pending.length > 0 && written >= pending[0]!.length) written -= pending.shift()!.length;
    if (written > 0) pending[0] = pending[0]!.subarray(written);
  }
}
