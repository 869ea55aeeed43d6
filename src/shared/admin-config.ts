/**
 * The admin client's options: one descriptor table with Kafka's AdminClientConfig names and
 * defaults (request.timeout.ms 30000, default.api.timeout.ms 60000, retry.backoff.ms 100, ...),
 * and Kafka's check across them.
 */
import { ConfigError } from './errors.js';
import { int, list, resolveConfig, str, type ConfigTable } from './config.js';
import type { Logger } from './logger.js';

export interface AdminOptions {
  bootstrapServers: string[];
  clientId: string;
  requestTimeoutMs: number;
  defaultApiTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  reconnectBackoffMs: number;
  reconnectBackoffMaxMs: number;
  socketConnectionSetupTimeoutMs: number;
}

const INT_MAX = 2_147_483_647;

export const ADMIN_OPTIONS: ConfigTable<AdminOptions> = {
  bootstrapServers: { kafkaName: 'bootstrap.servers', default: [], parse: list(), doc: 'host:port of brokers to start from; empty for the embedded cluster' },
  clientId: { kafkaName: 'client.id', default: '', parse: str(), doc: 'name sent with every request and used in logs' },
  requestTimeoutMs: { kafkaName: 'request.timeout.ms', default: 30_000, parse: int({ min: 0, max: INT_MAX }), doc: 'longest wait for one response' },
  defaultApiTimeoutMs: { kafkaName: 'default.api.timeout.ms', default: 60_000, parse: int({ min: 0, max: INT_MAX }), doc: 'timeout of an admin call given none, retries included' },
  retryBackoffMs: { kafkaName: 'retry.backoff.ms', default: 100, parse: int({ min: 0 }), doc: 'first wait before a retry' },
  retryBackoffMaxMs: { kafkaName: 'retry.backoff.max.ms', default: 1_000, parse: int({ min: 0 }), doc: 'longest wait before a retry' },
  reconnectBackoffMs: { kafkaName: 'reconnect.backoff.ms', default: 50, parse: int({ min: 0 }), doc: 'first wait before reconnecting to a broker' },
  reconnectBackoffMaxMs: { kafkaName: 'reconnect.backoff.max.ms', default: 1_000, parse: int({ min: 0 }), doc: 'longest wait before reconnecting' },
  socketConnectionSetupTimeoutMs: { kafkaName: 'socket.connection.setup.timeout.ms', default: 10_000, parse: int({ min: 0 }), doc: 'longest wait for a TCP connection' },
};

/** Resolves admin options with Kafka's check: a call must leave room for one whole request. */
export function resolveAdminOptions(input: Readonly<Record<string, unknown>>, logger?: Logger): AdminOptions {
  const options = resolveConfig(ADMIN_OPTIONS, input, { component: 'admin', logger });
  // As KafkaAdminClient.configureDefaultApiTimeoutMs: a value given below request.timeout.ms is
  // refused; the default, when request.timeout.ms is raised above it, follows with a warning.
  if (options.defaultApiTimeoutMs < options.requestTimeoutMs) {
    const explicit = input['default.api.timeout.ms'] !== undefined || input.defaultApiTimeoutMs !== undefined;
    if (explicit) throw new ConfigError('default.api.timeout.ms', `must be at least request.timeout.ms (${options.requestTimeoutMs}), got ${options.defaultApiTimeoutMs}`);
    logger?.warn({ requestTimeoutMs: options.requestTimeoutMs }, 'default.api.timeout.ms raised to request.timeout.ms');
    options.defaultApiTimeoutMs = options.requestTimeoutMs;
  }
  return options;
}
