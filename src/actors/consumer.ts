/**
 * Consumer: Kafka's KafkaConsumer on the main thread. Fetching runs in a consumer I/O worker, which
 * keeps the next fetch in flight while the application handles the records poll() returned, and
 * hands over whole batches over a ring; poll() decodes only the records it returns. Group
 * membership runs in a heartbeat worker, so a main thread busy for longer than session.timeout.ms
 * (but polling within max.poll.interval.ms) keeps its partitions. The rebalance listener runs here,
 * inside poll(). Commits go through the heartbeat worker, which owns the coordinator connection.
 * Main thread only; one poll() at a time, as Kafka's consumer is not for concurrent use.
 */
import type { Worker } from 'node:worker_threads';
import { rebalanceProtocolOf, type TopicPartition } from '../shared/assignors.js';
import { resolveConsumerOptions, type ConsumerOptions } from '../shared/consumer-config.js';
import { CommitFailedError, IllegalStateError, InvalidGroupIdError, TimeoutError, WorkerExitedError } from '../shared/errors.js';
import { ConsumerSlot, CONSUMER_STATE_BYTES } from '../shared/layout.js';
import type { Logger } from '../shared/logger.js';
import { deserializer, type DeserializerSpec } from '../shared/serializers.js';
import { ConsumerGroup, type GroupHost } from './consumer-group.js';
import type { ConnectionHandles } from './embedded-connection.js';
import { FetchBuffer, type ConsumerRecord, type Deserializers } from './fetch-buffer.js';
import { EARLIEST, LATEST } from './fetcher.js';
import { FetcherLink } from './fetcher-link.js';
import { HeartbeatLink } from './heartbeat-link.js';
import { OffsetCommitter, type CommitCallback, type CommitIdentity, type TopicPartitionOffset } from './offset-committer.js';
import { SubscriptionState, type AssignedPartition } from './subscription-state.js';
import { checkOffsets, checkPartitions, checkTimeout, checkTopics, describeSubscription, specOf } from './consumer-input.js';
import { Positions } from './consumer-positions.js';

export type { ConsumerRecord } from './fetch-buffer.js';
export type { CommitCallback, TopicPartitionOffset } from './offset-committer.js';
export type { TopicPartition } from '../shared/assignors.js';

/** Kafka's ConsumerRebalanceListener; each callback runs inside poll() and may be async. */
export interface ConsumerRebalanceListener {
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** Without it, onPartitionsRevoked is called, as in Kafka. */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

/** Kafka's ConsumerInterceptor. A hook that throws is logged and skipped. */
export interface ConsumerInterceptor {
  onConsume?(records: ConsumerRecord<unknown, unknown>[]): ConsumerRecord<unknown, unknown>[];
  onCommit?(offsets: readonly TopicPartitionOffset[]): void;
}

/** What a consumer needs from the cluster it talks to (embedded today). */
export interface ConsumerTarget {
  openConnection(nodeId: number | null): Promise<{ nodeId: number; handles: ConnectionHandles }>;
  readonly logger: Logger;
}

/** Options that are not Kafka configuration: deserializers, hooks and the logger. */
export interface ConsumerExtras<K = unknown, V = unknown> {
  keyDeserializer?: DeserializerSpec<K>;
  valueDeserializer?: DeserializerSpec<V>;
  interceptors?: ConsumerInterceptor[];
  logger?: Logger;
}

export type ConsumerConfig<K = unknown, V = unknown> = ConsumerExtras<K, V> & Readonly<Record<string, unknown>>;

/** For tests: the consumer's worker threads (to kill one as a crash would) and its shared state. */
export const consumerWorkers = Symbol('ringlog.consumerWorkers');

const EXTRA_KEYS = new Set(['keyDeserializer', 'valueDeserializer', 'interceptors', 'logger']);
const CONTROL_TIMEOUT_MS = 30_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
const ITERATOR_POLL_MS = 1_000;
let consumerCount = 0;

export class Consumer<K = Buffer | null, V = Buffer | null> {
  readonly options: ConsumerOptions;
  readonly #logger: Logger;
  readonly #subscriptions = new SubscriptionState();
  readonly #buffer: FetchBuffer;
  readonly #fetcher: FetcherLink;
  readonly #heartbeat: HeartbeatLink | null;
  readonly #group: ConsumerGroup | null;
  readonly #committer: OffsetCommitter;
  readonly #positions: Positions;
  readonly #shared: Int32Array;
  readonly #clockBaseMs = Date.now();
  readonly #interceptors: ConsumerInterceptor[];
  readonly #deserializers: Deserializers;
  readonly #isCurrent = (state: AssignedPartition): boolean => this.#subscriptions.byIndex(state.index) === state;
  #listener: ConsumerRebalanceListener = {};
  #listenerError: Error | null = null;
  #fatal: Error | null = null;
  #waiter: (() => void) | null = null;
  #polling = false;
  #unsubscribing: Promise<void> | null = null;
  #nextAutoCommitMs: number;
  #closed = false;
  #closing: Promise<void> | null = null;

  private constructor(options: ConsumerOptions, extras: ConsumerExtras<K, V>, target: ConsumerTarget) {
    this.options = options;
    const name = `consumer-${++consumerCount}`;
    this.#logger = (extras.logger ?? target.logger).child({ actor: 'consumer', clientId: options.clientId, groupId: options.groupId });
    this.#interceptors = extras.interceptors ?? [];
    this.#deserializers = {
      key: deserializer(extras.keyDeserializer, 'key') as Deserializers['key'],
      value: deserializer(extras.valueDeserializer, 'value') as Deserializers['value'],
    };
    const state = new SharedArrayBuffer(CONSUMER_STATE_BYTES);
    this.#shared = new Int32Array(state);
    this.#markPoll();
    this.#nextAutoCommitMs = Date.now() + options.autoCommitIntervalMs;
    const connect = (nodeId: number | null): ReturnType<ConsumerTarget['openConnection']> => target.openConnection(nodeId);
    this.#fetcher = new FetcherLink({
      name: `${name}-fetcher`, clientId: options.clientId, fetcher: options, connect, bootstrapServers: options.bootstrapServers, state, logger: this.#logger,
      controlTimeoutMs: CONTROL_TIMEOUT_MS,
      events: {
        data: (index, epoch, highWatermark, batches) => this.#positions.onData(index, epoch, highWatermark, batches),
        reset: (index, epoch, offset) => this.#positions.onReset(index, epoch, offset),
        error: (index, epoch, error) => this.#positions.onError(index, epoch, error),
      },
    });
    this.#buffer = new FetchBuffer((chunk) => this.#fetcher.release(chunk));
    this.#watch('consumer I/O', this.#fetcher);
    const groupId = options.groupId;
    if (groupId !== null && groupId.trim() !== '') {
      this.#heartbeat = new HeartbeatLink({
        name: `${name}-heartbeat`, state, clockBaseMs: this.#clockBaseMs, connect, bootstrapServers: options.bootstrapServers, logger: this.#logger,
        controlTimeoutMs: CONTROL_TIMEOUT_MS,
        membership: {
          groupId, clientId: options.clientId === '' ? name : options.clientId, sessionTimeoutMs: options.sessionTimeoutMs,
          maxPollIntervalMs: options.maxPollIntervalMs, heartbeatIntervalMs: options.heartbeatIntervalMs, requestTimeoutMs: options.requestTimeoutMs,
          retryBackoffMs: options.retryBackoffMs, retryBackoffMaxMs: options.retryBackoffMaxMs, assignors: options.partitionAssignmentStrategy,
          allowAutoCreateTopics: options.allowAutoCreateTopics, excludeInternalTopics: options.excludeInternalTopics, metadataMaxAgeMs: options.metadataMaxAgeMs,
          reconnectBackoffMs: options.reconnectBackoffMs, reconnectBackoffMaxMs: options.reconnectBackoffMaxMs,
          socketConnectionSetupTimeoutMs: options.socketConnectionSetupTimeoutMs, socketConnectionSetupTimeoutMaxMs: options.socketConnectionSetupTimeoutMaxMs,
        },
        onEvent: (event) => this.#group?.onEvent(event),
      });
      this.#group = new ConsumerGroup(this.#heartbeat, rebalanceProtocolOf(options.partitionAssignmentStrategy), this.#groupHost(), this.#logger);
      this.#watch('heartbeat', this.#heartbeat);
    } else {
      this.#heartbeat = null;
      this.#group = null;
    }
    this.#committer = new OffsetCommitter(this.#heartbeat, {
      groupId, retryBackoffMs: options.retryBackoffMs, retryBackoffMaxMs: options.retryBackoffMaxMs, logger: this.#logger,
      onCommit: (offsets) => this.#onCommitted(offsets),
    });
    this.#positions = new Positions({
      subscriptions: this.#subscriptions, buffer: this.#buffer, fetcher: this.#fetcher, committer: this.#committer, hasGroup: this.#heartbeat !== null,
      autoOffsetReset: options.autoOffsetReset, defaultApiTimeoutMs: options.defaultApiTimeoutMs, logger: this.#logger,
      isCurrent: this.#isCurrent, wake: () => this.#wake(),
    });
  }

  /** A consumer with Kafka's options (dotted or camelCase) plus deserializers and hooks. */
  static async start<K = Buffer | null, V = Buffer | null>(target: ConsumerTarget, config: ConsumerConfig<K, V> = {}): Promise<Consumer<K, V>> {
    const kafkaConfig: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) if (!EXTRA_KEYS.has(key)) kafkaConfig[key] = value;
    const options = resolveConsumerOptions(kafkaConfig, config.logger ?? target.logger);
    return new Consumer<K, V>(options, config, target);
  }

  // ---- subscriptions and assignments ----

  /**
   * Subscribes to topics (a list or a RegExp) through the group: partitions come from the group's
   * assignor at the next poll(). An empty list unsubscribes (as unsubscribe(), in the background).
   * Needs a group.id.
   */
  subscribe(topics: string | readonly string[] | RegExp, listener: ConsumerRebalanceListener = {}): void {
    this.#ensureOpen();
    this.#ensureNotUnsubscribing();
    if (Array.isArray(topics) && topics.length === 0) {
      this.#startUnsubscribe();
      return;
    }
    const subscription = topics instanceof RegExp ? { pattern: topics } : { topics: checkTopics(typeof topics === 'string' ? [topics] : topics as readonly string[], 'subscribe') };
    if (this.#group === null) throw new InvalidGroupIdError('subscribe() needs a group.id: set group.id in the consumer config, or use assign()');
    if (this.#subscriptions.userAssigned) throw new IllegalStateError('subscribe() and assign() are mutually exclusive: unsubscribe() first');
    if (typeof listener !== 'object' || listener === null) throw new RangeError('the rebalance listener must be an object with onPartitions* callbacks');
    const before = this.#subscriptions.subscription;
    this.#subscriptions.subscription = subscription;
    this.#listener = listener;
    if (before === null || describeSubscription(before) !== describeSubscription(subscription)) this.#group.requestJoin();
  }

  /** Reads exactly these partitions, without a group (Kafka's assign). An empty list unassigns. */
  assign(partitions: readonly TopicPartition[]): void {
    this.#ensureOpen();
    this.#ensureNotUnsubscribing();
    const wanted = checkPartitions(partitions, 'assign');
    if (this.#subscriptions.subscription !== null) throw new IllegalStateError('subscribe() and assign() are mutually exclusive: unsubscribe() first');
    if (wanted.length === 0) {
      this.#startUnsubscribe();
      return;
    }
    if (this.options.enableAutoCommit && this.#heartbeat !== null) this.#autoCommit(true);
    const keep = new Set(wanted.map((tp) => `${tp.topic}\u0000${tp.partition}`));
    this.#removePartitions(this.#subscriptions.partitions().filter((tp) => !keep.has(`${tp.topic}\u0000${tp.partition}`)));
    this.#subscriptions.add(wanted);
    this.#subscriptions.userAssigned = true;
    this.#syncFetcher();
  }

  /** Leaves the group (revoking partitions first) or drops the assignment. */
  async unsubscribe(): Promise<void> {
    this.#ensureOpen();
    this.#startUnsubscribe();
    await this.#unsubscribing;
  }

  assignment(): TopicPartition[] {
    return this.#subscriptions.partitions();
  }

  /** The subscribed topics (a pattern's as of the last join). */
  subscription(): string[] {
    const subscription = this.#subscriptions.subscription;
    if (subscription === null) return [];
    return 'topics' in subscription ? [...subscription.topics] : [...(this.#group?.topics ?? [])];
  }

  // ---- positions ----

  seek(partition: TopicPartition, offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`seek: offset must be a non-negative integer, got ${String(offset)}`);
    this.#positions.seekTo(this.#assigned(partition, 'seek'), offset, -1);
  }

  /** Moves to the first offset of these partitions (all assigned by default), looked up lazily. */
  seekToBeginning(partitions?: readonly TopicPartition[]): void {
    for (const state of this.#statesOf(partitions, 'seekToBeginning')) this.#positions.resetTo(state, EARLIEST);
  }

  /** Moves to the end of these partitions (all assigned by default), looked up lazily. */
  seekToEnd(partitions?: readonly TopicPartition[]): void {
    for (const state of this.#statesOf(partitions, 'seekToEnd')) this.#positions.resetTo(state, LATEST);
  }

  /** The offset of the next record poll() returns for the partition (looked up first if unknown). */
  async position(partition: TopicPartition, timeoutMs = this.options.defaultApiTimeoutMs): Promise<number> {
    checkTimeout(timeoutMs, 'position');
    const state = this.#assigned(partition, 'position');
    const deadline = Date.now() + timeoutMs;
    while (state.position === null) {
      if (state.error !== null) throw state.error;
      this.#positions.update();
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new TimeoutError('ERR_POSITION_TIMEOUT', `position of ${state.name} not known`, timeoutMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remainingMs);
        state.positionWaiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return state.position;
  }

  /** The group's committed offsets of these partitions, in order; null where none is committed. */
  async committed(partitions: readonly TopicPartition[], timeoutMs = this.options.defaultApiTimeoutMs): Promise<(TopicPartitionOffset | null)[]> {
    checkTimeout(timeoutMs, 'committed');
    const wanted = checkPartitions(partitions, 'committed');
    const found = await this.#committer.committed(wanted, timeoutMs);
    return found.map((c) => (c.offset < 0 ? null : { topic: c.topic, partition: c.partition, offset: c.offset, metadata: c.metadata, leaderEpoch: c.leaderEpoch }));
  }

  pause(partitions: readonly TopicPartition[]): void {
    this.#setPaused(partitions, true, 'pause');
  }

  resume(partitions: readonly TopicPartition[]): void {
    this.#setPaused(partitions, false, 'resume');
  }

  paused(): TopicPartition[] {
    return [...this.#subscriptions.assigned.values()].filter((s) => s.paused).map(({ topic, partition }) => ({ topic, partition }));
  }

  // ---- poll ----

  /**
   * Up to max.poll.records records, in offset order within each partition, waiting at most
   * timeoutMs for some to arrive. Group work (joining, the rebalance listener, auto-commit)
   * happens here. Resolves with [] when the consumer is closed meanwhile.
   */
  async poll(timeoutMs: number): Promise<ConsumerRecord<K, V>[]> {
    checkTimeout(timeoutMs, 'poll');
    this.#ensureOpen();
    if (this.#polling) throw new IllegalStateError('poll() is already running: a consumer polls once at a time');
    if (this.#subscriptions.subscription === null && !this.#subscriptions.userAssigned && this.#unsubscribing === null) {
      throw new IllegalStateError('the consumer is not subscribed to any topics or assigned any partitions');
    }
    this.#polling = true;
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        this.#markPoll();
        if (this.#fatal !== null) throw this.#fatal;
        if (this.#unsubscribing !== null) await this.#unsubscribing;
        const subscription = this.#subscriptions.subscription;
        if (this.#group !== null && subscription !== null && !this.#group.idle) await this.#group.step(specOf(subscription));
        if (this.#subscriptions.subscription === null && !this.#subscriptions.userAssigned) {
          throw new IllegalStateError('the consumer is not subscribed to any topics or assigned any partitions');
        }
        this.#throwListenerError();
        this.#positions.update();
        this.#positions.throwErrors();
        this.#maybeAutoCommit();
        const records: ConsumerRecord<unknown, unknown>[] = [];
        this.#buffer.drain(records, this.options.maxPollRecords, this.#isCurrent, this.#deserializers);
        if (records.length > 0) return this.#onConsume(records) as ConsumerRecord<K, V>[];
        const remainingMs = deadline - Date.now();
        if (remainingMs <= 0 || this.#closed) return [];
        // Wake for data, group events or positions; at least twice per max.poll.interval.ms to mark the poll clock.
        await this.#sleep(Math.min(remainingMs, Math.max(1, this.options.maxPollIntervalMs / 2)));
      }
    } finally {
      this.#polling = false;
    }
  }

  /**
   * `for await (const record of consumer)`: polls until the consumer is closed. Leaving the loop
   * early moves each partition back to its first record that was polled but not handed out.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord<K, V>> {
    for await (const records of this.batches()) {
      let next = 0;
      try {
        while (next < records.length) yield records[next++]!;
      } finally {
        if (next < records.length) this.#rewind(records.slice(next));
      }
    }
  }

  /** Every non-empty poll() result until the consumer is closed. */
  async *batches(pollTimeoutMs = ITERATOR_POLL_MS): AsyncGenerator<ConsumerRecord<K, V>[]> {
    while (!this.#closed) {
      const records = await this.poll(pollTimeoutMs);
      if (records.length > 0) yield records;
    }
  }

  // ---- commits ----

  /** Commits the given offsets, or the positions of every assigned partition; retries until timeoutMs. */
  async commitSync(offsets?: readonly TopicPartitionOffset[], timeoutMs = this.options.defaultApiTimeoutMs): Promise<void> {
    checkTimeout(timeoutMs, 'commitSync');
    const list = offsets === undefined ? this.#consumedOffsets() : checkOffsets(offsets);
    await this.#committer.commitSync(list, this.#identity(), timeoutMs);
  }

  /** Commits once in the background; callbacks run in commit order. Errors go to the callback (or the log). */
  commitAsync(offsets?: readonly TopicPartitionOffset[], callback?: CommitCallback): void {
    let list: readonly TopicPartitionOffset[];
    let identity: CommitIdentity;
    try {
      list = offsets === undefined ? this.#consumedOffsets() : checkOffsets(offsets);
      identity = this.#identity();
    } catch (error) {
      if (callback === undefined) throw error;
      process.nextTick(callback, error, offsets ?? []);
      return;
    }
    this.#committer.commitAsync(list, identity, this.options.defaultApiTimeoutMs, callback);
  }

  // ---- closing ----

  /**
   * Commits the positions (with auto-commit), revokes the partitions and leaves the group at once,
   * so they move to other members without waiting for the session timeout; then stops the workers.
   */
  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    checkTimeout(timeoutMs, 'close');
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  /** For tests: the worker threads (fetcher, heartbeat) and the shared state (ConsumerSlot). */
  [consumerWorkers](): { fetcher: Worker; heartbeat: Worker | null; state: Int32Array } {
    return { fetcher: this.#fetcher.worker, heartbeat: this.#heartbeat?.worker ?? null, state: this.#shared };
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    this.#wake();
    const deadline = Date.now() + timeoutMs;
    const remaining = (): number => Math.max(1, deadline - Date.now());
    try {
      await this.#unsubscribing?.catch(() => undefined);
      // With a dead worker this fails fast (its calls end with WorkerExitedError) and is logged.
      await this.#leave('the consumer is closing', remaining);
      await this.#committer.flushAsync(remaining());
    } catch (error) {
      this.#logger.warn({ err: error }, 'the consumer did not close cleanly');
    } finally {
      this.#buffer.drop();
      this.#subscriptions.clear();
      await this.#fetcher.close();
      await this.#heartbeat?.close();
    }
  }

  // ---- internals ----

  #groupHost(): GroupHost {
    return {
      owned: () => this.#subscriptions.partitions(),
      revoke: (partitions) => this.#revoke(partitions, this.options.defaultApiTimeoutMs),
      lose: (partitions) => this.#lose(partitions),
      assign: async (partitions) => {
        this.#subscriptions.add(partitions);
        this.#syncFetcher();
        await this.#callListener('onPartitionsAssigned', partitions);
      },
      wake: () => this.#wake(),
    };
  }

  /** Commits them (with auto-commit, at most timeoutMs), onPartitionsRevoked, then stops reading them. */
  async #revoke(partitions: TopicPartition[], timeoutMs: number): Promise<void> {
    if (this.options.enableAutoCommit) await this.#commitQuietly(timeoutMs, partitions);
    await this.#callListener('onPartitionsRevoked', partitions);
    this.#removePartitions(partitions);
    this.#syncFetcher();
  }

  /** onPartitionsLost (onPartitionsRevoked without it, as in Kafka), then stops reading them; no commit. */
  async #lose(partitions: TopicPartition[]): Promise<void> {
    await this.#callListener(this.#listener.onPartitionsLost !== undefined ? 'onPartitionsLost' : 'onPartitionsRevoked', partitions);
    this.#removePartitions(partitions);
    this.#syncFetcher();
  }

  /** Revokes and leaves (subscribed), or commits (assigned), then forgets the partitions. */
  async #leave(reason: string, remaining: () => number): Promise<void> {
    const group = this.#group;
    if (this.#subscriptions.subscription !== null && group !== null) {
      const owned = this.#subscriptions.partitions();
      if (group.generationId >= 0 && owned.length > 0) await this.#revoke(owned, remaining());
      else if (owned.length > 0) await this.#lose(owned);
      await group.leave(reason, remaining());
    } else if (this.#subscriptions.userAssigned && this.options.enableAutoCommit && this.#heartbeat !== null) {
      await this.#commitQuietly(remaining());
    }
  }

  #startUnsubscribe(): void {
    this.#unsubscribing ??= this.#leave('the consumer unsubscribed', () => this.options.defaultApiTimeoutMs)
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'unsubscribe did not leave the group cleanly'))
      .finally(() => {
        this.#removePartitions(this.#subscriptions.partitions());
        this.#subscriptions.subscription = null;
        this.#subscriptions.userAssigned = false;
        this.#syncFetcher();
        this.#unsubscribing = null;
      });
  }

  async #commitQuietly(timeoutMs: number, partitions?: readonly TopicPartition[]): Promise<void> {
    const offsets = this.#consumedOffsets(partitions);
    if (offsets.length === 0 || this.#heartbeat === null) return;
    try {
      await this.#committer.commitSync(offsets, this.#identity(), timeoutMs);
    } catch (error) {
      this.#logger.warn({ err: error, partitions: offsets.length }, 'offset commit failed');
    }
  }

  #maybeAutoCommit(): void {
    if (!this.options.enableAutoCommit || this.#heartbeat === null || Date.now() < this.#nextAutoCommitMs) return;
    this.#nextAutoCommitMs = Date.now() + this.options.autoCommitIntervalMs;
    // During a rebalance the commit would be refused: the revocation commits instead.
    if (this.#subscriptions.subscription !== null && !this.#group!.stable) return;
    this.#autoCommit(false);
  }

  #autoCommit(all: boolean): void {
    const offsets = this.#consumedOffsets().filter((o) => all || this.#subscriptions.get(o.topic, o.partition)!.committedPosition !== o.offset);
    if (offsets.length === 0) return;
    this.commitAsync(offsets, (error) => {
      if (error !== null) this.#logger.warn({ err: error }, 'auto-commit failed');
    });
  }

  #onCommitted(offsets: readonly TopicPartitionOffset[]): void {
    for (const o of offsets) {
      const state = this.#subscriptions.get(o.topic, o.partition);
      if (state !== undefined) state.committedPosition = o.offset;
    }
    for (const interceptor of this.#interceptors) {
      try {
        interceptor.onCommit?.(offsets);
      } catch (error) {
        this.#logger.warn({ err: error }, 'an onCommit interceptor threw; skipped');
      }
    }
  }

  #onConsume(records: ConsumerRecord<unknown, unknown>[]): ConsumerRecord<unknown, unknown>[] {
    for (const interceptor of this.#interceptors) {
      if (interceptor.onConsume === undefined) continue;
      try {
        records = interceptor.onConsume(records);
      } catch (error) {
        this.#logger.warn({ err: error }, 'an onConsume interceptor threw; skipped');
      }
    }
    return records;
  }

  #consumedOffsets(partitions?: readonly TopicPartition[]): TopicPartitionOffset[] {
    const states = partitions === undefined
      ? [...this.#subscriptions.assigned.values()]
      : partitions.map((tp) => this.#subscriptions.get(tp.topic, tp.partition)).filter((s): s is AssignedPartition => s !== undefined);
    return states.filter((s) => s.position !== null).map((s) => ({ topic: s.topic, partition: s.partition, offset: s.position!, leaderEpoch: s.leaderEpoch }));
  }

  #identity(): CommitIdentity {
    if (this.#subscriptions.subscription === null) return { generationId: -1, memberId: '' };
    const group = this.#group!;
    if (group.generationId < 0) throw new CommitFailedError('the consumer is not part of an active group (it left, or has not joined yet): poll() to join');
    return { generationId: group.generationId, memberId: group.memberId };
  }

  #throwListenerError(): void {
    const error = this.#listenerError;
    if (error === null) return;
    this.#listenerError = null;
    throw error;
  }

  async #callListener(name: keyof ConsumerRebalanceListener, partitions: TopicPartition[]): Promise<void> {
    const callback = this.#listener[name];
    if (callback === undefined) return;
    try {
      await callback.call(this.#listener, partitions.map(({ topic, partition }) => ({ topic, partition })));
    } catch (error) {
      // Kafka finishes the rebalance and throws the listener's error from poll().
      this.#logger.error({ err: error, callback: name }, 'the rebalance listener threw');
      this.#listenerError ??= error as Error;
    }
  }

  /** Positions back to the first of `records` per partition (records polled, never handed out). */
  #rewind(records: readonly ConsumerRecord<K, V>[]): void {
    const first = new Map<AssignedPartition, number>();
    for (const record of records) {
      const state = this.#subscriptions.get(record.topic, record.partition);
      if (state !== undefined && !first.has(state)) first.set(state, record.offset);
    }
    for (const [state, offset] of first) this.#positions.seekTo(state, offset, state.leaderEpoch);
  }

  #removePartitions(partitions: readonly TopicPartition[]): void {
    const removed = this.#subscriptions.remove(partitions);
    if (removed.length > 0) this.#buffer.drop(new Set(removed));
  }

  /** Tells the I/O worker the partitions to fetch; each gets its position by a seek once known. */
  #syncFetcher(): void {
    this.#fetcher.setPartitions([...this.#subscriptions.assigned.values()].map(({ index, topic, partition }) => ({ index, topic, partition })));
  }

  #setPaused(partitions: readonly TopicPartition[], paused: boolean, what: string): void {
    const states = checkPartitions(partitions, what).map((tp) => this.#assigned(tp, what));
    for (const state of states) state.paused = paused;
    this.#fetcher.pause(states.map((s) => s.index), paused);
    if (!paused) this.#wake();
  }

  #statesOf(partitions: readonly TopicPartition[] | undefined, what: string): AssignedPartition[] {
    if (partitions === undefined) return [...this.#subscriptions.assigned.values()];
    return checkPartitions(partitions, what).map((tp) => this.#assigned(tp, what));
  }

  #assigned(partition: TopicPartition, what: string): AssignedPartition {
    const [tp] = checkPartitions([partition], what);
    const state = this.#subscriptions.get(tp!.topic, tp!.partition);
    if (state === undefined) throw new IllegalStateError(`${what}: partition ${tp!.topic}-${tp!.partition} is not assigned to this consumer`);
    return state;
  }

  #watch(what: string, link: { exited: Promise<number>; lastError(): Error | undefined }): void {
    void link.exited.then((code) => {
      if (this.#closed) return;
      this.#fatal = new WorkerExitedError(`the consumer's ${what} worker exited (code ${code})`, { cause: link.lastError() });
      this.#logger.error({ err: this.#fatal, cause: link.lastError() }, `the ${what} worker exited`);
      this.#wake();
    });
  }

  #markPoll(): void {
    Atomics.store(this.#shared, ConsumerSlot.POLL_CLOCK_MS, (Date.now() - this.#clockBaseMs) | 0);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#wake(), ms);
      this.#waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  #ensureOpen(): void {
    if (this.#closed) throw new IllegalStateError('the consumer is closed');
  }

  #ensureNotUnsubscribing(): void {
    if (this.#unsubscribing !== null) throw new IllegalStateError('an unsubscribe is under way: await unsubscribe() before subscribing or assigning again');
  }
}
