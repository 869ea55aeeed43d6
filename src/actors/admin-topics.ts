/**
 * The Admin's topic and offset calls as Kafka requests: CreateTopics and DeleteTopics to the
 * controller, Metadata for listings and descriptions, ListOffsets to each partition's leader. Each
 * function is one attempt of its call (admin-calls.ts retries it); per-topic and per-partition
 * errors settle in an Outcomes. Main thread.
 */
import type { TopicPartition } from '../shared/assignors.js';
import { ApiKeys, ErrorCodes, ZERO_UUID } from '../shared/protocol/index.js';
import type { Attempt, Outcomes } from './admin-calls.js';
import type { NewTopic } from './admin-input.js';

/** A decoded body, indexed freely: the generic codec's shapes follow the schemas, not TS types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

export interface CreatedTopic {
  name: string;
  /** Kafka's topic id (22 characters of base64); the zero id for validateOnly. */
  topicId: string;
  numPartitions: number;
  replicationFactor: number;
}

export interface TopicListing {
  name: string;
  topicId: string;
  isInternal: boolean;
}

export interface PartitionInfo {
  partition: number;
  /** The leader's broker id; -1 while there is none. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicDescription extends TopicListing {
  partitions: PartitionInfo[];
}

export interface ListedOffset extends TopicPartition {
  /** -1 when no record has a timestamp at or after the one asked for. */
  offset: number;
  /** The record's timestamp for a by-timestamp query; -1 otherwise. */
  timestamp: number;
  leaderEpoch: number;
}

/** The controller retries these (KafkaAdminClient: NOT_CONTROLLER after a metadata refresh, quota violations). */
const TOPIC_RETRIABLE = new Set<number>([ErrorCodes.NOT_CONTROLLER, ErrorCodes.THROTTLING_QUOTA_EXCEEDED]);
/** A topic being created, or a leader moving. */
const METADATA_RETRIABLE = new Set<number>([ErrorCodes.LEADER_NOT_AVAILABLE]);
const LIST_OFFSETS_RETRIABLE = new Set<number>([
  ErrorCodes.NOT_LEADER_OR_FOLLOWER, ErrorCodes.LEADER_NOT_AVAILABLE, ErrorCodes.REPLICA_NOT_AVAILABLE, ErrorCodes.UNKNOWN_LEADER_EPOCH,
  ErrorCodes.FENCED_LEADER_EPOCH, ErrorCodes.OFFSET_NOT_AVAILABLE, ErrorCodes.REQUEST_TIMED_OUT, ErrorCodes.KAFKA_STORAGE_ERROR,
]);

interface MetadataAnswer {
  controllerId: number;
  brokers: { nodeId: number; host: string; port: number }[];
  topics: Body[];
}

/** Metadata for `topics` (null: every topic; []: none), never creating one. */
export async function metadata(attempt: Attempt, topics: readonly string[] | null): Promise<MetadataAnswer> {
  const { response } = await attempt.send(null, ApiKeys.METADATA, (version) => ({
    // Every topic: null from v1, an empty list in v0 (where [] cannot mean none).
    topics: topics === null ? (version === 0 ? [] : null) : topics.map((name) => ({ name, topicId: ZERO_UUID })),
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  }));
  return { controllerId: response.controllerId, brokers: response.brokers, topics: response.topics };
}

/** The controller's node id, or null (any broker) when metadata names none. */
async function controller(attempt: Attempt): Promise<number | null> {
  const answer = await metadata(attempt, []);
  return answer.brokers.some((b) => b.nodeId === answer.controllerId) ? answer.controllerId : null;
}

export async function createTopics(attempt: Attempt, outcomes: Outcomes<CreatedTopic>, topics: ReadonlyMap<string, NewTopic>, validateOnly: boolean): Promise<void> {
  const pending = outcomes.startAttempt().map((name) => topics.get(name)!);
  const { response } = await attempt.send(await controller(attempt), ApiKeys.CREATE_TOPICS, () => ({
    topics: pending.map((t) => ({
      name: t.name,
      numPartitions: t.numPartitions ?? -1,
      replicationFactor: t.replicationFactor ?? -1,
      assignments: [],
      configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
    timeoutMs: attempt.remainingMs,
    validateOnly,
  }));
  for (const t of response.topics as Body[]) {
    if (t.errorCode !== ErrorCodes.NONE) {
      outcomes.settleError(t.name, 'topic', t.errorCode, t.errorMessage, TOPIC_RETRIABLE);
      continue;
    }
    const asked = topics.get(t.name);
    // Before v5 the answer has no counts: what was asked is what was made.
    outcomes.succeed(t.name, {
      name: t.name,
      topicId: t.topicId ?? ZERO_UUID,
      numPartitions: t.numPartitions >= 0 ? t.numPartitions : (asked?.numPartitions ?? -1),
      replicationFactor: t.replicationFactor >= 0 ? t.replicationFactor : (asked?.replicationFactor ?? -1),
    });
  }
  outcomes.endAttempt('topic');
}

export async function deleteTopics(attempt: Attempt, outcomes: Outcomes<string>): Promise<void> {
  const pending = outcomes.startAttempt();
  const { response } = await attempt.send(await controller(attempt), ApiKeys.DELETE_TOPICS, (version) => ({
    // v6 names topics (or ids) in Topics, before in TopicNames.
    topics: version >= 6 ? pending.map((name) => ({ name, topicId: ZERO_UUID })) : undefined,
    topicNames: version < 6 ? pending : undefined,
    timeoutMs: attempt.remainingMs,
  }));
  for (const t of response.responses as Body[]) {
    if (t.errorCode === ErrorCodes.NONE) outcomes.succeed(t.name, t.name);
    else outcomes.settleError(t.name, 'topic', t.errorCode, t.errorMessage, TOPIC_RETRIABLE);
  }
  outcomes.endAttempt('topic');
}

export async function listTopics(attempt: Attempt, listInternal: boolean): Promise<TopicListing[]> {
  const { topics } = await metadata(attempt, null);
  return topics
    .filter((t) => t.errorCode === ErrorCodes.NONE && t.name !== null && (listInternal || t.isInternal !== true))
    .map((t) => ({ name: t.name as string, topicId: t.topicId ?? ZERO_UUID, isInternal: t.isInternal === true }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function describeTopics(attempt: Attempt, outcomes: Outcomes<TopicDescription>): Promise<void> {
  const { topics } = await metadata(attempt, outcomes.startAttempt());
  for (const t of topics) {
    if (t.errorCode !== ErrorCodes.NONE) {
      outcomes.settleError(t.name, 'topic', t.errorCode, null, METADATA_RETRIABLE);
      continue;
    }
    outcomes.succeed(t.name, {
      name: t.name,
      topicId: t.topicId ?? ZERO_UUID,
      isInternal: t.isInternal === true,
      partitions: (t.partitions as Body[])
        .map((p) => ({
          partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes, isr: p.isrNodes, offlineReplicas: p.offlineReplicas ?? [],
        }))
        .sort((a, b) => a.partition - b.partition),
    });
  }
  outcomes.endAttempt('topic');
}

/** ListOffsets to each leader, the partitions found by Metadata first (Kafka's ListOffsetsHandler). */
export async function listOffsets(attempt: Attempt, outcomes: Outcomes<ListedOffset>, queries: ReadonlyMap<string, TopicPartition & { timestamp: number }>): Promise<void> {
  const pending = outcomes.startAttempt().map((key) => ({ key, ...queries.get(key)! }));
  const { topics } = await metadata(attempt, [...new Set(pending.map((q) => q.topic))]);
  const byName = new Map(topics.map((t) => [t.name as string, t]));
  const byLeader = new Map<number, typeof pending>();
  for (const q of pending) {
    const topic = byName.get(q.topic);
    const partition = (topic?.partitions as Body[] | undefined)?.find((p) => p.partitionIndex === q.partition);
    if (topic === undefined || topic.errorCode !== ErrorCodes.NONE) {
      outcomes.settleError(q.key, 'partition', topic?.errorCode ?? ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, null, METADATA_RETRIABLE);
    } else if (partition === undefined) {
      outcomes.settleError(q.key, 'partition', ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, `topic '${q.topic}' has ${(topic.partitions as Body[]).length} partitions`, METADATA_RETRIABLE);
    } else if (partition.leaderId < 0) {
      outcomes.settleError(q.key, 'partition', ErrorCodes.LEADER_NOT_AVAILABLE, null, METADATA_RETRIABLE);
    } else {
      byLeader.set(partition.leaderId, [...(byLeader.get(partition.leaderId) ?? []), q]);
    }
  }
  const sent = await Promise.allSettled([...byLeader].map(async ([leader, asked]) => {
    const topicNames = [...new Set(asked.map((q) => q.topic))];
    const { version, response } = await attempt.send(leader, ApiKeys.LIST_OFFSETS, () => ({
      replicaId: -1,
      isolationLevel: 0,
      topics: topicNames.map((name) => ({
        name,
        partitions: asked.filter((q) => q.topic === name).map((q) => ({ partitionIndex: q.partition, currentLeaderEpoch: -1, timestamp: q.timestamp, maxNumOffsets: 1 })),
      })),
      timeoutMs: attempt.remainingMs,
    }));
    for (const t of response.topics as Body[]) {
      for (const p of t.partitions as Body[]) {
        const key = `${t.name}-${p.partitionIndex}`;
        if (p.errorCode !== ErrorCodes.NONE) {
          outcomes.settleError(key, 'partition', p.errorCode, null, LIST_OFFSETS_RETRIABLE);
          continue;
        }
        // v0 answers a list of offsets instead of one.
        const offset = version === 0 ? Number((p.oldStyleOffsets as bigint[])[0] ?? -1n) : Number(p.offset);
        outcomes.succeed(key, { topic: t.name, partition: p.partitionIndex, offset, timestamp: Number(p.timestamp), leaderEpoch: p.leaderEpoch });
      }
    }
  }));
  // Every leader's answer is in before a failure sends the call round again.
  const failed = sent.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  outcomes.endAttempt('partition');
}
