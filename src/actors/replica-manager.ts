/**
 * ReplicaManager: the broker's partitions, as Kafka's ReplicaManager with one broker (the leader
 * is the whole in-sync set). It creates topics, checks and appends produced batches (assigning
 * offsets by patching baseOffset, outside the CRC, as Kafka does), answers an acknowledgement once
 * the log writer reports the batch written (or fsynced, when the log fsyncs every record), and
 * serves fetches with long polling and offset lookups. Lives in the broker worker; not thread-safe.
 *
 * Idempotent producers (batches with a producer id): each partition keeps Kafka's producer state
 * (shared/log/producer-state.ts), checked and updated in the same synchronous step that assigns
 * offsets, so a retry that arrives while its original is still on its way to the log writer is
 * already seen as a duplicate. A duplicate appends nothing and is answered with the original's
 * offsets once the original is written, and fails if the original's write fails.
 */
import { readdirSync } from 'node:fs';
import { logConfigOf, type BrokerOptions } from '../shared/broker-config.js';
import { CorruptRecordError, KafkaApiError } from '../shared/errors.js';
import { peekBatchSizeInBytes, readBatchHeader, setBaseOffset, setPartitionLeaderEpoch, type RecordBatchHeader } from '../shared/record-batch/header.js';
import { LOG_OVERHEAD } from '../shared/record-batch/layout.js';
import type { LogConfig } from '../shared/log/partition-log.js';
import { batchMetadata, incrementSequence, ProducerStateManager } from '../shared/log/producer-state.js';
import type { Logger } from '../shared/logger.js';
import { ErrorCodes, kafkaError } from '../shared/protocol/index.js';
import type { LogWriterClient, PartitionProgress } from './log-writer-client.js';
import { TailBatches } from './tail-batches.js';

/** ListOffsets' special timestamps. */
export const EARLIEST_TIMESTAMP = -2;
export const LATEST_TIMESTAMP = -1;

const MAX_TOPIC_NAME_LENGTH = 249;
const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic name rule; returns why a name is invalid, or null when it is fine. */
export function invalidTopicName(name: string): string | null {
  if (name.length === 0) return 'the topic name is empty';
  if (name === '.' || name === '..') return `'${name}' is not allowed as a topic name`;
  if (name.length > MAX_TOPIC_NAME_LENGTH) return `a topic name is at most ${MAX_TOPIC_NAME_LENGTH} characters, '${name.slice(0, 20)}...' has ${name.length}`;
  if (!TOPIC_NAME.test(name)) return `'${name}' has characters other than ASCII letters, digits, '.', '_' and '-'`;
  return null;
}

/**
 * Newest appended bytes kept per partition for fetches at the log's end, in batches of at most
 * TAIL_MAX_BATCH_BYTES (the small batches of a producer that is not batching, where a log read
 * per fetch costs most per record); a consumer further behind reads from the log writer.
 */
const TAIL_BATCH_BYTES = 64 * 1024;
const TAIL_MAX_BATCH_BYTES = 4 * 1024;

interface PartitionState {
  readonly id: number;
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly config: LogConfig;
  /** The offset the next batch gets. */
  nextOffset: number;
  logStartOffset: number;
  /** Below this, records are in the OS and may be read (the high watermark, one replica). */
  writtenEndOffset: number;
  durableEndOffset: number;
  /** Acknowledgements and fetches waiting for this partition to grow. */
  waiters: Set<() => void>;
  /** Producer state including batches not yet written: changes as offsets are assigned. */
  readonly producers: ProducerStateManager;
  /** The newest batches appended, for fetches at the log's end. */
  readonly tail: TailBatches;
  /** Set when nothing handed to the log writer can be written any more (topic deleted, writer gone). */
  failure?: KafkaApiError;
}

export interface AppendResult {
  errorCode: number;
  errorMessage?: string;
  baseOffset: number;
  logStartOffset: number;
  /** -1, except for a duplicate: Kafka answers one with its original's max timestamp here. */
  logAppendTimeMs: number;
  /**
   * Resolves when the batch may be acknowledged (undefined), or with why it cannot be written (a
   * KafkaApiError); never rejects. Resolved at once for an error result, which is answered now.
   */
  acknowledged: Promise<KafkaApiError | undefined>;
}

export interface FetchPartitionResult {
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  records: Uint8Array | null;
}

export class ReplicaManager {
  readonly #logWriter: LogWriterClient;
  readonly #options: BrokerOptions;
  readonly #logger: Logger;
  readonly #topics = new Map<string, PartitionState[]>();
  /** Topics whose partitions are being opened, resolved when they all are. */
  readonly #creating = new Map<string, Promise<void>>();
  readonly #byId = new Map<number, PartitionState>();
  /** Log settings that differ from the broker's for some topics (an internal topic's own). */
  readonly #topicConfigs = new Map<string, Partial<LogConfig>>();
  #nextPartitionId = 1;

  constructor(logWriter: LogWriterClient, options: BrokerOptions, logger: Logger) {
    this.#logWriter = logWriter;
    this.#options = options;
    this.#logger = logger;
    logWriter.onProgress((partitionId, progress) => this.#onProgress(partitionId, progress));
    logWriter.onExit((error) => {
      for (const state of this.#byId.values()) this.#fail(state, kafkaError(ErrorCodes.KAFKA_STORAGE_ERROR, `the log writer is gone: ${error.message}`));
    });
  }

  /** Opens every partition found in the log directory (`<topic>-<partition>` folders). */
  async loadExisting(): Promise<void> {
    const found = new Map<string, number>();
    for (const entry of readdirSync(this.#options.logDirs[0]!, { withFileTypes: true })) {
      const match = entry.isDirectory() ? /^(.+)-(\d+)$/.exec(entry.name) : null;
      if (match === null || invalidTopicName(match[1]!) !== null) continue;
      found.set(match[1]!, Math.max(found.get(match[1]!) ?? 0, Number(match[2]) + 1));
    }
    for (const [topic, partitions] of found) await this.createTopic(topic, partitions);
  }

  /** Opens `topic`'s partitions, now or on a later create or reload, with these log settings over the broker's. */
  overrideTopicConfig(topic: string, config: Partial<LogConfig>): void {
    this.#topicConfigs.set(topic, config);
  }

  topics(): ReadonlyMap<string, readonly { partition: number }[]> {
    return this.#topics;
  }

  partitionCount(topic: string): number | undefined {
    return this.#topics.get(topic)?.length;
  }

  topicId(topic: string): string | undefined {
    return this.#topics.get(topic)?.[0]?.topicId;
  }

  topicName(topicId: string): string | undefined {
    for (const [name, states] of this.#topics) if (states[0]?.topicId === topicId) return name;
    return undefined;
  }

  /** Creates (or, for a topic found on disk, reopens) `topic` with `partitions` partitions. */
  async createTopic(topic: string, partitions: number): Promise<{ errorCode: number; errorMessage?: string }> {
    const invalid = invalidTopicName(topic);
    if (invalid !== null) return { errorCode: ErrorCodes.INVALID_TOPIC_EXCEPTION, errorMessage: invalid };
    if (this.#topics.has(topic)) return { errorCode: ErrorCodes.TOPIC_ALREADY_EXISTS, errorMessage: `topic '${topic}' already exists` };
    if (!Number.isInteger(partitions) || partitions < 1) {
      return { errorCode: ErrorCodes.INVALID_PARTITIONS, errorMessage: `a topic needs at least one partition, got ${partitions}` };
    }
    const config = { ...logConfigOf(this.#options), ...this.#topicConfigs.get(topic) };
    const states: PartitionState[] = [];
    this.#topics.set(topic, states); // claimed now, so a concurrent create sees it
    let opened = (): void => undefined;
    this.#creating.set(topic, new Promise<void>((resolve) => { opened = resolve; }));
    try {
      await this.#openPartitions(topic, partitions, config, states);
    } finally {
      this.#creating.delete(topic);
      opened();
    }
    this.#logger.info({ topic, topicId: states[0]?.topicId, partitions, logEndOffsets: states.map((s) => s.nextOffset) }, 'topic open');
    return { errorCode: ErrorCodes.NONE };
  }

  /**
   * Resolves once `topic`, if another request is creating it, has all its partitions open, so that
   * no answer describes it half made (librdkafka reads a partition count of 0 as the topic gone).
   */
  async topicReady(topic: string): Promise<void> {
    await this.#creating.get(topic);
  }

  async #openPartitions(topic: string, partitions: number, config: LogConfig, states: PartitionState[]): Promise<void> {
    let topicId: string | undefined;
    for (let partition = 0; partition < partitions; partition++) {
      const id = this.#nextPartitionId++;
      // The first partition records (or, after a restart, tells) the id; the others must agree.
      const opened = await this.#logWriter.open({ partitionId: id, topic, partition, config, topicId });
      topicId = opened.topicId;
      const state: PartitionState = {
        id, topic, topicId, partition, config,
        nextOffset: opened.logEndOffset,
        logStartOffset: opened.logStartOffset,
        writtenEndOffset: opened.logEndOffset,
        durableEndOffset: opened.logEndOffset,
        waiters: new Set(),
        producers: new ProducerStateManager(opened.producers),
        tail: new TailBatches(TAIL_BATCH_BYTES, TAIL_MAX_BATCH_BYTES),
      };
      states.push(state);
      this.#byId.set(id, state);
    }
  }

  /** Deletes old segments by the retention settings and moves the partitions' log start offsets. */
  async applyRetention(nowMs = Date.now()): Promise<number> {
    const { deletedSegments, logStartOffsets } = await this.#logWriter.retention(nowMs);
    for (const [partitionId, logStartOffset] of logStartOffsets) {
      const state = this.#byId.get(partitionId);
      if (state !== undefined) state.logStartOffset = logStartOffset;
    }
    return deletedSegments;
  }

  /** Deletes a topic: its partitions' logs and directories go, and waiting fetches wake to find it gone. */
  async deleteTopic(topic: string): Promise<{ errorCode: number; errorMessage?: string }> {
    const states = this.#topics.get(topic);
    if (states === undefined) return { errorCode: ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `no topic '${topic}'` };
    this.#topics.delete(topic);
    for (const state of states) {
      this.#byId.delete(state.id);
      this.#fail(state, kafkaError(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic}' was deleted`));
      await this.#logWriter.command({ type: 'delete', partitionId: state.id });
    }
    this.#logger.info({ topic }, 'topic deleted');
    return { errorCode: ErrorCodes.NONE };
  }

  /**
   * Checks one partition's produced records (one or more batches), assigns their offsets and hands
   * them to the log writer. `records` is patched in place.
   */
  append(topic: string, partition: number, records: Uint8Array | null): AppendResult {
    const state = this.#topics.get(topic)?.[partition];
    if (state === undefined) return refused(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, `this broker has no partition ${topic}-${partition}`);
    if (state.failure !== undefined) return refused(state.failure.errorCode, state.failure.message);
    if (records === null || records.length === 0) return refused(ErrorCodes.CORRUPT_MESSAGE, 'the produce request carries no records');
    const batches: RecordBatchHeader[] = [];
    let idempotent: RecordBatchHeader | undefined; // batches without a producer id (-1) never touch the producer state
    for (let at = 0; at < records.length;) {
      if (records.length - at >= LOG_OVERHEAD && peekBatchSizeInBytes(records, at) > this.#options.messageMaxBytes) {
        return refused(ErrorCodes.MESSAGE_TOO_LARGE, `a ${peekBatchSizeInBytes(records, at)}-byte batch exceeds message.max.bytes (${this.#options.messageMaxBytes})`);
      }
      let header: RecordBatchHeader;
      try {
        header = readBatchHeader(records, at);
      } catch (error) {
        if (error instanceof CorruptRecordError) return refused(ErrorCodes.CORRUPT_MESSAGE, error.message);
        throw error;
      }
      if (header.isTransactional || header.isControl) return refusedTransactional(header);
      if (header.producerId >= 0) idempotent ??= header;
      batches.push(header);
      at += header.sizeInBytes;
    }
    if (idempotent !== undefined) {
      // As Kafka (ProduceRequest.validateRecords, v3+): a producer's batches come one per partition.
      if (batches.length > 1) return refused(ErrorCodes.INVALID_RECORD, `${batches.length} batches for one partition; a batch with a producer id must come alone`);
      const { producerId, producerEpoch, baseSequence, lastOffsetDelta } = idempotent;
      const verdict = state.producers.check(producerId, producerEpoch, baseSequence, incrementSequence(baseSequence, lastOffsetDelta));
      if (verdict.kind === 'refuse') return refused(verdict.errorCode, verdict.errorMessage);
      if (verdict.kind === 'duplicate') {
        const { original } = verdict;
        return { errorCode: ErrorCodes.NONE, baseOffset: original.firstOffset, logStartOffset: state.logStartOffset, logAppendTimeMs: original.maxTimestamp, acknowledged: this.#acknowledged(state, original.lastOffset) };
      }
    }
    const baseOffset = state.nextOffset;
    for (const header of batches) {
      setBaseOffset(records, header.position, state.nextOffset);
      setPartitionLeaderEpoch(records, header.position, 0);
      this.#logWriter.append(state.id, header.bytes); // throws when refused: then its offsets stay free
      state.tail.add(state.nextOffset, state.nextOffset + header.lastOffsetDelta, header.bytes);
      state.nextOffset += header.lastOffsetDelta + 1;
    }
    if (idempotent !== undefined) {
      state.producers.update(idempotent.producerId, idempotent.producerEpoch, batchMetadata(baseOffset, idempotent.lastOffsetDelta, idempotent.baseSequence, idempotent.maxTimestamp));
    }
    return { errorCode: ErrorCodes.NONE, baseOffset, logStartOffset: state.logStartOffset, logAppendTimeMs: -1, acknowledged: this.#acknowledged(state, state.nextOffset - 1) };
  }

  /**
   * Resolves once everything up to lastOffset is written (or fsynced, when the log fsyncs every
   * record), or with the partition's failure if it fails first.
   */
  #acknowledged(state: PartitionState, lastOffset: number): Promise<KafkaApiError | undefined> {
    const fsyncEveryRecord = state.config.flushMessages === 1;
    const ready = (): boolean => (fsyncEveryRecord ? state.durableEndOffset : state.writtenEndOffset) > lastOffset;
    if (ready() || state.failure !== undefined) return Promise.resolve(ready() ? undefined : state.failure);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!ready() && state.failure === undefined) return;
        state.waiters.delete(check);
        resolve(ready() ? undefined : state.failure);
      };
      state.waiters.add(check);
    });
  }

  /** Batches from `offset` below the high watermark, up to maxBytes (at least one batch). */
  async fetch(topic: string, partition: number, offset: number, maxBytes: number): Promise<FetchPartitionResult> {
    const state = this.#topics.get(topic)?.[partition];
    if (state === undefined) return { errorCode: ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, highWatermark: -1, logStartOffset: -1, records: null };
    const highWatermark = state.writtenEndOffset;
    const result = { highWatermark, logStartOffset: state.logStartOffset };
    if (offset < state.logStartOffset || offset > highWatermark) return { errorCode: ErrorCodes.OFFSET_OUT_OF_RANGE, ...result, records: null };
    if (offset === highWatermark) return { errorCode: ErrorCodes.NONE, ...result, records: new Uint8Array(0) };
    // A consumer at the end (a long poll just woken) gets what was appended without a log read.
    const recent = state.tail.read(offset, highWatermark, maxBytes);
    if (recent !== null) return { errorCode: ErrorCodes.NONE, ...result, records: recent };
    return { errorCode: ErrorCodes.NONE, ...result, records: await this.#logWriter.read(state.id, offset, maxBytes) };
  }

  /** Whether anything can be read from `offset` right now: what long polling waits for. */
  availableFrom(topic: string, partition: number, offset: number): boolean {
    const state = this.#topics.get(topic)?.[partition];
    return state !== undefined && offset < state.writtenEndOffset;
  }

  /**
   * Resolves when any of `partitions` grows, or after maxWaitMs: a fetch's long poll. Returns a
   * cancel function for the fetch that was answered some other way.
   */
  waitForData(partitions: readonly { topic: string; partition: number }[], maxWaitMs: number): { done: Promise<void>; cancel: () => void } {
    let wake!: () => void;
    const done = new Promise<void>((resolve) => { wake = resolve; });
    const states = partitions.map((p) => this.#topics.get(p.topic)?.[p.partition]).filter((s): s is PartitionState => s !== undefined);
    const timer = setTimeout(() => cancel(), maxWaitMs);
    const cancel = (): void => {
      clearTimeout(timer);
      for (const s of states) s.waiters.delete(cancel);
      wake();
    };
    for (const s of states) s.waiters.add(cancel);
    return { done, cancel };
  }

  /** Earliest (-2), latest (-1), or the first offset at or after a timestamp. */
  async listOffset(topic: string, partition: number, timestamp: number): Promise<{ errorCode: number; offset: number; timestamp: number }> {
    const state = this.#topics.get(topic)?.[partition];
    if (state === undefined) return { errorCode: ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, offset: -1, timestamp: -1 };
    if (timestamp === EARLIEST_TIMESTAMP) return { errorCode: ErrorCodes.NONE, offset: state.logStartOffset, timestamp: -1 };
    if (timestamp === LATEST_TIMESTAMP) return { errorCode: ErrorCodes.NONE, offset: state.writtenEndOffset, timestamp: -1 };
    const found = await this.#logWriter.offsets(state.id, timestamp);
    return found.offsetForTimestamp === null || found.offsetForTimestamp >= state.writtenEndOffset
      ? { errorCode: ErrorCodes.NONE, offset: -1, timestamp: -1 }
      : { errorCode: ErrorCodes.NONE, offset: found.offsetForTimestamp, timestamp: found.timestampOfOffset ?? timestamp };
  }

  #onProgress(partitionId: number, progress: PartitionProgress): void {
    const state = this.#byId.get(partitionId);
    if (state === undefined) return; // deleted while its last appends were being written
    state.writtenEndOffset = progress.writtenEndOffset;
    state.durableEndOffset = progress.durableEndOffset;
    const waiters = [...state.waiters];
    for (const wake of waiters) wake();
  }

  /** Nothing more will be written for this partition: what waits on it learns why. */
  #fail(state: PartitionState, failure: KafkaApiError): void {
    state.failure ??= failure;
    state.tail.clear();
    for (const wake of [...state.waiters]) wake();
  }
}

function refused(errorCode: number, errorMessage: string): AppendResult {
  return { errorCode, errorMessage, baseOffset: -1, logStartOffset: -1, logAppendTimeMs: -1, acknowledged: Promise.resolve(undefined) };
}

/**
 * Ringlog has no transactions. A transactional batch gets what Kafka answers a producer that may
 * not use its transactional id (see producer-id-manager.ts for why that code); a control batch
 * what Kafka answers a client writing one (LogValidator: clients may not write control records).
 */
function refusedTransactional(header: RecordBatchHeader): AppendResult {
  return header.isControl
    ? refused(ErrorCodes.INVALID_RECORD, `batch at byte ${header.position} is a control batch; clients may not write those`)
    : refused(ErrorCodes.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, `batch at byte ${header.position} is transactional; this broker has no transactions`);
}
