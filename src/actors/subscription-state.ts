/**
 * SubscriptionState: what a consumer reads, as Kafka's SubscriptionState — the subscription (topics
 * or a pattern) or the user's own assignment, and per assigned partition its position, its
 * position epoch (bumped on every seek, so fetches for an older position are dropped), whether
 * it is paused, and an error to report. Main thread only.
 */
import { tpKey, type TopicPartition } from '../shared/assignors.js';

export class AssignedPartition {
  readonly index: number;
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  /** Bumped by every seek: fetched data of another epoch is stale. */
  epoch = 0;
  /** The offset of the next record poll() returns; null until known. */
  position: number | null = null;
  /** A lookup of the earliest or latest offset is under way in the I/O worker. */
  resetting = false;
  /** The leader epoch of the last record returned (committed with the offset), -1 if none. */
  leaderEpoch = -1;
  paused = false;
  highWatermark = -1;
  /** Thrown by the next poll (a fetch error, an out-of-range offset with auto.offset.reset none). */
  error: Error | null = null;
  /** The position last committed, to skip auto-commits that would change nothing. */
  committedPosition = -1;
  readonly positionWaiters: (() => void)[] = [];

  constructor(index: number, topic: string, partition: number) {
    this.index = index;
    this.topic = topic;
    this.partition = partition;
    this.key = tpKey(topic, partition);
  }

  get name(): string {
    return `${this.topic}-${this.partition}`;
  }

  /** Sets the position (a seek, or a resolved reset) and wakes whoever waits for it. */
  setPosition(offset: number): void {
    this.position = offset;
    this.resetting = false;
    this.error = null;
    for (const wake of this.positionWaiters.splice(0)) wake();
  }
}

export type Subscription = { topics: readonly string[] } | { pattern: RegExp };

export class SubscriptionState {
  readonly #assigned = new Map<string, AssignedPartition>();
  readonly #byIndex = new Map<number, AssignedPartition>();
  #nextIndex = 1;
  subscription: Subscription | null = null;
  /** Partitions chosen with assign(), not by a group. */
  userAssigned = false;

  get assigned(): ReadonlyMap<string, AssignedPartition> {
    return this.#assigned;
  }

  byIndex(index: number): AssignedPartition | undefined {
    return this.#byIndex.get(index);
  }

  get(topic: string, partition: number): AssignedPartition | undefined {
    return this.#assigned.get(tpKey(topic, partition));
  }

  partitions(): TopicPartition[] {
    return [...this.#assigned.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Adds these partitions (those already assigned keep their state); returns the new ones. */
  add(partitions: readonly TopicPartition[]): AssignedPartition[] {
    const added: AssignedPartition[] = [];
    for (const { topic, partition } of partitions) {
      const key = tpKey(topic, partition);
      if (this.#assigned.has(key)) continue;
      const state = new AssignedPartition(this.#nextIndex++, topic, partition);
      this.#assigned.set(key, state);
      this.#byIndex.set(state.index, state);
      added.push(state);
    }
    return added;
  }

  /** Removes these partitions; returns the states removed. */
  remove(partitions: readonly TopicPartition[]): AssignedPartition[] {
    const removed: AssignedPartition[] = [];
    for (const { topic, partition } of partitions) {
      const state = this.#assigned.get(tpKey(topic, partition));
      if (state === undefined) continue;
      this.#assigned.delete(state.key);
      this.#byIndex.delete(state.index);
      removed.push(state);
    }
    return removed;
  }

  clear(): AssignedPartition[] {
    return this.remove(this.partitions());
  }
}
