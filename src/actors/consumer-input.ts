/**
 * The consumer's checks of its callers' input — topic names, partitions, offsets, timeouts — each
 * failing with an error that says what was wrong, and the subscription as the group sees it.
 */
import type { TopicPartition } from '../shared/assignors.js';
import type { SubscriptionSpec } from './consumer-protocol.js';
import type { TopicPartitionOffset } from './offset-committer.js';
import type { Subscription } from './subscription-state.js';

/** The subscription as the heartbeat worker takes it (a RegExp does not cross threads). */
export function specOf(subscription: Subscription): SubscriptionSpec {
  return 'topics' in subscription ? { topics: [...subscription.topics] } : { pattern: { source: subscription.pattern.source, flags: subscription.pattern.flags } };
}

/** A key that differs exactly when the subscriptions differ. */
export function describeSubscription(subscription: Subscription): string {
  return 'topics' in subscription ? `topics:${[...subscription.topics].sort().join(',')}` : `pattern:${String(subscription.pattern)}`;
}

export function checkTimeout(timeoutMs: unknown, what: string): void {
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || timeoutMs === Infinity) {
    throw new RangeError(`${what}: timeoutMs must be a non-negative finite number of ms, got ${String(timeoutMs)}`);
  }
}

export function checkTopics(topics: readonly unknown[], what: string): string[] {
  if (!Array.isArray(topics)) throw new RangeError(`${what}: topics must be an array of names or a RegExp`);
  for (const topic of topics) {
    if (typeof topic !== 'string' || topic.trim() === '') {
      throw new RangeError(`${what}: a topic name must be a non-empty, non-blank string, got ${JSON.stringify(topic) ?? String(topic)}`);
    }
  }
  return [...new Set(topics as string[])];
}

export function checkPartitions(partitions: readonly TopicPartition[], what: string): TopicPartition[] {
  if (!Array.isArray(partitions)) throw new RangeError(`${what}: expected an array of { topic, partition }`);
  return partitions.map((tp) => {
    checkTopics([tp?.topic], what);
    if (!Number.isSafeInteger(tp.partition) || tp.partition < 0) throw new RangeError(`${what}: partition must be a non-negative integer, got ${String(tp.partition)} for topic ${tp.topic}`);
    return { topic: tp.topic, partition: tp.partition };
  });
}

export function checkOffsets(offsets: readonly TopicPartitionOffset[]): TopicPartitionOffset[] {
  checkPartitions(offsets, 'commit');
  return offsets.map((o) => {
    if (!Number.isSafeInteger(o.offset) || o.offset < 0) throw new RangeError(`commit: offset must be a non-negative integer, got ${String(o.offset)} for ${o.topic}-${o.partition}`);
    return { topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata ?? '', leaderEpoch: o.leaderEpoch ?? -1 };
  });
}
