/**
 * The consumer's options: one descriptor table with Kafka's names and defaults (kafka-facts §4),
 * and Kafka's checks across options. Assignors are named as in Kafka's
 * partition.assignment.strategy: by their protocol name (range, roundrobin, cooperative-sticky)
 * or by the Java class name.
 */
import { ConfigError } from './errors.js';
import { bool, int, list, oneOf, resolveConfig, str, type ConfigTable } from './config.js';
import type { Logger } from './logger.js';

export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky';

export interface ConsumerOptions {
  bootstrapServers: string[];
  clientId: string;
  /** null: no group (assign() only, no commits). */
  groupId: string | null;
  enableAutoCommit: boolean;
  autoCommitIntervalMs: number;
  autoOffsetReset: 'earliest' | 'latest' | 'none';
  fetchMinBytes: number;
  fetchMaxBytes: number;
  fetchMaxWaitMs: number;
  maxPartitionFetchBytes: number;
  maxPollRecords: number;
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  maxPollIntervalMs: number;
  partitionAssignmentStrategy: AssignorName[];
  requestTimeoutMs: number;
  defaultApiTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  checkCrcs: boolean;
  isolationLevel: 'read_uncommitted' | 'read_committed';
  metadataMaxAgeMs: number;
  reconnectBackoffMs: number;
  reconnectBackoffMaxMs: number;
  socketConnectionSetupTimeoutMs: number;
  socketConnectionSetupTimeoutMaxMs: number;
  allowAutoCreateTopics: boolean;
  excludeInternalTopics: boolean;
}

const INT_MAX = 2_147_483_647;

const ASSIGNOR_NAMES: Readonly<Record<string, AssignorName>> = {
  range: 'range',
  roundrobin: 'roundrobin',
  'cooperative-sticky': 'cooperative-sticky',
  'org.apache.kafka.clients.consumer.RangeAssignor': 'range',
  'org.apache.kafka.clients.consumer.RoundRobinAssignor': 'roundrobin',
  'org.apache.kafka.clients.consumer.CooperativeStickyAssignor': 'cooperative-sticky',
};

function assignors(value: unknown, key: string): AssignorName[] {
  const names = list({ nonEmpty: true })(value, key);
  return names.map((name) => {
    const assignor = ASSIGNOR_NAMES[name];
    if (assignor === undefined) throw new ConfigError(key, `unknown assignor '${name}'; use range, roundrobin or cooperative-sticky`);
    return assignor;
  });
}

function groupId(value: unknown, key: string): string | null {
  return value === null ? null : str()(value, key);
}

export const CONSUMER_OPTIONS: ConfigTable<ConsumerOptions> = {
  bootstrapServers: { kafkaName: 'bootstrap.servers', default: [], parse: list(), doc: 'host:port of brokers to start from; empty for the embedded cluster' },
  clientId: { kafkaName: 'client.id', default: '', parse: str(), doc: 'name sent with every request and used in logs' },
  groupId: { kafkaName: 'group.id', default: null, parse: groupId, doc: 'the consumer group; needed by subscribe() and commits' },
  enableAutoCommit: { kafkaName: 'enable.auto.commit', default: true, parse: bool(), doc: 'commit the positions poll() returned, periodically and on close' },
  autoCommitIntervalMs: { kafkaName: 'auto.commit.interval.ms', default: 5_000, parse: int({ min: 0 }), doc: 'how often auto-commit commits' },
  autoOffsetReset: { kafkaName: 'auto.offset.reset', default: 'latest', parse: oneOf(['earliest', 'latest', 'none'] as const), doc: 'where to start without a valid committed offset' },
  fetchMinBytes: { kafkaName: 'fetch.min.bytes', default: 1, parse: int({ min: 0, max: INT_MAX }), doc: 'bytes a fetch waits for (up to fetch.max.wait.ms)' },
  fetchMaxBytes: { kafkaName: 'fetch.max.bytes', default: 52_428_800, parse: int({ min: 0, max: INT_MAX }), doc: 'most bytes fetched and held at once' },
  fetchMaxWaitMs: { kafkaName: 'fetch.max.wait.ms', default: 500, parse: int({ min: 0, max: INT_MAX }), doc: 'longest a fetch waits for fetch.min.bytes' },
  maxPartitionFetchBytes: { kafkaName: 'max.partition.fetch.bytes', default: 1_048_576, parse: int({ min: 0, max: INT_MAX }), doc: 'most bytes fetched per partition' },
  maxPollRecords: { kafkaName: 'max.poll.records', default: 500, parse: int({ min: 1, max: INT_MAX }), doc: 'most records one poll() returns' },
  heartbeatIntervalMs: { kafkaName: 'heartbeat.interval.ms', default: 3_000, parse: int({ min: 1, max: INT_MAX }), doc: 'time between heartbeats' },
  sessionTimeoutMs: { kafkaName: 'session.timeout.ms', default: 45_000, parse: int({ min: 1, max: INT_MAX }), doc: 'the group drops a member not heard from this long' },
  maxPollIntervalMs: { kafkaName: 'max.poll.interval.ms', default: 300_000, parse: int({ min: 1, max: INT_MAX }), doc: 'leave the group when poll() is not called this long' },
  partitionAssignmentStrategy: { kafkaName: 'partition.assignment.strategy', default: ['range', 'cooperative-sticky'], parse: assignors, doc: 'assignors, in order of preference' },
  requestTimeoutMs: { kafkaName: 'request.timeout.ms', default: 30_000, parse: int({ min: 0, max: INT_MAX }), doc: 'longest wait for a response' },
  defaultApiTimeoutMs: { kafkaName: 'default.api.timeout.ms', default: 60_000, parse: int({ min: 0, max: INT_MAX }), doc: 'timeout of calls given none (commitSync, committed, position)' },
  retryBackoffMs: { kafkaName: 'retry.backoff.ms', default: 100, parse: int({ min: 0 }), doc: 'first wait before a retry' },
  retryBackoffMaxMs: { kafkaName: 'retry.backoff.max.ms', default: 1_000, parse: int({ min: 0 }), doc: 'longest wait before a retry' },
  checkCrcs: { kafkaName: 'check.crcs', default: true, parse: bool(), doc: 'verify the CRC of every fetched batch' },
  isolationLevel: { kafkaName: 'isolation.level', default: 'read_uncommitted', parse: oneOf(['read_uncommitted', 'read_committed'] as const), doc: 'read_committed needs transactions, which ringlog does not have yet' },
  metadataMaxAgeMs: { kafkaName: 'metadata.max.age.ms', default: 300_000, parse: int({ min: 0 }), doc: 'refresh metadata at least this often (new topics for a pattern)' },
  reconnectBackoffMs: { kafkaName: 'reconnect.backoff.ms', default: 50, parse: int({ min: 0 }), doc: 'first wait before reconnecting to a broker' },
  reconnectBackoffMaxMs: { kafkaName: 'reconnect.backoff.max.ms', default: 1_000, parse: int({ min: 0 }), doc: 'longest wait before reconnecting to a broker' },
  socketConnectionSetupTimeoutMs: { kafkaName: 'socket.connection.setup.timeout.ms', default: 10_000, parse: int({ min: 1 }), doc: 'longest wait for a TCP connection to a broker, doubling per failure in a row' },
  socketConnectionSetupTimeoutMaxMs: { kafkaName: 'socket.connection.setup.timeout.max.ms', default: 30_000, parse: int({ min: 1 }), doc: 'most the connection set-up timeout grows to' },
  allowAutoCreateTopics: { kafkaName: 'allow.auto.create.topics', default: true, parse: bool(), doc: 'subscribing to a missing topic creates it (when the broker allows)' },
  excludeInternalTopics: { kafkaName: 'exclude.internal.topics', default: true, parse: bool(), doc: 'a pattern never matches __consumer_offsets' },
};

/** Resolves consumer options with Kafka's checks across them. */
export function resolveConsumerOptions(input: Readonly<Record<string, unknown>>, logger?: Logger): ConsumerOptions {
  const options = resolveConfig(CONSUMER_OPTIONS, input, { component: 'consumer', logger });
  // Kafka's Heartbeat: the interval must leave room for several heartbeats per session.
  if (options.heartbeatIntervalMs >= options.sessionTimeoutMs) {
    throw new ConfigError('heartbeat.interval.ms', `must be lower than session.timeout.ms (${options.sessionTimeoutMs}), got ${options.heartbeatIntervalMs}`);
  }
  if (options.requestTimeoutMs <= options.fetchMaxWaitMs) {
    throw new ConfigError('request.timeout.ms', `must be above fetch.max.wait.ms (${options.fetchMaxWaitMs}), or every long poll times out; got ${options.requestTimeoutMs}`);
  }
  if (new Set(options.partitionAssignmentStrategy).size !== options.partitionAssignmentStrategy.length) {
    throw new ConfigError('partition.assignment.strategy', `names an assignor twice: ${options.partitionAssignmentStrategy.join(', ')}`);
  }
  return options;
}
