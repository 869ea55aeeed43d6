/**
 * Admin: Kafka's Admin client (org.apache.kafka.clients.admin.Admin) with promises. Topics
 * (create, delete, list, describe), offsets (earliest, latest, by timestamp) and consumer groups
 * (list, describe with decoded assignments, committed offsets), each a real Kafka request through
 * the protocol codec and a KafkaClient per broker: embedded connections to a Cluster's brokers, or
 * TCP to any Kafka cluster with bootstrap.servers. Every call is bounded (timeoutMs, or
 * default.api.timeout.ms; each request request.timeout.ms) and retries what Kafka retries. Bad
 * arguments fail before anything is sent (InvalidArgumentError); a broker's per-topic or per-group
 * error is a ResourceError naming the resource and Kafka's error name. The Admin is low-rate: it
 * lives on the calling thread, no worker of its own. Not for use after close().
 */
import type { TopicPartition } from '../shared/assignors.js';
import { resolveAdminOptions, type AdminOptions } from '../shared/admin-config.js';
import { parseHostPorts } from '../shared/listeners.js';
import type { Logger } from '../shared/logger.js';
import { AdminCalls, Outcomes } from './admin-calls.js';
import {
  describeConsumerGroups, listConsumerGroupOffsets, listConsumerGroups,
  type ConsumerGroupDescription, type ConsumerGroupListing, type GroupOffset,
} from './admin-groups.js';
import { checkGroupId, checkGroupIds, checkNewTopics, checkOffsetQueries, checkPartitions, checkTimeout, checkTopicNames, type NewTopic, type OffsetQuery } from './admin-input.js';
import {
  createTopics, deleteTopics, describeTopics, listOffsets, listTopics,
  type CreatedTopic, type ListedOffset, type TopicDescription, type TopicListing,
} from './admin-topics.js';
import { BrokerClients, connectThrough, type Connect } from './broker-clients.js';
import type { ConnectionHandles } from './embedded-connection.js';
import { TcpConnector } from './tcp-connector.js';

/** Where an Admin without bootstrap.servers opens its connections: a Cluster. */
export interface AdminTarget {
  openConnection(nodeId: number | null): Promise<{ nodeId: number; handles: ConnectionHandles }>;
  readonly logger: Logger;
}

/** Kafka's admin options (dotted or camelCase) and a logger. */
export type AdminConfig = { logger?: Logger } & Readonly<Record<string, unknown>>;

export interface AdminCallOptions {
  /** How long the call may take, retries included (default: default.api.timeout.ms). */
  timeoutMs?: number;
}

export interface CreateTopicsOptions extends AdminCallOptions {
  /** Check that the topics could be created, create nothing. */
  validateOnly?: boolean;
}

export interface ListTopicsOptions extends AdminCallOptions {
  /** Include internal topics (__consumer_offsets). */
  listInternal?: boolean;
}

let adminCount = 0;

export class Admin {
  readonly options: AdminOptions;
  readonly #calls: AdminCalls;
  readonly #logger: Logger;

  private constructor(options: AdminOptions, connect: Connect, logger: Logger) {
    this.options = options;
    this.#logger = logger;
    this.#calls = new AdminCalls(new BrokerClients(connect), options);
  }

  /**
   * An Admin on `target` (a Cluster's embedded connections), or over TCP when the config names
   * bootstrap.servers. Connections open on first use.
   */
  static async start(target: AdminTarget, config: AdminConfig = {}): Promise<Admin> {
    const { logger: given, ...kafkaConfig } = config;
    const base = given ?? target.logger;
    const options = resolveAdminOptions(kafkaConfig, base);
    const clientId = options.clientId === '' ? `admin-${++adminCount}` : options.clientId;
    const logger = base.child({ actor: 'admin', clientId });
    const connect = options.bootstrapServers.length === 0
      ? connectThrough({ connect: (nodeId) => target.openConnection(nodeId) }, clientId, options.requestTimeoutMs)
      : new TcpConnector(parseHostPorts(options.bootstrapServers), {
        clientId, requestTimeoutMs: options.requestTimeoutMs, reconnectBackoffMs: options.reconnectBackoffMs,
        reconnectBackoffMaxMs: options.reconnectBackoffMaxMs, connectTimeoutMs: options.socketConnectionSetupTimeoutMs, logger,
      }).connect;
    return new Admin(options, connect, logger);
  }

  // ---- topics ----

  /**
   * Creates topics (CreateTopics to the controller). Resolves with each topic as created, in the
   * order given; rejects with a ResourceError for the first topic refused (TOPIC_ALREADY_EXISTS,
   * INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, ...), whose `failures` lists every refusal. The
   * others are created all the same, as in Kafka.
   */
  async createTopics(topics: readonly NewTopic[], options: CreateTopicsOptions = {}): Promise<CreatedTopic[]> {
    const wanted = new Map(checkNewTopics(topics).map((t) => [t.name, t]));
    const timeoutMs = checkTimeout(options.timeoutMs, this.options.defaultApiTimeoutMs);
    const outcomes = new Outcomes<CreatedTopic>([...wanted.keys()]);
    await this.#calls.run('createTopics', timeoutMs, (a) => createTopics(a, outcomes, wanted, options.validateOnly === true));
    const created = outcomes.results();
    this.#logger.info({ topics: created.map((t) => t.name), validateOnly: options.validateOnly === true }, 'topics created');
    return created;
  }

  /** Deletes topics (DeleteTopics to the controller); an unknown one is UNKNOWN_TOPIC_OR_PARTITION. */
  async deleteTopics(names: readonly string[], options: AdminCallOptions = {}): Promise<void> {
    const topics = checkTopicNames(names);
    const timeoutMs = checkTimeout(options.timeoutMs, this.options.defaultApiTimeoutMs);
    const outcomes = new Outcomes<string>(topics);
    await this.#calls.run('deleteTopics', timeoutMs, (a) => deleteTopics(a, outcomes));
    outcomes.results();
    this.#logger.info({ topics }, 'topics deleted');
  }

  /** The cluster's topics, sorted by name; internal ones only with listInternal. */
  async listTopics(options: ListTopicsOptions = {}): Promise<TopicListing[]> {
    const timeoutMs = checkTimeout(options.timeoutMs, this.options.defaultApiTimeoutMs);
    return this.#calls.run('listTopics', timeoutMs, (a) => listTopics(a, options.listInternal === true));
  }

  /** Each topic's id, internal flag and partitions with their leaders, replicas and ISR, in the order given. */
  async describeTopics(names: readonly string[], options: AdminCallOptions = {}): Promise<TopicDescription[]> {
    const outcomes = new Outcomes<TopicDescription>(checkTopicNames(names));
    await this.#calls.run('describeTopics', checkTimeout(options.timeoutMs, this.options.defaultApiTimeoutMs), (a) => describeTopics(a, outcomes));
    return outcomes.results();
  }

  /**
   * Offsets of partitions (ListOffsets to each leader): `spec` 'earliest' (the log start), 'latest'
   * (the default: the offset the next record gets) or { timestamp } (the first record at or after
   * it; offset -1 when there is none). In the order given.
   */
  async listOffsets(partitions: readonly OffsetQuery[], options: AdminCallOptions = {}): Promise<ListedOffset[]> {
    const queries = new Map(checkOffsetQueries(partitions).map((q) => [`${q.topic}-${q.partition}`, q]));
    const outcomes = new Outcomes<ListedOffset>([...queries.keys()]);
    await this.#calls.run('listOffsets', checkTimeout(options.timeoutMs, this.options.defaultApiTimeoutMs), (a) => listOffsets(a, outcomes, queries));
    return outcomes.results();
  }

  // ---- consumer groups ----

  /** Every consumer group on every broker (ListGroups), sorted by id. */
  async listConsumerGroups(options: AdminCallOptions = {}): Promise<ConsumerGroupListing[]> {
    return this.#calls.run('listConsumerGroups', checkTimeout(options.timeoutMs, this.options.defaultApiTimeoutMs), (a) => listConsumerGroups(a));
  }

  /**
   * Each group's state, chosen assignor and members with their assignments (DescribeGroups to its
   * coordinator), in the order given. A group that does not exist is described as state 'Dead'.
   */
  async describeConsumerGroups(groupIds: readonly string[], options: AdminCallOptions = {}): Promise<ConsumerGroupDescription[]> {
    const outcomes = new Outcomes<ConsumerGroupDescription>(checkGroupIds(groupIds));
    await this.#calls.run('describeConsumerGroups', checkTimeout(options.timeoutMs, this.options.defaultApiTimeoutMs), (a) => describeConsumerGroups(a, outcomes));
    return outcomes.results();
  }

  /**
   * The group's committed offsets (OffsetFetch to its coordinator): of `partitions` in that order,
   * or of every partition it committed, sorted. A partition with no committed offset is left out.
   */
  async listConsumerGroupOffsets(groupId: string, partitions?: readonly TopicPartition[], options: AdminCallOptions = {}): Promise<GroupOffset[]> {
    const id = checkGroupId(groupId);
    const wanted = partitions === undefined ? null : checkPartitions(partitions, 'partitions');
    const outcomes = new Outcomes<GroupOffset[]>([id]);
    await this.#calls.run('listConsumerGroupOffsets', checkTimeout(options.timeoutMs, this.options.defaultApiTimeoutMs), (a) => listConsumerGroupOffsets(a, outcomes, wanted));
    return outcomes.results()[0]!;
  }

  /** Closes the connections; calls under way fail with ChannelClosedError, later ones with IllegalStateError. */
  async close(): Promise<void> {
    this.#calls.close();
  }
}
