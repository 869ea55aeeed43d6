/**
 * LogWriter: the write side of one broker's log directory. It takes offset-assigned batches,
 * appends everything that arrived together with one writev per partition, fsyncs by the flush
 * policy with group commit (one fsync covers every batch gathered while the previous one ran),
 * and reports per partition how far the log is written and how far it is durable. It also owns
 * the directory's checkpoints and its clean-shutdown marker. Single-threaded: it lives in the log
 * writer worker (workers/log-writer.worker.ts), which steps it with commit().
 */
import { rmSync } from 'node:fs';
import { IllegalStateError } from '../shared/errors.js';
import { readBatchSpan } from '../shared/log/batch-span.js';
import { asBuffer } from '../shared/record-batch/header.js';
import {
  LOG_START_OFFSET_CHECKPOINT, markCleanShutdown, partitionKey, readCheckpoint, readOrWriteTopicId, RECOVERY_POINT_CHECKPOINT,
  takeCleanShutdownMarker, writeCheckpoint, type OffsetCheckpoint,
} from '../shared/log/checkpoint.js';
import { PartitionLog, type LogConfig, type RecoveryReport } from '../shared/log/partition-log.js';
import type { ProducerEntry } from '../shared/log/producer-state.js';
import type { AppendBatch } from '../shared/log/segment.js';
import type { Logger } from '../shared/logger.js';

/**
 * Bytes the log writer takes from its inbox per step, reading them in place in the channel's ring
 * and writing them with one writev: large enough that a write costs about what a raw sequential
 * write of that size does, small enough that the broker refills the ring while it is written.
 */
export const LOG_WRITER_STEP_BYTES = 1 << 20;

export type LogWriterCommand =
  | { type: 'open'; partitionId: number; topic: string; partition: number; config: LogConfig; topicId?: string }
  | { type: 'flush' }
  | { type: 'retention'; nowMs: number }
  | { type: 'read'; partitionId: number; offset: number; maxBytes: number }
  | { type: 'offsets'; partitionId: number; timestamp: number }
  | { type: 'delete'; partitionId: number }
  | { type: 'close' };

/** The answer to a `retention` command: what went, and the partitions' new start offsets. */
export interface RetentionResult {
  deletedSegments: number;
  logStartOffsets: [partitionId: number, logStartOffset: number][];
}

/** The answer to an `offsets` command: the log's bounds and the first offset at or after a timestamp. */
export interface OffsetsResult {
  logStartOffset: number;
  logEndOffset: number;
  offsetForTimestamp: number | null;
  /** The timestamp of the record at offsetForTimestamp. */
  timestampOfOffset: number | null;
}

export interface OpenResult {
  /** From the partition's partition.metadata, written at creation. */
  topicId: string;
  logStartOffset: number;
  logEndOffset: number;
  recovery: RecoveryReport;
  /** The producer state of the log, for the broker's duplicate and sequence checks. */
  producers: ProducerEntry[];
}

export interface Progress {
  partitionId: number;
  writtenEndOffset: number;
  durableEndOffset: number;
}

interface OpenLog {
  log: PartitionLog;
  pending: AppendBatch[];
  reportedWritten: number;
  reportedDurable: number;
}

export class LogWriter {
  readonly logDir: string;
  readonly cleanShutdown: boolean;
  readonly #logger: Logger;
  readonly #recoveryPoints: OffsetCheckpoint;
  readonly #logStartOffsets: OffsetCheckpoint;
  readonly #logs = new Map<number, OpenLog>();
  readonly #dirty = new Set<number>();
  #closed = false;

  constructor(logDir: string, logger: Logger) {
    this.logDir = logDir;
    this.#logger = logger;
    this.cleanShutdown = takeCleanShutdownMarker(logDir);
    this.#recoveryPoints = readCheckpoint(logDir, RECOVERY_POINT_CHECKPOINT);
    this.#logStartOffsets = readCheckpoint(logDir, LOG_START_OFFSET_CHECKPOINT);
  }

  /** Queues a batch; `bytes` must stay valid until the next commit(). */
  append(partitionId: number, bytes: Uint8Array): void {
    const open = this.#logs.get(partitionId);
    if (open === undefined) throw new IllegalStateError(`log writer: append to partition id ${partitionId}, which is not open`);
    const span = readBatchSpan(asBuffer(bytes), 0);
    if (span === null || span.sizeBytes !== bytes.length) {
      throw new IllegalStateError(`log writer: partition id ${partitionId} was handed ${bytes.length} bytes that are not one RecordBatch`);
    }
    open.pending.push({ bytes, baseOffset: span.baseOffset, lastOffset: span.lastOffset, maxTimestamp: span.maxTimestamp });
    this.#dirty.add(partitionId);
  }

  /** write(), then progress(): for callers that report after every step. */
  commit(nowMs = Date.now()): Progress[] {
    this.write(nowMs);
    return this.progress();
  }

  /**
   * Writes everything queued (one writev per partition) and fsyncs the partitions whose flush
   * policy is due. What moved is reported by the next progress(), so a busy caller can write in
   * several steps and report once.
   */
  write(nowMs = Date.now()): void {
    const flushNow: PartitionLog[] = [];
    for (const partitionId of this.#dirty) {
      const open = this.#logs.get(partitionId)!;
      if (open.pending.length > 0) {
        const { flushNeeded } = open.log.append(open.pending, nowMs);
        open.pending = [];
        if (flushNeeded) flushNow.push(open.log);
      } else if (open.log.flushDue(nowMs)) {
        flushNow.push(open.log);
      }
    }
    for (const log of flushNow) log.flush();
  }

  /** The written and durable end offsets that moved since the last call. */
  progress(): Progress[] {
    const progress: Progress[] = [];
    for (const partitionId of this.#dirty) {
      const open = this.#logs.get(partitionId)!;
      const written = open.log.logEndOffset;
      const durable = open.log.recoveryPoint;
      if (written !== open.reportedWritten || durable !== open.reportedDurable) {
        progress.push({ partitionId, writtenEndOffset: written, durableEndOffset: durable });
        open.reportedWritten = written;
        open.reportedDurable = durable;
      }
      // Keep partitions with unflushed data on the list, so a flush.ms deadline is noticed.
      if (durable === written) this.#dirty.delete(partitionId);
    }
    return progress;
  }

  /** Milliseconds until some partition's flush.ms comes due (capped by `maxMs`). */
  msUntilNextFlush(nowMs: number, maxMs: number): number {
    let wait = maxMs;
    for (const partitionId of this.#dirty) {
      const log = this.#logs.get(partitionId)!.log;
      if (log.flushDue(nowMs)) return 0;
      if (log.config.flushMs < wait) wait = log.config.flushMs;
    }
    return wait;
  }

  command(command: LogWriterCommand): unknown {
    if (this.#closed) throw new IllegalStateError('log writer is closed');
    switch (command.type) {
      case 'open':
        return this.#open(command);
      case 'flush':
        this.commit();
        for (const { log } of this.#logs.values()) log.flush();
        this.#writeCheckpoints();
        return this.commit();
      case 'retention': {
        const result: RetentionResult = { deletedSegments: 0, logStartOffsets: [] };
        for (const [partitionId, { log }] of this.#logs) {
          const deleted = log.applyRetention(command.nowMs);
          if (deleted === 0) continue;
          result.deletedSegments += deleted;
          result.logStartOffsets.push([partitionId, log.logStartOffset]);
        }
        if (result.deletedSegments > 0) this.#writeCheckpoints();
        return result;
      }
      case 'read':
        return this.#log(command.partitionId).read(command.offset, command.maxBytes) ?? new Uint8Array(0);
      case 'offsets': {
        const log = this.#log(command.partitionId);
        const found = log.offsetForTimestamp(command.timestamp);
        const result: OffsetsResult = {
          logStartOffset: log.logStartOffset,
          logEndOffset: log.logEndOffset,
          offsetForTimestamp: found?.offset ?? null,
          timestampOfOffset: found?.timestamp ?? null,
        };
        return result;
      }
      case 'delete':
        this.#delete(command.partitionId);
        return {};
      case 'close':
        this.close();
        return {};
      default:
        throw new IllegalStateError(`log writer: unknown command ${JSON.stringify(command)}`);
    }
  }

  /** Clean shutdown: write what is queued, fsync everything, checkpoint, leave the marker. */
  close(): void {
    if (this.#closed) return;
    this.commit();
    for (const { log } of this.#logs.values()) log.flush();
    this.#writeCheckpoints();
    for (const { log } of this.#logs.values()) {
      log.snapshotProducerState();
      log.close();
    }
    this.#logs.clear();
    markCleanShutdown(this.logDir);
    this.#closed = true;
  }

  /** Closes a partition's log and removes its directory and checkpoint entries. */
  #delete(partitionId: number): void {
    const log = this.#log(partitionId);
    this.#logs.delete(partitionId);
    this.#dirty.delete(partitionId);
    log.close();
    rmSync(log.dir, { recursive: true, force: true });
    const key = partitionKey(log.topic, log.partition);
    this.#recoveryPoints.delete(key);
    this.#logStartOffsets.delete(key);
    this.#writeCheckpoints();
  }

  #log(partitionId: number): PartitionLog {
    const open = this.#logs.get(partitionId);
    if (open === undefined) throw new IllegalStateError(`log writer: partition id ${partitionId} is not open`);
    return open.log;
  }

  #open(command: Extract<LogWriterCommand, { type: 'open' }>): OpenResult {
    if (this.#logs.has(command.partitionId)) throw new IllegalStateError(`log writer: partition id ${command.partitionId} is already open`);
    const key = partitionKey(command.topic, command.partition);
    const { log, recovery } = PartitionLog.open(this.logDir, command.topic, command.partition, command.config, {
      recoveryPoint: this.#recoveryPoints.get(key)?.offset ?? 0,
      logStartOffset: this.#logStartOffsets.get(key)?.offset ?? 0,
      cleanShutdown: this.cleanShutdown,
      logger: this.#logger,
    });
    this.#logs.set(command.partitionId, { log, pending: [], reportedWritten: log.logEndOffset, reportedDurable: log.recoveryPoint });
    if (recovery.truncatedBytes > 0 || recovery.validatedSegments > 0 || recovery.producerBatchesScanned > 0) {
      this.#logger.info({ topic: command.topic, partition: command.partition, ...recovery, logEndOffset: log.logEndOffset }, 'recovered partition log');
    }
    const topicId = readOrWriteTopicId(log.dir, command.topicId);
    return { topicId, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset, recovery, producers: log.producerState.entries() };
  }

  /** Checkpoints every partition: open ones as they are now, the others as they were read. */
  #writeCheckpoints(): void {
    for (const { log } of this.#logs.values()) {
      const key = partitionKey(log.topic, log.partition);
      this.#recoveryPoints.set(key, { topic: log.topic, partition: log.partition, offset: log.recoveryPoint });
      this.#logStartOffsets.set(key, { topic: log.topic, partition: log.partition, offset: log.logStartOffset });
    }
    writeCheckpoint(this.logDir, RECOVERY_POINT_CHECKPOINT, this.#recoveryPoints);
    writeCheckpoint(this.logDir, LOG_START_OFFSET_CHECKPOINT, this.#logStartOffsets);
  }
}
