/**
 * ringlog's clients without a Cluster object: a Producer or a KafkaClient for any Kafka cluster
 * (ringlog's or Kafka's) named by bootstrap.servers, over TCP. The producer's sender worker owns
 * its sockets (tcp-connector.ts); a KafkaClient lives on the caller's thread.
 */
import { ConfigError, IllegalStateError } from '../shared/errors.js';
import { parseHostPorts } from '../shared/listeners.js';
import { createRootLogger } from '../shared/logger.js';
import { KafkaClient, type KafkaClientOptions } from './kafka-client.js';
import { Producer, type ProducerConfig, type ProducerTarget } from './producer.js';
import { TcpTransport, type TcpTransportOptions } from './tcp-transport.js';

/**
 * A started Producer for the brokers at `bootstrapServers` ('host:port,...', or the Kafka name
 * 'bootstrap.servers'), with Kafka's producer options plus serializers and hooks.
 */
export function createProducer<K = unknown, V = unknown>(config: ProducerConfig<K, V>): Promise<Producer<K, V>> {
  const servers = config.bootstrapServers ?? config['bootstrap.servers'];
  const key = config.bootstrapServers === undefined ? 'bootstrap.servers' : 'bootstrapServers';
  if (servers === undefined || (typeof servers !== 'string' && !Array.isArray(servers))) throw new ConfigError(key, 'must name the brokers as host:port,...');
  parseHostPorts(servers as string | string[], key);
  const target: ProducerTarget = {
    logger: config.logger ?? createRootLogger(),
    openConnection: () => Promise.reject(new IllegalStateError('a bootstrap.servers producer opens TCP connections in its sender worker')),
  };
  return Producer.start<K, V>(target, config);
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
