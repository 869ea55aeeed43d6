/**
 * Fetcher: the consumer's I/O loop, as Kafka's Fetcher on its network thread. It keeps one Fetch
 * in flight per leader for the assigned, unpaused partitions whose position is known, checks every
 * fetched batch (length, magic, CRC) and hands whole batches to the main thread, then asks for the
 * next ones at once, so the next fetch is under way while the application handles these.
 *
 * Memory: what it fetched and the main thread has not released yet, plus what in-flight fetches
 * may bring, stays within fetch.max.bytes (a credit shared with the main thread); a fetch is asked
 * for only when at least min(fetch.max.bytes, max.partition.fetch.bytes) of credit is free.
 *
 * Positions come from the main thread with an epoch (seek). EARLIEST/LATEST positions are resolved
 * with ListOffsets (auto.offset.reset, seekToBeginning/End). A position out of range resets by
 * auto.offset.reset, or, with none, stops the partition with an error until the next seek.
 *
 * Leaders come from Metadata: asked for when a partition's leader is unknown or a broker answers
 * NOT_LEADER_OR_FOLLOWER and the like, and in the background at least every metadata.max.age.ms,
 * as Kafka's Metadata does, so a moved leader or a recreated topic is found without an error first.
 *
 * Lives on the consumer I/O worker's event loop; not thread-safe.
 */
import { exponentialBackoffMs, withJitter } from '../shared/backoff.js';
import { PartitionOffsetError, RecordTooLargeError } from '../shared/errors.js';
import type { ConsumerOptions } from '../shared/consumer-config.js';
import type { Logger } from '../shared/logger.js';
import { ApiKeys, ErrorCodes, kafkaError } from '../shared/protocol/index.js';
import { RecordBatchScanner } from '../shared/record-batch/scanner.js';
import { Pump } from '../shared/pump.js';
import { BrokerClients, requestMetadata, type Connect } from './broker-clients.js';
import { recycleResponse } from './embedded-connection.js';

/** A decoded body, indexed freely: the generic codec's shapes follow the schemas, not TS types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

export type FetcherOptions = Pick<ConsumerOptions,
  'fetchMinBytes' | 'fetchMaxBytes' | 'fetchMaxWaitMs' | 'maxPartitionFetchBytes' | 'requestTimeoutMs' |
  'retryBackoffMs' | 'retryBackoffMaxMs' | 'checkCrcs' | 'isolationLevel' | 'autoOffsetReset' | 'metadataMaxAgeMs' |
  'reconnectBackoffMs' | 'reconnectBackoffMaxMs' | 'socketConnectionSetupTimeoutMs' | 'socketConnectionSetupTimeoutMaxMs'> & {
  /** Largest DATA frame body the main thread's ring takes; longer fetches are split at batches. */
  maxChunkBytes: number;
};

/** ListOffsets' special timestamps, used as positions still to resolve. */
export const EARLIEST = -2;
export const LATEST = -1;

export interface FetchedPartition {
  index: number;
  topic: string;
  partition: number;
}

/** Where the fetcher's results go (the main thread's ring), in order. */
export interface FetcherOutput {
  /** `batches` views the response's memory, which serves later responses once this resolves: copy what is kept. */
  data(index: number, epoch: number, highWatermark: number, batches: Uint8Array): Promise<void>;
  reset(index: number, epoch: number, offset: number): Promise<void>;
  error(index: number, epoch: number, error: Error): Promise<void>;
}

/** The fetch.max.bytes credit shared with the main thread. */
export interface FetchCredit {
  /** Bytes handed to the main thread and not released yet. */
  held(): number;
  add(bytes: number): void;
  /** Resolves when the main thread releases bytes (or after a while: the caller re-checks). */
  released(): Promise<void>;
}

interface PartitionState extends FetchedPartition {
  epoch: number;
  /** Next offset to fetch; EARLIEST/LATEST while a reset is pending; NaN until the first seek. */
  offset: number;
  paused: boolean;
  /** In a Fetch or a ListOffsets. */
  busy: boolean;
  /** Stopped by an error until the next seek. */
  failed: boolean;
  retryAtMs: number;
  attempts: number;
}

/** Partition errors after which the leader may have moved: refresh metadata and retry. */
const RETRY_WITH_METADATA = new Set<number>([
  ErrorCodes.NOT_LEADER_OR_FOLLOWER, ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, ErrorCodes.LEADER_NOT_AVAILABLE,
  ErrorCodes.FENCED_LEADER_EPOCH, ErrorCodes.UNKNOWN_LEADER_EPOCH, ErrorCodes.KAFKA_STORAGE_ERROR, ErrorCodes.OFFSET_NOT_AVAILABLE,
]);
/** Fetch v13 names topics by id; up to v12 by name, which is all the fetcher needs. */
const MAX_FETCH_VERSION = 12;
/**
 * Most bytes one Fetch asks for, whatever fetch.max.bytes allows: the embedded connection carries
 * frames of up to 4 MiB, and an answer may pass maxBytes by one batch (at most message.max.bytes).
 */
export const MAX_FETCH_REQUEST_BYTES = 2 << 20;

export class Fetcher {
  readonly #options: FetcherOptions;
  readonly #output: FetcherOutput;
  readonly #credit: FetchCredit;
  readonly #clients: BrokerClients;
  readonly #logger: Logger;
  readonly #partitions = new Map<number, PartitionState>();
  readonly #leaders = new Map<string, number[]>();
  readonly #fetchingNodes = new Set<number>();
  /** Credit promised to fetches in flight. */
  #reservedBytes = 0;
  #metadataStale = true;
  #metadataRefresh: Promise<void> | null = null;
  /** When the last Metadata answer came (Date.now()); 0 before the first. */
  #metadataAtMs = 0;
  #waitingForCredit = false;
  readonly #pumper = new Pump(() => this.#pump());
  #closed = false;

  constructor(options: FetcherOptions, output: FetcherOutput, credit: FetchCredit, connect: Connect, logger: Logger) {
    this.#options = options;
    this.#output = output;
    this.#credit = credit;
    this.#clients = new BrokerClients(connect);
    this.#logger = logger;
  }

  /** The partitions to fetch from now on; positions of partitions kept stay as they were. */
  setPartitions(partitions: readonly FetchedPartition[]): void {
    const keep = new Set(partitions.map((p) => p.index));
    for (const index of this.#partitions.keys()) if (!keep.has(index)) this.#partitions.delete(index);
    for (const p of partitions) {
      if (this.#partitions.has(p.index)) continue;
      this.#partitions.set(p.index, { ...p, epoch: 0, offset: Number.NaN, paused: false, busy: false, failed: false, retryAtMs: 0, attempts: 0 });
      if (!this.#leaders.has(p.topic)) this.#metadataStale = true;
    }
    this.#schedulePump();
  }

  /** A new position (EARLIEST/LATEST to look up) for partition `index`, valid from `epoch` on. */
  seek(index: number, epoch: number, offset: number): void {
    const p = this.#partitions.get(index);
    if (p === undefined) return;
    Object.assign(p, { epoch, offset, failed: false, retryAtMs: 0, attempts: 0 });
    this.#schedulePump();
  }

  pause(indices: readonly number[], paused: boolean): void {
    for (const index of indices) {
      const p = this.#partitions.get(index);
      if (p !== undefined) p.paused = paused;
    }
    this.#schedulePump();
  }

  close(): void {
    this.#closed = true;
    this.#pumper.cancelTimer();
    this.#clients.closeAll();
  }

  #schedulePump(): void {
    if (!this.#closed) this.#pumper.schedule();
  }

  /** Sends what may go now: resets, then one fetch per leader without one in flight. */
  #pump(): void {
    if (this.#closed || this.#partitions.size === 0) return;
    if (this.#metadataStale) {
      this.#refreshMetadata();
      return;
    }
    const now = Date.now();
    // Past metadata.max.age.ms (and never sooner than retry.backoff.ms after the last answer, as in
    // Kafka's Metadata): refresh in the background; fetching goes on with the leaders known.
    let nextWakeMs = Infinity;
    if (this.#metadataRefresh === null) {
      const dueAtMs = this.#metadataAtMs + Math.max(this.#options.metadataMaxAgeMs, this.#options.retryBackoffMs);
      if (now >= dueAtMs) this.#refreshMetadata();
      else nextWakeMs = dueAtMs;
    }
    const resets = new Map<number, PartitionState[]>();
    const fetches = new Map<number, PartitionState[]>();
    for (const p of this.#partitions.values()) {
      if (p.busy || p.failed || Number.isNaN(p.offset)) continue;
      if (p.retryAtMs > now) {
        nextWakeMs = Math.min(nextWakeMs, p.retryAtMs);
        continue;
      }
      const leader = this.#leaders.get(p.topic)?.[p.partition] ?? -1;
      if (leader < 0) {
        this.#metadataStale = true;
        this.#retryLater(p, now);
        nextWakeMs = Math.min(nextWakeMs, p.retryAtMs);
        continue;
      }
      if (p.offset < 0) push(resets, leader, p);
      else if (!p.paused && !this.#fetchingNodes.has(leader)) push(fetches, leader, p);
    }
    for (const [nodeId, list] of resets) void this.#reset(nodeId, list);
    if (fetches.size > 0) this.#fetchAll(fetches);
    if (nextWakeMs !== Infinity) this.#pumper.wakeAt(nextWakeMs);
  }

  #fetchAll(fetches: Map<number, PartitionState[]>): void {
    for (const [nodeId, list] of fetches) {
      const inUse = this.#credit.held() + this.#reservedBytes;
      const free = this.#options.fetchMaxBytes - inUse;
      const enough = Math.max(1, Math.min(this.#options.fetchMaxBytes, this.#options.maxPartitionFetchBytes));
      if (inUse > 0 && free < enough) {
        this.#awaitCredit();
        return;
      }
      void this.#fetch(nodeId, list, Math.max(1, Math.min(free, MAX_FETCH_REQUEST_BYTES)));
    }
  }

  #awaitCredit(): void {
    if (this.#waitingForCredit) return;
    this.#waitingForCredit = true;
    void this.#credit.released().finally(() => {
      this.#waitingForCredit = false;
      this.#schedulePump();
    });
  }

  async #fetch(nodeId: number, list: PartitionState[], maxBytes: number): Promise<void> {
    this.#fetchingNodes.add(nodeId);
    this.#reservedBytes += maxBytes;
    const asked = list.map((p) => ({ p, epoch: p.epoch, offset: p.offset }));
    for (const p of list) p.busy = true;
    let reserved = maxBytes;
    try {
      const client = await this.#clients.get(nodeId);
      const byTopic = new Map<string, Body[]>();
      for (const { p, offset } of asked) {
        push(byTopic, p.topic, {
          partition: p.partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), lastFetchedEpoch: -1, logStartOffset: -1n,
          partitionMaxBytes: Math.min(this.#options.maxPartitionFetchBytes, MAX_FETCH_REQUEST_BYTES),
        });
      }
      const version = Math.min(MAX_FETCH_VERSION, client.version(ApiKeys.FETCH) ?? 0);
      const response = await client.request(ApiKeys.FETCH, {
        replicaId: -1, maxWaitMs: this.#options.fetchMaxWaitMs, minBytes: this.#options.fetchMinBytes, maxBytes,
        isolationLevel: this.#options.isolationLevel === 'read_committed' ? 1 : 0, sessionId: 0, sessionEpoch: -1,
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })), forgottenTopicsData: [], rackId: '',
      }, { version, timeoutMs: this.#options.requestTimeoutMs + this.#options.fetchMaxWaitMs });
      // The credit now follows what came back, not what was asked for.
      this.#reservedBytes -= reserved;
      reserved = 0;
      if (response.errorCode !== undefined && response.errorCode !== ErrorCodes.NONE) throw kafkaError(response.errorCode as number);
      const answers = new Map<string, Body>();
      for (const topic of response.responses as Body[]) {
        for (const answer of topic.partitions as Body[]) answers.set(`${topic.topic}\u0000${answer.partitionIndex}`, answer);
      }
      for (const { p, epoch, offset } of asked) {
        const answer = answers.get(`${p.topic}\u0000${p.partition}`);
        // Seeked or unassigned meanwhile: what came back is for a position nobody wants now.
        if (answer === undefined || p.epoch !== epoch || this.#partitions.get(p.index) !== p) continue;
        await this.#onPartition(p, epoch, offset, answer);
      }
      // Every batch is in the main thread's ring now: the response's memory serves the next one.
      for (const answer of answers.values()) if (answer.records != null) recycleResponse(answer.records as Uint8Array);
    } catch (error) {
      this.#clients.drop(nodeId);
      this.#metadataStale = true;
      const now = Date.now();
      for (const { p } of asked) this.#retryLater(p, now);
      if (!this.#closed) this.#logger.warn({ err: error, nodeId }, 'fetch failed; retrying');
    } finally {
      this.#reservedBytes -= reserved;
      for (const p of list) p.busy = false;
      this.#fetchingNodes.delete(nodeId);
      this.#schedulePump();
    }
  }

  async #onPartition(p: PartitionState, epoch: number, offset: number, answer: Body): Promise<void> {
    const code = answer.errorCode as number;
    if (code === ErrorCodes.OFFSET_OUT_OF_RANGE) {
      if (this.#options.autoOffsetReset === 'none') {
        p.failed = true;
        await this.#output.error(p.index, epoch, new PartitionOffsetError('ERR_OFFSET_OUT_OF_RANGE', [`${p.topic}-${p.partition}`],
          `offset ${offset} of ${p.topic}-${p.partition} is out of range and auto.offset.reset is none`));
        return;
      }
      this.#logger.info({ topic: p.topic, partition: p.partition, offset, reset: this.#options.autoOffsetReset }, 'fetch position out of range; resetting');
      p.offset = this.#options.autoOffsetReset === 'earliest' ? EARLIEST : LATEST;
      return;
    }
    if (code !== ErrorCodes.NONE) {
      if (RETRY_WITH_METADATA.has(code)) {
        this.#metadataStale = true;
        this.#retryLater(p, Date.now());
        return;
      }
      p.failed = true;
      await this.#output.error(p.index, epoch, kafkaError(code, answer.errorMessage ?? null));
      return;
    }
    p.attempts = 0;
    const records = answer.records as Buffer | null;
    if (records === null || records.length === 0) return;
    let fetched: { chunks: Uint8Array[]; nextOffset: number };
    try {
      fetched = this.#chunks(records);
    } catch (error) {
      p.failed = true;
      await this.#output.error(p.index, epoch, error as Error);
      return;
    }
    if (fetched.chunks.length === 0) return;
    p.offset = fetched.nextOffset;
    const highWatermark = Number(answer.highWatermark);
    for (const chunk of fetched.chunks) {
      this.#credit.add(chunk.length);
      await this.#output.data(p.index, epoch, highWatermark, chunk);
    }
  }

  /** The whole, checked batches of `records`, cut into pieces no longer than maxChunkBytes, and the offset after them. */
  #chunks(records: Buffer): { chunks: Uint8Array[]; nextOffset: number } {
    const chunks: Uint8Array[] = [];
    let nextOffset = -1;
    const scanner = new RecordBatchScanner(records, { verifyCrc: this.#options.checkCrcs });
    let start = 0;
    for (let batch = scanner.readNext(); batch !== null; batch = scanner.readNext()) {
      if (batch.sizeInBytes > this.#options.maxChunkBytes) {
        throw new RecordTooLargeError('max.partition.fetch.bytes', `a ${batch.sizeInBytes}-byte batch at offset ${batch.baseOffset} is larger than the consumer's ring (${this.#options.maxChunkBytes} bytes)`);
      }
      nextOffset = batch.baseOffset + batch.lastOffsetDelta + 1;
      const end = batch.position + batch.sizeInBytes;
      if (end - start > this.#options.maxChunkBytes) {
        chunks.push(records.subarray(start, batch.position));
        start = batch.position;
      }
    }
    if (scanner.position > start) chunks.push(records.subarray(start, scanner.position));
    return { chunks, nextOffset };
  }

  /** Resolves EARLIEST/LATEST positions with ListOffsets. */
  async #reset(nodeId: number, list: PartitionState[]): Promise<void> {
    const asked = list.map((p) => ({ p, epoch: p.epoch, timestamp: p.offset }));
    for (const p of list) p.busy = true;
    try {
      const client = await this.#clients.get(nodeId);
      const byTopic = new Map<string, Body[]>();
      for (const { p, timestamp } of asked) push(byTopic, p.topic, { partitionIndex: p.partition, currentLeaderEpoch: -1, timestamp: BigInt(timestamp), maxNumOffsets: 1 });
      const response = await client.request(ApiKeys.LIST_OFFSETS, {
        replicaId: -1, isolationLevel: this.#options.isolationLevel === 'read_committed' ? 1 : 0,
        topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })), timeoutMs: this.#options.requestTimeoutMs,
      });
      const answers = new Map<string, Body>();
      for (const topic of response.topics as Body[]) for (const a of topic.partitions as Body[]) answers.set(`${topic.name}\u0000${a.partitionIndex}`, a);
      for (const { p, epoch } of asked) {
        const answer = answers.get(`${p.topic}\u0000${p.partition}`);
        if (p.epoch !== epoch || this.#partitions.get(p.index) !== p) continue;
        const code = (answer?.errorCode ?? ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION) as number;
        const found = answer === undefined ? -1 : Number(answer.offset ?? answer.oldStyleOffsets?.[0] ?? -1);
        if (code === ErrorCodes.NONE && found >= 0) {
          p.offset = found;
          p.attempts = 0;
          await this.#output.reset(p.index, epoch, found);
        } else if (code === ErrorCodes.NONE || RETRY_WITH_METADATA.has(code)) {
          if (code !== ErrorCodes.NONE) this.#metadataStale = true;
          this.#retryLater(p, Date.now());
        } else {
          p.failed = true;
          await this.#output.error(p.index, epoch, kafkaError(code));
        }
      }
    } catch (error) {
      this.#clients.drop(nodeId);
      const now = Date.now();
      for (const { p } of asked) this.#retryLater(p, now);
      if (!this.#closed) this.#logger.warn({ err: error, nodeId }, 'offset lookup failed; retrying');
    } finally {
      for (const p of list) p.busy = false;
      this.#schedulePump();
    }
  }

  #refreshMetadata(): void {
    if (this.#metadataRefresh !== null) return;
    this.#metadataStale = false;
    const topics = [...new Set([...this.#partitions.values()].map((p) => p.topic))];
    this.#metadataRefresh = (async () => {
      const { client } = await this.#clients.any();
      const metadata = await requestMetadata(client, topics, false, this.#options.requestTimeoutMs);
      this.#metadataAtMs = Date.now();
      for (const [topic, info] of metadata) {
        if (info.errorCode === ErrorCodes.NONE) this.#leaders.set(topic, info.leaders);
        else this.#logger.warn({ topic, errorCode: info.errorCode }, 'no metadata for an assigned topic; retrying');
      }
    })().catch((error: unknown) => {
      this.#metadataStale = true;
      if (!this.#closed) this.#logger.warn({ err: error }, 'metadata request failed; retrying');
    }).finally(() => {
      this.#metadataRefresh = null;
      if (this.#metadataStale) this.#pumper.wakeAt(Date.now() + this.#options.retryBackoffMs);
      this.#schedulePump();
    });
  }

  #retryLater(p: PartitionState, now: number): void {
    p.attempts++;
    p.retryAtMs = now + withJitter(exponentialBackoffMs(p.attempts, this.#options.retryBackoffMs, this.#options.retryBackoffMaxMs));
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
