/**
 * Producer: Kafka's KafkaProducer on the main thread. `send` runs doSend's steps — interceptors,
 * the topic's metadata (waiting at most max.block.ms), serializers, the partitioner, the record
 * size checks — and appends the record to the RecordAccumulator, in place in a BufferPool buffer.
 * Ready batches (full, lingered, flushed) go to the sender worker over a ring; their outcomes come
 * back per batch and complete every record's callback or promise. Main thread only.
 */
import { withTimeout } from '../shared/deadline.js';
import { IllegalStateError, RecordTooLargeError, RinglogError, TimeoutError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { choosePartition, StickyPartitioner, type PartitionerFunction, type PartitionOptions } from '../shared/partitioner.js';
import { resolveProducerOptions, type ProducerOptions } from '../shared/producer-config.js';
import { ErrorCodes, errorInfo, kafkaError } from '../shared/protocol/index.js';
import type { RecordInput } from '../shared/record-batch/builder.js';
import { batchSizeUpperBoundInBytes, type RecordHeader } from '../shared/record-batch/record.js';
import { Pump } from '../shared/pump.js';
import { Compression } from '../shared/record-batch/layout.js';
import { serializeHeaders, serializer, type HeadersInput, type SerializerFunction, type SerializerSpec } from '../shared/serializers.js';
import { BufferPool } from './buffer-pool.js';
import { RecordAccumulator, type AppendResult, type ProducerBatch } from './record-accumulator.js';
import { SenderLink } from './sender-link.js';
import type { ConnectionHandles } from './embedded-connection.js';

export interface ProducerRecord<K = unknown, V = unknown> {
  topic: string;
  /** An explicit partition; otherwise the key or the sticky partitioner chooses. */
  partition?: number;
  key?: K | null;
  value: V | null;
  headers?: HeadersInput;
  /** Create time in ms since the epoch; defaults to now. */
  timestamp?: number;
}

/** What a broker acknowledged for one record. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks=0, as Kafka reports it. */
  offset: number;
  /** The create time, or the broker's log-append time when the topic uses it. */
  timestamp: number;
  serializedKeySize: number;
  serializedValueSize: number;
}

export type SendCallback = (error: Error | null, metadata: RecordMetadata | null) => void;

/** Kafka's ProducerInterceptor. A hook that throws is logged and skipped; it never breaks a send. */
export interface ProducerInterceptor {
  onSend?(record: ProducerRecord): ProducerRecord;
  onAcknowledgement?(metadata: RecordMetadata | null, error: Error | null): void;
}

/** What a producer needs from the cluster it talks to (embedded today). */
export interface ProducerTarget {
  /** Connection handles to broker `nodeId`, or to any broker when null. */
  openConnection(nodeId: number | null): Promise<{ nodeId: number; handles: ConnectionHandles }>;
  readonly logger: Logger;
}

/** Options that are not Kafka configuration: serializers, hooks and the logger. */
export interface ProducerExtras<K = unknown, V = unknown> {
  keySerializer?: SerializerSpec<K>;
  valueSerializer?: SerializerSpec<V>;
  interceptors?: ProducerInterceptor[];
  partitioner?: PartitionerFunction;
  logger?: Logger;
}

export type ProducerConfig<K = unknown, V = unknown> = ProducerExtras<K, V> & Readonly<Record<string, unknown>>;

const EXTRA_KEYS = new Set(['keySerializer', 'valueSerializer', 'interceptors', 'partitioner', 'logger']);
const CONTROL_TIMEOUT_MS = 30_000;
const BATCHES_RING_BYTES = 8 << 20;
let producerCount = 0;

interface TopicInfo {
  partitions: number;
  fetchedAtMs: number;
}

export class Producer<K = unknown, V = unknown> {
  readonly options: ProducerOptions;
  readonly #logger: Logger;
  readonly #keySerializer: SerializerFunction<K>;
  readonly #valueSerializer: SerializerFunction<V>;
  readonly #interceptors: ProducerInterceptor[];
  readonly #input: RecordInput = { timestamp: 0, key: null, value: null, headers: [] };
  readonly #custom: PartitionerFunction | undefined;
  readonly #sticky: StickyPartitioner;
  /** choosePartition's options, made once: nothing is allocated for them per record. */
  readonly #partitioning: PartitionOptions;
  readonly #pool: BufferPool;
  readonly #accumulator: RecordAccumulator<SendCallback>;
  readonly #sender: SenderLink;
  readonly #topics = new Map<string, TopicInfo>();
  readonly #metadataWaits = new Map<string, Promise<TopicInfo>>();
  /** Batches sent to the sender, by id, until their outcome arrives. */
  readonly #inFlight = new Map<number, ProducerBatch<SendCallback>>();
  /** Batches not yet complete (queued or in flight), and who waits for them (flush). */
  readonly #incomplete = new Map<ProducerBatch<SendCallback>, (() => void)[]>();
  /** Sends waiting for metadata or memory. */
  readonly #waitingSends = new Set<Promise<void>>();
  #drainedWaiters: (() => void)[] = [];
  #nextBatchId = 1;
  #drainScheduled = false;
  #draining = false;
  /** Drains when the first lingering batch is due. */
  readonly #linger = new Pump(() => this.#drain());
  #closed = false;
  #closing: Promise<void> | null = null;
  readonly #drainNow = (): void => {
    this.#drainScheduled = false;
    this.#drain();
  };

  private constructor(options: ProducerOptions, extras: ProducerExtras<K, V>, target: ProducerTarget) {
    this.options = options;
    this.#logger = (extras.logger ?? target.logger).child({ actor: 'producer', clientId: options.clientId });
    this.#keySerializer = serializer(extras.keySerializer, 'key');
    this.#valueSerializer = serializer(extras.valueSerializer, 'value');
    this.#interceptors = extras.interceptors ?? [];
    this.#custom = extras.partitioner;
    this.#sticky = new StickyPartitioner(options.batchSize, { adaptive: options.partitionerAdaptivePartitioningEnable });
    this.#partitioning = { custom: this.#custom, ignoreKeys: options.partitionerIgnoreKeys, sticky: this.#sticky, queueSizes: this.#queueSizes };
    this.#pool = new BufferPool(options.bufferMemory, Math.max(1, Math.min(options.batchSize, options.bufferMemory)));
    this.#accumulator = new RecordAccumulator<SendCallback>({
      batchSizeBytes: options.batchSize, lingerMs: options.lingerMs, compression: Compression.none, pool: this.#pool,
      onComplete: (batch, error, baseOffset, logAppendTimeMs) => this.#batchDone(batch, error, baseOffset, logAppendTimeMs),
    });
    this.#sender = new SenderLink({
      name: `producer-${++producerCount}`,
      clientId: options.clientId,
      sender: options,
      connect: (nodeId) => target.openConnection(nodeId),
      bootstrapServers: options.bootstrapServers,
      logger: this.#logger,
      controlTimeoutMs: CONTROL_TIMEOUT_MS,
      batchesCapacityBytes: Math.max(BATCHES_RING_BYTES, 2 * options.maxRequestSize + 4096),
      onDone: (id, baseOffset, logAppendTimeMs) => this.#complete(id, null, baseOffset, logAppendTimeMs),
      onFailed: (id, error) => this.#complete(id, error, -1, -1),
      onExit: (error) => this.#senderDied(error),
    });
  }

  /** Starts a producer: its sender worker, and with idempotence its producer id. */
  static async start<K = unknown, V = unknown>(target: ProducerTarget, config: ProducerConfig<K, V> = {}): Promise<Producer<K, V>> {
    const kafkaConfig: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) if (!EXTRA_KEYS.has(key)) kafkaConfig[key] = value;
    const logger = config.logger ?? target.logger;
    const options = resolveProducerOptions(kafkaConfig, logger);
    const producer = new Producer<K, V>(options, config, target);
    try {
      // Past max.block.ms the worker gives up by itself; one request more may be under way then.
      await producer.#sender.start(options.maxBlockMs + options.requestTimeoutMs + CONTROL_TIMEOUT_MS);
    } catch (error) {
      await producer.#sender.kill();
      throw error;
    }
    return producer;
  }

  /**
   * Sends a record. Without a callback, returns a promise of its RecordMetadata. With one, returns
   * false when the record had to wait (for metadata or memory): a caller sending millions should
   * then `await producer.drained()` before sending more, as with a stream's write().
   */
  send(record: ProducerRecord<K, V>): Promise<RecordMetadata>;
  send(record: ProducerRecord<K, V>, callback: SendCallback): boolean;
  send(record: ProducerRecord<K, V>, callback?: SendCallback): Promise<RecordMetadata> | boolean {
    if (callback === undefined) {
      return new Promise((resolve, reject) => {
        this.#send(record, (error, metadata) => (error === null ? resolve(metadata!) : reject(error)));
      });
    }
    return this.#send(record, callback);
  }

  /** Kafka's buffer metrics and what is in flight, for monitoring. */
  metrics(): { bufferTotalBytes: number; bufferAvailableBytes: number; waitingSends: number; batchesInFlight: number; batchesIncomplete: number } {
    return {
      bufferTotalBytes: this.#pool.totalMemoryBytes,
      bufferAvailableBytes: this.#pool.availableMemoryBytes,
      waitingSends: this.#waitingSends.size,
      batchesInFlight: this.#inFlight.size,
      batchesIncomplete: this.#incomplete.size,
    };
  }

  /** True while some send waits for metadata or memory. */
  get needsDrain(): boolean {
    return this.#waitingSends.size > 0;
  }

  /** Resolves once no send waits for metadata or memory. */
  drained(): Promise<void> {
    if (this.#waitingSends.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainedWaiters.push(resolve));
  }

  /** Sends everything sent before this call and waits for every outcome (at most timeoutMs). */
  async flush(timeoutMs = this.options.deliveryTimeoutMs + this.options.maxBlockMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.#accumulator.beginFlush();
    try {
      await withTimeout(Promise.allSettled([...this.#waitingSends]), deadline - Date.now(), 'ERR_FLUSH_TIMEOUT', 'flush: sends still waiting for metadata or memory');
      const pending = [...this.#incomplete.keys()].map((batch) => new Promise<void>((resolve) => this.#incomplete.get(batch)?.push(resolve) ?? resolve()));
      this.#scheduleDrain();
      await withTimeout(Promise.all(pending), Math.max(0, deadline - Date.now()), 'ERR_FLUSH_TIMEOUT', `flush: ${pending.length} batches not yet acknowledged`);
    } finally {
      this.#accumulator.endFlush();
    }
  }

  /**
   * Flushes, then stops the sender worker and frees the memory. Past timeoutMs (or with
   * `force`), whatever is still pending fails with ERR_PRODUCER_CLOSED.
   */
  close(options: number | { timeoutMs?: number; force?: boolean } = {}): Promise<void> {
    const { timeoutMs = this.options.deliveryTimeoutMs + this.options.maxBlockMs, force = false } = typeof options === 'number' ? { timeoutMs: options } : options;
    this.#closing ??= this.#close(force ? 0 : timeoutMs, force);
    return this.#closing;
  }

  async #close(timeoutMs: number, force: boolean): Promise<void> {
    this.#closed = true;
    this.#accumulator.close();
    if (!force) {
      try {
        await this.flush(timeoutMs);
        this.#linger.cancelTimer();
        await this.#sender.close(timeoutMs);
        return;
      } catch (error) {
        this.#logger.warn({ err: error }, 'producer did not close in time; failing what is pending');
      }
    }
    this.#failPending(new RinglogError('ERR_PRODUCER_CLOSED', 'the producer was closed before this record was acknowledged'));
    await this.#sender.kill();
  }

  /** Fails every batch not yet answered, queued or with the sender, with `error`. */
  #failPending(error: Error): void {
    this.#linger.cancelTimer();
    this.#accumulator.abortAll(error);
    for (const [id, batch] of this.#inFlight) {
      this.#inFlight.delete(id);
      this.#finish(batch, error, -1, -1);
    }
  }

  /** The sender worker crashed: what it held fails, and the producer takes no more records. */
  #senderDied(error: Error): void {
    this.#logger.error({ err: error }, 'the sender worker died; the producer is closed');
    this.#closed = true;
    this.#failPending(error);
  }

  /** The accumulator's word that a batch is done (sent, failed or aborted): its records, then flush waiters. */
  #batchDone(batch: ProducerBatch<SendCallback>, error: Error | null, baseOffset: number, logAppendTimeMs: number): void {
    this.#acknowledge(batch, error, baseOffset, logAppendTimeMs);
    const waiters = this.#incomplete.get(batch);
    this.#incomplete.delete(batch);
    if (waiters !== undefined) for (const resolve of waiters) resolve();
  }

  /** A batch's outcome to each of its records: interceptors, then the sender's callback, never throwing. */
  #acknowledge(batch: ProducerBatch<SendCallback>, error: Error | null, baseOffset: number, logAppendTimeMs: number): void {
    const { callbacks, timestamps, keySizes, valueSizes, topic, partition } = batch;
    for (let i = 0; i < callbacks.length; i++) {
      const metadata: RecordMetadata | null = error !== null ? null : {
        topic,
        partition,
        offset: baseOffset < 0 ? -1 : baseOffset + i,
        timestamp: logAppendTimeMs >= 0 ? logAppendTimeMs : timestamps[i]!,
        serializedKeySize: keySizes[i]!,
        serializedValueSize: valueSizes[i]!,
      };
      for (let j = 0; j < this.#interceptors.length; j++) { // indexed: no iterator per record
        const interceptor = this.#interceptors[j]!;
        if (interceptor.onAcknowledgement === undefined) continue;
        try {
          interceptor.onAcknowledgement(metadata, error);
        } catch (hookError) {
          this.#logger.warn({ err: hookError }, 'an onAcknowledgement interceptor threw; skipped');
        }
      }
      try {
        callbacks[i]!(error, metadata);
      } catch (callbackError) {
        this.#logger.error({ err: callbackError }, 'a send callback threw');
      }
    }
  }

  // ---- doSend ----

  #send(record: ProducerRecord<K, V>, callback: SendCallback): boolean {
    if (this.#closed) {
      failSoon(callback, new IllegalStateError('cannot send: the producer is closed'));
      return true;
    }
    for (let j = 0; j < this.#interceptors.length; j++) {
      const interceptor = this.#interceptors[j]!;
      if (interceptor.onSend === undefined) continue;
      try {
        record = interceptor.onSend(record) as ProducerRecord<K, V>;
      } catch (hookError) {
        this.#logger.warn({ err: hookError }, 'an onSend interceptor threw; skipped');
      }
    }
    if (typeof record?.topic !== 'string' || record.topic.length === 0) {
      failSoon(callback, new RangeError(`record.topic must be a non-empty string, got ${JSON.stringify(record?.topic)}`));
      return true;
    }
    const topic = this.#topics.get(record.topic);
    const now = Date.now();
    if (topic !== undefined) {
      // Known: send now; past metadata.max.age.ms, refresh in the background (partitions may have been added).
      if (now - topic.fetchedAtMs >= this.options.metadataMaxAgeMs && !this.#metadataWaits.has(record.topic)) {
        this.#metadataFor(record.topic, now + this.options.maxBlockMs).catch((error: unknown) => this.#logger.warn({ err: error, topic: record.topic }, 'metadata refresh failed'));
      }
      return this.#doSend(record, topic.partitions, callback, now, now + this.options.maxBlockMs);
    }
    // Wait for the topic's metadata (bounded by max.block.ms), then go on.
    const deadline = now + this.options.maxBlockMs;
    const waiting = this.#metadataFor(record.topic, deadline).then(
      (info) => { this.#doSend(record, info.partitions, callback, Date.now(), deadline); },
      (error: unknown) => callback(error as Error, null),
    );
    this.#track(waiting);
    return false;
  }

  /** `deadline`: when max.block.ms, counted from send(), runs out. */
  #doSend(record: ProducerRecord<K, V>, numPartitions: number, callback: SendCallback, now: number, deadline: number): boolean {
    let key: Uint8Array | null;
    let value: Uint8Array | null;
    let headers: readonly RecordHeader[];
    let partition: number;
    let size: number;
    const timestamp = record.timestamp ?? now;
    try {
      key = this.#keySerializer(record.key as K, record.topic);
      value = this.#valueSerializer(record.value as V, record.topic);
      headers = serializeHeaders(record.headers);
      partition = choosePartition(record.topic, record.partition, key, value, numPartitions, this.#partitioning);
      size = batchSizeUpperBoundInBytes(key, value, headers);
      if (size > this.options.maxRequestSize) throw new RecordTooLargeError('max.request.size', `the record is ${size} bytes serialized, more than max.request.size (${this.options.maxRequestSize})`);
      if (size > this.options.bufferMemory) throw new RecordTooLargeError('buffer.memory', `the record is ${size} bytes serialized, more than buffer.memory (${this.options.bufferMemory})`);
      if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError(`record.timestamp must be a non-negative integer (ms), got ${String(record.timestamp)}`);
    } catch (error) {
      failSoon(callback, error as Error);
      return true;
    }
    const sticky = key === null && record.partition === undefined && this.#custom === undefined;
    const maxBlockMs = Math.max(0, deadline - now);
    // One RecordInput, refilled per send: append copies it when it must keep it.
    const input = this.#input;
    input.timestamp = timestamp;
    input.key = key;
    input.value = value;
    input.headers = headers;
    const appended = this.#accumulator.append(record.topic, partition, input, callback, now, maxBlockMs);
    if (!(appended instanceof Promise)) {
      this.#afterAppend(record.topic, partition, numPartitions, appended, sticky ? size : 0);
      return true;
    }
    // Memory is spent: this append waits (up to what is left of max.block.ms), in order.
    this.#track(appended.then(
      (result) => this.#afterAppend(record.topic, partition, numPartitions, result, sticky ? size : 0),
      (error: unknown) => callback(error as Error, null),
    ));
    this.#scheduleDrain();
    return false;
  }

  /** `stickyBytes`: the record's size when the sticky partitioner placed it, else 0. */
  #afterAppend(topic: string, partition: number, numPartitions: number, result: AppendResult<SendCallback>, stickyBytes: number): void {
    if (result.newBatchCreated) this.#incomplete.set(result.batch, []);
    if (stickyBytes > 0) {
      const ready = result.batchIsFull || result.newBatchCreated;
      this.#sticky.recordAppended(topic, partition, stickyBytes, ready, numPartitions, this.#queueSizes);
    }
    if (result.batchIsFull || (result.newBatchCreated && this.options.lingerMs === 0)) this.#scheduleDrain();
    else if (result.newBatchCreated) this.#linger.wakeAt(Date.now() + this.options.lingerMs);
  }

  readonly #queueSizes = (topic: string, numPartitions: number): number[] => {
    const sizes: number[] = [];
    for (let p = 0; p < numPartitions; p++) sizes.push(this.#accumulator.queueLength(topic, p));
    return sizes;
  };

  #track(waiting: Promise<void>): void {
    this.#waitingSends.add(waiting);
    void waiting.finally(() => {
      this.#waitingSends.delete(waiting);
      if (this.#waitingSends.size === 0) for (const resolve of this.#drainedWaiters.splice(0)) resolve();
    });
  }

  // ---- metadata ----

  #metadataFor(topic: string, deadline: number): Promise<TopicInfo> {
    let waiting = this.#metadataWaits.get(topic);
    if (waiting === undefined) {
      waiting = this.#fetchMetadata(topic, deadline).finally(() => this.#metadataWaits.delete(topic));
      this.#metadataWaits.set(topic, waiting);
    }
    return waiting;
  }

  /** Kafka's waitOnMetadata: ask until the topic has partitions, a fatal error, or max.block.ms. */
  async #fetchMetadata(topic: string, deadline: number): Promise<TopicInfo> {
    let lastError = '';
    for (;;) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) break;
      try {
        const [answer] = await this.#sender.metadata([topic], remainingMs);
        if (answer !== undefined && answer.errorCode === ErrorCodes.NONE && answer.partitions.length > 0) {
          const info = { partitions: answer.partitions.length, fetchedAtMs: Date.now() };
          this.#topics.set(topic, info);
          return info;
        }
        const code = answer?.errorCode ?? ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION;
        if (code !== ErrorCodes.NONE && errorInfo(code)?.retriable === false) throw kafkaError(code);
        lastError = errorInfo(code)?.name ?? `error ${code}`;
      } catch (error) {
        if (!(error instanceof TimeoutError) && !(error instanceof RinglogError && error.retriable)) throw error;
        // The last ask cut short by max.block.ms says less than why the ones before failed.
        if (lastError === '' || (error as RinglogError).code !== 'ERR_CONTROL_TIMEOUT') lastError = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.options.retryBackoffMs, Math.max(0, deadline - Date.now()))));
    }
    throw new TimeoutError('ERR_METADATA_TIMEOUT', `topic ${topic} not present in metadata within max.block.ms${lastError === '' ? '' : ` (last: ${lastError})`}`, this.options.maxBlockMs);
  }

  // ---- to the sender and back ----

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    setImmediate(this.#drainNow);
  }

  /** Moves ready batches into the sender's ring, in order; waits for room when it is full. */
  #drain(): void {
    if (this.#draining) return; // #drainSlowly drains again when it is done
    this.#sender.cork();
    try {
      // Each round takes the first ready batch of each partition; a partition may have several.
      for (;;) {
        const now = Date.now();
        const { ready, nextReadyCheckDelayMs } = this.#accumulator.ready(now);
        if (ready.length === 0) {
          // What is left is lingering: come back when the first of it is due.
          if (nextReadyCheckDelayMs !== Infinity) this.#linger.wakeAt(now + nextReadyCheckDelayMs);
          return;
        }
        const batches = this.#accumulator.drain(ready, Number.MAX_SAFE_INTEGER);
        for (let i = 0; i < batches.length; i++) {
          const batch = batches[i]!;
          const id = this.#batchId();
          if (this.#sender.tryWriteBatch(id, batch.topic, batch.partition, batch.createdMs + this.options.deliveryTimeoutMs, batch.bytes!)) {
            this.#inFlight.set(id, batch);
            continue;
          }
          void this.#drainSlowly(batches.slice(i), id);
          return;
        }
      }
    } finally {
      this.#sender.uncork();
    }
  }

  /** The ring is full: write the rest one by one as room appears, then drain again. */
  async #drainSlowly(batches: ProducerBatch<SendCallback>[], firstId: number): Promise<void> {
    this.#draining = true;
    let id = firstId;
    for (const batch of batches) {
      try {
        if (batch.bytes!.length > this.#sender.maxBatchBytes) throw new RecordTooLargeError('max.request.size', `a ${batch.bytes!.length}-byte batch is larger than the sender's ring`);
        await this.#sender.writeBatch(id, batch.topic, batch.partition, batch.createdMs + this.options.deliveryTimeoutMs, batch.bytes!, this.options.maxBlockMs);
        this.#inFlight.set(id, batch);
      } catch (error) {
        this.#finish(batch, error as Error, -1, -1);
      }
      id = this.#batchId();
    }
    this.#draining = false;
    this.#scheduleDrain(); // what became ready meanwhile, and the linger timer for the rest
  }

  #batchId(): number {
    const id = this.#nextBatchId;
    this.#nextBatchId = id >= 0xffff_ffff ? 1 : id + 1;
    return id;
  }

  #complete(batchId: number, error: Error | null, baseOffset: number, logAppendTimeMs: number): void {
    const batch = this.#inFlight.get(batchId);
    if (batch === undefined) return; // failed already by a forced close
    this.#inFlight.delete(batchId);
    this.#finish(batch, error, baseOffset, logAppendTimeMs);
  }

  #finish(batch: ProducerBatch<SendCallback>, error: Error | null, baseOffset: number, logAppendTimeMs: number): void {
    this.#accumulator.complete(batch, error, baseOffset, logAppendTimeMs);
    // Memory came back: appends that waited may have filled batches.
    if (this.#accumulator.waitingAppends > 0) this.#scheduleDrain();
  }
}

/** Fails a send asynchronously, so a callback never runs before send() returns. */
function failSoon(callback: SendCallback, error: Error): void {
  process.nextTick(callback, error, null);
}
