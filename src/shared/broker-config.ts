/**
 * The broker's options: one descriptor table with Kafka's names (as in server.properties) and
 * Kafka's defaults (kafka-facts §3), plus the log settings each partition's log is opened with.
 */
import { ConfigError } from './errors.js';
import { bool, int, list, resolveConfig, str, type ConfigTable } from './config.js';
import { parseListeners } from './listeners.js';
import type { Logger } from './logger.js';
import type { LogConfig } from './log/partition-log.js';

const HOUR_MS = 3_600_000;
const NEVER = Number.MAX_SAFE_INTEGER;

export interface BrokerOptions {
  brokerId: number;
  logDirs: string[];
  numPartitions: number;
  autoCreateTopicsEnable: boolean;
  messageMaxBytes: number;
  logSegmentBytes: number;
  logRollMs: number;
  logRollHours: number;
  logRetentionMs: number;
  logRetentionHours: number;
  logRetentionBytes: number;
  logRetentionCheckIntervalMs: number;
  logIndexIntervalBytes: number;
  logFlushIntervalMessages: number;
  logFlushIntervalMs: number;
  listeners: string;
  advertisedListeners: string;
  socketRequestMaxBytes: number;
  connectionsMaxIdleMs: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  offsetsTopicNumPartitions: number;
  offsetsCommitTimeoutMs: number;
}

/** A listener list, checked here so that a bad one is a ConfigError at start-up. */
function listenersValue(): (value: unknown, key: string) => string {
  const text = str();
  return (value, key) => {
    const parsed = text(value, key);
    parseListeners(parsed, key);
    return parsed.trim();
  };
}

export const BROKER_OPTIONS: ConfigTable<BrokerOptions> = {
  brokerId: { kafkaName: 'broker.id', default: 0, parse: int({ min: 0 }), doc: 'this broker\'s id' },
  logDirs: { kafkaName: 'log.dirs', default: ['./data'], parse: list({ nonEmpty: true }), doc: 'where partition logs live (the first is used)' },
  numPartitions: { kafkaName: 'num.partitions', default: 1, parse: int({ min: 1 }), doc: 'partitions of an auto-created topic' },
  autoCreateTopicsEnable: { kafkaName: 'auto.create.topics.enable', default: true, parse: bool(), doc: 'create a topic on first produce or metadata request' },
  messageMaxBytes: { kafkaName: 'message.max.bytes', default: 1_048_588, parse: int({ min: 0 }), doc: 'largest record batch accepted' },
  logSegmentBytes: { kafkaName: 'log.segment.bytes', default: 1_073_741_824, parse: int({ min: 1_048_576, max: 2_147_483_647 }), doc: 'roll a segment at this size' },
  // -1: not set, so log.roll.hours applies (Kafka leaves it null).
  logRollMs: { kafkaName: 'log.roll.ms', default: -1, parse: int({ min: -1 }), doc: 'roll a segment at this age (overrides log.roll.hours)' },
  logRollHours: { kafkaName: 'log.roll.hours', default: 168, parse: int({ min: 1 }), doc: 'roll a segment at this age' },
  // -2: not set, so log.retention.hours applies (Kafka leaves it null).
  logRetentionMs: { kafkaName: 'log.retention.ms', default: -2, parse: int({ min: -1 }), doc: 'delete segments older than this (overrides log.retention.hours; -1 keeps forever)' },
  logRetentionHours: { kafkaName: 'log.retention.hours', default: 168, parse: int({ min: 0 }), doc: 'delete segments older than this' },
  logRetentionBytes: { kafkaName: 'log.retention.bytes', default: -1, parse: int({ min: -1 }), doc: 'delete old segments while a partition is larger (-1: no limit)' },
  logRetentionCheckIntervalMs: { kafkaName: 'log.retention.check.interval.ms', default: 300_000, parse: int({ min: 1 }), doc: 'how often retention runs' },
  logIndexIntervalBytes: { kafkaName: 'log.index.interval.bytes', default: 4_096, parse: int({ min: 0 }), doc: 'bytes between offset index entries' },
  logFlushIntervalMessages: { kafkaName: 'log.flush.interval.messages', default: NEVER, parse: int({ min: 1 }), doc: 'fsync after this many records' },
  logFlushIntervalMs: { kafkaName: 'log.flush.interval.ms', default: NEVER, parse: int({ min: 0 }), doc: 'fsync when unflushed data is this old' },
  listeners: { kafkaName: 'listeners', default: '', parse: listenersValue(), doc: 'the TCP listener, e.g. PLAINTEXT://127.0.0.1:9092 (none: embedded connections only)' },
  advertisedListeners: { kafkaName: 'advertised.listeners', default: '', parse: listenersValue(), doc: 'the address given to clients (default: the listener\'s)' },
  socketRequestMaxBytes: { kafkaName: 'socket.request.max.bytes', default: 104_857_600, parse: int({ min: 1 }), doc: 'largest request frame' },
  connectionsMaxIdleMs: { kafkaName: 'connections.max.idle.ms', default: 600_000, parse: int({ min: 1 }), doc: 'close idle connections after this' },
  groupInitialRebalanceDelayMs: { kafkaName: 'group.initial.rebalance.delay.ms', default: 3_000, parse: int({ min: 0 }), doc: 'wait for more members before the first rebalance' },
  groupMinSessionTimeoutMs: { kafkaName: 'group.min.session.timeout.ms', default: 6_000, parse: int({ min: 1 }), doc: 'shortest session timeout a member may ask for' },
  groupMaxSessionTimeoutMs: { kafkaName: 'group.max.session.timeout.ms', default: 1_800_000, parse: int({ min: 1 }), doc: 'longest session timeout a member may ask for' },
  offsetsTopicNumPartitions: { kafkaName: 'offsets.topic.num.partitions', default: 50, parse: int({ min: 1 }), doc: 'partitions of __consumer_offsets when it is created' },
  offsetsCommitTimeoutMs: { kafkaName: 'offsets.commit.timeout.ms', default: 5_000, parse: int({ min: 1 }), doc: 'longest wait for an offset commit to be written' },
};

export function resolveBrokerOptions(input: Readonly<Record<string, unknown>>, logger?: Logger): BrokerOptions {
  const options = resolveConfig(BROKER_OPTIONS, input, { component: 'broker', logger });
  if (options.groupMinSessionTimeoutMs > options.groupMaxSessionTimeoutMs) {
    throw new ConfigError('group.min.session.timeout.ms', `must not exceed group.max.session.timeout.ms (${options.groupMaxSessionTimeoutMs})`);
  }
  return options;
}

/** The log settings a partition is opened with, with Kafka's precedence (ms over hours). */
export function logConfigOf(options: BrokerOptions): LogConfig {
  return {
    segmentBytes: options.logSegmentBytes,
    segmentMs: options.logRollMs >= 0 ? options.logRollMs : options.logRollHours * HOUR_MS,
    indexIntervalBytes: options.logIndexIntervalBytes,
    retentionMs: options.logRetentionMs !== -2 ? options.logRetentionMs : options.logRetentionHours * HOUR_MS,
    retentionBytes: options.logRetentionBytes,
    flushMessages: options.logFlushIntervalMessages,
    flushMs: options.logFlushIntervalMs,
  };
}
