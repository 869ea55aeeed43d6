/**
 * Choosing a record's partition, as Kafka's KafkaProducer.partition() and BuiltInPartitioner do:
 * an explicit partition wins, then a custom partitioner, then the key (murmur2, Java-compatible,
 * over all partitions), and key-less records go to the sticky partition, which moves after
 * batch.size bytes went to it. Main thread only; not thread-safe.
 */
import { ConfigError } from './errors.js';
import { murmur2, toPositive } from './murmur2.js';

/** A custom partitioner: Kafka's partitioner.class, as a function. */
export type PartitionerFunction = (topic: string, key: Uint8Array | null, value: Uint8Array | null, numPartitions: number) => number;

/** Kafka's default for keyed records: the same partition the Java client, KafkaJS and librdkafka pick. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions;
}

/** Batches waiting per partition, or a function that counts a topic's when asked. */
export type QueueSizes = readonly number[] | ((topic: string, numPartitions: number) => readonly number[]);

/** How choosePartition decides beyond the record itself. */
export interface PartitionOptions {
  custom?: PartitionerFunction;
  ignoreKeys: boolean;
  sticky: StickyPartitioner;
  queueSizes?: QueueSizes;
}

interface StickyState {
  partition: number;
  producedBytes: number;
}

/**
 * The built-in sticky partitioner (KIP-480, KIP-794): key-less records stay on one partition
 * until at least batch.size bytes went to it. The move waits for that partition's batch to be
 * ready (so batches fill), except that it happens anyway at twice batch.size. With adaptive
 * partitioning the next partition is drawn weighted by how short its queue is; with equal queues,
 * or fewer than two partitions, uniformly.
 */
export class StickyPartitioner {
  readonly #batchSizeBytes: number;
  readonly #adaptive: boolean;
  readonly #random: () => number;
  readonly #topics = new Map<string, StickyState>();

  constructor(batchSizeBytes: number, options: { adaptive?: boolean; random?: () => number } = {}) {
    this.#batchSizeBytes = batchSizeBytes;
    this.#adaptive = options.adaptive ?? true;
    this.#random = options.random ?? Math.random;
  }

  /**
   * The partition for `topic`'s next key-less record. `queueSizes[p]`: batches waiting for
   * partition p, or a function giving them, called only when a partition is being chosen.
   */
  partition(topic: string, numPartitions: number, queueSizes?: QueueSizes): number {
    let state = this.#topics.get(topic);
    if (state === undefined || state.partition >= numPartitions) {
      state = { partition: this.#next(topic, numPartitions, queueSizes), producedBytes: 0 };
      this.#topics.set(topic, state);
    }
    return state.partition;
  }

  /**
   * Records that `bytes` were appended to the sticky partition; moves on when it had enough.
   * `batchReady`: the partition's current batch is full or a new one was started for it.
   */
  recordAppended(topic: string, partition: number, bytes: number, batchReady: boolean, numPartitions: number, queueSizes?: QueueSizes): void {
    const state = this.#topics.get(topic);
    if (state === undefined || state.partition !== partition) return; // a keyed or explicit record
    state.producedBytes += bytes;
    if ((state.producedBytes >= this.#batchSizeBytes && batchReady) || state.producedBytes >= 2 * this.#batchSizeBytes) {
      state.partition = this.#next(topic, numPartitions, queueSizes);
      state.producedBytes = 0;
    }
  }

  #next(topic: string, numPartitions: number, sizes: QueueSizes | undefined): number {
    if (!this.#adaptive || sizes === undefined || numPartitions < 2) return Math.floor(this.#random() * numPartitions);
    const queueSizes = typeof sizes === 'function' ? sizes(topic, numPartitions) : sizes;
    let maxQueue = 0;
    let minQueue = Number.MAX_SAFE_INTEGER;
    for (let p = 0; p < numPartitions; p++) {
      const q = queueSizes[p] ?? 0;
      maxQueue = Math.max(maxQueue, q);
      minQueue = Math.min(minQueue, q);
    }
    if (maxQueue === minQueue) return Math.floor(this.#random() * numPartitions);
    // Kafka's cumulative frequency table of (maxQueue + 1 - queue): shorter queues weigh more.
    let total = 0;
    const cumulative: number[] = [];
    for (let p = 0; p < numPartitions; p++) {
      total += maxQueue + 1 - (queueSizes[p] ?? 0);
      cumulative.push(total);
    }
    const pick = Math.floor(this.#random() * total);
    let p = 0;
    while (cumulative[p]! <= pick) p++;
    return p;
  }
}

/**
 * Kafka's order of precedence for a record's partition. An explicit partition out of range is a
 * RangeError naming it (KafkaProducer's IllegalArgumentException); a custom partitioner that
 * answers an impossible partition is a ConfigError.
 */
export function choosePartition(
  topic: string, partition: number | undefined, key: Uint8Array | null, value: Uint8Array | null,
  numPartitions: number, options: PartitionOptions,
): number {
  if (partition !== undefined) {
    if (!Number.isInteger(partition) || partition < 0 || partition >= numPartitions) {
      throw new RangeError(`partition ${partition} is not one of topic ${topic}'s ${numPartitions} partitions`);
    }
    return partition;
  }
  if (options.custom !== undefined) {
    const p = options.custom(topic, key, value, numPartitions);
    if (!Number.isInteger(p) || p < 0 || p >= numPartitions) {
      throw new ConfigError('partitioner', `the custom partitioner returned ${p} for topic ${topic}, which has ${numPartitions} partitions`);
    }
    return p;
  }
  if (key !== null && !options.ignoreKeys) return partitionForKey(key, numPartitions);
  return options.sticky.partition(topic, numPartitions, options.queueSizes);
}
