/**
 * ringlog's clients without a Cluster object: a Producer, a Consumer, an Admin or a KafkaClient for any
 * Kafka cluster (ringlog's or Kafka's) named by bootstrap.servers, over TCP. The producer's sender
 * worker and the consumer's I/O and heartbeat workers own their sockets (tcp-connector.ts); a
 * KafkaClient and an Admin live on the caller's thread.
 */
import { ConfigError, IllegalStateError } from '../shared/errors.js';
import { parseHostPorts } from '../shared/listeners.js';
import { createRootLogger, type Logger } from '../shared/logger.js';
import { Admin, type AdminConfig } from './admin.js';
import { Consumer, type ConsumerConfig, type ConsumerTarget } from './consumer.js';
import { KafkaClient, type KafkaClientOptions } from './kafka-client.js';
import { Producer, type ProducerConfig, type ProducerTarget } from './producer.js';
import { TcpTransport, type TcpTransportOptions } from './tcp-transport.js';

/**
 * A started Producer for the brokers at `bootstrapServers` ('host:port,...', or the Kafka name
 * 'bootstrap.servers'), with Kafka's producer options plus serializers and hooks.
 */
export function createProducer<K = unknown, V = unknown>(config: ProducerConfig<K, V>): Promise<Producer<K, V>> {
  return Producer.start<K, V>(tcpTarget(config, 'producer'), config);
}

/**
 * A Consumer for the brokers at `bootstrapServers` ('host:port,...', or 'bootstrap.servers'), with
 * Kafka's consumer options plus deserializers and hooks.
 */
export function createConsumer<K = Buffer | null, V = Buffer | null>(config: ConsumerConfig<K, V>): Promise<Consumer<K, V>> {
  return Consumer.start<K, V>(tcpTarget(config, 'consumer'), config);
}

/** An Admin for the brokers at `bootstrapServers` ('host:port,...', or 'bootstrap.servers'), with Kafka's admin options. */
export async function createAdmin(config: AdminConfig): Promise<Admin> {
  return Admin.start(tcpTarget(config, 'admin'), config);
}

/** A target whose workers open TCP connections themselves; checks that bootstrap.servers names some. */
function tcpTarget(config: Readonly<Record<string, unknown>> & { logger?: Logger }, what: string): ProducerTarget & ConsumerTarget {
  const servers = config.bootstrapServers ?? config['bootstrap.servers'];
  const key = config.bootstrapServers === undefined ? 'bootstrap.servers' : 'bootstrapServers';
  if (servers === undefined || (typeof servers !== 'string' && !Array.isArray(servers))) throw new ConfigError(key, 'must name the brokers as host:port,...');
  parseHostPorts(servers as string | string[], key);
  return {
    logger: config.logger ?? createRootLogger(),
    openConnection: () => Promise.reject(new IllegalStateError(`a bootstrap.servers ${what} opens TCP connections in its workers`)),
  };
}

/** A KafkaClient over TCP to the first of `bootstrapServers` that answers, versions negotiated. */
export async function connectClient(bootstrapServers: string, options: KafkaClientOptions & TcpTransportOptions = {}): Promise<KafkaClient> {
  let lastError: unknown;
  for (const address of parseHostPorts(bootstrapServers)) {
    const client = new KafkaClient(new TcpTransport(address, options), options);
    try {
      await client.negotiate();
      return client;
    } catch (error) {
      client.close();
      lastError = error;
    }
  }
  throw lastError;
}
