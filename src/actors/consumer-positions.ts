/**
 * Positions: where each assigned partition of a consumer reads from, as Kafka's consumer updates
 * its fetch positions. A partition without a position gets the group's committed offset, else the
 * auto.offset.reset policy (earliest/latest looked up by the I/O worker, none an error naming the
 * partitions); a seek sets one and bumps the partition's epoch, so fetched data for the old
 * position is dropped. Also takes the I/O worker's DATA, RESET and ERROR frames. Main thread only.
 */
import { PartitionOffsetError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { ConsumerOptions } from '../shared/consumer-config.js';
import type { FetchBuffer } from './fetch-buffer.js';
import { EARLIEST, LATEST } from './fetcher.js';
import type { FetcherLink } from './fetcher-link.js';
import type { OffsetCommitter } from './offset-committer.js';
import type { AssignedPartition, SubscriptionState } from './subscription-state.js';

export interface PositionsDeps {
  subscriptions: SubscriptionState;
  buffer: FetchBuffer;
  fetcher: FetcherLink;
  committer: OffsetCommitter;
  /** Committed offsets are looked up only with a group. */
  hasGroup: boolean;
  autoOffsetReset: ConsumerOptions['autoOffsetReset'];
  defaultApiTimeoutMs: number;
  logger: Logger;
  isCurrent: (state: AssignedPartition) => boolean;
  /** Something changed: a waiting poll() should look. */
  wake: () => void;
}

export class Positions {
  readonly #deps: PositionsDeps;
  /** Partitions whose committed offset is being looked up. */
  readonly #initializing = new Set<AssignedPartition>();

  constructor(deps: PositionsDeps) {
    this.#deps = deps;
  }

  /** Positions of partitions that have none: the committed offset, else auto.offset.reset. */
  update(): void {
    let missing: AssignedPartition[] | null = null;
    for (const state of this.#deps.subscriptions.assigned.values()) {
      if (state.position !== null || state.resetting || state.error !== null || this.#initializing.has(state)) continue;
      (missing ??= []).push(state);
    }
    if (missing === null) return;
    if (!this.#deps.hasGroup) {
      for (const state of missing) this.#resetByPolicy(state);
      return;
    }
    const asked = missing.map((state) => ({ state, epoch: state.epoch }));
    for (const state of missing) this.#initializing.add(state);
    this.#deps.committer.committed(missing, this.#deps.defaultApiTimeoutMs).then((found) => {
      found.forEach((committed, i) => {
        const { state, epoch } = asked[i]!;
        if (!this.#deps.isCurrent(state) || state.epoch !== epoch || state.position !== null) return;
        if (committed.offset >= 0) this.seekTo(state, committed.offset, committed.leaderEpoch);
        else this.#resetByPolicy(state);
      });
    }, (error: unknown) => {
      this.#deps.logger.warn({ err: error }, 'committed offsets not fetched; asking again at the next poll');
    }).finally(() => {
      for (const { state } of asked) this.#initializing.delete(state);
      this.#deps.wake();
    });
  }

  #resetByPolicy(state: AssignedPartition): void {
    const policy = this.#deps.autoOffsetReset;
    if (policy === 'none') {
      state.error = new PartitionOffsetError('ERR_NO_OFFSET_FOR_PARTITION', [state.name], `no committed offset for ${state.name} and auto.offset.reset is none`);
      return;
    }
    this.resetTo(state, policy === 'earliest' ? EARLIEST : LATEST);
  }

  /** Looks the position up (EARLIEST/LATEST) in the I/O worker; fetched data for the old one is dropped. */
  resetTo(state: AssignedPartition, timestamp: number): void {
    state.epoch++;
    state.position = null;
    state.resetting = true;
    state.error = null;
    this.#deps.buffer.drop(new Set([state]));
    this.#deps.fetcher.seek(state.index, state.epoch, timestamp);
  }

  /** Reads the partition from `offset` on; fetched data for the old position is dropped. */
  seekTo(state: AssignedPartition, offset: number, leaderEpoch: number): void {
    state.epoch++;
    state.setPosition(offset);
    state.leaderEpoch = leaderEpoch;
    this.#deps.buffer.drop(new Set([state]));
    this.#deps.fetcher.seek(state.index, state.epoch, offset);
    this.#deps.wake();
  }

  /** Throws the partitions' errors; offset errors of the same kind as one naming every partition. */
  throwErrors(): void {
    let first: Error | null = null;
    const offsetErrors = new Map<string, string[]>();
    for (const state of this.#deps.subscriptions.assigned.values()) {
      const error = state.error;
      if (error === null) continue;
      if (error instanceof PartitionOffsetError) offsetErrors.set(error.code, [...(offsetErrors.get(error.code) ?? []), ...error.partitions]);
      first ??= error;
    }
    if (first === null) return;
    if (first instanceof PartitionOffsetError) {
      const names = offsetErrors.get(first.code)!;
      throw names.length === 1 ? first : new PartitionOffsetError(first.code as 'ERR_NO_OFFSET_FOR_PARTITION', names,
        first.code === 'ERR_NO_OFFSET_FOR_PARTITION'
          ? `no committed offset for ${names.join(', ')} and auto.offset.reset is none`
          : `the positions of ${names.join(', ')} are out of range and auto.offset.reset is none`);
    }
    throw first;
  }

  /** Fetched batches: kept for poll() if they are for the partition's current position, else given back. */
  onData(index: number, epoch: number, highWatermark: number, batches: Buffer): void {
    const state = this.#deps.subscriptions.byIndex(index);
    if (state === undefined || state.epoch !== epoch) {
      this.#deps.fetcher.release(batches);
      return;
    }
    state.highWatermark = highWatermark;
    this.#deps.buffer.add(state, epoch, batches);
    this.#deps.wake();
  }

  /** A looked-up earliest/latest offset: the partition's position, if nothing moved it since. */
  onReset(index: number, epoch: number, offset: number): void {
    const state = this.#deps.subscriptions.byIndex(index);
    if (state === undefined || state.epoch !== epoch) return;
    state.setPosition(offset);
    this.#deps.wake();
  }

  /** A fetch error for the partition: thrown by every poll until a seek. */
  onError(index: number, epoch: number, error: Error): void {
    const state = this.#deps.subscriptions.byIndex(index);
    if (state === undefined || state.epoch !== epoch) return;
    state.error = error;
    for (const wake of state.positionWaiters.splice(0)) wake();
    this.#deps.wake();
  }
}
