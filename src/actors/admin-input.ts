/**
 * The Admin's checks of its callers' arguments, made before anything is sent: each failure is an
 * InvalidArgumentError naming the argument (InvalidGroupIdError for a blank group id). Topic names
 * are only checked for being there: what Kafka allows in one is the broker's to say
 * (INVALID_TOPIC_EXCEPTION), as with Kafka's own admin client.
 */
import type { TopicPartition } from '../shared/assignors.js';
import { InvalidArgumentError, InvalidGroupIdError } from '../shared/errors.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from './replica-manager.js';

const INT32_MAX = 2_147_483_647;
const INT16_MAX = 32_767;

export interface NewTopic {
  name: string;
  /** Default: the broker's num.partitions. */
  numPartitions?: number;
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Topic configs by Kafka name ('retention.ms': '3600000'). */
  configs?: Readonly<Record<string, string | null>>;
}

/** Where listOffsets looks: the log start, the log end, or the first record at or after a time. */
export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number };

export interface OffsetQuery extends TopicPartition {
  /** Default: 'latest'. */
  spec?: OffsetSpec;
}


export function checkTimeout(timeoutMs: unknown, defaultMs: number): number {
  if (timeoutMs === undefined) return defaultMs;
  if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 0) {
    throw new InvalidArgumentError('timeoutMs', `must be a non-negative integer number of ms, got ${String(timeoutMs)}`);
  }
  return timeoutMs;
}

function checkList(value: unknown, argument: string): unknown[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(argument, `must be an array, got ${typeof value}`);
  if (value.length === 0) throw new InvalidArgumentError(argument, 'must not be empty');
  return value;
}

function checkName(value: unknown, argument: string): string {
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(argument, `must be a non-empty string, got ${JSON.stringify(value) ?? String(value)}`);
  return value;
}

/** Topic names, duplicates dropped. */
export function checkTopicNames(names: unknown, argument = 'topics'): string[] {
  return [...new Set(checkList(names, argument).map((name, i) => checkName(name, `${argument}[${i}]`)))];
}

export function checkNewTopics(topics: unknown): NewTopic[] {
  const seen = new Set<string>();
  return checkList(topics, 'topics').map((topic, i) => {
    const at = `topics[${i}]`;
    if (typeof topic !== 'object' || topic === null) throw new InvalidArgumentError(at, 'must be { name, numPartitions?, replicationFactor?, configs? }');
    const { name, numPartitions, replicationFactor, configs } = topic as NewTopic;
    checkName(name, `${at}.name`);
    if (seen.has(name)) throw new InvalidArgumentError(`${at}.name`, `'${name}' is named twice`);
    seen.add(name);
    if (numPartitions !== undefined && (!Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > INT32_MAX)) {
      throw new InvalidArgumentError(`${at}.numPartitions`, `must be a positive integer (or left out for the broker's default), got ${String(numPartitions)}`);
    }
    if (replicationFactor !== undefined && (!Number.isInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > INT16_MAX)) {
      throw new InvalidArgumentError(`${at}.replicationFactor`, `must be a positive integer up to ${INT16_MAX} (or left out for the broker's default), got ${String(replicationFactor)}`);
    }
    if (configs !== undefined) {
      if (typeof configs !== 'object' || configs === null || Array.isArray(configs)) throw new InvalidArgumentError(`${at}.configs`, 'must be an object of Kafka topic config names to string values');
      for (const [key, value] of Object.entries(configs)) {
        if (value !== null && typeof value !== 'string') throw new InvalidArgumentError(`${at}.configs['${key}']`, `must be a string, got ${typeof value}`);
      }
    }
    return { name, numPartitions, replicationFactor, configs };
  });
}

export function checkPartitions(partitions: unknown, argument: string): TopicPartition[] {
  return checkList(partitions, argument).map((tp, i) => {
    const at = `${argument}[${i}]`;
    if (typeof tp !== 'object' || tp === null) throw new InvalidArgumentError(at, 'must be { topic, partition }');
    const { topic, partition } = tp as TopicPartition;
    checkName(topic, `${at}.topic`);
    if (!Number.isInteger(partition) || partition < 0 || partition > INT32_MAX) throw new InvalidArgumentError(`${at}.partition`, `must be a non-negative integer, got ${String(partition)}`);
    return { topic, partition };
  });
}

/** Queries with their ListOffsets timestamp; a partition named twice is refused. */
export function checkOffsetQueries(queries: unknown): (TopicPartition & { timestamp: number })[] {
  const partitions = checkPartitions(queries, 'partitions');
  const seen = new Set<string>();
  return partitions.map((tp, i) => {
    const key = `${tp.topic}-${tp.partition}`;
    if (seen.has(key)) throw new InvalidArgumentError(`partitions[${i}]`, `${key} is named twice`);
    seen.add(key);
    const spec = (queries as OffsetQuery[])[i]!.spec ?? 'latest';
    if (spec === 'earliest') return { ...tp, timestamp: EARLIEST_TIMESTAMP };
    if (spec === 'latest') return { ...tp, timestamp: LATEST_TIMESTAMP };
    const timestamp = typeof spec === 'object' && spec !== null ? spec.timestamp : undefined;
    if (!Number.isSafeInteger(timestamp) || timestamp! < 0) {
      throw new InvalidArgumentError(`partitions[${i}].spec`, `must be 'earliest', 'latest' or { timestamp } with a non-negative integer of ms, got ${JSON.stringify(spec) ?? String(spec)}`);
    }
    return { ...tp, timestamp: timestamp! };
  });
}

/** Group ids, duplicates dropped. */
export function checkGroupIds(groupIds: unknown): string[] {
  return [...new Set(checkList(groupIds, 'groupIds').map((id, i) => checkGroupId(id, `groupIds[${i}]`)))];
}

export function checkGroupId(groupId: unknown, argument = 'groupId'): string {
  if (typeof groupId !== 'string' || groupId.trim() === '') throw new InvalidGroupIdError(`${argument}: a group id must be a non-empty, non-blank string, got ${JSON.stringify(groupId) ?? String(groupId)}`);
  return groupId;
}
