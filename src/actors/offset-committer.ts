/**
 * OffsetCommitter: a consumer's commits and committed-offset lookups, sent through its heartbeat
 * worker (which owns the coordinator connection), with Kafka's rules:
 *
 * - commitSync retries retriable errors (coordinator moving or loading, timeouts) with backoff
 *   until its timeout, then fails with a TimeoutError; a commit the group refuses for good
 *   (the member left, the generation is gone, a rebalance is under way) is a CommitFailedError.
 * - commitAsync never retries (a retry could land after a later commit) and calls its callbacks
 *   in the order the commits were made.
 * - onCommit interceptors see every successful commit; one that throws is logged and skipped.
 *
 * Main thread only.
 */
import { exponentialBackoffMs } from '../shared/backoff.js';
import type { TopicPartition } from '../shared/assignors.js';
import { CommitFailedError, InvalidGroupIdError, KafkaApiError, RinglogError, TimeoutError, WorkerExitedError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { ErrorCodes, kafkaError } from '../shared/protocol/index.js';
import type { CommittedOffset, OffsetToCommit } from './consumer-protocol.js';
import type { HeartbeatLink } from './heartbeat-link.js';

export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
  metadata?: string;
  leaderEpoch?: number;
}

export type CommitCallback = (error: Error | null, offsets: readonly TopicPartitionOffset[]) => void;

/** The group identity a commit carries: the member's generation, or -1/'' outside group management. */
export interface CommitIdentity {
  generationId: number;
  memberId: string;
}

export interface OffsetCommitterOptions {
  groupId: string | null;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  onCommit: (offsets: readonly TopicPartitionOffset[]) => void;
  logger: Logger;
}

const RETRIABLE = new Set<number>([
  ErrorCodes.COORDINATOR_LOAD_IN_PROGRESS, ErrorCodes.COORDINATOR_NOT_AVAILABLE, ErrorCodes.NOT_COORDINATOR,
  ErrorCodes.REQUEST_TIMED_OUT, ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
]);
const REFUSED = new Set<number>([
  ErrorCodes.UNKNOWN_MEMBER_ID, ErrorCodes.ILLEGAL_GENERATION, ErrorCodes.REBALANCE_IN_PROGRESS, ErrorCodes.FENCED_INSTANCE_ID,
]);

export class OffsetCommitter {
  readonly #link: HeartbeatLink | null;
  readonly #options: OffsetCommitterOptions;
  /** commitAsync callbacks, chained so that they run in commit order. */
  #callbacks: Promise<void> = Promise.resolve();
  #pendingAsync = 0;

  constructor(link: HeartbeatLink | null, options: OffsetCommitterOptions) {
    this.#link = link;
    this.#options = options;
  }

  /** Commits until it succeeds, fails for good, or timeoutMs passes (then a TimeoutError). */
  async commitSync(offsets: readonly TopicPartitionOffset[], identity: CommitIdentity, timeoutMs: number): Promise<void> {
    const link = this.#require();
    const deadline = Date.now() + timeoutMs;
    let attempts = 0;
    let last: Error | null = null;
    if (offsets.length > 0) {
      for (;;) {
        const remainingMs = deadline - Date.now();
        if (remainingMs <= 0) {
          throw new TimeoutError('ERR_COMMIT_TIMEOUT', `offsets of ${describe(offsets)} not committed${last === null ? '' : ` (last: ${last.message})`}`, timeoutMs);
        }
        try {
          await this.#commitOnce(link, offsets, identity, remainingMs);
          break;
        } catch (error) {
          // A dead heartbeat worker does not come back: retrying would only wait out the timeout.
          if (!(error instanceof RinglogError && error.retriable) || error instanceof WorkerExitedError) throw error;
          last = error;
          this.#options.logger.info({ err: error, attempt: attempts + 1 }, 'offset commit failed; retrying');
        }
        await sleep(Math.min(this.#backoffMs(++attempts), Math.max(0, deadline - Date.now())));
      }
    }
    // Kafka's commitSync also completes the async commits made before it.
    await this.#callbacks;
  }

  /** Commits once, in the background; `callback` runs after those of earlier commitAsync calls. */
  commitAsync(offsets: readonly TopicPartitionOffset[], identity: CommitIdentity, timeoutMs: number, callback?: CommitCallback): void {
    let sent: Promise<void>;
    try {
      const link = this.#require();
      sent = offsets.length === 0 ? Promise.resolve() : this.#commitOnce(link, offsets, identity, timeoutMs);
    } catch (error) {
      sent = Promise.reject(error);
    }
    this.#pendingAsync++;
    this.#callbacks = this.#callbacks.then(() => sent.then(() => null, (error: Error) => error)).then((error) => {
      this.#pendingAsync--;
      if (callback === undefined) {
        if (error !== null) this.#options.logger.warn({ err: error }, 'an asynchronous offset commit failed');
        return;
      }
      try {
        callback(error, offsets);
      } catch (callbackError) {
        this.#options.logger.error({ err: callbackError }, 'a commitAsync callback threw');
      }
    });
  }

  /** Waits for the callbacks of every commitAsync so far, at most timeoutMs. */
  async flushAsync(timeoutMs: number): Promise<void> {
    if (this.#pendingAsync === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#callbacks, new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); })]);
    clearTimeout(timer);
  }

  /** The group's committed offsets of `partitions`, retrying retriable errors until timeoutMs. */
  async committed(partitions: readonly TopicPartition[], timeoutMs: number): Promise<CommittedOffset[]> {
    const link = this.#require();
    const deadline = Date.now() + timeoutMs;
    let attempts = 0;
    for (;;) {
      try {
        return await link.committed([...partitions], Math.max(1, deadline - Date.now()));
      } catch (error) {
        if (!(error instanceof RinglogError && error.retriable) || error instanceof WorkerExitedError) throw error;
        if (Date.now() >= deadline) {
          throw new TimeoutError('ERR_COMMITTED_TIMEOUT', `committed offsets of ${describe(partitions)} not fetched (last: ${error.message})`, timeoutMs);
        }
      }
      await sleep(Math.min(this.#backoffMs(++attempts), Math.max(0, deadline - Date.now())));
    }
  }

  async #commitOnce(link: HeartbeatLink, offsets: readonly TopicPartitionOffset[], identity: CommitIdentity, timeoutMs: number): Promise<void> {
    const toCommit: OffsetToCommit[] = offsets.map((o) => ({
      topic: o.topic, partition: o.partition, offset: o.offset, leaderEpoch: o.leaderEpoch ?? -1, metadata: o.metadata ?? '',
    }));
    const codes = await link.commit(toCommit, identity.generationId, identity.memberId, timeoutMs);
    const failed = codes.map((code, i) => ({ code, offset: offsets[i]! })).filter((c) => c.code !== ErrorCodes.NONE);
    if (failed.length === 0) {
      this.#options.onCommit(offsets);
      return;
    }
    const { code } = failed.find((f) => !RETRIABLE.has(f.code)) ?? failed[0]!;
    const error = kafkaError(code);
    const which = describe(failed.map((f) => f.offset));
    if (REFUSED.has(code)) {
      throw new CommitFailedError(`the group refused the commit of ${which}: ${error.errorName}. The group has rebalanced or this member left it ` +
        '(poll() not called within max.poll.interval.ms?); poll again to rejoin', { cause: error });
    }
    if (RETRIABLE.has(code)) throw new KafkaApiError(code, error.errorName, `committing ${which}`, true);
    throw error;
  }

  #require(): HeartbeatLink {
    if (this.#link === null) throw new InvalidGroupIdError('committing offsets needs a group.id');
    return this.#link;
  }

  #backoffMs(attempts: number): number {
    return exponentialBackoffMs(attempts, this.#options.retryBackoffMs, this.#options.retryBackoffMaxMs);
  }
}

function describe(partitions: readonly TopicPartition[]): string {
  const names = partitions.slice(0, 5).map((p) => `${p.topic}-${p.partition}`);
  return partitions.length > 5 ? `${names.join(', ')} and ${partitions.length - 5} more` : names.join(', ');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
