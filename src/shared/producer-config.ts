/**
 * The producer's options: one descriptor table with Kafka's names and defaults (kafka-facts §4;
 * linger.ms 5 as in Kafka 4.0), and Kafka's checks across options.
 */
import { ConfigError } from './errors.js';
import { bool, int, list, oneOf, resolveConfig, str, type ConfigTable } from './config.js';
import type { Logger } from './logger.js';

export interface ProducerOptions {
  bootstrapServers: string[];
  clientId: string;
  acks: 'all' | '-1' | '0' | '1';
  lingerMs: number;
  batchSize: number;
  bufferMemory: number;
  maxBlockMs: number;
  maxRequestSize: number;
  retries: number;
  deliveryTimeoutMs: number;
  requestTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  maxInFlightRequestsPerConnection: number;
  enableIdempotence: boolean;
  compressionType: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  partitionerIgnoreKeys: boolean;
  partitionerAdaptivePartitioningEnable: boolean;
  metadataMaxAgeMs: number;
  reconnectBackoffMs: number;
  reconnectBackoffMaxMs: number;
  socketConnectionSetupTimeoutMs: number;
  socketConnectionSetupTimeoutMaxMs: number;
}

const INT_MAX = 2_147_483_647;
/** With idempotence, the broker remembers this many batches per producer: no more may be in flight. */
export const MAX_IN_FLIGHT_FOR_IDEMPOTENCE = 5;

export const PRODUCER_OPTIONS: ConfigTable<ProducerOptions> = {
  bootstrapServers: { kafkaName: 'bootstrap.servers', default: [], parse: list(), doc: 'host:port of brokers to start from; empty for the embedded cluster' },
  clientId: { kafkaName: 'client.id', default: '', parse: str(), doc: 'name sent with every request and used in logs' },
  acks: { kafkaName: 'acks', default: 'all', parse: oneOf(['all', '-1', '0', '1'] as const), doc: 'replicas that must have a record before it is acknowledged' },
  lingerMs: { kafkaName: 'linger.ms', default: 5, parse: int({ min: 0 }), doc: 'wait this long for a batch to fill' },
  batchSize: { kafkaName: 'batch.size', default: 16_384, parse: int({ min: 0, max: INT_MAX }), doc: 'bytes per batch per partition' },
  bufferMemory: { kafkaName: 'buffer.memory', default: 33_554_432, parse: int({ min: 0 }), doc: 'bytes the producer may hold' },
  maxBlockMs: { kafkaName: 'max.block.ms', default: 60_000, parse: int({ min: 0 }), doc: 'longest send() waits for metadata or memory' },
  maxRequestSize: { kafkaName: 'max.request.size', default: 1_048_576, parse: int({ min: 0, max: INT_MAX }), doc: 'largest record (and request) sent' },
  retries: { kafkaName: 'retries', default: INT_MAX, parse: int({ min: 0, max: INT_MAX }), doc: 'retries of a failed batch, within delivery.timeout.ms' },
  deliveryTimeoutMs: { kafkaName: 'delivery.timeout.ms', default: 120_000, parse: int({ min: 0, max: INT_MAX }), doc: 'longest from send() to success or failure' },
  requestTimeoutMs: { kafkaName: 'request.timeout.ms', default: 30_000, parse: int({ min: 0, max: INT_MAX }), doc: 'longest wait for a response' },
  retryBackoffMs: { kafkaName: 'retry.backoff.ms', default: 100, parse: int({ min: 0 }), doc: 'first wait before a retry' },
  retryBackoffMaxMs: { kafkaName: 'retry.backoff.max.ms', default: 1_000, parse: int({ min: 0 }), doc: 'longest wait before a retry' },
  maxInFlightRequestsPerConnection: { kafkaName: 'max.in.flight.requests.per.connection', default: 5, parse: int({ min: 1 }), doc: 'unanswered requests per broker' },
  enableIdempotence: { kafkaName: 'enable.idempotence', default: true, parse: bool(), doc: 'retries never duplicate or reorder records' },
  compressionType: { kafkaName: 'compression.type', default: 'none', parse: oneOf(['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const), doc: 'batch compression' },
  partitionerIgnoreKeys: { kafkaName: 'partitioner.ignore.keys', default: false, parse: bool(), doc: 'place keyed records like key-less ones' },
  partitionerAdaptivePartitioningEnable: { kafkaName: 'partitioner.adaptive.partitioning.enable', default: true, parse: bool(), doc: 'prefer partitions with shorter queues' },
  metadataMaxAgeMs: { kafkaName: 'metadata.max.age.ms', default: 300_000, parse: int({ min: 0 }), doc: 'refresh metadata at least this often' },
  reconnectBackoffMs: { kafkaName: 'reconnect.backoff.ms', default: 50, parse: int({ min: 0 }), doc: 'first wait before reconnecting to a broker' },
  reconnectBackoffMaxMs: { kafkaName: 'reconnect.backoff.max.ms', default: 1_000, parse: int({ min: 0 }), doc: 'longest wait before reconnecting to a broker' },
  socketConnectionSetupTimeoutMs: { kafkaName: 'socket.connection.setup.timeout.ms', default: 10_000, parse: int({ min: 1 }), doc: 'longest wait for a TCP connection to a broker, doubling per failure in a row' },
  socketConnectionSetupTimeoutMaxMs: { kafkaName: 'socket.connection.setup.timeout.max.ms', default: 30_000, parse: int({ min: 1 }), doc: 'most the connection set-up timeout grows to' },
};

/**
 * Resolves producer options with Kafka's checks across them. Idempotence needs acks=all,
 * retries > 0 and at most 5 requests in flight: asked for explicitly, a conflict is a
 * ConfigError; left at its default, idempotence is turned off instead, with a warning.
 */
export function resolveProducerOptions(input: Readonly<Record<string, unknown>>, logger?: Logger): ProducerOptions {
  const options = resolveConfig(PRODUCER_OPTIONS, input, { component: 'producer', logger });
  if (options.deliveryTimeoutMs < options.lingerMs + options.requestTimeoutMs) {
    throw new ConfigError('delivery.timeout.ms', `must be at least linger.ms + request.timeout.ms (${options.lingerMs + options.requestTimeoutMs}), got ${options.deliveryTimeoutMs}`);
  }
  const conflicts: string[] = [];
  if (options.acks !== 'all' && options.acks !== '-1') conflicts.push(`acks is ${options.acks}, not all`);
  if (options.retries === 0) conflicts.push('retries is 0');
  if (options.maxInFlightRequestsPerConnection > MAX_IN_FLIGHT_FOR_IDEMPOTENCE) {
    conflicts.push(`max.in.flight.requests.per.connection is ${options.maxInFlightRequestsPerConnection}, above ${MAX_IN_FLIGHT_FOR_IDEMPOTENCE}`);
  }
  if (options.enableIdempotence && conflicts.length > 0) {
    const explicit = input['enable.idempotence'] !== undefined || input.enableIdempotence !== undefined;
    if (explicit) throw new ConfigError('enable.idempotence', `cannot be true: ${conflicts.join('; ')}`);
    logger?.warn({ conflicts }, 'enable.idempotence turned off by conflicting producer options');
    options.enableIdempotence = false;
  }
  return options;
}

/** acks as the Produce request carries it. */
export function acksValue(acks: ProducerOptions['acks']): -1 | 0 | 1 {
  return acks === 'all' || acks === '-1' ? -1 : acks === '0' ? 0 : 1;
}
