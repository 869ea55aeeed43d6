/**
 * Sender: the producer's I/O loop, as Kafka's Sender thread. It takes closed batches (in order per
 * partition) from the main thread, groups them into Produce requests per leader — at most one
 * batch per partition per request, at most max.in.flight.requests.per.connection requests in
 * flight per broker — and reports each batch's outcome once: its base offset, or its error.
 *
 * Retriable errors are retried with exponential backoff within delivery.timeout.ms. A partition
 * with a batch to retry sends nothing else until its retries went out one at a time, in order, so
 * order within a partition holds. With idempotence the sender owns the producer id and epoch
 * (InitProducerId) and stamps every batch with its partition's next sequence when the batch first
 * goes out; retries keep it, so the broker recognises a resent batch it already has. When a batch
 * fails for good, its sequence is unresolved: the sender waits for its requests to finish, bumps
 * the epoch and starts every partition's sequence again at 0 (KIP-360).
 *
 * Leaders are learnt from the Metadata answers it gets for the producer (which asks again for a
 * topic it sends to at least every metadata.max.age.ms) and refreshed here after
 * NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION or LEADER_NOT_AVAILABLE.
 *
 * Lives on the sender worker's event loop; not thread-safe.
 */
import { exponentialBackoffMs, withJitter } from '../shared/backoff.js';
import { IllegalStateError, KafkaApiError, ProtocolError, RinglogError, TimeoutError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { acksValue, type ProducerOptions } from '../shared/producer-config.js';
import { ApiKeys, ErrorCodes, kafkaError, ZERO_UUID } from '../shared/protocol/index.js';
import { peekRecordsCount, setProducerState } from '../shared/record-batch/header.js';
import { Pump } from '../shared/pump.js';
import { BrokerClients, type Connect } from './broker-clients.js';

/** A decoded body, indexed freely: the generic codec's shapes follow the schemas, not TS types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

export type SenderOptions = Pick<ProducerOptions,
  'acks' | 'requestTimeoutMs' | 'retryBackoffMs' | 'retryBackoffMaxMs' | 'maxInFlightRequestsPerConnection' |
  'maxRequestSize' | 'enableIdempotence' | 'retries' | 'deliveryTimeoutMs' | 'compressionType' |
  'reconnectBackoffMs' | 'reconnectBackoffMaxMs' | 'socketConnectionSetupTimeoutMs' | 'socketConnectionSetupTimeoutMaxMs' | 'maxBlockMs'>;

/** A batch as the sender holds it: its own copy of the bytes, kept until the outcome is known. */
export interface SenderBatch {
  readonly id: number;
  readonly topic: string;
  readonly partition: number;
  bytes: Buffer;
  readonly deadlineMs: number;
  attempts: number;
  /** -1 until first sent with idempotence. */
  baseSequence: number;
  epoch: number;
  retryAtMs: number;
  /** Why its last attempt failed, for the delivery timeout's message. */
  lastError?: Error;
}

export interface SenderEvents {
  done(batchId: number, baseOffset: number, logAppendTimeMs: number): void;
  failed(batchId: number, error: Error): void;
}

export interface PartitionInfo {
  leaderId: number;
}

export interface TopicMetadata {
  topic: string;
  errorCode: number;
  partitions: PartitionInfo[];
}

export type { Connect };

/** Compresses a finished uncompressed batch (the compression pool), or null for none. */
export type CompressBatch = ((batch: Buffer) => Promise<Buffer>) | null;

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Batches not yet sent or waiting to be retried, in the order they must go. */
  readonly queue: SenderBatch[];
  inFlight: number;
  /** A retry is pending: send one batch at a time until the retries went out. */
  retrying: boolean;
  nextSequence: number;
}

const SEQUENCE_MODULUS = 2 ** 31;
/** Errors after which leaders may have moved: refresh metadata before the retry. */
const METADATA_ERRORS = new Set<number>([
  ErrorCodes.NOT_LEADER_OR_FOLLOWER, ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, ErrorCodes.LEADER_NOT_AVAILABLE,
]);

export class Sender {
  readonly #options: SenderOptions;
  readonly #events: SenderEvents;
  readonly #compress: CompressBatch;
  readonly #logger: Logger;
  readonly #acks: -1 | 0 | 1;
  readonly #partitions = new Map<string, PartitionState>();
  readonly #leaders = new Map<string, number[]>();
  readonly #clients: BrokerClients;
  readonly #inFlightByNode = new Map<number, number>();
  #producerId = -1;
  #epoch = -1;
  #needsEpochBump = false;
  #metadataStale = false;
  /** A metadata refresh or an epoch bump under way: nothing is sent until it ends. */
  #paused: Promise<void> | null = null;
  readonly #pumper = new Pump(() => this.#pump());
  #closed = false;
  #idle: (() => void) | null = null;

  constructor(options: SenderOptions, events: SenderEvents, connect: Connect, compress: CompressBatch, logger: Logger) {
    this.#options = options;
    this.#events = events;
    this.#clients = new BrokerClients(connect);
    this.#compress = compress;
    this.#logger = logger;
    this.#acks = acksValue(options.acks);
  }

  get producerId(): number {
    return this.#producerId;
  }

  get producerEpoch(): number {
    return this.#epoch;
  }

  /** Batches taken and not yet answered. */
  get pendingBatches(): number {
    let n = 0;
    for (const state of this.#partitions.values()) n += state.queue.length + state.inFlight;
    return n;
  }

  /**
   * With idempotence: gets a producer id and epoch before the first batch goes out. What may pass
   * (no broker reachable yet, a request timing out) is retried with backoff for up to max.block.ms,
   * as Kafka's producer waits that long for a cluster that is still starting.
   */
  async start(): Promise<void> {
    if (!this.#options.enableIdempotence) return;
    const { maxBlockMs, retryBackoffMs, retryBackoffMaxMs } = this.#options;
    const deadlineMs = Date.now() + maxBlockMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#initProducerId(false);
        return;
      } catch (error) {
        if (!(error instanceof RinglogError) || !error.retriable) throw error;
        const waitMs = withJitter(exponentialBackoffMs(attempt, retryBackoffMs, retryBackoffMaxMs));
        if (Date.now() + waitMs >= deadlineMs) {
          throw new TimeoutError('ERR_INIT_PRODUCER_ID_TIMEOUT', `no producer id within max.block.ms (last: ${error.message})`, maxBlockMs);
        }
        this.#logger.warn({ err: error, attempt }, 'could not get a producer id; retrying');
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  /** Topic metadata, refreshed from a broker; also learns the partitions' leaders. */
  async metadata(topics: readonly string[]): Promise<TopicMetadata[]> {
    const { client } = await this.#clients.any();
    const response = await client.request(ApiKeys.METADATA, {
      topics: topics.map((name) => ({ name, topicId: ZERO_UUID })), allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false,
    });
    const result: TopicMetadata[] = [];
    for (const topic of response.topics as Body[]) {
      const partitions = [...(topic.partitions as Body[])].sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => ({ leaderId: p.leaderId as number }));
      if (topic.errorCode === ErrorCodes.NONE) this.#leaders.set(topic.name, partitions.map((p) => p.leaderId));
      result.push({ topic: topic.name, errorCode: topic.errorCode, partitions });
    }
    return result;
  }

  /** Takes a batch (its bytes are the sender's from now on) and sends it as soon as it may. */
  enqueue(batch: SenderBatch): void {
    if (this.#closed) {
      this.#events.failed(batch.id, new IllegalStateError('the sender is closed'));
      return;
    }
    const state = this.#partition(batch.topic, batch.partition);
    state.queue.push(batch);
    if (this.#compress === null) {
      this.#pumper.schedule();
      return;
    }
    // Compression runs in the pool; meanwhile the batch keeps its place, held back by retryAtMs.
    batch.retryAtMs = Infinity;
    this.#compress(batch.bytes).then(
      (compressed) => { batch.bytes = compressed; batch.retryAtMs = 0; },
      (error: unknown) => { state.queue.splice(state.queue.indexOf(batch), 1); this.#events.failed(batch.id, error as Error); },
    ).finally(() => this.#pumper.schedule());
  }

  /** Resolves once every batch taken so far has its outcome. */
  async idle(timeoutMs: number): Promise<void> {
    if (this.pendingBatches === 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { this.#idle = null; reject(new TimeoutError('ERR_SENDER_DRAIN_TIMEOUT', `${this.pendingBatches} batches still unanswered`, timeoutMs)); }, timeoutMs);
      this.#idle = () => { clearTimeout(timer); resolve(); };
    });
  }

  close(): void {
    this.#closed = true;
    this.#pumper.cancelTimer();
    this.#clients.closeAll();
  }

  #partition(topic: string, partition: number): PartitionState {
    const key = `${topic}\u0000${partition}`;
    let state = this.#partitions.get(key);
    if (state === undefined) {
      state = { topic, partition, queue: [], inFlight: 0, retrying: false, nextSequence: 0 };
      this.#partitions.set(key, state);
    }
    return state;
  }

  /** Sends what may go now, per broker, and arms a timer for what must wait. */
  #pump(): void {
    const now = Date.now();
    this.#expire(now);
    if (this.#needsEpochBump) {
      if (this.#inFlightTotal() === 0) void this.#bumpEpoch();
      return;
    }
    if (this.#paused !== null) return;
    if (this.#metadataStale) {
      this.#refreshMetadata();
      return;
    }
    const byNode = new Map<number, PartitionState[]>();
    let nextWakeMs = Infinity;
    for (const state of this.#partitions.values()) {
      const head = state.queue[0];
      if (head === undefined || (state.retrying && state.inFlight > 0)) continue;
      if (head.retryAtMs > now) {
        if (head.retryAtMs !== Infinity) nextWakeMs = Math.min(nextWakeMs, head.retryAtMs);
        continue;
      }
      const leader = this.#leaders.get(state.topic)?.[state.partition];
      if (leader === undefined || leader < 0) {
        this.#metadataStale = true;
        this.#pumper.schedule();
        continue;
      }
      let list = byNode.get(leader);
      if (list === undefined) byNode.set(leader, (list = []));
      list.push(state);
    }
    for (const [nodeId, states] of byNode) this.#sendTo(nodeId, states);
    for (const state of this.#partitions.values()) {
      for (const batch of state.queue) nextWakeMs = Math.min(nextWakeMs, batch.deadlineMs);
    }
    if (nextWakeMs !== Infinity) this.#pumper.wakeAt(nextWakeMs);
    this.#checkIdle();
  }

  /** Batches past delivery.timeout.ms that are not in flight fail now. */
  #expire(now: number): void {
    for (const state of this.#partitions.values()) {
      while (state.queue.length > 0 && state.queue[0]!.deadlineMs <= now && state.queue[0]!.retryAtMs !== Infinity) {
        const batch = state.queue.shift()!;
        this.#fail(batch, this.#deliveryTimeout(state, batch, batch.lastError ?? null));
      }
    }
  }

  #sendTo(nodeId: number, states: PartitionState[]): void {
    let inFlight = this.#inFlightByNode.get(nodeId) ?? 0;
    while (inFlight < this.#options.maxInFlightRequestsPerConnection && states.length > 0) {
      // One batch per partition per request (Kafka's rule for Produce v3+), within max.request.size.
      const batches: { state: PartitionState; batch: SenderBatch }[] = [];
      let bytes = 0;
      const remaining: PartitionState[] = [];
      for (const state of states) {
        const batch = state.queue[0]!;
        if (batches.length > 0 && bytes + batch.bytes.length > this.#options.maxRequestSize) {
          remaining.push(state);
          continue;
        }
        state.queue.shift();
        state.inFlight++;
        batches.push({ state, batch });
        bytes += batch.bytes.length;
        // Later batches of this partition may go in the next request, unless it is retrying.
        const next = state.queue[0];
        if (next !== undefined && !state.retrying && next.retryAtMs <= Date.now()) remaining.push(state);
      }
      states = remaining;
      if (batches.length === 0) break;
      inFlight++;
      this.#inFlightByNode.set(nodeId, inFlight);
      void this.#produce(nodeId, batches);
    }
  }

  async #produce(nodeId: number, batches: { state: PartitionState; batch: SenderBatch }[]): Promise<void> {
    const topicData = new Map<string, Body[]>();
    for (const { state, batch } of batches) {
      if (this.#options.enableIdempotence) this.#stamp(state, batch);
      batch.attempts++;
      let list = topicData.get(state.topic);
      if (list === undefined) topicData.set(state.topic, (list = []));
      list.push({ index: state.partition, records: batch.bytes });
    }
    const body: Body = {
      transactionalId: null,
      acks: this.#acks,
      timeoutMs: this.#options.requestTimeoutMs,
      topicData: [...topicData].map(([name, partitionData]) => ({ name, partitionData })),
    };
    try {
      const client = await this.#clients.get(nodeId);
      if (this.#acks === 0) {
        client.send(ApiKeys.PRODUCE, body);
        for (const { state, batch } of batches) this.#succeed(state, batch, -1, -1);
        return;
      }
      const response = await client.request(ApiKeys.PRODUCE, body, { timeoutMs: this.#options.requestTimeoutMs });
      this.#onResponse(batches, response);
    } catch (error) {
      // No answer (timeout, connection gone): every batch may or may not be written. Kafka drops
      // the connection then; the next request reconnects (to a restarted broker, say).
      this.#clients.drop(nodeId);
      const networkError = new RinglogError('ERR_NETWORK', `no answer from broker ${nodeId}: ${(error as Error).message}`, { retriable: true, cause: error });
      for (const { state, batch } of batches) this.#retryOrFail(state, batch, networkError);
    } finally {
      this.#inFlightByNode.set(nodeId, (this.#inFlightByNode.get(nodeId) ?? 1) - 1);
      this.#pumper.schedule();
    }
  }

  #onResponse(batches: { state: PartitionState; batch: SenderBatch }[], response: Body): void {
    const answers = new Map<string, Body>();
    for (const topic of response.responses as Body[]) {
      for (const p of topic.partitionResponses as Body[]) answers.set(`${topic.name}\u0000${p.index}`, p);
    }
    for (const { state, batch } of batches) {
      const answer = answers.get(`${state.topic}\u0000${state.partition}`);
      if (answer === undefined) {
        this.#retryOrFail(state, batch, new ProtocolError(`the Produce response has no answer for ${state.topic}-${state.partition}`));
        continue;
      }
      const code = answer.errorCode as number;
      if (code === ErrorCodes.NONE || code === ErrorCodes.DUPLICATE_SEQUENCE_NUMBER) {
        this.#succeed(state, batch, Number(answer.baseOffset), Number(answer.logAppendTimeMs ?? -1n));
        continue;
      }
      if (METADATA_ERRORS.has(code)) this.#metadataStale = true;
      this.#retryOrFail(state, batch, kafkaError(code, answer.errorMessage ?? null));
    }
  }

  #succeed(state: PartitionState, batch: SenderBatch, baseOffset: number, logAppendTimeMs: number): void {
    state.inFlight--;
    if (state.retrying && state.inFlight === 0 && !state.queue.some((b) => b.attempts > 0)) state.retrying = false;
    this.#events.done(batch.id, baseOffset, logAppendTimeMs);
  }

  /** A retriable failure within the batch's deadline and retries goes back in order; anything else fails the batch. */
  #retryOrFail(state: PartitionState, batch: SenderBatch, error: Error): void {
    state.inFlight--;
    const now = Date.now();
    // Behind a batch being retried, the broker refuses later sequences: those are retried too.
    const outOfOrderBehindRetry = error instanceof KafkaApiError && error.errorCode === ErrorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER && state.retrying;
    const retriable = outOfOrderBehindRetry || (error instanceof RinglogError && error.retriable);
    if (!retriable || batch.attempts > this.#options.retries || now >= batch.deadlineMs) {
      this.#fail(batch, retriable && now >= batch.deadlineMs ? this.#deliveryTimeout(state, batch, error) : error);
      return;
    }
    batch.lastError = error;
    batch.retryAtMs = now + withJitter(exponentialBackoffMs(batch.attempts, this.#options.retryBackoffMs, this.#options.retryBackoffMaxMs));
    state.retrying = true;
    // Back in its place: the queue stays in first-sent order.
    let at = 0;
    while (at < state.queue.length && state.queue[at]!.id < batch.id) at++;
    state.queue.splice(at, 0, batch);
    this.#logger.debug({ topic: state.topic, partition: state.partition, attempt: batch.attempts, err: error }, 'retrying batch');
  }

  #fail(batch: SenderBatch, error: Error): void {
    // A batch that may have reached the broker leaves a hole in the sequence: start a new epoch.
    if (this.#options.enableIdempotence && batch.baseSequence >= 0) this.#needsEpochBump = true;
    this.#events.failed(batch.id, error);
    this.#checkIdle();
  }

  #deliveryTimeout(state: PartitionState, batch: SenderBatch, lastError: Error | null): TimeoutError {
    const last = lastError === null ? '' : `; last error: ${lastError.message}`;
    return new TimeoutError('ERR_DELIVERY_TIMEOUT', `batch for ${state.topic}-${state.partition} not acknowledged within delivery.timeout.ms (${batch.attempts} attempts${last})`, this.#options.deliveryTimeoutMs);
  }

  #stamp(state: PartitionState, batch: SenderBatch): void {
    if (batch.baseSequence >= 0 && batch.epoch === this.#epoch) return;
    batch.baseSequence = state.nextSequence;
    batch.epoch = this.#epoch;
    state.nextSequence = (state.nextSequence + peekRecordsCount(batch.bytes)) % SEQUENCE_MODULUS;
    setProducerState(batch.bytes, 0, this.#producerId, this.#epoch, batch.baseSequence);
  }

  async #initProducerId(bump: boolean): Promise<void> {
    const { client } = await this.#clients.any();
    if (client.version(ApiKeys.INIT_PRODUCER_ID) === undefined) {
      throw new IllegalStateError('the broker does not serve InitProducerId, which enable.idempotence needs; set enable.idempotence=false');
    }
    const canBump = bump && (client.version(ApiKeys.INIT_PRODUCER_ID) ?? 0) >= 3;
    const response = await client.request(ApiKeys.INIT_PRODUCER_ID, {
      transactionalId: null, transactionTimeoutMs: 2_147_483_647,
      producerId: BigInt(canBump ? this.#producerId : -1), producerEpoch: canBump ? this.#epoch : -1,
    });
    if (response.errorCode !== ErrorCodes.NONE) throw kafkaError(response.errorCode as number);
    this.#producerId = Number(response.producerId);
    this.#epoch = response.producerEpoch as number;
    this.#logger.debug({ producerId: this.#producerId, epoch: this.#epoch }, 'producer id');
  }

  async #bumpEpoch(): Promise<void> {
    if (this.#paused !== null) return;
    const bump = this.#initProducerId(true).then(() => {
      this.#needsEpochBump = false;
      for (const state of this.#partitions.values()) state.nextSequence = 0;
    });
    this.#paused = bump.catch((error: unknown) => {
      this.#logger.warn({ err: error }, 'could not bump the producer epoch; retrying');
    }).finally(() => {
      this.#paused = null;
      if (this.#needsEpochBump) this.#pumper.wakeAt(Date.now() + this.#options.retryBackoffMs);
      this.#pumper.schedule();
    });
  }

  #refreshMetadata(): void {
    const topics = [...new Set([...this.#partitions.values()].filter((s) => s.queue.length > 0).map((s) => s.topic))];
    this.#metadataStale = false;
    this.#paused = this.metadata(topics).then(() => undefined, (error: unknown) => {
      this.#metadataStale = true;
      this.#logger.warn({ err: error }, 'metadata refresh failed; retrying');
    }).finally(() => {
      this.#paused = null;
      if (this.#metadataStale) this.#pumper.wakeAt(Date.now() + this.#options.retryBackoffMs);
      else this.#pumper.schedule();
    });
  }

  #inFlightTotal(): number {
    let n = 0;
    for (const v of this.#inFlightByNode.values()) n += v;
    return n;
  }

  #checkIdle(): void {
    if (this.#idle !== null && this.pendingBatches === 0) {
      const idle = this.#idle;
      this.#idle = null;
      idle();
    }
  }
}
