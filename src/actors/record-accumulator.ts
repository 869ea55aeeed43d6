/**
 * RecordAccumulator: per-partition queues of batches, as Kafka's RecordAccumulator. Records are
 * written straight into a batch's buffer (from the BufferPool) in RecordBatch v2 form; a batch
 * holds max(batch.size, record size). A partition is ready to send when its first batch is full,
 * has waited linger.ms, a flush is under way, or memory has run out (so waiting senders get it
 * back). drain() closes ready batches and hands them to the sender. Main thread only; not
 * thread-safe.
 */
import { IllegalStateError } from '../shared/errors.js';
import { RecordBatchBuilder, type RecordInput } from '../shared/record-batch/builder.js';
import { batchSizeUpperBoundInBytes } from '../shared/record-batch/record.js';
import { RECORD_BATCH_OVERHEAD, type CompressionId } from '../shared/record-batch/layout.js';
import type { BufferPool } from './buffer-pool.js';


/**
 * A batch on its way: Kafka's ProducerBatch. Per record it keeps only what RecordMetadata needs,
 * in flat arrays indexed by offsetDelta (no object per record: a full buffer.memory holds
 * hundreds of thousands of records, and per-record objects would all live until acknowledged).
 */
export interface ProducerBatch<C = unknown> {
  readonly topic: string;
  readonly partition: number;
  readonly builder: RecordBatchBuilder;
  /** The pool buffer under the builder, and the size that was allocated. */
  readonly buffer: Buffer;
  readonly allocatedBytes: number;
  readonly createdMs: number;
  /** Per record, by offsetDelta: whom to tell, its timestamp, its serialized key and value sizes (-1: null). */
  readonly callbacks: C[];
  readonly timestamps: number[];
  readonly keySizes: number[];
  readonly valueSizes: number[];
  /** The bytes to send, set by drain(). */
  bytes: Buffer | null;
}

export interface AppendResult<C = unknown> {
  batch: ProducerBatch<C>;
  /** This append started a new batch: the partitioner may move on, the sender may have work. */
  newBatchCreated: boolean;
  /** The partition's queue has a batch ready to go (more than one batch, or a full one): wake the sender. */
  batchIsFull: boolean;
}

export interface AccumulatorOptions<C> {
  batchSizeBytes: number;
  lingerMs: number;
  compression: CompressionId;
  pool: BufferPool;
  /** A batch's outcome, for its records' callbacks; called by complete() before the memory goes back. */
  onComplete: (batch: ProducerBatch<C>, error: Error | null, baseOffset: number, logAppendTimeMs: number) => void;
}


/** Keeps what the record's RecordMetadata needs; its index is its offsetDelta. */
function remember<C>(batch: ProducerBatch<C>, i: number, record: RecordInput, callback: C): void {
  batch.callbacks[i] = callback;
  batch.timestamps[i] = record.timestamp;
  batch.keySizes[i] = record.key === null ? -1 : record.key.length;
  batch.valueSizes[i] = record.value === null ? -1 : record.value.length;
}

/**
 * Room for the records a batch of `capacityBytes` will likely hold, judged by its first record's
 * size: arrays grown one push at a time would copy themselves several times per batch.
 */
function expectedRecords(capacityBytes: number, firstRecordBytes: number): number {
  return Math.min(4_096, Math.ceil(capacityBytes / Math.max(8, firstRecordBytes)));
}

export class RecordAccumulator<C = unknown> {
  readonly #options: AccumulatorOptions<C>;
  /** topic → partition → its batches, oldest first (no per-record key strings on the hot path). */
  readonly #queues = new Map<string, ProducerBatch<C>[][]>();
  #flushesInProgress = 0;
  #closed = false;
  #waitingAppends = 0;
  /** The last append waiting for memory: the next one waits behind it. */
  #lastWaiting: Promise<void> = Promise.resolve();
  readonly #lastResult: AppendResult<C> = { batch: null as unknown as ProducerBatch<C>, newBatchCreated: false, batchIsFull: false };

  constructor(options: AccumulatorOptions<C>) {
    this.#options = options;
  }

  /**
   * Appends to the partition's open batch, or to a new one when memory is free now: synchronously,
   * as the common case should be. Otherwise the append waits (asynchronously, up to maxBlockMs) for
   * memory, and every append after it waits behind it, so records keep the order they were sent in.
   */
  append(topic: string, partition: number, record: RecordInput, callback: C, nowMs: number, maxBlockMs: number): AppendResult<C> | Promise<AppendResult<C>> {
    // A synchronous result is valid until the next append (it is reused); `record` may be reused
    // by the caller once append returns, so a waiting append keeps a copy.
    if (this.#waitingAppends === 0) {
      const appended = this.tryAppend(topic, partition, record, callback);
      if (appended !== null) return appended;
      const size = this.#batchSizeFor(record);
      const buffer = this.#options.pool.tryAllocate(size);
      if (buffer !== null) return this.#newBatch(topic, partition, record, callback, buffer, size, nowMs);
    }
    const deadlineMs = nowMs + maxBlockMs;
    this.#waitingAppends++;
    record = { timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers };
    const appended = this.#lastWaiting.then(async () => {
      try {
        const ready = this.tryAppend(topic, partition, record, callback);
        if (ready !== null) return { ...ready };
        const size = this.#batchSizeFor(record);
        const buffer = await this.#options.pool.allocate(size, Math.max(0, deadlineMs - Date.now()));
        if (this.#closed) {
          this.#options.pool.deallocate(buffer, size);
          throw new IllegalStateError('producer closed while a send waited for memory');
        }
        return { ...this.#newBatch(topic, partition, record, callback, buffer, size, Date.now()) };
      } finally {
        this.#waitingAppends--;
      }
    });
    this.#lastWaiting = appended.then(() => undefined, () => undefined);
    return appended;
  }

  /** Appends that wait for memory (and those queued behind them). */
  get waitingAppends(): number {
    return this.#waitingAppends;
  }

  /** A batch holds max(batch.size, the record's size). */
  #batchSizeFor(record: RecordInput): number {
    return Math.max(this.#options.batchSizeBytes, batchSizeUpperBoundInBytes(record.key, record.value, record.headers ?? []));
  }

  #newBatch(topic: string, partition: number, record: RecordInput, callback: C, buffer: Buffer, size: number, nowMs: number): AppendResult<C> {
    const batch: ProducerBatch<C> = {
      topic, partition,
      builder: new RecordBatchBuilder({ buffer, capacityBytes: size, compression: this.#options.compression }),
      buffer, allocatedBytes: size, createdMs: nowMs, callbacks: [], timestamps: [], keySizes: [], valueSizes: [], bytes: null,
    };
    const offsetDelta = batch.builder.tryAppend(record);
    if (offsetDelta === null) throw new IllegalStateError(`a ${size}-byte batch refused the record it was sized for`);
    const expected = expectedRecords(size, batch.builder.estimatedSizeInBytes - RECORD_BATCH_OVERHEAD);
    batch.callbacks.length = batch.timestamps.length = batch.keySizes.length = batch.valueSizes.length = expected;
    remember(batch, offsetDelta, record, callback);
    const queue = this.#queue(topic, partition);
    queue.push(batch);
    return this.#result(batch, true, queue.length > 1 || this.#isFull(batch));
  }

  /** The one AppendResult, filled in for each synchronous append (no object per record). */
  #result(batch: ProducerBatch<C>, newBatchCreated: boolean, batchIsFull: boolean): AppendResult<C> {
    const result = this.#lastResult;
    result.batch = batch;
    result.newBatchCreated = newBatchCreated;
    result.batchIsFull = batchIsFull;
    return result;
  }

  /** Appends to the partition's open batch without waiting; null when a new batch is needed. */
  tryAppend(topic: string, partition: number, record: RecordInput, callback: C): AppendResult<C> | null {
    if (this.#closed) throw new IllegalStateError('the record accumulator is closed');
    const queue = this.#queues.get(topic)?.[partition];
    const last = queue?.[queue.length - 1];
    if (last === undefined || last.bytes !== null || this.#isFull(last)) return null;
    const offsetDelta = last.builder.tryAppend(record);
    if (offsetDelta === null) return null;
    remember(last, offsetDelta, record, callback);
    return this.#result(last, false, this.#isFull(last));
  }

  /** Kafka's ProducerBatch.isFull: closed, refusing records, or at batch.size (an oversized record's batch is full at once). */
  #isFull(batch: ProducerBatch<C>): boolean {
    return batch.builder.isFull || batch.builder.estimatedSizeInBytes >= this.#options.batchSizeBytes;
  }

  *#allQueues(): IterableIterator<ProducerBatch<C>[]> {
    for (const partitions of this.#queues.values()) yield* partitions;
  }

  #queue(topic: string, partition: number): ProducerBatch<C>[] {
    let partitions = this.#queues.get(topic);
    if (partitions === undefined) this.#queues.set(topic, (partitions = []));
    let queue = partitions[partition];
    if (queue === undefined) {
      for (let p = partitions.length; p < partition; p++) partitions[p] = [];
      partitions[partition] = queue = [];
    }
    return queue;
  }

  /** Batches waiting in a partition's queue (what adaptive partitioning weighs). */
  queueLength(topic: string, partition: number): number {
    return this.#queues.get(topic)?.[partition]?.length ?? 0;
  }

  /**
   * Partitions with a batch to send now, and how long until the next lingering batch is due
   * (Infinity when nothing waits).
   */
  ready(nowMs: number): { ready: { topic: string; partition: number }[]; nextReadyCheckDelayMs: number } {
    const ready: { topic: string; partition: number }[] = [];
    let nextReadyCheckDelayMs = Infinity;
    const exhausted = this.#options.pool.queued > 0 || this.#waitingAppends > 0;
    for (const queue of this.#allQueues()) {
      const first = queue[0];
      if (first === undefined) continue;
      const waitedMs = nowMs - first.createdMs;
      const full = queue.length > 1 || this.#isFull(first);
      if (full || waitedMs >= this.#options.lingerMs || exhausted || this.#flushesInProgress > 0 || this.#closed) {
        ready.push({ topic: first.topic, partition: first.partition });
      } else {
        nextReadyCheckDelayMs = Math.min(nextReadyCheckDelayMs, this.#options.lingerMs - waitedMs);
      }
    }
    return { ready, nextReadyCheckDelayMs };
  }

  /**
   * Takes the first batch of each given partition, closed and built, while the total stays within
   * maxBytes (the first batch always goes, however large).
   */
  drain(partitions: readonly { topic: string; partition: number }[], maxBytes: number): ProducerBatch<C>[] {
    const drained: ProducerBatch<C>[] = [];
    let size = 0;
    for (const { topic, partition } of partitions) {
      const queue = this.#queues.get(topic)?.[partition];
      const first = queue?.[0];
      if (first === undefined) continue;
      first.bytes ??= first.builder.build();
      const bytes = first.bytes;
      if (drained.length > 0 && size + bytes.length > maxBytes) break;
      queue!.shift();
      drained.push(first);
      size += bytes.length;
    }
    return drained;
  }

  /** Puts a batch that will be retried back at the head of its queue, so order holds. */
  reenqueue(batch: ProducerBatch<C>): void {
    this.#queue(batch.topic, batch.partition).unshift(batch);
  }

  /** A batch is done (sent or failed): tell its records and return its memory. */
  complete(batch: ProducerBatch<C>, error: Error | null, baseOffset: number, logAppendTimeMs = -1): void {
    // The per-record arrays were sized for the records expected: cut them to those appended.
    const records = batch.builder.lastOffsetDelta + 1;
    batch.callbacks.length = batch.timestamps.length = batch.keySizes.length = batch.valueSizes.length = records;
    this.#options.onComplete(batch, error, baseOffset, logAppendTimeMs);
    this.#options.pool.deallocate(batch.buffer, batch.allocatedBytes);
  }

  /** Until endFlush(), every partition with records counts as ready. */
  beginFlush(): void {
    this.#flushesInProgress++;
  }

  endFlush(): void {
    this.#flushesInProgress = Math.max(0, this.#flushesInProgress - 1);
  }

  /** Batches still held (queued, not yet drained). */
  get pendingBatches(): number {
    let n = 0;
    for (const queue of this.#allQueues()) n += queue.length;
    return n;
  }

  /** Fails every queued batch with `error` (a forced close) and takes no more records. */
  abortAll(error: Error): void {
    this.#closed = true;
    for (const queue of this.#allQueues()) for (const batch of queue) this.complete(batch, error, -1);
    this.#queues.clear();
  }

  /** No more records; what is queued becomes ready at once (a graceful close drains it). */
  close(): void {
    this.#closed = true;
  }
}
