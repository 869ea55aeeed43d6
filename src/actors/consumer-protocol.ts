/**
 * What crosses between a Consumer (main thread) and its two workers: start-up data, the comlink
 * APIs and the group events. Fetched batches travel over a ring channel (ConsumerFrame in
 * layout.ts); the time of the last poll() and the fetch.max.bytes credit sit in the consumer's
 * shared state (ConsumerSlot in layout.ts). Also Kafka's ConsumerProtocol: the subscription and
 * assignment bytes a "consumer" group's members exchange through JoinGroup and SyncGroup, which
 * DescribeGroups shows the Admin.
 */
import type { MessagePort } from 'node:worker_threads';
import type { TopicPartition } from '../shared/assignors.js';
import type { ChannelHandle } from '../shared/channel.js';
import { DataMessages, decodeData, encodeData } from '../shared/protocol/index.js';
import type { FetchedPartition, FetcherOptions } from './fetcher.js';
import type { SocketOptions } from './broker-clients.js';
import type { MembershipOptions } from './membership.js';

interface WorkerPorts {
  /** bootstrap.servers: when not empty, the worker opens TCP connections itself instead. */
  bootstrapServers: string[];
  /** The main thread's Connector (sender-protocol.ts), for embedded connections to brokers. */
  connector: MessagePort;
  control: MessagePort;
  log: MessagePort;
  logLevel: string;
}

export interface FetcherWorkerData extends WorkerPorts {
  options: FetcherOptions;
  clientId: string;
  /** fetcher -> main: DATA, RESET and ERROR frames. */
  fetched: ChannelHandle;
  /** The consumer's shared state (ConsumerSlot). */
  state: SharedArrayBuffer;
}

/** Exposed by the consumer I/O worker. Calls are one-way in effect; their order is kept. */
export interface FetcherControl {
  /** The partitions to fetch (by the main thread's index), replacing the previous set. */
  setPartitions(partitions: FetchedPartition[]): void;
  /** Fetch partition `index` from `offset` (EARLIEST -2 / LATEST -1: look it up), frames tagged `epoch`. */
  seek(index: number, epoch: number, offset: number): void;
  pause(indices: number[], paused: boolean): void;
  close(): void;
}

export interface HeartbeatWorkerData extends WorkerPorts {
  options: MembershipOptions & SocketOptions;
  /** Date.now() when the consumer started: POLL_CLOCK_MS counts from here. */
  clockBaseMs: number;
  /** The consumer's shared state (ConsumerSlot): the heartbeat worker reads POLL_CLOCK_MS. */
  state: SharedArrayBuffer;
  /** heartbeat -> main: GroupEvent messages. */
  events: MessagePort;
}

/** A subscription as the group sees it: topic names, or a pattern the worker resolves with metadata. */
export type SubscriptionSpec = { topics: string[] } | { pattern: { source: string; flags: string } };

export interface JoinOutcome {
  generationId: number;
  memberId: string;
  /** The assignor the group chose. */
  protocol: string;
  assigned: TopicPartition[];
  /** The topics subscribed to (a pattern resolved). */
  topics: string[];
}

/** Sent by the heartbeat worker, handled by the main thread inside poll(). */
export type GroupEvent =
  /** The group is rebalancing (or the subscription's topics changed): join again at the next poll. */
  | { type: 'rejoin-needed'; reason: string }
  /** The member is out of the group (session expired, fenced, max.poll.interval.ms passed). */
  | { type: 'lost'; reason: string };

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** -1 when the group committed nothing for the partition. */
  offset: number;
  leaderEpoch: number;
  metadata: string;
}

/** Exposed by the heartbeat worker. */
export interface HeartbeatControl {
  /** JoinGroup and SyncGroup until the member has its assignment (or a fatal error). */
  join(subscription: SubscriptionSpec, owned: TopicPartition[]): Promise<JoinOutcome>;
  /** OffsetCommit once; Kafka's error code per offset, in order. Member -1/'' outside group management. */
  commit(offsets: OffsetToCommit[], generationId: number, memberId: string): Promise<number[]>;
  /** OffsetFetch once. */
  committed(partitions: TopicPartition[]): Promise<CommittedOffset[]>;
  /** LeaveGroup now (a join under way ends); heartbeats stop. */
  leave(reason: string): Promise<void>;
  close(): void;
}

// ---- Kafka's ConsumerProtocol ----

const SUBSCRIPTION_VERSION = 3;
const ASSIGNMENT_VERSION = 0;

/** A member's subscription as its JoinGroup protocol metadata carries it. */
export interface MemberProtocolSubscription {
  topics: string[];
  ownedPartitions: TopicPartition[];
  /** -1 when the version has none. */
  generationId: number;
}

export function encodeSubscription(subscription: MemberProtocolSubscription): Uint8Array {
  return encodeData(DataMessages.CONSUMER_PROTOCOL_SUBSCRIPTION, SUBSCRIPTION_VERSION, {
    topics: subscription.topics, userData: null, ownedPartitions: groupByTopic(subscription.ownedPartitions), generationId: subscription.generationId, rackId: null,
  });
}

export function decodeSubscription(bytes: Uint8Array): MemberProtocolSubscription {
  const { body } = decodeData(DataMessages.CONSUMER_PROTOCOL_SUBSCRIPTION, bytes);
  return { topics: body.topics as string[], ownedPartitions: ungroup((body.ownedPartitions ?? []) as TopicPartitions[]), generationId: (body.generationId ?? -1) as number };
}

export function encodeAssignment(partitions: readonly TopicPartition[]): Uint8Array {
  return encodeData(DataMessages.CONSUMER_PROTOCOL_ASSIGNMENT, ASSIGNMENT_VERSION, { assignedPartitions: groupByTopic(partitions), userData: null });
}

/** The partitions a SyncGroup (or DescribeGroups) assignment names; none for empty bytes. */
export function decodeAssignment(bytes: Uint8Array): TopicPartition[] {
  return bytes.length === 0 ? [] : ungroup(decodeData(DataMessages.CONSUMER_PROTOCOL_ASSIGNMENT, bytes).body.assignedPartitions as TopicPartitions[]);
}

/** The consumer protocol's per-topic partition lists. */
interface TopicPartitions {
  topic: string;
  partitions: number[];
}

function groupByTopic(partitions: readonly TopicPartition[]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic].map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
}

function ungroup(topics: readonly TopicPartitions[]): TopicPartition[] {
  return topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
}
