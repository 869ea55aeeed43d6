/**
 * PartitionLog: one partition's directory `<topic>-<partition>` of segments, as Kafka's
 * UnifiedLog/LocalLog: append offset-assigned batches (rolling segments by size, age or offset
 * range), read by offset and by timestamp, delete old segments by time and size retention, flush
 * by the `flush.messages` / `flush.ms` policy, and recover at open. Owned by one thread.
 *
 * It also keeps the producer state of what it holds (producer-state.ts), as Kafka's
 * ProducerStateManager does: snapshotted to `<offset>.snapshot` when a segment rolls (the state
 * below the new segment) and at a clean close (below the log end); at open, rebuilt from the
 * newest readable snapshot at or below the log end plus the batch headers after it. A clean
 * restart therefore reads no batches, and a crash at most those since the last roll. Retention
 * deletes the snapshots below the first remaining segment; producers keep their state.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptRecordError, RinglogError } from '../errors.js';
import { peekBatchSizeInBytes, readBatchHeader } from '../record-batch/header.js';
import { readRecords } from '../record-batch/reader.js';
import type { Logger } from '../logger.js';
import { deleteProducerSnapshot, readProducerSnapshot, snapshotOffsets, writeProducerSnapshot } from './producer-snapshot.js';
import { ProducerStateManager, replayBatch } from './producer-state.js';
import { fileOffsets, LogSegment, type AppendBatch } from './segment.js';

export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
  indexIntervalBytes: number;
  /** Delete segments whose newest record is older than this; -1 keeps them forever. */
  retentionMs: number;
  /** Delete the oldest segments while the log is larger than this; -1 for no limit. */
  retentionBytes: number;
  /** fsync after this many records (Kafka's default: never, left to the OS). */
  flushMessages: number;
  /** fsync when the oldest unflushed record is this old. */
  flushMs: number;
}

/** Kafka's defaults (kafka-facts §3). */
export const DEFAULT_LOG_CONFIG: LogConfig = {
  segmentBytes: 1_073_741_824,
  segmentMs: 7 * 24 * 3_600_000,
  indexIntervalBytes: 4_096,
  retentionMs: 7 * 24 * 3_600_000,
  retentionBytes: -1,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
};

export interface OpenOptions {
  /** Offsets below this are known to be on disk (fsynced) and need no validation. */
  recoveryPoint: number;
  logStartOffset: number;
  /** The last shutdown was clean: trust everything, validate nothing. */
  cleanShutdown: boolean;
  logger?: Logger;
}

export interface RecoveryReport {
  segments: number;
  validatedSegments: number;
  truncatedBytes: number;
  deletedSegments: number;
  /** The snapshot producer state was loaded from, or -1 for none. */
  producerSnapshotOffset: number;
  /** Batch headers read to bring producer state from the snapshot to the log end. */
  producerBatchesScanned: number;
}

const MAX_RELATIVE_OFFSET = 0x7fff_ffff;

export class PartitionLog {
  readonly dir: string;
  readonly topic: string;
  readonly partition: number;
  readonly config: LogConfig;
  /** The producer state of the batches in this log (written ones; the broker keeps its own for in-flight ones). */
  readonly producerState: ProducerStateManager;
  #segments: LogSegment[];
  logStartOffset: number;
  /** Everything below this offset has been fsynced. */
  recoveryPoint: number;
  #unflushedRecords = 0;
  #oldestUnflushedMs: number | undefined;

  private constructor(
    dir: string, topic: string, partition: number, config: LogConfig, segments: LogSegment[], logStartOffset: number, recoveryPoint: number,
    producerState: ProducerStateManager,
  ) {
    this.dir = dir;
    this.topic = topic;
    this.partition = partition;
    this.config = config;
    this.producerState = producerState;
    this.#segments = segments;
    this.logStartOffset = logStartOffset;
    this.recoveryPoint = recoveryPoint;
  }

  /** Opens (creating if needed) the log of `topic`-`partition` under `logDir`, recovering it. */
  static open(logDir: string, topic: string, partition: number, config: LogConfig, options: OpenOptions): { log: PartitionLog; recovery: RecoveryReport } {
    const dir = join(logDir, `${topic}-${partition}`);
    mkdirSync(dir, { recursive: true });
    const bases = fileOffsets(dir, '.log');
    const recovery: RecoveryReport = {
      segments: bases.length, validatedSegments: 0, truncatedBytes: 0, deletedSegments: 0, producerSnapshotOffset: -1, producerBatchesScanned: 0,
    };
    const segments: LogSegment[] = [];
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!;
      const next = bases[i + 1];
      // A segment wholly below the recovery point was fsynced: trust it unless its end looks wrong.
      const mustValidate = !options.cleanShutdown && (next === undefined || next > options.recoveryPoint);
      let opened: { segment: LogSegment; truncatedBytes: number };
      try {
        opened = LogSegment.open(dir, base, config.indexIntervalBytes, mustValidate);
      } catch (error) {
        if (!(error instanceof CorruptRecordError)) throw error;
        opened = LogSegment.open(dir, base, config.indexIntervalBytes, true);
        recovery.validatedSegments++;
      }
      if (mustValidate) recovery.validatedSegments++;
      segments.push(opened.segment);
      if (opened.truncatedBytes > 0) {
        recovery.truncatedBytes += opened.truncatedBytes;
        options.logger?.warn({ topic, partition, segment: base, truncatedBytes: opened.truncatedBytes }, 'truncated a torn or corrupt log tail');
        // Nothing after a damaged point can be trusted to follow on: drop the later segments.
        for (const later of bases.slice(i + 1)) {
          LogSegment.open(dir, later, config.indexIntervalBytes, false).segment.delete();
          recovery.deletedSegments++;
        }
        break;
      }
    }
    // An empty segment left in the middle (or at the start, after truncation) is fine; none at all is not.
    if (segments.length === 0) segments.push(LogSegment.create(dir, options.logStartOffset, config.indexIntervalBytes));
    const logStartOffset = Math.max(options.logStartOffset, segments[0]!.baseOffset);
    const logEndOffset = segments.at(-1)!.nextOffset;
    const recoveryPoint = options.cleanShutdown ? logEndOffset : Math.min(options.recoveryPoint, logEndOffset);
    const producers = loadProducerState(dir, segments, recovery, options.logger);
    const log = new PartitionLog(dir, topic, partition, config, segments, logStartOffset, recoveryPoint, producers);
    return { log, recovery };
  }

  get logEndOffset(): number {
    return this.#segments.at(-1)!.nextOffset;
  }

  get sizeBytes(): number {
    return this.#segments.reduce((sum, s) => sum + s.sizeBytes, 0);
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  segmentBaseOffsets(): number[] {
    return this.#segments.map((s) => s.baseOffset);
  }

  /**
   * Appends offset-assigned batches (the first must start at logEndOffset), rolling first when the
   * active segment is full, too old, or cannot address the offsets. Returns whether the flush
   * policy asks for an fsync now.
   */
  append(batches: readonly AppendBatch[], nowMs = Date.now()): { flushNeeded: boolean } {
    let expectedOffset = this.logEndOffset;
    let run: AppendBatch[] = [];
    let runBytes = 0;
    for (const batch of batches) {
      if (batch.baseOffset !== expectedOffset || batch.lastOffset < batch.baseOffset) {
        throw new CorruptRecordError(`${this.topic}-${this.partition}: batch [${batch.baseOffset}, ${batch.lastOffset}] does not follow log end ${expectedOffset}`);
      }
      if (this.#shouldRoll(this.#segments.at(-1)!, runBytes, batch, nowMs)) {
        this.#segments.at(-1)!.append(run);
        run = [];
        runBytes = 0;
        // Kafka's roll snapshot: the producer state below the new segment, so recovery after a crash reads at most one segment.
        writeProducerSnapshot(this.dir, batch.baseOffset, this.producerState.entries());
        this.#segments.push(LogSegment.create(this.dir, batch.baseOffset, this.config.indexIntervalBytes));
      }
      run.push(batch);
      replayBatch(this.producerState, batch.bytes);
      runBytes += batch.bytes.length;
      expectedOffset = batch.lastOffset + 1;
      this.#unflushedRecords += batch.lastOffset - batch.baseOffset + 1;
    }
    this.#segments.at(-1)!.append(run);
    this.#oldestUnflushedMs ??= nowMs;
    return { flushNeeded: this.flushDue(nowMs) };
  }

  /** Whether `flush.messages` or `flush.ms` calls for an fsync. */
  flushDue(nowMs = Date.now()): boolean {
    if (this.#unflushedRecords === 0) return false;
    return this.#unflushedRecords >= this.config.flushMessages || nowMs - this.#oldestUnflushedMs! >= this.config.flushMs;
  }

  /** fsyncs every segment holding unflushed data; moves the recovery point to the log end. */
  flush(): void {
    for (const segment of this.#segments) {
      if (segment.nextOffset > this.recoveryPoint) segment.flush();
    }
    this.recoveryPoint = this.logEndOffset;
    this.#unflushedRecords = 0;
    this.#oldestUnflushedMs = undefined;
  }

  /** Whole batches from the one holding `offset`, up to maxBytes (at least one batch). */
  read(offset: number, maxBytes: number): Buffer | null {
    if (offset < this.logStartOffset || offset >= this.logEndOffset) return null;
    for (let i = this.#segmentIndexFor(offset); i < this.#segments.length; i++) {
      // A segment may end in a gap (offsets removed by compaction upstream): go on to the next.
      const bytes = this.#segments[i]!.read(offset, maxBytes);
      if (bytes !== null) return bytes;
    }
    return null;
  }

  /**
   * The first record whose timestamp is >= `timestamp` (its offset and timestamp), or undefined: the indexes
   * find the first batch whose max timestamp reaches it, then its records are read.
   */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | undefined {
    for (const segment of this.#segments) {
      const batchOffset = segment.offsetForTimestamp(timestamp);
      if (batchOffset === undefined) continue;
      const bytes = segment.read(batchOffset, 1);
      if (bytes !== null) {
        try {
          for (const record of readRecords(readBatchHeader(bytes, 0, { end: peekBatchSizeInBytes(bytes) }))) {
            if (record.timestamp >= timestamp) return { offset: Math.max(record.offset, this.logStartOffset), timestamp: record.timestamp };
          }
        } catch (error) {
          // A batch we cannot read here (say, a compression without a codec): answer with its start.
          if (!(error instanceof RinglogError)) throw error;
        }
      }
      return { offset: Math.max(batchOffset, this.logStartOffset), timestamp };
    }
    return undefined;
  }

  /**
   * Deletes whole old segments, never the active one: those whose newest record is older than
   * retentionMs, then the oldest while the log exceeds retentionBytes. Moves logStartOffset.
   */
  applyRetention(nowMs = Date.now()): number {
    let deleted = 0;
    const { retentionMs, retentionBytes } = this.config;
    let size = this.sizeBytes;
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0]!;
      const expired = retentionMs >= 0 && oldest.maxTimestamp >= 0 && nowMs - oldest.maxTimestamp > retentionMs;
      const oversize = retentionBytes >= 0 && size - oldest.sizeBytes >= retentionBytes;
      if (!expired && !oversize) break;
      this.#segments.shift();
      size -= oldest.sizeBytes;
      oldest.delete();
      deleted++;
    }
    this.logStartOffset = Math.max(this.logStartOffset, this.#segments[0]!.baseOffset);
    if (deleted > 0) {
      // The newest snapshot still holds every producer; those of deleted segments are not needed.
      for (const offset of snapshotOffsets(this.dir)) if (offset < this.#segments[0]!.baseOffset) deleteProducerSnapshot(this.dir, offset);
    }
    return deleted;
  }

  /** Snapshots the producer state at the log end: what a clean close leaves, so the next open reads no batches. */
  snapshotProducerState(): void {
    writeProducerSnapshot(this.dir, this.logEndOffset, this.producerState.entries());
  }

  close(): void {
    for (const segment of this.#segments) segment.close();
  }

  /** Kafka's LogSegment.shouldRoll, for `batch` following `pendingBytes` not yet written to `active`. */
  #shouldRoll(active: LogSegment, pendingBytes: number, batch: AppendBatch, nowMs: number): boolean {
    const sizeBytes = active.sizeBytes + pendingBytes;
    if (sizeBytes === 0) return false;
    return (
      sizeBytes > this.config.segmentBytes - batch.bytes.length ||
      (active.firstAppendMs !== undefined && nowMs - active.firstAppendMs > this.config.segmentMs) ||
      batch.lastOffset - active.baseOffset > MAX_RELATIVE_OFFSET
    );
  }

  /** The last segment whose base offset is <= offset. */
  #segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.#segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/**
 * Producer state at the log end: the newest snapshot at or below it that reads back (later ones
 * belong to a tail that recovery cut off, corrupt ones are skipped; both are deleted), then the
 * batch headers from there on.
 */
function loadProducerState(dir: string, segments: readonly LogSegment[], recovery: RecoveryReport, logger: Logger | undefined): ProducerStateManager {
  const logEndOffset = segments.at(-1)!.nextOffset;
  let state = new ProducerStateManager();
  let from = segments[0]!.baseOffset;
  for (const offset of snapshotOffsets(dir).reverse()) {
    if (offset > logEndOffset) {
      deleteProducerSnapshot(dir, offset);
      continue;
    }
    try {
      state = new ProducerStateManager(readProducerSnapshot(dir, offset));
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      logger?.warn({ dir, offset, err: error }, 'deleting an unreadable producer snapshot');
      deleteProducerSnapshot(dir, offset);
      continue;
    }
    recovery.producerSnapshotOffset = offset;
    from = Math.max(from, offset);
    break;
  }
  for (const segment of segments) {
    if (segment.nextOffset <= from) continue;
    for (const header of segment.batchHeaders(from)) {
      replayBatch(state, header);
      recovery.producerBatchesScanned++;
    }
  }
  return state;
}
